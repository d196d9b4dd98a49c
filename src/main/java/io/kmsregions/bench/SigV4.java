package io.kmsregions.bench;

import io.kmsregions.security.auth.SigV4Signer;
import io.kmsregions.security.auth.SigV4Verifier;
import io.kmsregions.security.auth.SignedRequest;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The bench's and the laboratory's way to sign KMS calls: AWS Signature Version 4 in the header
 * form ({@code Authorization: AWS4-HMAC-SHA256 ...}) with the Region chosen per call. It adapts
 * {@link SigV4Signer}, the project's one signer, whose canonical request is the verifier's own, so
 * what the bench signs the server accepts by construction. The bench signs each (operation, key)
 * request once and reuses the header.
 */
public final class SigV4 {
  public static final String ALGORITHM = SigV4Verifier.ALGORITHM;
  private static final DateTimeFormatter AMZ_DATE = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'", Locale.ROOT);

  private final String accessKeyId;
  private final String secretAccessKey;

  public SigV4(String accessKeyId, String secretAccessKey) {
    this.accessKeyId = accessKeyId;
    this.secretAccessKey = secretAccessKey;
  }

  /** The current UTC time as {@code yyyyMMdd'T'HHmmss'Z'}, the X-Amz-Date form. */
  public static String amzDateNow() {
    return ZonedDateTime.now(ZoneOffset.UTC).format(AMZ_DATE);
  }

  /**
   * The {@code Authorization} header value for a request; every header given is signed.
   *
   * @param path the request's path as sent (canonicalised by SigV4's rules: "/" for KMS)
   * @param query the request's query string as sent, "" for none
   * @param headers every header to sign, by any-case name; must include {@code host} and {@code x-amz-date}
   * @throws IllegalArgumentException if {@code host} or {@code x-amz-date} is missing
   */
  public String authorization(String method, String path, String query, Map<String, String> headers,
      byte[] payload, String region, String service) {
    Map<String, List<String>> byName = new LinkedHashMap<>();
    for (Map.Entry<String, String> h : headers.entrySet()) {
      byName.computeIfAbsent(h.getKey().toLowerCase(Locale.ROOT), k -> new ArrayList<>()).add(h.getValue());
    }
    if (!byName.containsKey("host")) throw new IllegalArgumentException("host header required");
    return new SigV4Signer(accessKeyId, secretAccessKey, region, service)
        .authorization(new SignedRequest(method, path, query, byName, payload), new ArrayList<>(byName.keySet()));
  }

  /** The Authorization header of a KMS JSON 1.1 call: POST /, no query, the four headers KMS clients sign. */
  public String kmsAuthorization(String host, String amzDate, String target, byte[] body, String region) {
    Map<String, String> headers = new LinkedHashMap<>();
    headers.put("content-type", KmsCall.CONTENT_TYPE);
    headers.put("host", host);
    headers.put("x-amz-date", amzDate);
    headers.put("x-amz-target", target);
    return authorization("POST", "/", "", headers, body, region, "kms");
  }

  /** The SigV4 signing key: HMAC-SHA256 chain over date, region, service and "aws4_request". */
  public static byte[] signingKey(String secret, String date, String region, String service) {
    return SigV4Signer.signingKey(secret, date, region, service);
  }

  public static String hex(byte[] b) {
    return HexFormat.of().formatHex(b);
  }
}
