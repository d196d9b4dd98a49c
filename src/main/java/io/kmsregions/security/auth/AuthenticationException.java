package io.kmsregions.security.auth;

import io.kmsregions.key.KmsError;

/**
 * A request that failed authentication, with the AWS error to answer (HTTP 400 for each of the
 * four SigV4 error types, as AWS's JSON services answer them; HTTP 403 would also be plausible, but
 * AWS's KMS endpoints answer these with 400).
 */
public final class AuthenticationException extends Exception {
  private final transient KmsError error;

  public AuthenticationException(String type, String message) {
    super(type + ": " + message, null, false, false);
    this.error = new KmsError(type, message, 400);
  }

  public KmsError error() {
    return error;
  }

  static AuthenticationException missingToken() {
    return new AuthenticationException("MissingAuthenticationTokenException", "Missing Authentication Token");
  }

  static AuthenticationException unrecognized() {
    return new AuthenticationException("UnrecognizedClientException",
        "The security token included in the request is invalid.");
  }

  static AuthenticationException incomplete(String message) {
    return new AuthenticationException("IncompleteSignatureException", message);
  }

  static AuthenticationException invalid(String message) {
    return new AuthenticationException("InvalidSignatureException", message);
  }
}
