package io.kmsregions.keystore.xks;

import java.util.regex.Pattern;

/**
 * One SigV4 credential an XKS proxy accepts and KMS signs with (KMS API Reference,
 * {@code XksProxyAuthenticationCredentialType}; XKS Proxy API specification, Appendix A).
 *
 * @param accessKeyId 20-30 characters, {@code A-Z} and {@code 2-7} only
 * @param secretAccessKey 43-64 characters of {@code a-z A-Z 0-9 / + =} (e.g. 32 random bytes in Base64)
 */
public record XksCredential(String accessKeyId, String secretAccessKey) {
  private static final Pattern ACCESS_KEY_ID = Pattern.compile("[A-Z2-7]{20,30}");
  private static final Pattern SECRET = Pattern.compile("[a-zA-Z0-9/+=]{43,64}");

  /** The fixed development pair `kms-regions xks-proxy` uses when given none: for local use only. */
  public static final XksCredential DEVELOPMENT =
      new XksCredential("KMSREGIONSXKSPROXYDEV234", "CmJ0zeYjlDjogmr2SdxrnwqfaER6KEQKDqbhgjz4XCw=");

  /** @throws IllegalArgumentException naming the rule a value breaks (never echoing the secret) */
  public XksCredential {
    if (accessKeyId == null || !ACCESS_KEY_ID.matcher(accessKeyId).matches()) {
      throw new IllegalArgumentException("The access key id must be 20-30 characters of A-Z and 2-7, not '"
          + accessKeyId + "'.");
    }
    if (secretAccessKey == null || !SECRET.matcher(secretAccessKey).matches()) {
      throw new IllegalArgumentException("The secret access key must be 43-64 characters of a-z, A-Z, 0-9, /, + "
          + "and = (e.g. `openssl rand -base64 32`); the one given has " + (secretAccessKey == null ? 0
          : secretAccessKey.length()) + " characters.");
    }
  }

  @Override
  public String toString() {
    return "XksCredential[" + accessKeyId + "]"; // never the secret
  }
}
