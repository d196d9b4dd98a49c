package io.kmsregions.keystore.xks;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import io.kmsregions.keystore.xks.XksException.ConnectionErrorCode;
import io.kmsregions.region.Ports;
import io.kmsregions.security.auth.SigV4Signer;
import io.kmsregions.security.auth.SignedRequest;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.http.ContentStreamProvider;
import software.amazon.awssdk.http.SdkHttpMethod;
import software.amazon.awssdk.http.SdkHttpRequest;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4HttpSigner;
import software.amazon.awssdk.identity.spi.AwsCredentialsIdentity;

/**
 * The XKS proxy and the client KMS uses, over real HTTP on loopback: every operation of the XKS
 * Proxy API specification, its errors, SigV4 (also as the AWS SDK signs it), the key file across
 * a restart, and each connection error code the client can report.
 */
class XksProxyTest {
  static final XksCredential CRED = new XksCredential("AKIAXKSPROXYTEST23456", "Zm9vYmFyYmF6cXV4cXV1eGZvb2JhcmJhenF1eHF1dXg=");
  static final String REGION = "eu-west-1";
  static final ObjectMapper MAPPER = new ObjectMapper();

  @TempDir
  Path dir;
  XksProxy proxy;
  XksClient client;

  @BeforeEach
  void start() throws Exception {
    proxy = startProxy(List.of(CRED));
    proxy.keys().create("key-1");
    proxy.keys().create("key_2.b");
    client = client(proxy, CRED.secretAccessKey());
  }

  @AfterEach
  void stop() {
    if (proxy != null) proxy.close();
  }

  XksProxy startProxy(List<XksCredential> credentials) throws Exception {
    return XksProxy.start(new XksProxy.Settings("127.0.0.1", Ports.freePort(), "/xks", dir.resolve("xks"), credentials));
  }

  static XksClient client(XksProxy p, String secret) {
    return new XksClient(p.endpoint(), p.uriPath(), CRED.accessKeyId(), secret, REGION, Duration.ofSeconds(5));
  }

  static XksRequestMetadata meta(String operation) {
    return new XksRequestMetadata("arn:aws:iam::111122223333:user/alice",
        "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab", operation, "req-" + operation,
        null);
  }

  static <T> T get(CompletionStage<T> stage) throws Exception {
    return stage.toCompletableFuture().get(20, TimeUnit.SECONDS);
  }

  static XksException failure(CompletionStage<?> stage) {
    Exception e = assertThrows(Exception.class, () -> get(stage));
    XksException x = XksException.of(e);
    assertNotNull(x, () -> "not an XksException: " + e);
    return x;
  }

  static void assertKeyError(String errorName, int status, CompletionStage<?> stage) {
    XksException x = failure(stage);
    assertEquals(errorName, x.errorName(), x.getMessage());
    assertEquals(status, x.httpStatus());
    assertNull(x.connectionErrorCode(), "a key-level error is no connection error");
  }

  // ---- the four operations -------------------------------------------------------------------

  @Test
  void healthAnswersTheSpecifiedShape() throws Exception {
    XksClient.Health h = get(client.health());
    assertEquals(1, h.xksProxyFleetSize());
    assertEquals("kms-regions", h.xksProxyVendor());
    assertEquals("kms-regions", h.ekmVendor());
    assertTrue(h.xksProxyModel().startsWith("kms-regions XKS proxy"), h.xksProxyModel());
    assertEquals(1, h.ekmFleetDetails().size());
    assertEquals("ACTIVE", h.ekmFleetDetails().get(0).healthStatus());
    // The metadata of a Create/ConnectCustomKeyStore health check works too.
    assertEquals(1, get(client.health(XksRequestMetadata.health("CreateCustomKeyStore", "r-1"))).xksProxyFleetSize());
  }

