package io.kmsregions.security.auth;

/**
 * One access key that {@code kms.auth.credentials} (conf/application.conf) accepts.
 *
 * @param accessKeyId the access key id clients put in the credential scope
 * @param secretAccessKey the secret the SigV4 signing key is derived from
 * @param accountId the account of the principal
 * @param principalArn the IAM user or role these credentials stand for
 */
public record Credential(String accessKeyId, String secretAccessKey, String accountId, String principalArn) {

  /** The caller a request verified with these credentials is. */
  public Caller caller(boolean verified) {
    return new Caller(Caller.typeOf(principalArn), principalArn, accountId, accessKeyId, verified);
  }

  @Override
  public String toString() {
    return "Credential[" + accessKeyId + " -> " + principalArn + "]"; // never log the secret
  }
}
