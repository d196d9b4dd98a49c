package io.kmsregions.lab.history;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;

/**
 * Null-tolerant accessors for history records. A history is written by processes that may be killed
 * mid-run, so every field may be missing or {@code null}; the checkers must never throw on that.
 */
public final class Json {
  private Json() {}

  /** The text of {@code field}, or {@code null} when it is missing, null or not a scalar. */
  public static String text(JsonNode node, String field) {
    JsonNode v = node == null ? null : node.get(field);
    if (v == null || v.isNull() || v.isContainerNode()) return null;
    return v.asText();
  }

  /** The long value of {@code field}, or {@code fallback} when it is missing or not a number. */
  public static long longValue(JsonNode node, String field, long fallback) {
    JsonNode v = node == null ? null : node.get(field);
    if (v == null || v.isNull()) return fallback;
    if (v.isNumber()) return v.asLong();
    if (v.isTextual()) {
      try {
        return Long.parseLong(v.asText().trim());
      } catch (NumberFormatException e) {
        return fallback;
      }
    }
    return fallback;
  }

  /** The long value of {@code field}, or {@code null}. */
  public static Long longOrNull(JsonNode node, String field) {
    JsonNode v = node == null ? null : node.get(field);
    if (v == null || v.isNull() || !(v.isNumber() || v.isTextual())) return null;
    long sentinel = Long.MIN_VALUE;
    long r = longValue(node, field, sentinel);
    return r == sentinel ? null : r;
  }

  /** The double value of {@code field}, or {@code NaN}. */
  public static double doubleValue(JsonNode node, String field) {
    JsonNode v = node == null ? null : node.get(field);
    if (v == null || v.isNull()) return Double.NaN;
    if (v.isNumber()) return v.asDouble();
    if (v.isTextual()) {
      try {
        return Double.parseDouble(v.asText().trim());
      } catch (NumberFormatException e) {
        return Double.NaN;
      }
    }
    return Double.NaN;
  }

  /** The boolean value of {@code field}: true only for JSON {@code true} (or the text "true"). */
  public static boolean bool(JsonNode node, String field) {
    JsonNode v = node == null ? null : node.get(field);
    if (v == null || v.isNull()) return false;
    if (v.isBoolean()) return v.asBoolean();
    return "true".equalsIgnoreCase(v.asText());
  }

  /** Whether {@code field} is present and not null. */
  public static boolean has(JsonNode node, String field) {
    JsonNode v = node == null ? null : node.get(field);
    return v != null && !v.isNull();
  }

  /** The strings of an array {@code field} (a scalar counts as a one-element list). */
  public static List<String> strings(JsonNode node, String field) {
    JsonNode v = node == null ? null : node.get(field);
    List<String> out = new ArrayList<>();
    if (v == null || v.isNull()) return out;
    if (v.isArray()) {
      for (JsonNode e : v) {
        if (e != null && !e.isNull() && !e.isContainerNode()) out.add(e.asText());
      }
    } else if (!v.isContainerNode()) {
      out.add(v.asText());
    }
    return out;
  }

  /** A text field inside the object {@code field} ({@code args.replicaRegion}), or null. */
  public static String nestedText(JsonNode node, String field, String inner) {
    JsonNode v = node == null ? null : node.get(field);
    return v == null || !v.isObject() ? null : text(v, inner);
  }
}
