package io.kmsregions.api;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.kmsregions.key.KmsError;

/**
 * Pagination of the List operations (kms-api.md §2 "Pagination rules"): the marker is the offset
 * of the next entry, opaque to clients; a marker that is not one of ours is
 * InvalidMarkerException; {@code Truncated} is always present, {@code NextMarker} only when true.
 */
final class Pages {
  private Pages() {}

  /** The offset {@code marker} stands for; 0 without one. */
  static int start(String marker) {
    if (marker == null) return 0;
    Validate.length(marker, "marker", 1, 1024);
    try {
      int offset = Integer.parseInt(marker);
      if (offset >= 0) return offset;
    } catch (NumberFormatException e) {
      // falls through
    }
    throw invalid(marker);
  }

  /** A marker past the end of the list was not ours (or the list shrank): refuse it. */
  static void check(int from, int size) {
    if (from > size) throw invalid(String.valueOf(from));
  }

  static void finish(ObjectNode out, int next, int size) {
    boolean truncated = next < size;
    out.put("Truncated", truncated);
    if (truncated) out.put("NextMarker", String.valueOf(next));
  }

  private static KmsException invalid(String marker) {
    return new KmsException(new KmsError("InvalidMarkerException", "Invalid marker: " + marker));
  }
}
