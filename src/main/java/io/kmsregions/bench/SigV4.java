package io.kmsregions.bench;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Map;
import java.util.StringJoiner;
import java.util.TreeMap;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * A small AWS Signature Version 4 signer (header form, {@code Authorization: AWS4-HMAC-SHA256 ...}).
 *
 * <p>Canonical request: method, canonical URI, canonical query string, the signed headers (names
 * lowercased, sorted, values trimmed with inner runs of spaces folded), the list of signed header
 * names, and the hex SHA-256 of the payload. String to sign: the algorithm, the request date, the
 * credential scope {@code date/region/service/aws4_request} and the hex SHA-256 of the canonical
 * request. The signing key is the HMAC-SHA256 chain {@code "AWS4"+secret → date → region → service
 * → "aws4_request"}. The bench signs each (operation, key) request once and reuses the header.
 */
public final class SigV4 {
  public static final String ALGORITHM = "AWS4-HMAC-SHA256";
  private static final HexFormat HEX = HexFormat.of();
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
   * The {@code Authorization} header value for a request.
   *
   * @param headers every header to sign, by any-case name; must include {@code host} and {@code x-amz-date}
   * @param canonicalQuery the canonical query string (already sorted and encoded), "" for none
   */
  public String authorization(String method, String canonicalUri, String canonicalQuery, Map<String, String> headers,
      byte[] payload, String region, String service) {
    TreeMap<String, String> canonical = new TreeMap<>();
    for (Map.Entry<String, String> h : headers.entrySet()) {
      canonical.merge(h.getKey().toLowerCase(Locale.ROOT), trimAll(h.getValue()), (a, b) -> a + "," + b);
    }
    String amzDate = canonical.get("x-amz-date");
    if (amzDate == null || amzDate.length() < 8) throw new IllegalArgumentException("x-amz-date header required");
    String date = amzDate.substring(0, 8);
    StringBuilder canonicalHeaders = new StringBuilder();
    StringJoiner signedHeaders = new StringJoiner(";");
    for (Map.Entry<String, String> h : canonical.entrySet()) {
      canonicalHeaders.append(h.getKey()).append(':').append(h.getValue()).append('\n');
      signedHeaders.add(h.getKey());
    }
    String canonicalRequest = method + "\n" + canonicalUri + "\n" + canonicalQuery + "\n" + canonicalHeaders + "\n"
        + signedHeaders + "\n" + hex(sha256(payload));
    String scope = date + "/" + region + "/" + service + "/aws4_request";
    String stringToSign = ALGORITHM + "\n" + amzDate + "\n" + scope + "\n"
        + hex(sha256(canonicalRequest.getBytes(StandardCharsets.UTF_8)));
    byte[] key = signingKey(secretAccessKey, date, region, service);
    String signature = hex(hmac(key, stringToSign));
    return ALGORITHM + " Credential=" + accessKeyId + "/" + scope + ", SignedHeaders=" + signedHeaders
        + ", Signature=" + signature;
  }

  /** The Authorization header of a KMS JSON 1.1 call: POST /, no query, the four headers KMS clients sign. */
  public String kmsAuthorization(String host, String amzDate, String target, byte[] body, String region) {
    Map<String, String> headers = new TreeMap<>();
    headers.put("content-type", KmsCall.CONTENT_TYPE);
    headers.put("host", host);
    headers.put("x-amz-date", amzDate);
    headers.put("x-amz-target", target);
    return authorization("POST", "/", "", headers, body, region, "kms");
  }

  /** The SigV4 signing key: HMAC-SHA256 chain over date, region, service and "aws4_request". */
  public static byte[] signingKey(String secret, String date, String region, String service) {
    byte[] k = hmac(("AWS4" + secret).getBytes(StandardCharsets.UTF_8), date);
    k = hmac(k, region);
    k = hmac(k, service);
    return hmac(k, "aws4_request");
  }

  static String trimAll(String value) {
    return value.trim().replaceAll(" +", " ");
  }

  public static byte[] sha256(byte[] data) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(data);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  static byte[] hmac(byte[] key, String data) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(key, "HmacSHA256"));
      return mac.doFinal(data.getBytes(StandardCharsets.UTF_8));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  public static String hex(byte[] b) {
    return HEX.formatHex(b);
  }
}
