package io.kmsregions.api;

import io.kmsregions.CborSerializable;
import io.kmsregions.security.auth.Caller;

/**
 * One KMS API call as the HTTP front received it, to be handled in {@code region} (possibly on
 * another node, through the cluster).
 *
 * @param operation the part of {@code X-Amz-Target} after {@code TrentService.}
 * @param body the JSON request body, unparsed
 * @param caller who made the call, as the receiving node authenticated it; it travels with a
 *     forwarded call, so the Region that handles it sees the verified caller, not a new identity
 */
public record ApiRequest(String operation, byte[] body, String requestId, Caller caller) implements CborSerializable {

  /** A call without a known caller (internal calls made by the service itself). */
  public ApiRequest(String operation, byte[] body, String requestId) {
    this(operation, body, requestId, null);
  }
}
