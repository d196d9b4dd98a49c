package io.kmsregions.api;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.kmsregions.testkit.TestCluster;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The AWS JSON 1.1 protocol's error handling (kms-api.md §1, DESIGN.md invariant 7), with raw HTTP
 * against the us-east-1 node: each bad request gets HTTP 400 (or the stated status), the exact
 * {@code __type}, the protocol's content type and a request id, never a stack trace; the node
 * keeps serving; and nothing changes (the Region's key list is the same before and after).
 */
@Execution(ExecutionMode.SAME_THREAD) // the before/after key lists need this class to run alone
class ProtocolErrorsTest {
  private static final String REGION = "us-east-1";
  private static final String OTHER = "eu-west-1";
  private static final String ACCOUNT = "111122223333";
  private static final String AMZ_JSON = "application/x-amz-json-1.1";
  private static final String DRY_RUN_MESSAGE = "The request would have succeeded, but the DryRun option is set.";
  private static final String INCORRECT_KEY_MESSAGE =
      "The key ID in the request does not identify a CMK that can perform this operation.";
  private static final Pattern EXCEPTION_CLASS =
      Pattern.compile("Exception:\\s*[A-Za-z_$][\\w$]*(\\.[A-Za-z_$][\\w$]*)+");
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final Base64.Encoder B64 = Base64.getEncoder();

  @TempDir static Path dataDir;
  private static TestCluster cluster;
  private static HttpClient http;
  /** Two symmetric keys of us-east-1, created once. */
  private static String keyA;
  private static String keyB;

  @BeforeAll
  static void startCluster() throws Exception {
    cluster = TestCluster.start(dataDir);
    http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).version(HttpClient.Version.HTTP_1_1).build();
    keyA = createSymmetricKey(REGION, null);
    keyB = createSymmetricKey(REGION, null);
  }

  @AfterAll
  static void stopCluster() {
    if (cluster != null) cluster.close();
  }

  // ------------------------------------------------------------------ bodies that are not the input shape

  @ParameterizedTest(name = "body {0}")
  @ValueSource(strings = {"{\"KeyUsage\":", "{\"Description\":\"x\",}", "not json at all", "{\"a\":1}{\"b\":2}",
      "{\"Description\":\"a\",\"Description\":\"b\"}"})
  void malformedJsonIsASerializationException(String body) throws Exception {
    assertRefused(post("TrentService.CreateKey", body), 400, "SerializationException");
  }

  @ParameterizedTest(name = "body {0}")
  @ValueSource(strings = {"[]", "[{\"KeySpec\":\"RSA_2048\"}]", "\"CreateKey\"", "42", "true", "null"})
  void bodyThatIsNotAJsonObjectIsASerializationException(String body) throws Exception {
    assertRefused(post("TrentService.CreateKey", body), 400, "SerializationException");
  }

  @ParameterizedTest(name = "body {0}")
  @ValueSource(strings = {"{\"Description\":5}", "{\"MultiRegion\":\"yes\"}", "{\"MultiRegion\":\"true\"}",
      "{\"MultiRegion\":1}", "{\"Tags\":{}}", "{\"Tags\":[{\"TagKey\":1,\"TagValue\":\"v\"}]}",
      "{\"Description\":[\"x\"]}", "{\"KeySpec\":{\"v\":\"RSA_2048\"}}"})
  void wrongFieldTypesAreASerializationException(String body) throws Exception {
    assertRefused(post("TrentService.CreateKey", body), 400, "SerializationException");
  }

  @Test
  void deeplyNestedJsonIsASerializationException() throws Exception {
    String body = "{\"Description\":" + "[".repeat(5000) + "]".repeat(5000) + "}";
    assertRefused(post("TrentService.CreateKey", body), 400, "SerializationException");
  }

  @ParameterizedTest(name = "NumberOfBytes {0}")
  @ValueSource(strings = {"32.5", "\"32\"", "true", "99999999999999999999", "[32]"})
  void numberOfBytesOfTheWrongTypeIsASerializationException(String value) throws Exception {
    assertRefused(post("TrentService.GenerateDataKey",
        "{\"KeyId\":\"" + keyA + "\",\"NumberOfBytes\":" + value + "}"), 400, "SerializationException");
  }

  // ------------------------------------------------------------------ targets

  @Test
  void missingTargetIsAnUnknownOperation() throws Exception {
    assertRefused(send(request(null, "{}").build()), 400, "UnknownOperationException");
  }

  @ParameterizedTest(name = "X-Amz-Target: {0}")
  @ValueSource(strings = {"TrentService.NoSuchOp", "Foo.CreateKey", "TrentService.", "CreateKey",
      "TrentService.createKey", "trentservice.CreateKey"})
  void unknownTargetIsAnUnknownOperation(String target) throws Exception {
    assertRefused(post(target, "{}"), 400, "UnknownOperationException");
  }

  /**
   * Every operation of the KMS API is implemented now (custom key stores were the last, issue 8):
   * one of them with a store that does not exist is CustomKeyStoreNotFoundException, not
   * UnsupportedOperationException or UnknownOperationException.
   */
  @Test
  void customKeyStoreOperationsAreImplemented() throws Exception {
    JsonNode error = assertRefused(post("TrentService.ConnectCustomKeyStore",
        "{\"CustomKeyStoreId\":\"cks-1234567890abcdef0\"}"), 400, "CustomKeyStoreNotFoundException");
    assertTrue(error.path("message").asText().contains("cks-1234567890abcdef0"), error.toString());
  }

  // ------------------------------------------------------------------ Encrypt / Decrypt inputs

  @Test
  void plaintextThatIsNotBase64IsASerializationException() throws Exception {
    assertRefused(post("TrentService.Encrypt",
        "{\"KeyId\":\"" + keyA + "\",\"Plaintext\":\"!!not*base64!!\"}"), 400, "SerializationException");
  }

  @Test
  void plaintextOf4097BytesIsAValidationError() throws Exception {
    JsonNode error = assertRefused(encrypt(keyA, new byte[4097], null), 400, "ValidationException");
    String message = error.path("message").asText();
    assertTrue(message.contains("Member must have length less than or equal to 4096"), message);
    // AWS does not echo blob values (kms-api.md §1).
    assertEquals("1 validation error detected: Value at 'plaintext' failed to satisfy constraint: "
        + "Member must have length less than or equal to 4096", message);
    // Control: 4096 bytes are fine.
    assertEquals(200, encrypt(keyA, new byte[4096], null).statusCode());
  }

  @Test
  void emptyPlaintextIsAValidationError() throws Exception {
    JsonNode error = assertRefused(post("TrentService.Encrypt",
        "{\"KeyId\":\"" + keyA + "\",\"Plaintext\":\"\"}"), 400, "ValidationException");
    assertEquals("1 validation error detected: Value at 'plaintext' failed to satisfy constraint: "
        + "Member must have length greater than or equal to 1", error.path("message").asText());
  }

  @Test
  void missingPlaintextIsAValidationError() throws Exception {
    JsonNode error = assertRefused(post("TrentService.Encrypt", "{\"KeyId\":\"" + keyA + "\"}"),
        400, "ValidationException");
    assertTrue(error.path("message").asText().contains("plaintext"), error.toString());
  }

  @Test
  void randomBytesAreAnInvalidCiphertext() throws Exception {
    for (int length : new int[] {1, 16, 100, 300}) {
      byte[] blob = new byte[length];
      RANDOM.nextBytes(blob);
      JsonNode error = assertRefused(decrypt(blob, null, null), 400, "InvalidCiphertextException");
      assertTrue(error.path("message").asText("").isEmpty(), "InvalidCiphertextException has no message: " + error);
    }
    // A blob that looks like ours (version 1, a plausible key id) but was never produced by a key.
    byte[] id = keyA.getBytes(StandardCharsets.US_ASCII);
    byte[] forged = new byte[2 + id.length + 32 + 12 + 40];
    RANDOM.nextBytes(forged);
    forged[0] = 1;
    forged[1] = (byte) id.length;
    System.arraycopy(id, 0, forged, 2, id.length);
    assertRefused(decrypt(forged, null, null), 400, "InvalidCiphertextException");
  }

  @Test
  void decryptWithAnotherKeyIdIsAnIncorrectKey() throws Exception {
    byte[] blob = ciphertext(encrypt(keyA, bytes("secret"), null));
    JsonNode error = assertRefused(decrypt(blob, null, keyB), 400, "IncorrectKeyException");
    assertEquals(INCORRECT_KEY_MESSAGE, error.path("message").asText());
    // Control: the right key id, and no key id, decrypt.
    assertArrayEquals(bytes("secret"), plaintext(decrypt(blob, null, keyA)));
    assertArrayEquals(bytes("secret"), plaintext(decrypt(blob, null, null)));
  }

  @Test
  void decryptWithAnotherEncryptionContextIsAnInvalidCiphertext() throws Exception {
    Map<String, String> context = Map.of("purpose", "test", "tenant", "t-42");
    byte[] blob = ciphertext(encrypt(keyA, bytes("secret"), context));
    assertRefused(decrypt(blob, Map.of("purpose", "test", "tenant", "t-99"), null), 400, "InvalidCiphertextException");
    assertRefused(decrypt(blob, Map.of("purpose", "test"), null), 400, "InvalidCiphertextException");
    assertRefused(decrypt(blob, null, null), 400, "InvalidCiphertextException");
    assertRefused(decrypt(blob, Map.of("Purpose", "test", "tenant", "t-42"), null), 400, "InvalidCiphertextException");
    Map<String, String> more = new LinkedHashMap<>(context);
    more.put("extra", "x");
    assertRefused(decrypt(blob, more, null), 400, "InvalidCiphertextException");
    // Control: the same context, in another order, decrypts.
    Map<String, String> reordered = new LinkedHashMap<>();
    reordered.put("tenant", "t-42");
    reordered.put("purpose", "test");
    assertArrayEquals(bytes("secret"), plaintext(decrypt(blob, reordered, null)));
  }

  @Test
  void encryptionContextEncodingIsUnambiguous() throws Exception {
    byte[] blob = ciphertext(encrypt(keyA, bytes("secret"), Map.of("ab", "c")));
    assertRefused(decrypt(blob, Map.of("a", "bc"), null), 400, "InvalidCiphertextException");
    assertRefused(decrypt(blob, Map.of("abc", ""), null), 400, "InvalidCiphertextException");
    assertRefused(decrypt(blob, Map.of("a", "b", "c", ""), null), 400, "InvalidCiphertextException");
    assertArrayEquals(bytes("secret"), plaintext(decrypt(blob, Map.of("ab", "c"), null)));
    // And the other way round.
    byte[] other = ciphertext(encrypt(keyA, bytes("secret"), Map.of("a", "bc")));
    assertRefused(decrypt(other, Map.of("ab", "c"), null), 400, "InvalidCiphertextException");
    assertArrayEquals(bytes("secret"), plaintext(decrypt(other, Map.of("a", "bc"), null)));
  }

  @Test
  void dryRunOfAnEncryptThatWouldSucceedIsADryRunError() throws Exception {
    ObjectNode body = JSON.createObjectNode()
        .put("KeyId", keyA).put("Plaintext", B64.encodeToString(bytes("x"))).put("DryRun", true);
    JsonNode error = assertRefused(post("TrentService.Encrypt", body.toString()), 400, "DryRunOperationException");
    assertEquals(DRY_RUN_MESSAGE, error.path("message").asText());
  }

  // ------------------------------------------------------------------ GenerateDataKey inputs

  static Stream<Arguments> badDataKeyRequests() {
    return Stream.of(
        Arguments.of("neither NumberOfBytes nor KeySpec", "{}"),
        Arguments.of("both NumberOfBytes and KeySpec", "{\"NumberOfBytes\":32,\"KeySpec\":\"AES_256\"}"),
        Arguments.of("NumberOfBytes 0", "{\"NumberOfBytes\":0}"),
        Arguments.of("NumberOfBytes 1025", "{\"NumberOfBytes\":1025}"),
        Arguments.of("NumberOfBytes -1", "{\"NumberOfBytes\":-1}"),
        Arguments.of("KeySpec AES_512", "{\"KeySpec\":\"AES_512\"}"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("badDataKeyRequests")
  void generateDataKeyWithBadSizeIsAValidationError(String what, String fields) throws Exception {
    ObjectNode body = (ObjectNode) JSON.readTree(fields);
    body.put("KeyId", keyA);
    assertRefused(post("TrentService.GenerateDataKey", body.toString()), 400, "ValidationException");
    assertRefused(post("TrentService.GenerateDataKeyWithoutPlaintext", body.toString()), 400, "ValidationException");
  }

  @Test
  void generateDataKeyAtTheBoundsWorks() throws Exception {
    for (int n : new int[] {1, 1024}) {
      HttpResponse<String> r = post("TrentService.GenerateDataKey",
          JSON.createObjectNode().put("KeyId", keyA).put("NumberOfBytes", n).toString());
      assertServed(r, 200);
      assertEquals(n, Base64.getDecoder().decode(JSON.readTree(r.body()).path("Plaintext").asText()).length);
    }
  }

  // ------------------------------------------------------------------ KeyId forms

  @Test
  void aliasThatDoesNotExistIsNotFound() throws Exception {
    assertRefused(post("TrentService.DescribeKey", "{\"KeyId\":\"alias/none\"}"), 400, "NotFoundException");
    assertRefused(encrypt("alias/none", bytes("x"), null), 400, "NotFoundException");
  }

  @Test
  void arnOfAnotherRegionIsNotFound() throws Exception {
    String arn = "arn:aws:kms:" + OTHER + ":" + ACCOUNT + ":key/" + keyA;
    JsonNode error = assertRefused(post("TrentService.DescribeKey", "{\"KeyId\":\"" + arn + "\"}"),
        400, "NotFoundException");
    assertEquals("Invalid arn " + OTHER, error.path("message").asText());
    error = assertRefused(encrypt(arn, bytes("x"), null), 400, "NotFoundException");
    assertEquals("Invalid arn " + OTHER, error.path("message").asText());
    // Control: the ARN of this Region names the key.
    String own = "arn:aws:kms:" + REGION + ":" + ACCOUNT + ":key/" + keyA;
    assertServed(post("TrentService.DescribeKey", "{\"KeyId\":\"" + own + "\"}"), 200);
  }

  @Test
  void malformedKeyIdIsNotFound() throws Exception {
    JsonNode error = assertRefused(post("TrentService.DescribeKey", "{\"KeyId\":\"not-a-key\"}"),
        400, "NotFoundException");
    assertEquals("Invalid keyId 'not-a-key'", error.path("message").asText());
    error = assertRefused(encrypt("not-a-key", bytes("x"), null), 400, "NotFoundException");
    assertEquals("Invalid keyId 'not-a-key'", error.path("message").asText());
  }

  @Test
  void wellFormedKeyIdThatDoesNotExistIsNotFound() throws Exception {
    assertRefused(post("TrentService.DescribeKey", "{\"KeyId\":\"" + java.util.UUID.randomUUID() + "\"}"),
        400, "NotFoundException");
    assertRefused(post("TrentService.DescribeKey", "{\"KeyId\":\"mrk-0123456789abcdef0123456789abcdef\"}"),
        400, "NotFoundException");
  }

  // ------------------------------------------------------------------ size limit

  @Test
  void bodyLargerThanOneMebibyteIsRefusedAndTheNodeStillServes() throws Exception {
    StringBuilder body = new StringBuilder(1024 * 1024 + 64).append("{\"Description\":\"");
    while (body.length() < 1024 * 1024 + 16) body.append('x');
    body.append("\"}");
    Set<String> before = allKeyIds(REGION);
    HttpResponse<String> r = post("TrentService.CreateKey", body.toString());
    assertEquals(413, r.statusCode(), r.body());
    assertProtocolHeaders(r);
    assertNoStackTrace(r.body());
    assertStillServes(before);
  }

  // ------------------------------------------------------------------ the Region of the credential scope

  @Test
  void credentialScopeNamingARegionOutsideTheClusterIsRefused() throws Exception {
    Set<String> before = allKeyIds(REGION);
    HttpResponse<String> r = send(request("TrentService.CreateKey", "{}")
        .header("Authorization", authorization("mars-north-1")).build());
    assertEquals(400, r.statusCode(), r.body());
    assertProtocolHeaders(r);
    assertNoStackTrace(r.body());
    JsonNode error = JSON.readTree(r.body());
    assertEquals("InvalidSignatureException", error.path("__type").asText(), r.body());
    assertTrue(error.path("message").asText().contains("mars-north-1"), r.body());
    assertStillServes(before);
  }

  @Test
  void credentialScopeOfAnotherRegionIsServedByThatRegion() throws Exception {
    Set<String> eastBefore = allKeyIds(REGION);
    Set<String> westBefore = allKeyIds(OTHER);

    HttpResponse<String> r = send(request("TrentService.CreateKey", "{\"Description\":\"via us-east-1\"}")
        .header("Authorization", authorization(OTHER)).build());
    assertServed(r, 200);
    JsonNode metadata = JSON.readTree(r.body()).path("KeyMetadata");
    String keyId = metadata.path("KeyId").asText();
    assertEquals("arn:aws:kms:" + OTHER + ":" + ACCOUNT + ":key/" + keyId, metadata.path("Arn").asText());

    Set<String> westAfter = allKeyIds(OTHER);
    assertTrue(westAfter.contains(keyId), "the key is in " + OTHER + "'s own list");
    assertEquals(westBefore.size() + 1, westAfter.size());
    Set<String> eastAfter = allKeyIds(REGION);
    assertFalse(eastAfter.contains(keyId), "the key is not in " + REGION);
    assertEquals(eastBefore, eastAfter);

    // eu-west-1's own endpoint knows it; us-east-1 (without a scope) does not.
    HttpResponse<String> described = send(request("TrentService.DescribeKey", "{\"KeyId\":\"" + keyId + "\"}")
        .uri(URI.create(cluster.endpoint(OTHER) + "/")).build());
    assertServed(described, 200);
    assertEquals("via us-east-1", JSON.readTree(described.body()).path("KeyMetadata").path("Description").asText());
    assertRefused(post("TrentService.DescribeKey", "{\"KeyId\":\"" + keyId + "\"}"), 400, "NotFoundException");
  }

  // ------------------------------------------------------------------ a valid request, as the control

  @Test
  void validRequestHasTheProtocolShape() throws Exception {
    HttpResponse<String> r = post("TrentService.DescribeKey", "{\"KeyId\":\"" + keyA + "\"}");
    assertServed(r, 200);
    JsonNode metadata = JSON.readTree(r.body()).path("KeyMetadata");
    assertEquals(keyA, metadata.path("KeyId").asText());
    assertTrue(metadata.path("CreationDate").isNumber(), "timestamps are epoch seconds as numbers");
    HttpResponse<String> second = post("TrentService.DescribeKey", "{\"KeyId\":\"" + keyA + "\"}");
    assertFalse(r.headers().firstValue("x-amzn-RequestId").orElseThrow()
        .equals(second.headers().firstValue("x-amzn-RequestId").orElseThrow()), "request ids are unique");
  }

  // ------------------------------------------------------------------ helpers

  /**
   * The reply is an AWS error of {@code type} with {@code status}, in the protocol's shape, without
   * a stack trace; the node still serves and the Region's key list is what it was before.
   */
  private static JsonNode assertRefused(HttpResponse<String> r, int status, String type) throws Exception {
    Set<String> before = keysBeforeLastRequest;
    assertEquals(status, r.statusCode(), r.body());
    assertProtocolHeaders(r);
    assertNoStackTrace(r.body());
    JsonNode error = JSON.readTree(r.body());
    assertTrue(error.isObject(), r.body());
    assertEquals(type, error.path("__type").asText(), r.body());
    if (!type.equals("InvalidCiphertextException")) {
      assertFalse(error.path("message").asText("").isBlank(), "a message explains " + type + ": " + r.body());
    }
    assertStillServes(before);
    return error;
  }

  private static void assertServed(HttpResponse<String> r, int status) {
    assertEquals(status, r.statusCode(), r.body());
    assertProtocolHeaders(r);
    assertNoStackTrace(r.body());
  }

  private static void assertProtocolHeaders(HttpResponse<String> r) {
    String contentType = r.headers().firstValue("Content-Type").orElse(null);
    assertNotNull(contentType, "Content-Type header");
    assertEquals(AMZ_JSON, contentType.split(";")[0].trim(), "Content-Type");
    String requestId = r.headers().firstValue("x-amzn-RequestId").orElse("");
    assertFalse(requestId.isBlank(), "x-amzn-RequestId header");
  }

  private static void assertNoStackTrace(String body) {
    assertFalse(body.contains("at io."), "stack frame in " + body);
    assertFalse(body.contains("java."), "Java class name in " + body);
    assertFalse(body.contains("\tat "), "stack frame in " + body);
    assertFalse(EXCEPTION_CLASS.matcher(body).find(), "exception class name in " + body);
    assertFalse(body.contains("com.fasterxml") || body.contains("org.apache.pekko"), "library class in " + body);
  }

  /** A following valid ListKeys works, and the Region's key list is {@code before}. */
  private static void assertStillServes(Set<String> before) throws Exception {
    assertNotNull(before, "the key list before the request");
    Set<String> after = allKeyIds(REGION);
    assertEquals(before.size(), after.size(), "a refused request must not change the key count");
    assertEquals(before, after, "a refused request must not change the key list");
  }

  /** Key ids of us-east-1 when the last request to it was built; compared after the reply. */
  private static Set<String> keysBeforeLastRequest;

  private static HttpResponse<String> post(String target, String body) throws Exception {
    return send(request(target, body).build());
  }

  private static HttpRequest.Builder request(String target, String body) throws Exception {
    keysBeforeLastRequest = allKeyIds(REGION);
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(cluster.endpoint(REGION) + "/"))
        .timeout(Duration.ofSeconds(30))
        .header("Content-Type", AMZ_JSON)
        .POST(HttpRequest.BodyPublishers.ofString(body));
    if (target != null) b.header("X-Amz-Target", target);
    return b;
  }

  private static HttpResponse<String> send(HttpRequest request) throws IOException, InterruptedException {
    return http.send(request, HttpResponse.BodyHandlers.ofString());
  }

  /** A SigV4 Authorization header whose credential scope names {@code region}; not a real signature. */
  private static String authorization(String region) {
    return "AWS4-HMAC-SHA256 Credential=AKID/20260101/" + region + "/kms/aws4_request, "
        + "SignedHeaders=host, Signature=abc";
  }

  private static HttpResponse<String> encrypt(String keyId, byte[] plaintext, Map<String, String> context)
      throws Exception {
    ObjectNode body = JSON.createObjectNode().put("KeyId", keyId).put("Plaintext", B64.encodeToString(plaintext));
    if (context != null) body.set("EncryptionContext", JSON.valueToTree(context));
    return post("TrentService.Encrypt", body.toString());
  }

  private static HttpResponse<String> decrypt(byte[] blob, Map<String, String> context, String keyId)
      throws Exception {
    ObjectNode body = JSON.createObjectNode().put("CiphertextBlob", B64.encodeToString(blob));
    if (context != null) body.set("EncryptionContext", JSON.valueToTree(context));
    if (keyId != null) body.put("KeyId", keyId);
    return post("TrentService.Decrypt", body.toString());
  }

  private static byte[] ciphertext(HttpResponse<String> encrypted) throws Exception {
    assertServed(encrypted, 200);
    return Base64.getDecoder().decode(JSON.readTree(encrypted.body()).path("CiphertextBlob").asText());
  }

  private static byte[] plaintext(HttpResponse<String> decrypted) throws Exception {
    assertServed(decrypted, 200);
    return Base64.getDecoder().decode(JSON.readTree(decrypted.body()).path("Plaintext").asText());
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static String createSymmetricKey(String region, String description) throws Exception {
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(cluster.endpoint(region) + "/"))
            .header("X-Amz-Target", "TrentService.CreateKey")
            .header("Content-Type", AMZ_JSON)
            .POST(HttpRequest.BodyPublishers.ofString(
                description == null ? "{}" : JSON.createObjectNode().put("Description", description).toString()))
            .build(),
        HttpResponse.BodyHandlers.ofString());
    assertServed(r, 200);
    return JSON.readTree(r.body()).path("KeyMetadata").path("KeyId").asText();
  }

  /** Every key id of {@code region} through its own endpoint, paging through ListKeys; each page must be a 200. */
  private static Set<String> allKeyIds(String region) throws Exception {
    Set<String> ids = new LinkedHashSet<>();
    String marker = null;
    for (int page = 0; page < 10_000; page++) {
      ObjectNode body = JSON.createObjectNode().put("Limit", 5);
      if (marker != null) body.put("Marker", marker);
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(cluster.endpoint(region) + "/"))
              .timeout(Duration.ofSeconds(30))
              .header("X-Amz-Target", "TrentService.ListKeys")
              .header("Content-Type", AMZ_JSON)
              .POST(HttpRequest.BodyPublishers.ofString(body.toString()))
              .build(),
          HttpResponse.BodyHandlers.ofString());
      assertServed(r, 200);
      JsonNode json = JSON.readTree(r.body());
      List<String> pageIds = new ArrayList<>();
      for (JsonNode k : json.path("Keys")) {
        pageIds.add(k.path("KeyId").asText());
        assertEquals("arn:aws:kms:" + region + ":" + ACCOUNT + ":key/" + k.path("KeyId").asText(),
            k.path("KeyArn").asText());
      }
      assertTrue(pageIds.size() <= 5, "at most Limit keys per page");
      for (String id : pageIds) assertTrue(ids.add(id), "key listed twice: " + id);
      if (!json.path("Truncated").asBoolean(false)) {
        assertTrue(json.path("Truncated").isBoolean(), "Truncated is always sent");
        assertFalse(json.has("NextMarker"), "no NextMarker when not truncated");
        return ids;
      }
      marker = json.path("NextMarker").asText(null);
      assertNotNull(marker, "Truncated:true carries a NextMarker");
    }
    return fail("ListKeys never ended");
  }
}
