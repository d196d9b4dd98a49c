package io.kmsregions.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.http.ContentStreamProvider;
import software.amazon.awssdk.http.SdkHttpMethod;
import software.amazon.awssdk.http.SdkHttpRequest;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4HttpSigner;
import software.amazon.awssdk.http.auth.spi.signer.HttpSigner;
import software.amazon.awssdk.http.auth.spi.signer.SignedRequest;
import software.amazon.awssdk.identity.spi.AwsCredentialsIdentity;

/** The bench's SigV4 signer against AWS's published examples, and against the AWS SDK's signer. */
class SigV4Test {
  static final String AKID = "AKIDEXAMPLE";
  static final String SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

  /** The "get-vanilla" case of AWS's Signature Version 4 test suite. */
  @Test
  void getVanillaMatchesTheAwsTestSuite() {
    Map<String, String> headers = new LinkedHashMap<>();
    headers.put("Host", "example.amazonaws.com");
    headers.put("X-Amz-Date", "20150830T123600Z");
    String authorization = new SigV4(AKID, SECRET)
        .authorization("GET", "/", "", headers, new byte[0], "us-east-1", "service");
    assertEquals("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
        + "SignedHeaders=host;x-amz-date, "
        + "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31", authorization);
  }

  /** The signing-key derivation example of the SigV4 documentation (IAM, 2012-02-15). */
  @Test
  void signingKeyMatchesTheDocumentedExample() {
    assertEquals("f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d",
        SigV4.hex(SigV4.signingKey(SECRET, "20120215", "us-east-1", "iam")));
  }

  @Test
  void headerValuesAreTrimmedAndNamesSorted() {
    Map<String, String> headers = new LinkedHashMap<>();
    headers.put("X-Amz-Date", "20150830T123600Z");
    headers.put("Host", "  example.amazonaws.com  ");
    headers.put("My-Header1", "  a   b   c  ");
    String a = new SigV4(AKID, SECRET).authorization("GET", "/", "", headers, new byte[0], "us-east-1", "service");
    headers.put("My-Header1", "a b c");
    headers.put("Host", "example.amazonaws.com");
    String b = new SigV4(AKID, SECRET).authorization("GET", "/", "", headers, new byte[0], "us-east-1", "service");
    assertEquals(b, a);
    assertTrue(a.contains("SignedHeaders=host;my-header1;x-amz-date,"), a);
  }

  /** A KMS request signed by the bench equals the same request signed by the AWS SDK for Java v2. */
  @Test
  void kmsRequestMatchesTheAwsSdkSigner() {
    byte[] body = "{\"KeyId\":\"1234abcd-12ab-34cd-56ef-1234567890ab\",\"Plaintext\":\"aGVsbG8=\"}"
        .getBytes(StandardCharsets.UTF_8);
    Instant at = Instant.parse("2026-01-02T03:04:05Z");
    SdkHttpRequest request = SdkHttpRequest.builder()
        .method(SdkHttpMethod.POST)
        .uri(URI.create("http://127.0.0.1:4566/"))
        .putHeader("Content-Type", KmsCall.CONTENT_TYPE)
        .putHeader("X-Amz-Target", "TrentService.Encrypt")
        .build();
    SignedRequest signed = AwsV4HttpSigner.create().sign(r -> r
        .identity(AwsCredentialsIdentity.create(AKID, SECRET))
        .request(request)
        .payload(ContentStreamProvider.fromByteArray(body))
        .putProperty(AwsV4HttpSigner.SERVICE_SIGNING_NAME, "kms")
        .putProperty(AwsV4HttpSigner.REGION_NAME, "eu-west-1")
        .putProperty(HttpSigner.SIGNING_CLOCK, Clock.fixed(at, ZoneOffset.UTC)));
    String sdk = signed.request().firstMatchingHeader("Authorization").orElseThrow();
    // Over plain http the SDK also signs x-amz-content-sha256: sign exactly the headers it signed.
    String names = sdk.substring(sdk.indexOf("SignedHeaders=") + 14, sdk.indexOf(", Signature="));
    Map<String, String> headers = new LinkedHashMap<>();
    for (String name : names.split(";")) {
      headers.put(name, name.equals("host") ? "127.0.0.1:4566" : signed.request().firstMatchingHeader(name).orElseThrow());
    }
    assertEquals("20260102T030405Z", headers.get("x-amz-date"));
    String ours = new SigV4(AKID, SECRET).authorization("POST", "/", "", headers, body, "eu-west-1", "kms");
    assertEquals(sdk, ours);
    // The bench's KMS form signs the four headers KMS clients sign over https.
    String kms = new SigV4(AKID, SECRET).kmsAuthorization("127.0.0.1:4566", "20260102T030405Z", "TrentService.Encrypt",
        body, "eu-west-1");
    assertTrue(kms.startsWith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260102/eu-west-1/kms/aws4_request, "
        + "SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature="), kms);
  }
}
