package io.kmsregions.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;

/** An HTTP answer: its status and (when asked for, or on an error) its body. */
public record Reply(int status, byte[] body) {
  static final ObjectMapper JSON = new ObjectMapper();

  public boolean ok() {
    return status == 200;
  }

  /** The body as JSON; an empty object when there is none or it is not JSON. */
  public JsonNode json() {
    if (body == null || body.length == 0) return JSON.createObjectNode();
    try {
      JsonNode n = JSON.readTree(body);
      return n == null ? JSON.createObjectNode() : n;
    } catch (IOException e) {
      return JSON.createObjectNode();
    }
  }

  /**
   * The AWS error type of a failed answer ({@code __type}, without a namespace prefix), or
   * {@code HTTP <status>} when the body names none.
   */
  public String errorType() {
    JsonNode j = json();
    String t = j.path("__type").asText("");
    if (t.isEmpty()) return "HTTP " + status;
    int hash = t.lastIndexOf('#');
    return hash >= 0 ? t.substring(hash + 1) : t;
  }

  /** The error message of a failed answer, or "" when there is none. */
  public String errorMessage() {
    JsonNode j = json();
    String m = j.path("message").asText(j.path("Message").asText(""));
    if (m.isEmpty() && body != null && j.isEmpty()) {
      String s = new String(body, java.nio.charset.StandardCharsets.UTF_8).replaceAll("<[^>]*>", " ")
          .replaceAll("\\s+", " ").strip();
      m = s.length() > 100 ? s.substring(0, 100) + "…" : s;
    }
    return m;
  }

  /** "Type: message", for skip reasons and logs. */
  public String describeError() {
    String m = errorMessage();
    return m.isEmpty() ? errorType() : errorType() + ": " + m;
  }
}
