package io.kmsregions.keystore.xks;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.typesafe.config.ConfigFactory;
import io.kmsregions.security.auth.AuthenticationException;
import io.kmsregions.security.auth.Authenticator;
import io.kmsregions.security.auth.Credential;
import io.kmsregions.security.auth.SigV4Verifier;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntity;
import org.apache.pekko.http.javadsl.model.HttpMethods;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.stream.Materializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An External Key Store (XKS) proxy: the HTTP API of AWS's "External Key Store (XKS) Proxy API
 * Specification" (github.com/aws/aws-kms-xksproxy-api-spec, v1), in front of a key file
 * ({@link XksKeyStore}) standing in for the external key manager.
 *
 * <p>Every operation is {@code POST} with a JSON body under {@code {prefix}/kms/xks/v1}:
 * <ul>
 *   <li>{@code /health} (GetHealthStatus) → {@code {xksProxyFleetSize, xksProxyVendor,
 *       xksProxyModel, ekmVendor, ekmFleetDetails: [{id, model, healthStatus}]}}; the check is deep
 *       (an AES-GCM round trip with a test key that is never a customer's).
 *   <li>{@code /keys/{externalKeyId}/metadata} (GetKeyMetadata) → {@code {keySpec: "AES_256",
 *       keyUsage: ["ENCRYPT", "DECRYPT"], keyStatus: "ENABLED" | "DISABLED"}}.
 *   <li>{@code /keys/{externalKeyId}/encrypt} → {@code {ciphertext, initializationVector,
 *       authenticationTag, ciphertextDataIntegrityValue?}} (AES-256-GCM, 12-byte IV, 16-byte tag,
 *       Base64; the CDIV when {@code ciphertextDataIntegrityValueAlgorithm} is {@code SHA_256},
 *       computed and then checked by a decrypt, as Appendix C recommends).
 *   <li>{@code /keys/{externalKeyId}/decrypt} → {@code {plaintext}}.
 * </ul>
 * Plus {@code GET /ping} → {@code pong}, unauthenticated, for load balancer health checks
 * ("Other considerations").
 *
 * <p>Every operation is authenticated with AWS SigV4 (service {@code kms-xks-proxy}, any Region,
 * {@code X-Amz-Date} within 5 minutes; specification "Authentication" and Appendix A) against one
 * or more {@link XksCredential}s, by the project's {@link SigV4Verifier}. Errors are
 * {@code {errorName, errorMessage}} with the specification's statuses ("Error codes"):
 * ValidationException 400, InvalidStateException 400 (key disabled), InvalidCiphertextException
 * 400, AuthenticationFailedException 401, KeyNotFoundException 404, InvalidUriPathException 404
 * (a path outside {@code {prefix}/kms/xks/v1} or no operation there), UnsupportedOperationException
 * 501 (an algorithm other than AES_GCM/SHA_256, or data beyond this proxy's 8192-byte limit, which
 * is above the specification's minimums), InternalException 500 (a fault of the proxy only). A GET
 * on an operation's URI is 405, as the specification requires. Plaintext is never logged; each
 * call's requestMetadata is (at DEBUG, failures at INFO).
 *
 * <p>Plain HTTP only: a real XKS proxy must serve HTTPS (specification, "API content type").
 */
public final class XksProxy implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(XksProxy.class);
  /** The part of every URI path after the prefix. */
  public static final String API_PATH = "/kms/xks/v1";
  /** The SigV4 service name of the XKS proxy API. */
  public static final String SERVICE = "kms-xks-proxy";
  /** Largest plaintext, ciphertext and AAD accepted, in bytes (the specification's minimums: 4300, 4300, 8192). */
  static final int MAX_DATA_BYTES = 8192;
  /** Largest request body read, in bytes: room for the data above in Base64 and 2048-character ARNs. */
  static final int MAX_BODY_BYTES = 64 * 1024;
  private static final Pattern PREFIX = Pattern.compile("(/[a-zA-Z0-9_-]+)*");
  private static final ObjectMapper MAPPER = new ObjectMapper()
      .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
      .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

  /**
   * How to run a proxy.
   *
   * @param host the address to bind (e.g. 127.0.0.1)
   * @param port the port to bind; 0 picks a free one ({@link #port()} tells which)
   * @param pathPrefix the optional path prefix before {@code /kms/xks/v1}: "" or segments of
   *     {@code a-z A-Z 0-9 _ -}, each after a '/' (e.g. {@code /xks}); the whole URI path
   *     ({@code XksProxyUriPath}) is at most 128 characters
   * @param dataDir the folder of the key file
   * @param credentials the SigV4 credentials accepted (two or more allow a rotation without downtime)
   * @param maxClockSkew how far {@code X-Amz-Date} may be from this proxy's clock (specification: 5 minutes)
   */
  public record Settings(String host, int port, String pathPrefix, Path dataDir, List<XksCredential> credentials,
      Duration maxClockSkew) {

    /** @throws IllegalArgumentException for a bad prefix, no credentials or two with one access key id */
    public Settings {
      if (pathPrefix == null || !PREFIX.matcher(pathPrefix).matches()) {
        throw new IllegalArgumentException("The path prefix must be empty or '/'-separated segments of a-z, A-Z, "
            + "0-9, '_' and '-' starting with '/' (e.g. /xks), not '" + pathPrefix + "'.");
      }
      if ((pathPrefix + API_PATH).length() > 128) {
        throw new IllegalArgumentException("The URI path " + pathPrefix + API_PATH + " is longer than 128 characters.");
      }
      credentials = List.copyOf(credentials);
      if (credentials.isEmpty()) throw new IllegalArgumentException("An XKS proxy needs at least one credential.");
      if (credentials.stream().map(XksCredential::accessKeyId).distinct().count() != credentials.size()) {
        throw new IllegalArgumentException("Two credentials have the same access key id.");
      }
    }

    /** Settings with the specification's 5-minute clock skew. */
    public Settings(String host, int port, String pathPrefix, Path dataDir, List<XksCredential> credentials) {
      this(host, port, pathPrefix, dataDir, credentials, Duration.ofMinutes(5));
    }

    /** The URI path KMS is given ({@code XksProxyUriPath}): the prefix and {@code /kms/xks/v1}. */
    public String uriPath() {
      return pathPrefix + API_PATH;
    }
  }

  private final Settings settings;
  private final XksKeyStore keys;
  private final SigV4Verifier verifier;
  private final ActorSystem<?> system;
  private final boolean ownSystem;
  private final Materializer materializer;
  private final byte[] healthKey = XksCipher.randomKey(); // the deep health check's test key, in memory only
  private volatile ServerBinding binding;

  private XksProxy(Settings settings, XksKeyStore keys, ActorSystem<?> system, boolean ownSystem) {
    this.settings = settings;
    this.keys = keys;
    this.system = system;
    this.ownSystem = ownSystem;
    this.materializer = Materializer.matFromSystem(system);
    Map<String, Credential> byId = new HashMap<>();
    for (XksCredential c : settings.credentials()) {
      byId.put(c.accessKeyId(), new Credential(c.accessKeyId(), c.secretAccessKey(), "", "xks-proxy:" + c.accessKeyId()));
    }
    this.verifier = new SigV4Verifier(Map.copyOf(byId)::get, SERVICE, List.of(), settings.maxClockSkew());
  }

  /**
   * Opens the key store of {@code settings.dataDir()}, then serves on its own (local, non-cluster)
   * ActorSystem until {@link #close()}. Returns once bound.
   *
   * @throws IOException if the key file cannot be read or written, or the address cannot be bound
   * @throws IllegalArgumentException if the key file is not one
   */
  public static XksProxy start(Settings settings) throws IOException {
    XksKeyStore keys = XksKeyStore.open(settings.dataDir());
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "xks-proxy", ConfigFactory
        // Local, and stopped by close() (or the CLI's hook) rather than by a JVM hook of its own.
        .parseString("pekko.actor.provider = local\npekko.coordinated-shutdown.run-by-jvm-shutdown-hook = off\n"
            + "pekko.http.server.server-header = \"kms-regions-xks-proxy\"")
        .withFallback(ConfigFactory.load()));
    try {
      return new XksProxy(settings, keys, system, true).bind();
    } catch (IOException | RuntimeException e) {
      system.terminate();
      throw e;
    }
  }

  /** As {@link #start(Settings)}, on an existing ActorSystem, which {@link #close()} leaves running. */
  public static XksProxy start(ActorSystem<?> system, Settings settings) throws IOException {
    return new XksProxy(settings, XksKeyStore.open(settings.dataDir()), system, false).bind();
  }

  private XksProxy bind() throws IOException {
    try {
      binding = Http.get(system).newServerAt(settings.host(), settings.port()).bind(this::handle)
          .toCompletableFuture().get(15, TimeUnit.SECONDS);
    } catch (Exception e) {
      Throwable cause = e.getCause() == null ? e : e.getCause();
      throw new IOException("cannot bind " + settings.host() + ":" + settings.port() + ": " + cause.getMessage(), cause);
    }
    log.info("XKS proxy on {} (URI path {}), {} keys in {}", endpoint(), uriPath(), keys.keyIds().size(), keys.file());
    return this;
  }

  /** The bound port. */
  public int port() {
    return binding.localAddress().getPort();
  }

  /** {@code http://host:port}: what KMS is given as {@code XksProxyUriEndpoint}. */
  public URI endpoint() {
    String h = settings.host().contains(":") ? "[" + settings.host() + "]" : settings.host();
    return URI.create("http://" + h + ":" + port());
  }

  /** The URI path ({@code XksProxyUriPath}), e.g. {@code /xks/kms/xks/v1}. */
  public String uriPath() {
    return settings.uriPath();
  }

  /** The external keys, to create, disable, enable or delete them while the proxy runs. */
  public XksKeyStore keys() {
    return keys;
  }

  /** Stops accepting connections and, if the proxy started its own ActorSystem, terminates it. Idempotent. */
  @Override
  public void close() {
    ServerBinding b = binding;
    if (b != null) {
      try {
        b.terminate(Duration.ofSeconds(2)).toCompletableFuture().get(5, TimeUnit.SECONDS);
      } catch (Exception e) {
        log.debug("XKS proxy unbind: {}", e.toString());
      }
    }
    if (ownSystem) {
      system.terminate();
      system.getWhenTerminated().toCompletableFuture().completeOnTimeout(null, 10, TimeUnit.SECONDS).join();
    }
  }

  // ---- HTTP ---------------------------------------------------------------------------------

  /** An operation and its key, from the URI path. */
  private record Route(String operation, String keyId) {}

  /** Answers one HTTP request; never fails. */
  CompletionStage<HttpResponse> handle(HttpRequest request) {
    String path = request.getUri().path();
    if (request.method() == HttpMethods.GET && path.equals("/ping")) {
      request.discardEntityBytes(materializer);
      return CompletableFuture.completedFuture(HttpResponse.create().withStatus(200)
          .withEntity(ContentTypes.TEXT_PLAIN_UTF8, "pong"));
    }
    Route route = route(path);
    if (route == null) {
      request.discardEntityBytes(materializer);
      return done(XksError.invalidUriPath(path));
    }
    if (request.method() != HttpMethods.POST) {
      request.discardEntityBytes(materializer);
      return CompletableFuture.completedFuture(errorResponse(new XksError(405, "ValidationException",
          "The XKS proxy API takes POST only, not " + request.method().value() + "."))
          .addHeader(RawHeader.create("Allow", "POST")));
    }
    if (request.entity().getContentLengthOption().orElse(0L) > MAX_BODY_BYTES) {
      // Drained before answering, so the client reads the error rather than a reset connection.
      return request.discardEntityBytes(materializer).completionStage()
          .handle((d, f) -> errorResponse(XksError.tooLarge()));
    }
    return body(request).handle((bytes, failure) -> {
      if (failure != null) return errorResponse(XksError.tooLarge());
      String call = route.operation() + (route.keyId() == null ? "" : " " + route.keyId());
      String requestId = null;
      try {
        verifier.verify(Authenticator.signedRequest(request, bytes), Instant.now());
        ObjectNode body = route.operation().equals("health") ? lenientObject(bytes) : object(bytes);
        requestId = body.path("requestMetadata").path("kmsRequestId").asText(null);
        ObjectNode answer = dispatch(route, body);
        JsonNode metadata = body.path("requestMetadata");
        log.debug("xks {} kmsRequestId={} kmsOperation={} awsPrincipalArn={}: 200", call, requestId,
            metadata.path("kmsOperation").asText(null), metadata.path("awsPrincipalArn").asText(null));
        return HttpResponse.create().withStatus(200).withEntity(ContentTypes.APPLICATION_JSON, json(answer));
      } catch (AuthenticationException e) {
        log.info("xks {}: AuthenticationFailedException ({})", call, e.error().type());
        return errorResponse(new XksError(401, "AuthenticationFailedException", e.error().message()));
      } catch (XksError e) {
        log.info("xks {} kmsRequestId={}: {}", call, requestId, e.name);
        return errorResponse(e);
      } catch (RuntimeException | GeneralSecurityException | IOException e) {
        log.error("xks {} kmsRequestId={} failed", call, requestId, e);
        return errorResponse(new XksError(500, "InternalException", "The XKS proxy failed to process the request."));
      }
    });
  }

  /** The operation of a path under {@code {prefix}/kms/xks/v1}, or null (InvalidUriPathException). */
  private Route route(String path) {
    String base = settings.uriPath() + "/";
    if (!path.startsWith(base)) return null;
    String rest = path.substring(base.length());
    if (rest.equals("health")) return new Route("health", null);
    String[] parts = rest.split("/", -1);
    if (parts.length == 3 && parts[0].equals("keys") && !parts[1].isEmpty()
        && (parts[2].equals("metadata") || parts[2].equals("encrypt") || parts[2].equals("decrypt"))) {
      return new Route(parts[2], parts[1]);
    }
    return null;
  }

  private CompletionStage<byte[]> body(HttpRequest request) {
    HttpEntity entity = request.entity();
    if (entity instanceof HttpEntity.Strict strict) {
      if (strict.getData().size() > MAX_BODY_BYTES) {
        return CompletableFuture.failedFuture(new IllegalArgumentException("body too large"));
      }
      return CompletableFuture.completedFuture(strict.getData().toArray());
    }
    return entity.toStrict(10_000, MAX_BODY_BYTES, materializer).thenApply(s -> s.getData().toArray());
  }

  private ObjectNode dispatch(Route route, ObjectNode body) throws XksError, GeneralSecurityException, IOException {
    if (route.operation().equals("health")) return health();
    if (!XksKeyStore.KEY_ID.matcher(route.keyId()).matches()) {
      throw XksError.validation("The externalKeyId must be 1-128 characters of A-Z, a-z, 0-9, '-', '_' and '.'.");
    }
    JsonNode metadata = body.get("requestMetadata");
    if (metadata == null || !metadata.isObject()) throw XksError.validation("requestMetadata is required.");
    requireText(metadata, "awsPrincipalArn");
    requireText(metadata, "kmsOperation");
    requireText(metadata, "kmsRequestId");
    if (!route.operation().equals("metadata")) requireText(metadata, "kmsKeyArn");
    XksKeyStore.Key key = keys.get(route.keyId());
    if (key == null) {
      throw new XksError(404, "KeyNotFoundException", "The external key " + route.keyId() + " was not found.");
    }
    return switch (route.operation()) {
      case "metadata" -> metadata(key);
      case "encrypt" -> encrypt(key, body);
      default -> decrypt(key, body);
    };
  }

  private ObjectNode health() throws GeneralSecurityException {
    byte[] probe = "kms-regions xks-proxy health".getBytes(StandardCharsets.US_ASCII);
    XksCipher.Sealed s = XksCipher.encrypt(healthKey, probe, probe);
    boolean cryptoWorks = Arrays.equals(probe, XksCipher.decrypt(healthKey, s.ciphertext(), s.iv(), s.tag(), probe, null));
    String status = !cryptoWorks ? "UNAVAILABLE" : Files.isReadable(keys.file()) ? "ACTIVE" : "DEGRADED";
    ObjectNode out = MAPPER.createObjectNode();
    out.put("xksProxyFleetSize", 1);
    out.put("xksProxyVendor", "kms-regions");
    out.put("xksProxyModel", "kms-regions XKS proxy " + version());
    out.put("ekmVendor", "kms-regions");
    ObjectNode ekm = out.putArray("ekmFleetDetails").addObject();
    ekm.put("id", "key-file-1");
    ekm.put("model", "kms-regions software key file " + version());
    ekm.put("healthStatus", status);
    return out;
  }

  private static ObjectNode metadata(XksKeyStore.Key key) {
    ObjectNode out = MAPPER.createObjectNode();
    out.put("keySpec", "AES_256");
    out.putArray("keyUsage").add("ENCRYPT").add("DECRYPT");
    out.put("keyStatus", key.enabled() ? "ENABLED" : "DISABLED");
    return out;
  }

  private static ObjectNode encrypt(XksKeyStore.Key key, ObjectNode body) throws XksError, GeneralSecurityException {
    byte[] plaintext = requireBase64(body, "plaintext");
    algorithm(body);
    byte[] aad = optionalBase64(body, "additionalAuthenticatedData");
    JsonNode cdivAlgorithm = body.get("ciphertextDataIntegrityValueAlgorithm");
    if (cdivAlgorithm != null && !cdivAlgorithm.isNull()) {
      if (!cdivAlgorithm.isTextual()) throw XksError.validation("ciphertextDataIntegrityValueAlgorithm must be a string.");
      if (!cdivAlgorithm.asText().equals("SHA_256")) {
        throw XksError.unsupported("ciphertextDataIntegrityValueAlgorithm " + cdivAlgorithm.asText()
            + " is not supported; use SHA_256.");
      }
    }
    if (plaintext.length > MAX_DATA_BYTES) throw XksError.unsupported("The plaintext is larger than 8192 bytes.");
    if (aad != null && aad.length > MAX_DATA_BYTES) {
      throw XksError.unsupported("The additionalAuthenticatedData is larger than 8192 bytes.");
    }
    requireEnabled(key);
    XksCipher.Sealed s = XksCipher.encrypt(key.material(), plaintext, aad);
    ObjectNode out = MAPPER.createObjectNode();
    out.put("ciphertext", b64(s.ciphertext()));
    out.put("initializationVector", b64(s.iv()));
    out.put("authenticationTag", b64(s.tag()));
    if (cdivAlgorithm != null && !cdivAlgorithm.isNull()) {
      // Appendix C: the CDIV first, then a decrypt of exactly what is returned, so a corruption
      // after encryption is caught here rather than by a failing decrypt years later.
      byte[] cdiv = XksCipher.cdiv(aad, s.metadata(), s.iv(), s.ciphertext(), s.tag());
      byte[] back = XksCipher.decrypt(key.material(), s.ciphertext(), s.iv(), s.tag(), aad, s.metadata());
      if (!MessageDigest.isEqual(back, plaintext)) throw new GeneralSecurityException("encrypt did not round-trip");
      out.put("ciphertextDataIntegrityValue", b64(cdiv));
    }
    return out;
  }

  private static ObjectNode decrypt(XksKeyStore.Key key, ObjectNode body) throws XksError, GeneralSecurityException {
    byte[] ciphertext = requireBase64(body, "ciphertext");
    byte[] iv = requireBase64(body, "initializationVector");
    byte[] tag = requireBase64(body, "authenticationTag");
    algorithm(body);
    byte[] aad = optionalBase64(body, "additionalAuthenticatedData");
    byte[] metadata = optionalBase64(body, "ciphertextMetadata");
    if (ciphertext.length > MAX_DATA_BYTES) throw XksError.unsupported("The ciphertext is larger than 8192 bytes.");
    if (aad != null && aad.length > MAX_DATA_BYTES) {
      throw XksError.unsupported("The additionalAuthenticatedData is larger than 8192 bytes.");
    }
    if (metadata != null && metadata.length > XksCipher.MAX_METADATA_BYTES) {
      throw XksError.validation("The ciphertextMetadata is larger than 20 bytes.");
    }
    requireEnabled(key);
    if (iv.length != 12 && iv.length != 16) {
      throw XksError.invalidCiphertext("The initializationVector must be 12 or 16 bytes.");
    }
    if (tag.length != XksCipher.TAG_BYTES) throw XksError.invalidCiphertext("The authenticationTag must be 16 bytes.");
    byte[] plaintext;
    try {
      plaintext = XksCipher.decrypt(key.material(), ciphertext, iv, tag, aad, metadata);
    } catch (GeneralSecurityException e) {
      if (!XksCipher.isBadTag(e)) throw e;
      throw XksError.invalidCiphertext("The ciphertext, initialization vector, additional authenticated data or "
          + "authentication tag is corrupted, missing, or otherwise invalid.");
    }
    ObjectNode out = MAPPER.createObjectNode();
    out.put("plaintext", b64(plaintext));
    return out;
  }

  private static void requireEnabled(XksKeyStore.Key key) throws XksError {
    if (!key.enabled()) {
      throw new XksError(400, "InvalidStateException", "The external key " + key.keyId() + " is disabled.");
    }
  }

  private static void algorithm(ObjectNode body) throws XksError {
    JsonNode a = body.get("encryptionAlgorithm");
    if (a == null || !a.isTextual()) throw XksError.validation("encryptionAlgorithm is required (AES_GCM).");
    if (!a.asText().equals("AES_GCM")) {
      throw XksError.unsupported("encryptionAlgorithm " + a.asText() + " is not supported; use AES_GCM.");
    }
  }

  private static void requireText(JsonNode node, String field) throws XksError {
    JsonNode v = node.get(field);
    if (v == null || !v.isTextual() || v.asText().isEmpty()) {
      throw XksError.validation("requestMetadata." + field + " is required and must be a string.");
    }
  }

  private static byte[] requireBase64(ObjectNode body, String field) throws XksError {
    byte[] b = optionalBase64(body, field);
    if (b == null) throw XksError.validation(field + " is required.");
    return b;
  }

  private static byte[] optionalBase64(ObjectNode body, String field) throws XksError {
    JsonNode v = body.get(field);
    if (v == null || v.isNull()) return null;
    if (!v.isTextual()) throw XksError.validation(field + " must be a Base64 string.");
    try {
      return Base64.getDecoder().decode(v.asText());
    } catch (IllegalArgumentException e) {
      throw XksError.validation(field + " is not valid Base64.");
    }
  }

  private static ObjectNode object(byte[] bytes) throws XksError {
    try {
      JsonNode n = MAPPER.readTree(bytes);
      if (n instanceof ObjectNode o) return o;
    } catch (IOException e) {
      // answered below
    }
    throw XksError.validation("The request body must be a JSON object.");
  }

  /** GetHealthStatus never answers ValidationException (specification, "Error codes"): any body will do. */
  private static ObjectNode lenientObject(byte[] bytes) {
    try {
      return object(bytes);
    } catch (XksError e) {
      return MAPPER.createObjectNode();
    }
  }

  private static String b64(byte[] b) {
    return Base64.getEncoder().encodeToString(b);
  }

  private static byte[] json(ObjectNode n) {
    try {
      return MAPPER.writeValueAsBytes(n);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String version() {
    String v = XksProxy.class.getPackage().getImplementationVersion();
    return v == null ? "dev" : v;
  }

  private static CompletionStage<HttpResponse> done(XksError e) {
    return CompletableFuture.completedFuture(errorResponse(e));
  }

  private static HttpResponse errorResponse(XksError e) {
    ObjectNode out = MAPPER.createObjectNode();
    out.put("errorName", e.name);
    out.put("errorMessage", e.getMessage());
    return HttpResponse.create().withStatus(e.status).withEntity(ContentTypes.APPLICATION_JSON, json(out));
  }

  /** An error the specification names, with its HTTP status. */
  static final class XksError extends Exception {
    final int status;
    final String name;

    XksError(int status, String name, String message) {
      super(printable(message), null, false, false);
      this.status = status;
      this.name = name;
    }

    static XksError validation(String message) {
      return new XksError(400, "ValidationException", message);
    }

    static XksError invalidCiphertext(String message) {
      return new XksError(400, "InvalidCiphertextException", message);
    }

    static XksError unsupported(String message) {
      return new XksError(501, "UnsupportedOperationException", message);
    }

    static XksError tooLarge() {
      return unsupported("The request body is larger than " + MAX_BODY_BYTES + " bytes.");
    }

    static XksError invalidUriPath(String path) {
      return new XksError(404, "InvalidUriPathException", "No XKS proxy API operation at " + path + ".");
    }

    /** The specification: under 512 characters, printable ASCII only. */
    private static String printable(String s) {
      StringBuilder b = new StringBuilder(Math.min(s.length(), 511));
      for (int i = 0; i < s.length() && b.length() < 511; i++) {
        char c = s.charAt(i);
        b.append(c >= 0x20 && c <= 0x7e ? c : '?');
      }
      return b.toString();
    }
  }
}
