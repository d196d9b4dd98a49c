package io.kmsregions.crypto.bench;

import io.kmsregions.crypto.Macs;
import io.kmsregions.crypto.Providers;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.concurrent.TimeUnit;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.bouncycastle.crypto.digests.SHA256Digest;
import org.bouncycastle.crypto.macs.HMac;
import org.bouncycastle.crypto.params.KeyParameter;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * HMAC-SHA-256 (RFC 2104) of a 256-byte message under a 32-byte key, with a key set up per
 * operation as GenerateMac does: the JDK, Bouncy Castle's JCE provider, Bouncy Castle's
 * lightweight {@code HMac}, and kms-regions' {@link Macs#mac}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 3)
@Fork(1)
public class HmacBenchmark {
  private final byte[] key = new byte[32];
  private final byte[] message = new byte[256];
  private final byte[] out = new byte[32];
  private Mac jdk;
  private Mac bcJce;
  private HMac bcLight;

  @Setup
  public void setUp() throws Exception {
    SecureRandom random = new SecureRandom();
    random.nextBytes(key);
    random.nextBytes(message);
    jdk = Mac.getInstance("HmacSHA256");
    bcJce = Mac.getInstance("HmacSHA256", Providers.bouncyCastle());
    bcLight = new HMac(new SHA256Digest());
  }

  @Benchmark
  public byte[] hmacSha256Jdk() throws GeneralSecurityException {
    jdk.init(new SecretKeySpec(key, "HmacSHA256"));
    return jdk.doFinal(message);
  }

  @Benchmark
  public byte[] hmacSha256BouncyCastleJce() throws GeneralSecurityException {
    bcJce.init(new SecretKeySpec(key, "HmacSHA256"));
    return bcJce.doFinal(message);
  }

  @Benchmark
  public byte[] hmacSha256BouncyCastleLightweight() {
    bcLight.init(new KeyParameter(key));
    bcLight.update(message, 0, message.length);
    bcLight.doFinal(out, 0);
    return out;
  }

  @Benchmark
  public byte[] hmacSha256KmsRegions() {
    return Macs.mac(Macs.MacAlgorithm.HMAC_SHA_256, key, message);
  }
}
