package io.kmsregions.security.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import software.amazon.awssdk.http.ContentStreamProvider;
import software.amazon.awssdk.http.SdkHttpMethod;
import software.amazon.awssdk.http.SdkHttpRequest;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4HttpSigner;
import software.amazon.awssdk.http.auth.spi.signer.HttpSigner;
import software.amazon.awssdk.identity.spi.AwsCredentialsIdentity;

/**
 * {@link SigV4Signer} against AWS's published SigV4 POST vectors (the ones
 * {@link SigV4VerifierTest} checks the verifier with), against {@link SigV4Verifier} for the XKS
 * service {@code kms-xks-proxy}, and against the AWS SDK for Java v2's signer.
 */
class SigV4SignerTest {

  @ParameterizedTest(name = "{0}")
  @MethodSource("io.kmsregions.security.auth.SigV4VerifierTest#postVectors")
  void producesThePublishedAuthorization(String name, String query, String[] extra, String body, String signed,
      String signature) {
    SignedRequest request = SigV4VerifierTest.suiteRequest(query, extra, body, null);
    String authorization = new SigV4Signer(SigV4VerifierTest.AKID, SigV4VerifierTest.SECRET, "us-east-1", "service")
        .authorization(request, List.of(signed.split(";")));
    assertEquals("AWS4-HMAC-SHA256 " + SigV4VerifierTest.SCOPE + "SignedHeaders=" + signed + ", Signature=" + signature,
        authorization, name);
  }

  /** Random XKS requests (any Region, path prefix and body) signed here verify; a wrong secret does not. */
  @Test
  void theVerifierAcceptsWhatItSignsForTheXksService() throws Exception {
    Random random = new Random(11);
    String akid = "AKIAXKSSIGNERTEST2345";
    String secret = "a".repeat(20) + "/+=" + "B".repeat(20);
    Credential c = new Credential(akid, secret, "", "xks");
    SigV4Verifier v = new SigV4Verifier(k -> k.equals(akid) ? c : null, "kms-xks-proxy", List.of(),
        Duration.ofMinutes(5));
    String[] regions = {"us-east-1", "eu-west-1", "ap-southeast-2"};
    for (int i = 0; i < 100; i++) {
      byte[] body = new byte[random.nextInt(400)];
      random.nextBytes(body);
      Instant at = Instant.ofEpochSecond(1_700_000_000L + random.nextInt(100_000_000));
      String region = regions[random.nextInt(regions.length)];
      String path = "/p" + random.nextInt(100) + "/kms/xks/v1/keys/key-" + random.nextInt(1000) + "/encrypt";
      SignedRequest request = request(path, "127.0.0.1:" + (1024 + random.nextInt(60000)), SigV4Signer.amzDate(at), body);
      request.headers().put("authorization",
          List.of(new SigV4Signer(akid, secret, region, "kms-xks-proxy").authorization(request, List.of("host", "x-amz-date"))));
      assertEquals(akid, v.verify(request, at.plusSeconds(random.nextInt(240))).accessKeyId());
      request.headers().put("authorization",
          List.of(new SigV4Signer(akid, secret + "x", region, "kms-xks-proxy").authorization(request, List.of("host", "x-amz-date"))));
      AuthenticationException e = assertThrows(AuthenticationException.class, () -> v.verify(request, at));
      assertEquals("InvalidSignatureException", e.error().type());
    }
  }

  /** The same XKS request signed by the AWS SDK's AwsV4HttpSigner and here: the same header. */
  @Test
  void matchesTheAwsSdkSigner() {
    byte[] body = "{\"requestMetadata\":{\"kmsOperation\":\"KmsHealthCheck\",\"kmsRequestId\":\"r-1\"}}"
        .getBytes(StandardCharsets.UTF_8);
    Instant at = Instant.parse("2026-02-03T04:05:06Z");
    SdkHttpRequest sdkRequest = SdkHttpRequest.builder()
        .method(SdkHttpMethod.POST)
        .uri(URI.create("http://127.0.0.1:7400/xks/kms/xks/v1/health"))
        .putHeader("Content-Type", "application/json")
        .build();
    var signed = AwsV4HttpSigner.create().sign(r -> r
        .identity(AwsCredentialsIdentity.create("AKIAXKSSIGNERTEST2345", "secret/with+chars="))
        .request(sdkRequest)
        .payload(ContentStreamProvider.fromByteArray(body))
        .putProperty(AwsV4HttpSigner.SERVICE_SIGNING_NAME, "kms-xks-proxy")
        .putProperty(AwsV4HttpSigner.REGION_NAME, "eu-central-1")
        .putProperty(HttpSigner.SIGNING_CLOCK, Clock.fixed(at, ZoneOffset.UTC)));
    String sdk = signed.request().firstMatchingHeader("Authorization").orElseThrow();
    String signedHeaders = sdk.substring(sdk.indexOf("SignedHeaders=") + 14, sdk.indexOf(", Signature"));

    SignedRequest ours = request("/xks/kms/xks/v1/health", "127.0.0.1:7400", SigV4Signer.amzDate(at), body);
    ours.headers().put("content-type", List.of("application/json"));
    signed.request().forEachHeader((name, values) -> ours.headers().putIfAbsent(name.toLowerCase(Locale.ROOT), values));
    assertEquals(sdk, new SigV4Signer("AKIAXKSSIGNERTEST2345", "secret/with+chars=", "eu-central-1", "kms-xks-proxy")
        .authorization(ours, List.of(signedHeaders.split(";"))));
  }

  @Test
  void refusesToSignWithoutHostOrDate() {
    SigV4Signer s = new SigV4Signer("AKID", "secret", "us-east-1", "kms-xks-proxy");
    SignedRequest r = request("/", "h", "20260101T000000Z", new byte[0]);
    assertThrows(IllegalArgumentException.class, () -> s.authorization(r, List.of("host")));
    assertThrows(IllegalArgumentException.class, () -> s.authorization(r, List.of("x-amz-date")));
    r.headers().remove("x-amz-date");
    assertThrows(IllegalArgumentException.class, () -> s.authorization(r, List.of("host", "x-amz-date")));
  }

  private static SignedRequest request(String path, String host, String amzDate, byte[] body) {
    Map<String, List<String>> headers = new LinkedHashMap<>();
    headers.put("host", new ArrayList<>(List.of(host)));
    headers.put("x-amz-date", new ArrayList<>(List.of(amzDate)));
    return new SignedRequest("POST", path, "", headers, body);
  }
}
