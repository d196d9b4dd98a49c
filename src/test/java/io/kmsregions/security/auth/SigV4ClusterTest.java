package io.kmsregions.security.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.ConfigFactory;
import io.kmsregions.bench.SigV4;
import io.kmsregions.region.RegionNode;
import io.kmsregions.region.RegionSpec;
import io.kmsregions.testkit.TestCluster;
import java.io.File;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.kms.KmsClient;
import software.amazon.awssdk.services.kms.model.KmsException;

/**
 * SigV4 on a real two-Region cluster in {@code sigv4} mode: the AWS SDK for Java v2 and the aws
 * CLI with valid credentials pass (also through another Region's endpoint); a wrong secret, an
 * unknown key, a stale date, a tampered header or body fail with AWS's error types; and
 * {@code open} mode is refused on a non-loopback listener unless given explicitly.
 */
class SigV4ClusterTest {
  static final String US = "us-east-1";
  static final String EU = "eu-west-1";
  static final ObjectMapper JSON = new ObjectMapper();
  static final HttpClient HTTP = HttpClient.newHttpClient();
  static final DateTimeFormatter AMZ = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'");

  @TempDir static Path dataDir;
  static TestCluster cluster;

  @BeforeAll
  static void start() {
    cluster = TestCluster.start(dataDir, List.of(US, EU), ConfigFactory.parseString(String.join("\n",
        "kms.auth.mode = sigv4",
        "kms.auth.credentials = [",
        "  { access-key-id = AKIDTEST, secret-access-key = secret, principal-arn = \"arn:aws:iam::111122223333:user/alice\" }",
        "  { access-key-id = test, secret-access-key = test }",
        "]")));
  }

  @AfterAll
  static void stop() {
    if (cluster != null) cluster.close();
  }

