package io.kmsregions.security.auth;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;

/**
 * Signs requests with AWS Signature Version 4 in the {@code Authorization} header form, the
 * counterpart of {@link SigV4Verifier}: the canonical request is the verifier's own
 * ({@link SigV4Verifier#canonicalRequest}), so what this signs that verifier accepts by
 * construction; AWS's published test vectors and the AWS SDK's signer check both
 * (SigV4SignerTest).
 *
 * <p>Used by the external key store client ({@code io.kmsregions.keystore.xks.XksClient}), which
 * signs every call to an XKS proxy with service {@code kms-xks-proxy} and the KMS Region (XKS
 * Proxy API specification, Appendix A). Thread-safe; holds the secret, never prints it.
 */
public final class SigV4Signer {
  private static final HexFormat HEX = HexFormat.of();
  private static final DateTimeFormatter AMZ_DATE =
      DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'", Locale.ROOT).withZone(ZoneOffset.UTC);

  private final String accessKeyId;
  private final String secretAccessKey;
  private final String region;
  private final String service;

  /**
   * @param region the Region of the credential scope (for XKS: the KMS Region calling the proxy)
   * @param service the service of the credential scope ({@code kms-xks-proxy} for XKS)
   */
  public SigV4Signer(String accessKeyId, String secretAccessKey, String region, String service) {
    this.accessKeyId = accessKeyId;
    this.secretAccessKey = secretAccessKey;
    this.region = region;
    this.service = service;
  }

  /** {@code t} in the {@code X-Amz-Date} form, {@code yyyyMMdd'T'HHmmss'Z'} (UTC). */
  public static String amzDate(Instant t) {
    return AMZ_DATE.format(t);
  }

  /**
   * The {@code Authorization} header value of {@code request}.
   *
   * @param request the request as it will be sent: its headers (by lowercased name) must hold
   *     {@code x-amz-date} and every header named in {@code signedHeaders}, with the values the
   *     server will see (for {@code host}: {@code host[:port]}, the port only when not the default)
   * @param signedHeaders the headers to sign, any case and order; must include {@code host} and
   *     {@code x-amz-date}
   * @throws IllegalArgumentException if {@code x-amz-date} is missing or not signed
   */
  public String authorization(SignedRequest request, List<String> signedHeaders) {
    String amzDate = request.header("x-amz-date");
    List<String> names = new ArrayList<>();
    for (String h : signedHeaders) names.add(h.toLowerCase(Locale.ROOT));
    names.sort(null);
    if (amzDate == null || amzDate.length() < 8 || !names.contains("x-amz-date") || !names.contains("host")) {
      throw new IllegalArgumentException("host and x-amz-date must be present and signed");
    }
    String date = amzDate.substring(0, 8);
    String scope = date + "/" + region + "/" + service + "/aws4_request";
    String canonicalRequest = SigV4Verifier.canonicalRequest(request, names);
    String stringToSign = SigV4Verifier.ALGORITHM + "\n" + amzDate + "\n" + scope + "\n"
        + HEX.formatHex(SigV4Verifier.sha256(canonicalRequest.getBytes(StandardCharsets.UTF_8)));
    byte[] key = SigV4Verifier.signingKey(secretAccessKey, date, region, service);
    String signature = HEX.formatHex(SigV4Verifier.hmac(key, stringToSign));
    return SigV4Verifier.ALGORITHM + " Credential=" + accessKeyId + "/" + scope + ", SignedHeaders="
        + String.join(";", names) + ", Signature=" + signature;
  }

  /** The SigV4 signing key: HMAC-SHA256 chain {@code "AWS4"+secret → date → region → service → "aws4_request"}. */
  public static byte[] signingKey(String secret, String date, String region, String service) {
    return SigV4Verifier.signingKey(secret, date, region, service);
  }

  @Override
  public String toString() {
    return "SigV4Signer[" + accessKeyId + ", " + region + ", " + service + "]"; // never the secret
  }
}
