package io.kmsregions.crypto;

import java.security.Provider;
import org.bouncycastle.jce.provider.BouncyCastleProvider;

/**
 * The JCA providers the simulator uses besides the JDK's own.
 *
 * <p>Bouncy Castle is never registered globally ({@code Security.addProvider}): callers pass this
 * object to {@code getInstance(algorithm, provider)}, so JDK lookups elsewhere in the process are
 * unaffected and it is always explicit which implementation a key or signature comes from.
 */
public final class Providers {

  // One instance: building the provider registers hundreds of services, too costly per call.
  private static final Provider BOUNCY_CASTLE = new BouncyCastleProvider();

  private Providers() {}

  /** The shared, unregistered Bouncy Castle provider (secp256k1, SM2, ML-DSA and the like). */
  public static Provider bouncyCastle() {
    return BOUNCY_CASTLE;
  }
}