  @Test
  void metadataOfAnEnabledAndADisabledKey() throws Exception {
    XksClient.KeyMetadata m = get(client.keyMetadata("key-1", meta("DescribeKey")));
    assertEquals(new XksClient.KeyMetadata("AES_256", List.of("ENCRYPT", "DECRYPT"), "ENABLED"), m);
    // During CreateKey there is no kmsKeyArn yet: still accepted.
    get(client.keyMetadata("key_2.b", new XksRequestMetadata("arn:aws:iam::111122223333:user/alice", null,
        "CreateKey", "r-2", null)));
    proxy.keys().setEnabled("key-1", false);
    assertEquals("DISABLED", get(client.keyMetadata("key-1", meta("DescribeKey"))).keyStatus());
  }

  @Test
  void encryptThenDecryptWithAad() throws Exception {
    byte[] plaintext = "a 32-byte data key, say........".getBytes(StandardCharsets.US_ASCII);
    byte[] aad = "project=nile,department=marketing".getBytes(StandardCharsets.US_ASCII);
    XksClient.Ciphertext c = get(client.encrypt("key-1", plaintext, aad, meta("GenerateDataKey")));
    assertEquals(plaintext.length, c.ciphertext().length);
    assertEquals(12, c.initializationVector().length);
    assertEquals(16, c.authenticationTag().length);
    assertNull(c.ciphertextMetadata());
    assertArrayEquals(plaintext, get(client.decrypt("key-1", c, aad, meta("Decrypt"))));
    // Without AAD, an empty plaintext, the largest plaintext: all round-trip.
    XksClient.Ciphertext noAad = get(client.encrypt("key-1", plaintext, null, meta("Encrypt")));
    assertArrayEquals(plaintext, get(client.decrypt("key-1", noAad, null, meta("Decrypt"))));
    assertArrayEquals(new byte[0], get(client.decrypt("key-1",
        get(client.encrypt("key-1", new byte[0], aad, meta("Encrypt"))), aad, meta("Decrypt"))));
    byte[] big = new byte[XksProxy.MAX_DATA_BYTES];
    assertArrayEquals(big, get(client.decrypt("key-1", get(client.encrypt("key-1", big, aad, meta("Encrypt"))), aad,
        meta("Decrypt"))));
    // Two encryptions of one plaintext differ (a fresh IV each time).
    assertFalse(Base64.getEncoder().encodeToString(c.initializationVector())
        .equals(Base64.getEncoder().encodeToString(noAad.initializationVector())));
  }

  @Test
  void anyChangeToCiphertextTagIvOrAadIsInvalidCiphertext() throws Exception {
    byte[] plaintext = new byte[32];
    byte[] aad = {1, 2, 3};
    XksClient.Ciphertext c = get(client.encrypt("key-1", plaintext, aad, meta("Encrypt")));
    byte[] tag = c.authenticationTag().clone();
    tag[0] ^= 1;
    assertKeyError("InvalidCiphertextException", 400, client.decrypt("key-1",
        new XksClient.Ciphertext(c.ciphertext(), c.initializationVector(), tag, null), aad, meta("Decrypt")));
    byte[] ct = c.ciphertext().clone();
    ct[31] ^= 0x80;
    assertKeyError("InvalidCiphertextException", 400, client.decrypt("key-1",
        new XksClient.Ciphertext(ct, c.initializationVector(), c.authenticationTag(), null), aad, meta("Decrypt")));
    assertKeyError("InvalidCiphertextException", 400, client.decrypt("key-1", c, new byte[] {1, 2, 4}, meta("Decrypt")));
    assertKeyError("InvalidCiphertextException", 400, client.decrypt("key-1", c, null, meta("Decrypt")));
    // Metadata the proxy never produced is bound into the AAD: refused, never taken for AAD.
    assertKeyError("InvalidCiphertextException", 400, client.decrypt("key-1", new XksClient.Ciphertext(c.ciphertext(),
        c.initializationVector(), c.authenticationTag(), new byte[] {1, 2, 3}), new byte[0], meta("Decrypt")));
    assertKeyError("InvalidCiphertextException", 400, client.decrypt("key-1",
        new XksClient.Ciphertext(c.ciphertext(), new byte[13], c.authenticationTag(), null), aad, meta("Decrypt")));
    // Another key's ciphertext.
    assertKeyError("InvalidCiphertextException", 400, client.decrypt("key_2.b", c, aad, meta("Decrypt")));
  }

