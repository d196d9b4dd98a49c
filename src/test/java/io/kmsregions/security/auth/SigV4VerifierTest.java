package io.kmsregions.security.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import software.amazon.awssdk.http.ContentStreamProvider;
import software.amazon.awssdk.http.SdkHttpMethod;
import software.amazon.awssdk.http.SdkHttpRequest;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4HttpSigner;
import software.amazon.awssdk.http.auth.spi.signer.HttpSigner;
import software.amazon.awssdk.identity.spi.AwsCredentialsIdentity;

/**
 * {@link SigV4Verifier} against AWS's published Signature Version 4 test suite (the
 * aws-sig-v4-test-suite of the AWS General Reference, formerly at
 * https://docs.aws.amazon.com/general/latest/gr/signature-v4-test-suite.html; the values below are
 * its POST cases as redistributed in aws-sdk-js-v3, packages/signature-v4/src/suite.fixture.ts:
 * credentials AKIDEXAMPLE / wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY, 20150830T123600Z, us-east-1,
 * service "service"), and against the AWS SDK for Java v2's own signer on random KMS requests.
 */
class SigV4VerifierTest {
  static final String AKID = "AKIDEXAMPLE";
  static final String SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
  static final Instant SUITE_TIME = Instant.parse("2015-08-30T12:36:00Z");
  static final String SCOPE = "Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, ";
  static final String STS_TOKEN = "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqw"
      + "AeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYw"
      + "T7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Y"
      + "jc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==";

  static SigV4Verifier suiteVerifier() {
    Credential c = new Credential(AKID, SECRET, "111122223333", "arn:aws:iam::111122223333:user/example");
    return new SigV4Verifier(k -> k.equals(AKID) ? c : null, "service", List.of(), Duration.ofMinutes(15));
  }

  /** name, raw query, extra headers (name, value, ...), body, published signed headers and signature. */
  static Stream<Arguments> postVectors() {
    return Stream.of(
        Arguments.of("post-vanilla", "", new String[] {}, "", "host;x-amz-date",
            "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"),
        Arguments.of("post-header-key-sort", "", new String[] {"My-Header1", "value1"}, "",
            "host;my-header1;x-amz-date", "c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c"),
        Arguments.of("post-header-value-case", "", new String[] {"My-Header1", "VALUE1"}, "",
            "host;my-header1;x-amz-date", "cdbc9802e29d2942e5e10b5bccfdd67c5f22c7c4e8ae67b53629efa58b974b7d"),
        Arguments.of("post-vanilla-query", "Param1=value1", new String[] {}, "", "host;x-amz-date",
            "28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11"),
        Arguments.of("post-vanilla-query-nonunreserved",
            "%40%23%24%25%5E=&%2B=%2F%2C%3F%3E%3C%60%22%3B%3A%5C%7C%5D%5B%7B%7D", new String[] {}, "",
            "host;x-amz-date", "66c82657c86e26fb25238d0e69f011edc4c6df5ae71119d7cb98ed9b87393c1e"),
        Arguments.of("post-vanilla-query-space", "p=", new String[] {}, "", "host;x-amz-date",
            "e71688addb58a26418614085fb730ba3faa623b461c17f48f2fbdb9361b94a9b"),
        Arguments.of("post-x-www-form-urlencoded", "",
            new String[] {"Content-Type", "application/x-www-form-urlencoded"}, "Param1=value1",
            "content-type;host;x-amz-date", "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a"),
        Arguments.of("post-x-www-form-urlencoded-parameters", "",
            new String[] {"Content-Type", "application/x-www-form-urlencoded; charset=utf8"}, "Param1=value1",
            "content-type;host;x-amz-date", "1a72ec8f64bd914b0e42e42607c7fbce7fb2c7465f63e3092b3b0d39fa77a6fe"),
        Arguments.of("post-sts-header-before", "", new String[] {"X-Amz-Security-Token", STS_TOKEN}, "",
            "host;x-amz-date;x-amz-security-token", "85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead"));
  }

