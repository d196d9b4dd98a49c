package io.kmsregions.api;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.kmsregions.key.KmsError;

/** AWS's JSON error body: {@code {"__type": ..., "message": ...}} (kms-api.md §1). */
public final class ErrorBodies {
  private ErrorBodies() {}

  public static ApiResponse response(KmsError error) {
    ObjectNode body = Json.MAPPER.createObjectNode();
    body.put("__type", error.type());
    if (error.message() != null) body.put("message", error.message());
    return new ApiResponse(error.status(), Json.bytes(body));
  }
}