  @Test
  void unknownKeyIsKeyNotFound() {
    assertKeyError("KeyNotFoundException", 404, client.keyMetadata("no-such-key", meta("CreateKey")));
    assertKeyError("KeyNotFoundException", 404, client.encrypt("no-such-key", new byte[1], null, meta("Encrypt")));
    assertKeyError("KeyNotFoundException", 404, client.decrypt("no-such-key",
        new XksClient.Ciphertext(new byte[1], new byte[12], new byte[16], null), null, meta("Decrypt")));
  }

  @Test
  void disabledKeyIsInvalidStateUntilEnabledAgain() throws Exception {
    XksClient.Ciphertext c = get(client.encrypt("key-1", new byte[8], null, meta("Encrypt")));
    proxy.keys().setEnabled("key-1", false);
    assertKeyError("InvalidStateException", 400, client.encrypt("key-1", new byte[8], null, meta("Encrypt")));
    assertKeyError("InvalidStateException", 400, client.decrypt("key-1", c, null, meta("Decrypt")));
    proxy.keys().setEnabled("key-1", true);
    assertArrayEquals(new byte[8], get(client.decrypt("key-1", c, null, meta("Decrypt"))));
    proxy.keys().delete("key-1");
    assertKeyError("KeyNotFoundException", 404, client.decrypt("key-1", c, null, meta("Decrypt")));
  }

  // ---- connection errors ---------------------------------------------------------------------

  @Test
  void wrongSecretOrAccessKeyIsInvalidCredentials() {
    XksException x = failure(client(proxy, "X" + CRED.secretAccessKey().substring(1)).health());
    assertEquals(ConnectionErrorCode.INVALID_CREDENTIALS, x.connectionErrorCode());
    assertEquals("AuthenticationFailedException", x.errorName());
    assertEquals(401, x.httpStatus());
    XksClient otherKey = new XksClient(proxy.endpoint(), proxy.uriPath(), "AKIAXKSPROXYTEST77777",
        CRED.secretAccessKey(), REGION, Duration.ofSeconds(5));
    assertEquals(ConnectionErrorCode.INVALID_CREDENTIALS,
        failure(otherKey.encrypt("key-1", new byte[1], null, meta("Encrypt"))).connectionErrorCode());
  }

  @Test
  void wrongPathPrefixIsInvalidConfiguration() {
    for (String path : List.of("/other/kms/xks/v1", "/kms/xks/v1", "/xks/kms/xks/v2")) {
      XksClient c = new XksClient(proxy.endpoint(), path, CRED.accessKeyId(), CRED.secretAccessKey(), REGION,
          Duration.ofSeconds(5));
      XksException x = failure(c.health());
      assertEquals(ConnectionErrorCode.XKS_PROXY_INVALID_CONFIGURATION, x.connectionErrorCode(), path);
      assertEquals("InvalidUriPathException", x.errorName());
      assertEquals(404, x.httpStatus());
      assertEquals(ConnectionErrorCode.XKS_PROXY_INVALID_CONFIGURATION,
          failure(c.keyMetadata("key-1", meta("DescribeKey"))).connectionErrorCode());
    }
  }

  @Test
  void stoppedProxyIsNotReachable() {
    proxy.close();
    XksException x = failure(client.health());
    assertEquals(ConnectionErrorCode.XKS_PROXY_NOT_REACHABLE, x.connectionErrorCode(), x.getMessage());
    assertEquals(0, x.httpStatus());
    assertNull(x.errorName());
    proxy = null;
  }

