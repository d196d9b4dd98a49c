package io.kmsregions.api;

import io.kmsregions.CborSerializable;

/**
 * One KMS API call as the HTTP front received it, to be handled in {@code region} (possibly on
 * another node, through the cluster).
 *
 * @param operation the part of {@code X-Amz-Target} after {@code TrentService.}
 * @param body the JSON request body, unparsed
 */
public record ApiRequest(String operation, byte[] body, String requestId) implements CborSerializable {}
