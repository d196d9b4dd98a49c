package io.kmsregions.security.auth;

import java.util.List;
import java.util.Map;

/**
 * An HTTP request as the SigV4 verifier needs it, independent of the HTTP server.
 *
 * @param method the HTTP method, upper case
 * @param rawPath the request path as it arrived (percent-encoding intact)
 * @param rawQuery the query string as it arrived, without '?', or "" for none
 * @param headers every header by lowercased name, each occurrence's value in arrival order
 * @param body the payload bytes
 */
public record SignedRequest(String method, String rawPath, String rawQuery, Map<String, List<String>> headers,
    byte[] body) {

  /** The first value of a header (by lowercased name), or null. */
  public String header(String lowercaseName) {
    List<String> v = headers.get(lowercaseName);
    return v == null || v.isEmpty() ? null : v.get(0);
  }
}