  @Test
  void proxyThatNeverAnswersTimesOut() throws Exception {
    try (ServerSocket silent = new ServerSocket(0, 5, InetAddress.getLoopbackAddress())) {
      List<Socket> held = new ArrayList<>();
      Thread acceptor = new Thread(() -> {
        try {
          while (true) held.add(silent.accept()); // accepts, reads nothing, answers nothing
        } catch (Exception e) {
          // closed
        }
      });
      acceptor.setDaemon(true);
      acceptor.start();
      XksClient c = new XksClient(URI.create("http://127.0.0.1:" + silent.getLocalPort()), "/xks/kms/xks/v1",
          CRED.accessKeyId(), CRED.secretAccessKey(), REGION, Duration.ofMillis(300));
      long t0 = System.nanoTime();
      XksException x = failure(c.health());
      assertEquals(ConnectionErrorCode.XKS_PROXY_TIMED_OUT, x.connectionErrorCode(), x.getMessage());
      assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(10));
      for (Socket s : held) s.close();
    }
  }

  @Test
  void answersThatCannotBeInterpretedAreInvalidResponse() throws Exception {
    Map<String, String[]> answers = new LinkedHashMap<>(); // path -> {status, body}
    answers.put("/p/kms/xks/v1/health", new String[] {"200", "<html>not json</html>"});
    answers.put("/q/kms/xks/v1/health", new String[] {"500", "Internal Server Error"});
    answers.put("/r/kms/xks/v1/health", new String[] {"200", "{\"xksProxyFleetSize\":0}"});
    answers.put("/s/kms/xks/v1/health", new String[] {"400", "{\"errorName\":\"SomethingNewException\"}"});
    answers.put("/t/kms/xks/v1/keys/k/encrypt", new String[] {"200", "{\"ciphertext\":\"AAAA\","
        + "\"initializationVector\":\"AAAAAAAAAAAAAAAA\",\"authenticationTag\":\"AAAAAAAAAAAAAAAAAAAAAA==\","
        + "\"ciphertextDataIntegrityValue\":\"AAAA\"}"});
    HttpServer fake = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 10);
    fake.createContext("/", exchange -> {
      String[] a = answers.get(exchange.getRequestURI().getPath());
      byte[] body = a[1].getBytes(StandardCharsets.UTF_8);
      exchange.sendResponseHeaders(Integer.parseInt(a[0]), body.length);
      exchange.getResponseBody().write(body);
      exchange.close();
    });
    fake.start();
    try {
      URI endpoint = URI.create("http://127.0.0.1:" + fake.getAddress().getPort());
      for (String path : List.of("/p", "/q", "/r", "/s")) {
        XksClient c = new XksClient(endpoint, path + "/kms/xks/v1", CRED.accessKeyId(), CRED.secretAccessKey(),
            REGION, Duration.ofSeconds(5));
        assertEquals(ConnectionErrorCode.XKS_PROXY_INVALID_RESPONSE, failure(c.health()).connectionErrorCode(), path);
      }
      // A ciphertext whose integrity value does not match (or whose length is not the plaintext's).
      XksClient c = new XksClient(endpoint, "/t/kms/xks/v1", CRED.accessKeyId(), CRED.secretAccessKey(), REGION,
          Duration.ofSeconds(5));
      assertEquals(ConnectionErrorCode.XKS_PROXY_INVALID_RESPONSE,
          failure(c.encrypt("k", new byte[3], null, meta("Encrypt"))).connectionErrorCode());
    } finally {
      fake.stop(0);
    }
  }

  // ---- the key file --------------------------------------------------------------------------

  @Test
  void keysSurviveARestartAndOldCiphertextsDecrypt() throws Exception {
    byte[] plaintext = "survives a restart".getBytes(StandardCharsets.UTF_8);
    byte[] aad = {9, 9};
    XksClient.Ciphertext c = get(client.encrypt("key_2.b", plaintext, aad, meta("Encrypt")));
    proxy.keys().setEnabled("key-1", false);
    proxy.close();
    proxy = startProxy(List.of(CRED));
    XksClient again = client(proxy, CRED.secretAccessKey());
    assertArrayEquals(plaintext, get(again.decrypt("key_2.b", c, aad, meta("Decrypt"))));
    assertEquals("DISABLED", get(again.keyMetadata("key-1", meta("DescribeKey"))).keyStatus());
    assertEquals(List.of("key-1", "key_2.b"), proxy.keys().keyIds());
    assertFalse(proxy.keys().create("key-1"), "an existing key is kept, never replaced");
  }

  @Test
  void keyFileIsOwnerOnly() throws Exception {
    Path file = dir.resolve("xks").resolve("keys.json");
    assertEquals(file, proxy.keys().file());
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
    assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file.getParent())));
    JsonNode json = MAPPER.readTree(file.toFile());
    assertEquals("key-1", json.get("keys").get(0).get("keyId").asText());
    assertEquals(32, Base64.getDecoder().decode(json.get("keys").get(0).get("keyMaterial").asText()).length);
    assertFalse(Files.exists(file.resolveSibling("keys.json.tmp")));
  }

  @Test
  void aKeyFileThatIsNotOneStopsTheStart() throws Exception {
    Path other = dir.resolve("broken");
    Files.createDirectories(other);
    Files.writeString(other.resolve("keys.json"), "{\"keys\":[{\"keyId\":\"k\",\"keyMaterial\":\"AAAA\"}]}");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> XksProxy.start(
        new XksProxy.Settings("127.0.0.1", 0, "", other, List.of(CRED))));
    assertTrue(e.getMessage().contains("keys[0] (k): keyMaterial must be 32 bytes"), e.getMessage());
  }

  // ---- the protocol at the HTTP level --------------------------------------------------------

  @Test
  void badRequestsGetTheSpecifiedErrorsNeverAStackTrace() throws Exception {
    String keys = proxy.uriPath() + "/keys/";
    String meta = "\"requestMetadata\":{\"awsPrincipalArn\":\"a\",\"kmsKeyArn\":\"k\",\"kmsOperation\":\"Encrypt\","
        + "\"kmsRequestId\":\"r\"}";
    assertError(400, "ValidationException", raw("POST", keys + "key-1/encrypt", "not json", true));
    assertError(400, "ValidationException", raw("POST", keys + "key-1/encrypt", "[1,2]", true));
    assertError(400, "ValidationException", raw("POST", keys + "key-1/encrypt",
        "{\"plaintext\":\"AA==\",\"encryptionAlgorithm\":\"AES_GCM\"}", true));
    assertError(400, "ValidationException", raw("POST", keys + "key-1/encrypt",
        "{\"requestMetadata\":{\"kmsOperation\":\"Encrypt\",\"kmsRequestId\":\"r\"},\"plaintext\":\"AA==\","
            + "\"encryptionAlgorithm\":\"AES_GCM\"}", true));
    assertError(400, "ValidationException", raw("POST", keys + "key-1/encrypt",
        "{" + meta + ",\"plaintext\":\"not base64!\",\"encryptionAlgorithm\":\"AES_GCM\"}", true));
    assertError(400, "ValidationException", raw("POST", keys + "key-1/encrypt",
        "{" + meta + ",\"plaintext\":12,\"encryptionAlgorithm\":\"AES_GCM\"}", true));
    assertError(400, "ValidationException", raw("POST", keys + "key-1/encrypt", "{" + meta + ",\"plaintext\":\"AA==\"}", true));
    assertError(400, "ValidationException", raw("POST", keys + "bad!id/encrypt",
        "{" + meta + ",\"plaintext\":\"AA==\",\"encryptionAlgorithm\":\"AES_GCM\"}", true));
    assertError(400, "ValidationException", raw("POST", keys + "key-1/decrypt",
        "{" + meta + ",\"ciphertext\":\"AA==\",\"initializationVector\":\"AAAAAAAAAAAAAAAA\","
            + "\"authenticationTag\":\"AAAAAAAAAAAAAAAAAAAAAA==\",\"ciphertextMetadata\":\""
            + Base64.getEncoder().encodeToString(new byte[21]) + "\",\"encryptionAlgorithm\":\"AES_GCM\"}", true));
    assertError(501, "UnsupportedOperationException", raw("POST", keys + "key-1/encrypt",
        "{" + meta + ",\"plaintext\":\"AA==\",\"encryptionAlgorithm\":\"AES_CBC\"}", true));
    assertError(501, "UnsupportedOperationException", raw("POST", keys + "key-1/encrypt",
        "{" + meta + ",\"plaintext\":\"AA==\",\"encryptionAlgorithm\":\"AES_GCM\","
            + "\"ciphertextDataIntegrityValueAlgorithm\":\"MD5\"}", true));
    assertError(501, "UnsupportedOperationException", raw("POST", keys + "key-1/encrypt",
        "{" + meta + ",\"plaintext\":\"" + Base64.getEncoder().encodeToString(new byte[XksProxy.MAX_DATA_BYTES + 1])
            + "\",\"encryptionAlgorithm\":\"AES_GCM\"}", true));
    assertError(501, "UnsupportedOperationException", raw("POST", keys + "key-1/encrypt",
        "{\"pad\":\"" + "x".repeat(XksProxy.MAX_BODY_BYTES) + "\"}", true));
    assertError(400, "InvalidCiphertextException", raw("POST", keys + "key-1/decrypt",
        "{" + meta + ",\"ciphertext\":\"AA==\",\"initializationVector\":\"AAAA\","
            + "\"authenticationTag\":\"AAAAAAAAAAAAAAAAAAAAAA==\",\"encryptionAlgorithm\":\"AES_GCM\"}", true));
    assertError(404, "InvalidUriPathException", raw("POST", keys + "key-1/sign", "{}", true));
    assertError(404, "InvalidUriPathException", raw("POST", keys + "key-1", "{}", true));
    assertError(404, "InvalidUriPathException", raw("POST", "/", "{}", true));
    assertError(401, "AuthenticationFailedException", raw("POST", proxy.uriPath() + "/health", "{}", false));
    assertError(401, "AuthenticationFailedException", raw("POST", keys + "no-such-key/metadata", "{}", false));
    HttpResponse<String> get = raw("GET", keys + "key-1/metadata", null, true);
    assertEquals(405, get.statusCode());
    assertEquals("POST", get.headers().firstValue("Allow").orElse(null));
    // GetHealthStatus never answers ValidationException: any body will do once signed.
    assertEquals(200, raw("POST", proxy.uriPath() + "/health", "not json", true).statusCode());
    HttpResponse<String> ping = raw("GET", "/ping", null, false);
    assertEquals(200, ping.statusCode());
    assertEquals("pong", ping.body());
  }

  @Test
  void twoCredentialsAreAcceptedForARotation() throws Exception {
    proxy.close();
    XksCredential second = new XksCredential("AKIAXKSPROXYROTATED22", "c2Vjb25kc2Vjb25kc2Vjb25kc2Vjb25kc2Vjb25kc2U=");
    proxy = startProxy(List.of(CRED, second));
    get(client(proxy, CRED.secretAccessKey()).health());
    get(new XksClient(proxy.endpoint(), proxy.uriPath(), second.accessKeyId(), second.secretAccessKey(), "us-east-1",
        Duration.ofSeconds(5)).health());
  }

  /** A request signed by the AWS SDK for Java v2's own SigV4 signer, not by this project's. */
  @Test
  void requestsSignedByTheAwsSdkAreAccepted() throws Exception {
    String body = "{\"requestMetadata\":{\"awsPrincipalArn\":\"arn:aws:iam::111122223333:user/alice\","
        + "\"kmsKeyArn\":\"arn:aws:kms:us-east-2:111122223333:key/k\",\"kmsOperation\":\"Encrypt\","
        + "\"kmsRequestId\":\"4112f4d6\"},\"plaintext\":\"SGVsbG8gV29ybGQh\",\"encryptionAlgorithm\":\"AES_GCM\","
        + "\"additionalAuthenticatedData\":\"cHJvamVjdD1uaWxl\",\"ciphertextDataIntegrityValueAlgorithm\":\"SHA_256\"}";
    HttpResponse<String> r = sdkSigned(proxy.uriPath() + "/keys/key-1/encrypt", body, CRED.secretAccessKey());
    assertEquals(200, r.statusCode(), r.body());
    JsonNode answer = MAPPER.readTree(r.body());
    XksClient.Ciphertext c = new XksClient.Ciphertext(b64(answer, "ciphertext"), b64(answer, "initializationVector"),
        b64(answer, "authenticationTag"), null);
    assertArrayEquals(XksCipher.cdiv(b64("cHJvamVjdD1uaWxl"), null, c.initializationVector(), c.ciphertext(),
        c.authenticationTag()), b64(answer, "ciphertextDataIntegrityValue"));
    assertEquals("Hello World!", new String(get(client.decrypt("key-1", c, b64("cHJvamVjdD1uaWxl"), meta("Decrypt"))),
        StandardCharsets.UTF_8));
    assertEquals(200, sdkSigned(proxy.uriPath() + "/health", "{}", CRED.secretAccessKey()).statusCode());
    assertError(401, "AuthenticationFailedException",
        sdkSigned(proxy.uriPath() + "/health", "{}", "Y" + CRED.secretAccessKey().substring(1)));
  }

  /** The CDIV of the specification's own example (Appendix C). */
  @Test
  void integrityValueMatchesTheSpecificationExample() {
    HexFormat hex = HexFormat.of();
    byte[] cdiv = XksCipher.cdiv("project=nile,department=marketing".getBytes(StandardCharsets.US_ASCII),
        "key_version=1".getBytes(StandardCharsets.US_ASCII), hex.parseHex("1ccae5470f39700254779031"),
        hex.parseHex("821c642b5b71783367deaf18"), hex.parseHex("bc1c4dda7707d6812447c5955e99b261"));
    assertEquals("qHA/ImC9h5HsLRXqCyPmWgYx7tzyoTplzILbP0fPXsc=", Base64.getEncoder().encodeToString(cdiv));
  }

  @Test
  void badSettingsAndArgumentsAreRefused() {
    assertThrows(IllegalArgumentException.class, () -> new XksCredential("short", CRED.secretAccessKey()));
    assertThrows(IllegalArgumentException.class, () -> new XksCredential("AKIAXKSPROXYTEST23456", "too-short"));
    assertThrows(IllegalArgumentException.class, () -> new XksCredential("akiaxksproxytest23456", CRED.secretAccessKey()));
    assertThrows(IllegalArgumentException.class, () -> new XksProxy.Settings("127.0.0.1", 0, "xks", dir, List.of(CRED)));
    assertThrows(IllegalArgumentException.class, () -> new XksProxy.Settings("127.0.0.1", 0, "/a.b", dir, List.of(CRED)));
    assertThrows(IllegalArgumentException.class, () -> new XksProxy.Settings("127.0.0.1", 0, "/xks", dir, List.of()));
    assertThrows(IllegalArgumentException.class, () -> new XksClient(URI.create("http://h:1/path"), "/kms/xks/v1",
        CRED.accessKeyId(), CRED.secretAccessKey(), REGION, Duration.ofSeconds(1)));
    assertThrows(IllegalArgumentException.class, () -> new XksClient(URI.create("127.0.0.1:7400"), "/kms/xks/v1",
        CRED.accessKeyId(), CRED.secretAccessKey(), REGION, Duration.ofSeconds(1)));
    assertThrows(IllegalArgumentException.class, () -> new XksClient(URI.create("http://h:1"), "/kms/xks/v1?x",
        CRED.accessKeyId(), CRED.secretAccessKey(), REGION, Duration.ofSeconds(1)));
    assertThrows(IllegalArgumentException.class, () -> proxy.keys().create("bad/id"));
    assertEquals(Duration.ofSeconds(2), XksClient.configuredTimeout(com.typesafe.config.ConfigFactory.load()));
    Exception e = assertThrows(Exception.class, () -> get(client.keyMetadata("bad/id", meta("DescribeKey"))));
    assertTrue(e.getCause() instanceof IllegalArgumentException, e.toString());
  }

  // ---- helpers -------------------------------------------------------------------------------

  static byte[] b64(JsonNode n, String field) {
    return Base64.getDecoder().decode(n.get(field).asText());
  }

  static byte[] b64(String s) {
    return Base64.getDecoder().decode(s);
  }

  static void assertError(int status, String errorName, HttpResponse<String> r) throws Exception {
    assertEquals(status, r.statusCode(), r.body());
    JsonNode body = MAPPER.readTree(r.body());
    assertEquals(errorName, body.get("errorName").asText(), r.body());
    String message = body.get("errorMessage").asText();
    assertTrue(message.length() < 512 && message.chars().allMatch(c -> c >= 0x20 && c <= 0x7e), message);
    assertFalse(r.body().contains("Exception:") || r.body().contains("\tat "), r.body());
  }

  /** A request signed by this project's signer (or not signed at all), sent as it stands. */
  HttpResponse<String> raw(String method, String path, String body, boolean sign) throws Exception {
    URI uri = URI.create(proxy.endpoint() + path);
    byte[] bytes = body == null ? new byte[0] : body.getBytes(StandardCharsets.UTF_8);
    HttpRequest.Builder b = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10))
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(bytes));
    if (sign) {
      String amzDate = SigV4Signer.amzDate(Instant.now());
      Map<String, List<String>> headers = new LinkedHashMap<>();
      headers.put("host", List.of(uri.getHost() + ":" + uri.getPort()));
      headers.put("x-amz-date", List.of(amzDate));
      b.header("X-Amz-Date", amzDate).header("Authorization",
          new SigV4Signer(CRED.accessKeyId(), CRED.secretAccessKey(), REGION, XksProxy.SERVICE)
              .authorization(new SignedRequest(method, uri.getRawPath(), "", headers, bytes), List.of("host", "x-amz-date")));
    }
    return HttpClient.newHttpClient().send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  /** A POST signed by the AWS SDK's AwsV4HttpSigner (it signs Content-Type too), sent by the JDK's client. */
  HttpResponse<String> sdkSigned(String path, String body, String secret) throws Exception {
    URI uri = URI.create(proxy.endpoint() + path);
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    SdkHttpRequest request = SdkHttpRequest.builder().method(SdkHttpMethod.POST).uri(uri)
        .putHeader("Content-Type", "application/json").build();
    var signed = AwsV4HttpSigner.create().sign(r -> r
        .identity(AwsCredentialsIdentity.create(CRED.accessKeyId(), secret))
        .request(request)
        .payload(ContentStreamProvider.fromByteArray(bytes))
        .putProperty(AwsV4HttpSigner.SERVICE_SIGNING_NAME, XksProxy.SERVICE)
        .putProperty(AwsV4HttpSigner.REGION_NAME, "ap-southeast-2"));
    HttpRequest.Builder b = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10))
        .POST(HttpRequest.BodyPublishers.ofByteArray(bytes));
    signed.request().forEachHeader((name, values) -> {
      String lower = name.toLowerCase(Locale.ROOT);
      // The JDK sets Host and Content-Length itself, to the same values.
      if (!lower.equals("host") && !lower.equals("content-length")) values.forEach(v -> b.header(name, v));
    });
    return HttpClient.newHttpClient().send(b.build(), HttpResponse.BodyHandlers.ofString());
  }
}