  static KmsClient client(String region, String endpointRegion, String akid, String secret) {
    return KmsClient.builder()
        .endpointOverride(cluster.endpoint(endpointRegion))
        .region(Region.of(region))
        .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(akid, secret)))
        .httpClient(UrlConnectionHttpClient.create())
        .overrideConfiguration(c -> c.retryStrategy(AwsRetryStrategy.doNotRetry()))
        .build();
  }

  @Test
  void sdkWithValidCredentialsIsServedAlsoThroughAnotherRegionsEndpoint() {
    try (KmsClient us = cluster.client(US); KmsClient euViaUs = cluster.clientVia(EU, US)) {
      String keyId = us.createKey(b -> b.description("signed")).keyMetadata().keyId();
      byte[] blob = us.encrypt(b -> b.keyId(keyId).plaintext(SdkBytes.fromUtf8String("hi"))).ciphertextBlob().asByteArray();
      assertEquals("hi", us.decrypt(b -> b.ciphertextBlob(SdkBytes.fromByteArray(blob))).plaintext().asUtf8String());
      String euKey = euViaUs.createKey(b -> b.description("forwarded")).keyMetadata().arn();
      assertTrue(euKey.contains(":" + EU + ":"), euKey);
    }
  }

  @Test
  void sdkWithAWrongSecretOrAnUnknownKeyIsRefused() {
    try (KmsClient wrong = client(US, US, "AKIDTEST", "not-the-secret");
        KmsClient unknown = client(US, US, "AKIDNOBODY", "secret");
        KmsClient wrongViaEu = client(US, EU, "AKIDTEST", "not-the-secret")) {
      assertError("InvalidSignatureException", () -> wrong.listKeys());
      assertError("UnrecognizedClientException", () -> unknown.listKeys());
      // The receiving node verifies before forwarding: no forwarded call without a verified caller.
      assertError("InvalidSignatureException", () -> wrongViaEu.listKeys());
    }
  }

  @Test
  void staleOrFutureDateIsRefusedWithSignatureExpired() throws Exception {
    ZonedDateTime now = ZonedDateTime.now(ZoneOffset.UTC);
    HttpResponse<String> stale = signedPost(US, now.minusMinutes(20).format(AMZ), "{}", null, null);
    assertEquals(400, stale.statusCode());
    JsonNode e = JSON.readTree(stale.body());
    assertEquals("InvalidSignatureException", e.get("__type").asText());
    assertTrue(e.get("message").asText().startsWith("Signature expired: "), stale.body());
    HttpResponse<String> future = signedPost(US, now.plusMinutes(20).format(AMZ), "{}", null, null);
    assertTrue(future.body().contains("Signature not yet current"), future.body());
    assertEquals(200, signedPost(US, now.minusMinutes(10).format(AMZ), "{}", null, null).statusCode());
  }

  @Test
  void tamperedBodyOrSignedHeaderIsRefusedUnsignedRequestNeedsAToken() throws Exception {
    String date = ZonedDateTime.now(ZoneOffset.UTC).format(AMZ);
    assertEquals(200, signedPost(US, date, "{}", null, null).statusCode());
    HttpResponse<String> body = signedPost(US, date, "{}", "{\"Limit\":1}", null);
    assertEquals("InvalidSignatureException", JSON.readTree(body.body()).get("__type").asText());
    HttpResponse<String> target = signedPost(US, date, "{}", null, "TrentService.CreateKey");
    assertEquals("InvalidSignatureException", JSON.readTree(target.body()).get("__type").asText());
    HttpResponse<String> unsigned = HTTP.send(HttpRequest.newBuilder(URI.create(cluster.endpoint(US) + "/"))
        .header("Content-Type", "application/x-amz-json-1.1").header("X-Amz-Target", "TrentService.ListKeys")
        .POST(HttpRequest.BodyPublishers.ofString("{}")).build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(400, unsigned.statusCode());
    assertEquals("MissingAuthenticationTokenException", JSON.readTree(unsigned.body()).get("__type").asText());
    HttpResponse<String> garbage = HTTP.send(HttpRequest.newBuilder(URI.create(cluster.endpoint(US) + "/"))
        .header("Content-Type", "application/x-amz-json-1.1").header("X-Amz-Target", "TrentService.ListKeys")
        .header("Authorization", "AWS4-HMAC-SHA256 nonsense")
        .POST(HttpRequest.BodyPublishers.ofString("{}")).build(), HttpResponse.BodyHandlers.ofString());
    assertEquals("IncompleteSignatureException", JSON.readTree(garbage.body()).get("__type").asText());
  }

  /**
   * ListKeys signed with the bench's signer at {@code amzDate}; then, to tamper, the body sent or
   * the X-Amz-Target sent replaced after signing.
   */
  static HttpResponse<String> signedPost(String region, String amzDate, String body, String sentBody, String sentTarget)
      throws Exception {
    String host = "127.0.0.1:" + cluster.httpPort(region);
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    String auth = new SigV4("AKIDTEST", "secret").kmsAuthorization(host, amzDate, "TrentService.ListKeys", bytes, region);
    return HTTP.send(HttpRequest.newBuilder(URI.create(cluster.endpoint(region) + "/"))
        .header("Content-Type", "application/x-amz-json-1.1")
        .header("X-Amz-Target", sentTarget != null ? sentTarget : "TrentService.ListKeys")
        .header("X-Amz-Date", amzDate)
        .header("Authorization", auth)
        .POST(HttpRequest.BodyPublishers.ofString(sentBody != null ? sentBody : body)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** The aws CLI signs with the documented default pair (test/test); a wrong secret is refused. */
  @Test
  void awsCliWithTheDocumentedCredentialsWorksAndAWrongSecretDoesNot() throws Exception {
    String aws = findOnPath("aws");
    org.junit.jupiter.api.Assumptions.assumeTrue(aws != null, "no aws CLI on PATH");
    String endpoint = cluster.endpoint(US).toString();
    Result ok = run(aws, "test", "kms", "create-key", "--endpoint-url", endpoint, "--region", US,
        "--description", "from-cli", "--query", "KeyMetadata.KeyId", "--output", "text");
    assertEquals(0, ok.code, ok.output);
    String keyId = ok.output.trim();
    Result viaEu = run(aws, "test", "kms", "describe-key", "--endpoint-url", cluster.endpoint(EU).toString(),
        "--region", US, "--key-id", keyId, "--query", "KeyMetadata.Description", "--output", "text");
    assertEquals("from-cli", viaEu.output.trim(), viaEu.output);
    Result wrong = run(aws, "wrong", "kms", "list-keys", "--endpoint-url", endpoint, "--region", US);
    assertNotEquals(0, wrong.code);
    assertTrue(wrong.output.contains("InvalidSignatureException"), wrong.output);
  }

  record Result(int code, String output) {}

  static Result run(String aws, String secret, String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of(aws));
    command.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
    Map<String, String> env = pb.environment();
    Path empty = Files.createTempFile(dataDir, "aws", ".cfg");
    env.put("AWS_CONFIG_FILE", empty.toString());
    env.put("AWS_SHARED_CREDENTIALS_FILE", empty.toString());
    env.put("AWS_ACCESS_KEY_ID", "test");
    env.put("AWS_SECRET_ACCESS_KEY", secret);
    env.put("AWS_MAX_ATTEMPTS", "1");
    env.remove("AWS_SESSION_TOKEN");
    env.remove("AWS_PROFILE");
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(60, TimeUnit.SECONDS));
    return new Result(p.exitValue(), out);
  }

  static String findOnPath(String name) {
    for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
      File f = new File(dir, name);
      if (f.canExecute()) return f.getPath();
    }
    return null;
  }

  /** open mode on 0.0.0.0 is refused; with the operator's explicit --auth open it starts. */
  @Test
  void openModeIsRefusedOnANonLoopbackListenerUnlessExplicit(@TempDir Path dir) throws Exception {
    RegionSpec spec = new RegionSpec("sa-east-1", "0.0.0.0", TestCluster.freePort(), "127.0.0.1", TestCluster.freePort());
    var base = ConfigFactory.parseString(String.join("\n",
        "kms.auth.mode = open",
        "pekko.coordinated-shutdown.run-by-jvm-shutdown-hook = off",
        "pekko.persistence.journal.leveldb.fsync = off"));
    RegionNode refused = RegionNode.start(spec, List.of(spec), dir, base);
    try {
      Exception e = assertThrows(Exception.class, () -> refused.ready().toCompletableFuture().get(60, TimeUnit.SECONDS));
      assertTrue(String.valueOf(rootCause(e).getMessage()).contains("kms.auth.mode = open is refused"), e.toString());
    } finally {
      refused.system().terminate();
      refused.system().getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
    RegionNode explicit = RegionNode.start(spec, List.of(spec), dir,
        ConfigFactory.parseString("kms.auth.allow-open-on-any-address = on").withFallback(base));
    try {
      explicit.ready().toCompletableFuture().get(60, TimeUnit.SECONDS);
      HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + spec.httpPort() + "/"))
          .header("Content-Type", "application/x-amz-json-1.1").header("X-Amz-Target", "TrentService.ListKeys")
          .POST(HttpRequest.BodyPublishers.ofString("{}")).build(), HttpResponse.BodyHandlers.ofString());
      assertEquals(200, r.statusCode(), r.body());
    } finally {
      explicit.stop(Duration.ofSeconds(30));
    }
  }

  static Throwable rootCause(Throwable t) {
    while (t.getCause() != null) t = t.getCause();
    return t;
  }

  interface Call {
    void run() throws Exception;
  }

  static void assertError(String type, Call call) {
    KmsException e = assertThrows(KmsException.class, call::run);
    assertEquals(type, e.awsErrorDetails().errorCode(), e.getMessage());
  }
}