  static SignedRequest suiteRequest(String query, String[] extra, String body, String authorization) {
    Map<String, List<String>> headers = new LinkedHashMap<>();
    headers.put("host", new ArrayList<>(List.of("example.amazonaws.com")));
    headers.put("x-amz-date", new ArrayList<>(List.of("20150830T123600Z")));
    for (int i = 0; i < extra.length; i += 2) {
      headers.computeIfAbsent(extra[i].toLowerCase(Locale.ROOT), k -> new ArrayList<>()).add(extra[i + 1]);
    }
    if (authorization != null) headers.put("authorization", List.of(authorization));
    return new SignedRequest("POST", "/", query, headers, body.getBytes(StandardCharsets.UTF_8));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("postVectors")
  void computesThePublishedSignature(String name, String query, String[] extra, String body, String signed,
      String signature) {
    String authorization = "AWS4-HMAC-SHA256 " + SCOPE + "SignedHeaders=" + signed + ", Signature=" + signature;
    SigV4Verifier.Authorization auth = new SigV4Verifier.Authorization(AKID, "20150830", "us-east-1", "service",
        List.of(signed.split(";")), signature);
    assertEquals(signature, suiteVerifier().signature(suiteRequest(query, extra, body, authorization), auth,
        "20150830T123600Z", SECRET), name);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("postVectors")
  void verifiesThePublishedRequestAndRefusesEveryTamperedOne(String name, String query, String[] extra, String body,
      String signed, String signature) throws Exception {
    String authorization = "AWS4-HMAC-SHA256 " + SCOPE + "SignedHeaders=" + signed + ", Signature=" + signature;
    SigV4Verifier v = suiteVerifier();
    if (name.startsWith("post-sts")) {
      // kms-regions issues no session tokens: a request with one is an unrecognised client.
      assertType("UnrecognizedClientException", () -> v.verify(suiteRequest(query, extra, body, authorization), SUITE_TIME));
      return;
    }
    assertEquals(AKID, v.verify(suiteRequest(query, extra, body, authorization), SUITE_TIME).accessKeyId());
    // A changed body, a changed signed header, a changed query, a changed signature: refused.
    assertType("InvalidSignatureException",
        () -> v.verify(suiteRequest(query, extra, body + "x", authorization), SUITE_TIME));
    SignedRequest otherHost = suiteRequest(query, extra, body, authorization);
    otherHost.headers().put("host", List.of("example.amazonaws.org"));
    assertType("InvalidSignatureException", () -> v.verify(otherHost, SUITE_TIME));
    assertType("InvalidSignatureException",
        () -> v.verify(suiteRequest(query + (query.isEmpty() ? "" : "&") + "x=1", extra, body, authorization), SUITE_TIME));
    String flipped = authorization.substring(0, authorization.length() - 1)
        + (authorization.endsWith("0") ? "1" : "0");
    assertType("InvalidSignatureException", () -> v.verify(suiteRequest(query, extra, body, flipped), SUITE_TIME));
    // An unsigned header may change freely, as at AWS.
    SignedRequest unsignedHeader = suiteRequest(query, extra, body, authorization);
    unsignedHeader.headers().put("user-agent", List.of("anything"));
    v.verify(unsignedHeader, SUITE_TIME);
  }

  @Test
  void dateOutsideFifteenMinutesIsRefusedInsideIsAccepted() throws Exception {
    String authorization = "AWS4-HMAC-SHA256 " + SCOPE
        + "SignedHeaders=host;x-amz-date, Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b";
    SignedRequest r = suiteRequest("", new String[] {}, "", authorization);
    SigV4Verifier v = suiteVerifier();
    v.verify(r, SUITE_TIME.plus(Duration.ofMinutes(14)));
    v.verify(r, SUITE_TIME.minus(Duration.ofMinutes(14)));
    AuthenticationException late = assertThrows(AuthenticationException.class,
        () -> v.verify(r, SUITE_TIME.plus(Duration.ofMinutes(16))));
    assertEquals("InvalidSignatureException", late.error().type());
    assertEquals("Signature expired: 20150830T123600Z is now earlier than 20150830T123700Z "
        + "(20150830T125200Z - 15 min.)", late.error().message());
    AuthenticationException early = assertThrows(AuthenticationException.class,
        () -> v.verify(r, SUITE_TIME.minus(Duration.ofMinutes(16))));
    assertTrue(early.error().message().startsWith("Signature not yet current: 20150830T123600Z is still later than"),
        early.error().message());
  }

  @Test
  void malformedAuthorizationsGetAwsErrorTypes() {
    SigV4Verifier v = suiteVerifier();
    assertType("MissingAuthenticationTokenException", () -> v.verify(suiteRequest("", new String[] {}, "", null), SUITE_TIME));
    assertType("IncompleteSignatureException", () -> v.verify(suiteRequest("", new String[] {}, "", "garbage"), SUITE_TIME));
    assertType("IncompleteSignatureException",
        () -> v.verify(suiteRequest("", new String[] {}, "", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request"), SUITE_TIME));
    assertType("IncompleteSignatureException",
        () -> v.verify(suiteRequest("", new String[] {}, "", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1, SignedHeaders=host;x-amz-date, Signature=00"), SUITE_TIME));
    assertType("IncompleteSignatureException",
        () -> v.verify(suiteRequest("", new String[] {}, "", "AWS4-HMAC-SHA1 Credential=x"), SUITE_TIME));
    SignedRequest noDate = suiteRequest("", new String[] {}, "", "AWS4-HMAC-SHA256 " + SCOPE + "SignedHeaders=host, Signature=00");
    noDate.headers().remove("x-amz-date");
    assertType("IncompleteSignatureException", () -> v.verify(noDate, SUITE_TIME));
    SignedRequest badDate = suiteRequest("", new String[] {}, "", "AWS4-HMAC-SHA256 " + SCOPE + "SignedHeaders=host;x-amz-date, Signature=00");
    badDate.headers().put("x-amz-date", List.of("2015-08-30T12:36:00Z"));
    assertType("IncompleteSignatureException", () -> v.verify(badDate, SUITE_TIME));
    assertType("UnrecognizedClientException", () -> v.verify(suiteRequest("", new String[] {}, "",
        "AWS4-HMAC-SHA256 Credential=NOSUCHKEY/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=00"), SUITE_TIME));
    assertType("InvalidSignatureException", () -> v.verify(suiteRequest("", new String[] {}, "",
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150831/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=00"), SUITE_TIME));
    assertType("InvalidSignatureException", () -> v.verify(suiteRequest("", new String[] {}, "",
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=00"), SUITE_TIME));
    // host and x-amz-date must be signed
    assertType("InvalidSignatureException", () -> v.verify(suiteRequest("", new String[] {}, "",
        "AWS4-HMAC-SHA256 " + SCOPE + "SignedHeaders=x-amz-date, Signature=00"), SUITE_TIME));
    assertType("InvalidSignatureException", () -> v.verify(suiteRequest("", new String[] {}, "",
        "AWS4-HMAC-SHA256 " + SCOPE + "SignedHeaders=host, Signature=00"), SUITE_TIME));
  }

  @Test
  void amzDateIsParsedAsTheFormatterDoesAndOutOfRangeFieldsAreIncomplete() {
    java.time.format.DateTimeFormatter f = java.time.format.DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'");
    Random random = new Random(11);
    for (int i = 0; i < 10_000; i++) {
      java.time.LocalDateTime t = java.time.LocalDateTime.ofEpochSecond(random.nextLong(4_102_444_800L), 0,
          java.time.ZoneOffset.UTC);
      assertEquals(t.toInstant(java.time.ZoneOffset.UTC), SigV4Verifier.parseAmzDate(f.format(t)));
    }
    SigV4Verifier v = suiteVerifier();
    for (String bad : new String[] {"20151330T123600Z", "20150832T123600Z", "20150830T253600Z", "20150830T126000Z",
        "20150830T123661Z", "00000000T000000Z"}) {
      SignedRequest r = suiteRequest("", new String[] {}, "", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"
          + bad.substring(0, 8) + "/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=00");
      r.headers().put("x-amz-date", List.of(bad));
      assertType("IncompleteSignatureException", () -> v.verify(r, SUITE_TIME));
    }
  }

  @Test
  void regionOutsideTheClusterIsRefused() {
    Credential c = new Credential(AKID, SECRET, "111122223333", "arn:aws:iam::111122223333:user/example");
    SigV4Verifier v = new SigV4Verifier(k -> c, "service", List.of("eu-west-1"), Duration.ofMinutes(15));
    String authorization = "AWS4-HMAC-SHA256 " + SCOPE
        + "SignedHeaders=host;x-amz-date, Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b";
    assertType("InvalidSignatureException", () -> v.verify(suiteRequest("", new String[] {}, "", authorization), SUITE_TIME));
  }

  /** Random KMS requests signed by the AWS SDK for Java v2's AwsV4HttpSigner all verify. */
  @Test
  void everyRequestTheAwsSdkSignerSignsVerifies() throws Exception {
    Random random = new Random(7);
    Credential c = new Credential("AKIDSDK", "sdk/secret+key", "111122223333", "arn:aws:iam::111122223333:user/sdk");
    SigV4Verifier v = new SigV4Verifier(k -> k.equals("AKIDSDK") ? c : null, "kms", List.of("eu-west-1"),
        Duration.ofMinutes(15));
    for (int i = 0; i < 200; i++) {
      byte[] body = new byte[random.nextInt(300)];
      random.nextBytes(body);
      Instant at = Instant.ofEpochSecond(1_700_000_000L + random.nextInt(100_000_000));
      SdkHttpRequest request = SdkHttpRequest.builder()
          .method(SdkHttpMethod.POST)
          .uri(URI.create("http://127.0.0.1:" + (1024 + random.nextInt(60000)) + "/"))
          .putHeader("Content-Type", "application/x-amz-json-1.1")
          .putHeader("X-Amz-Target", "TrentService.Op" + random.nextInt(1000))
          .putHeader("X-Custom", "  a   value\twith   spaces  ")
          .build();
      var signed = AwsV4HttpSigner.create().sign(r -> r
          .identity(AwsCredentialsIdentity.create("AKIDSDK", "sdk/secret+key"))
          .request(request)
          .payload(ContentStreamProvider.fromByteArray(body))
          .putProperty(AwsV4HttpSigner.SERVICE_SIGNING_NAME, "kms")
          .putProperty(AwsV4HttpSigner.REGION_NAME, "eu-west-1")
          .putProperty(HttpSigner.SIGNING_CLOCK, Clock.fixed(at, ZoneOffset.UTC)));
      Map<String, List<String>> headers = new LinkedHashMap<>();
      signed.request().forEachHeader((name, values) -> headers.put(name.toLowerCase(Locale.ROOT), values));
      headers.put("host", List.of(signed.request().host() + ":" + signed.request().port()));
      SignedRequest ours = new SignedRequest("POST", "/", "", headers, body);
      assertEquals("AKIDSDK", v.verify(ours, at.plusSeconds(random.nextInt(600))).accessKeyId());
      byte[] tampered = body.length == 0 ? new byte[] {1} : body.clone();
      if (body.length > 0) tampered[random.nextInt(body.length)] ^= 1;
      assertType("InvalidSignatureException", () -> v.verify(new SignedRequest("POST", "/", "", headers, tampered), at));
    }
  }

  interface Call {
    void run() throws Exception;
  }

  static void assertType(String type, Call call) {
    AuthenticationException e = assertThrows(AuthenticationException.class, call::run);
    assertEquals(type, e.error().type(), e.error().message());
    assertEquals(400, e.error().status());
  }
}
