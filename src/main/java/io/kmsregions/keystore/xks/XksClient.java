package io.kmsregions.keystore.xks;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.typesafe.config.Config;
import io.kmsregions.keystore.xks.XksException.ConnectionErrorCode;
import io.kmsregions.security.auth.SigV4Signer;
import io.kmsregions.security.auth.SignedRequest;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.UnknownHostException;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.channels.UnresolvedAddressException;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.regex.Pattern;
import javax.net.ssl.SSLException;

/**
 * What KMS uses to call an external key store proxy (XKS Proxy API specification v1): the four
 * operations over HTTP(S), each request signed with AWS SigV4 (service {@code kms-xks-proxy}, the
 * KMS Region, headers {@code host;x-amz-date}; Appendix A) by {@link SigV4Signer}.
 *
 * <p>Every method returns a stage that completes with the proxy's answer, checked for shape, or
 * fails with an {@link XksException} naming the KMS connection error code that applies and/or the
 * proxy's {@code errorName} (see {@link XksException} for the mapping; dependent stages wrap it in
 * a CompletionException, {@link XksException#of} unwraps). Arguments that are not valid (an
 * XksKeyId outside {@code [a-zA-Z0-9._-]{1,128}}, a null plaintext) fail the stage with
 * IllegalArgumentException. Each call is given the timeout (as AWS KMS gives each call 250 ms) to
 * connect, and the timeout to be answered.
 *
 * <p>Thread-safe and non-blocking: one {@link HttpClient} per instance (its connections are kept
 * alive and reused: create one client per custom key store, not per call), HTTP/1.1 (which every
 * proxy must support).
 */
public final class XksClient {
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final Pattern URI_PATH = Pattern.compile("/[a-zA-Z0-9/_-]{0,127}");
  /** The proxy errors that concern one key or request, not the connection (XksException). */
  private static final Set<String> KEY_ERRORS = Set.of("KeyNotFoundException", "InvalidStateException",
      "InvalidCiphertextException", "InvalidKeyUsageException", "UnsupportedOperationException", "ThrottlingException");
  private static final Map<String, ConnectionErrorCode> CONNECTION_ERRORS = Map.of(
      "AuthenticationFailedException", ConnectionErrorCode.INVALID_CREDENTIALS,
      "AccessDeniedException", ConnectionErrorCode.XKS_PROXY_ACCESS_DENIED,
      "InvalidUriPathException", ConnectionErrorCode.XKS_PROXY_INVALID_CONFIGURATION,
      "DependencyTimeoutException", ConnectionErrorCode.XKS_PROXY_TIMED_OUT,
      "ValidationException", ConnectionErrorCode.XKS_PROXY_INVALID_RESPONSE,
      "InternalException", ConnectionErrorCode.XKS_PROXY_INVALID_RESPONSE);

  /** GetHealthStatus's answer. */
  public record Health(int xksProxyFleetSize, String xksProxyVendor, String xksProxyModel, String ekmVendor,
      List<EkmFleetDetail> ekmFleetDetails) {}

  /** One external key manager of a GetHealthStatus answer; {@code healthStatus} ACTIVE, DEGRADED or UNAVAILABLE. */
  public record EkmFleetDetail(String id, String model, String healthStatus) {}

  /**
   * GetKeyMetadata's answer, as the proxy gave it (KMS's CreateKey needs {@code AES_256},
   * ENCRYPT and DECRYPT, and {@code ENABLED}: checking that is the caller's business).
   */
  public record KeyMetadata(String keySpec, List<String> keyUsage, String keyStatus) {}

  /**
   * Encrypt's answer, what a KMS ciphertext blob of an external key embeds.
   *
   * @param ciphertext as long as the plaintext
   * @param initializationVector 12 or 16 bytes
   * @param authenticationTag 16 bytes
   * @param ciphertextMetadata at most 20 bytes of the proxy's own, or null
   */
  public record Ciphertext(byte[] ciphertext, byte[] initializationVector, byte[] authenticationTag,
      byte[] ciphertextMetadata) {}

  private final URI base;
  private final String host;
  private final Duration timeout;
  private final SigV4Signer signer;
  private final HttpClient http;

  /**
   * @param endpoint {@code XksProxyUriEndpoint}: {@code http(s)://host[:port]}, no path
   * @param uriPath {@code XksProxyUriPath}: {@code [/prefix]/kms/xks/v1}, at most 128 characters of
   *     {@code a-z A-Z 0-9 / _ -}
   * @param region the KMS Region that signs (the credential scope's Region)
   * @param timeout the time a call may take to connect, and to be answered (AWS KMS: 250 ms; the
   *     configured default, {@link #configuredTimeout}, is {@code kms.xks.request-timeout})
   * @throws IllegalArgumentException for an endpoint with a path, query or no host, a bad URI path,
   *     or a credential that breaks the KMS rules ({@link XksCredential})
   */
  public XksClient(URI endpoint, String uriPath, String accessKeyId, String secretAccessKey, String region,
      Duration timeout) {
    if (endpoint.getHost() == null || !("http".equals(endpoint.getScheme()) || "https".equals(endpoint.getScheme()))
        || (endpoint.getRawPath() != null && !endpoint.getRawPath().isEmpty() && !endpoint.getRawPath().equals("/"))
        || endpoint.getRawQuery() != null) {
      throw new IllegalArgumentException("The XKS proxy endpoint must be http(s)://host[:port] with no path, not "
          + endpoint + ".");
    }
    if (uriPath == null || !URI_PATH.matcher(uriPath).matches()) {
      throw new IllegalArgumentException("The XKS proxy URI path must be /[prefix/]kms/xks/v1, at most 128 characters "
          + "of a-z, A-Z, 0-9, '/', '_' and '-', not '" + uriPath + "'.");
    }
    XksCredential credential = new XksCredential(accessKeyId, secretAccessKey);
    this.base = URI.create(endpoint.getScheme() + "://" + endpoint.getRawAuthority() + uriPath);
    // The Host header as java.net.http sends it: the port only when it is not the scheme's default.
    int port = endpoint.getPort();
    boolean defaultPort = port == -1 || port == (endpoint.getScheme().equals("https") ? 443 : 80);
    this.host = endpoint.getHost() + (defaultPort ? "" : ":" + port);
    this.timeout = timeout;
    this.signer = new SigV4Signer(credential.accessKeyId(), credential.secretAccessKey(), region, XksProxy.SERVICE);
    this.http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(timeout)
        .followRedirects(HttpClient.Redirect.NEVER).build();
  }

  /** {@code kms.xks.request-timeout} (conf/application.conf). */
  public static Duration configuredTimeout(Config config) {
    return config.getDuration("kms.xks.request-timeout");
  }

  /** GetHealthStatus as KMS's periodic check calls it ({@code kmsOperation} {@code KmsHealthCheck}). */
  public CompletionStage<Health> health() {
    return health(XksRequestMetadata.health("KmsHealthCheck", UUID.randomUUID().toString()));
  }

  /** GetHealthStatus; {@code metadata} needs only kmsOperation and kmsRequestId. */
  public CompletionStage<Health> health(XksRequestMetadata metadata) {
    return call("/health", request(metadata), XksClient::health);
  }

  /** GetKeyMetadata of the external key {@code xksKeyId}. */
  public CompletionStage<KeyMetadata> keyMetadata(String xksKeyId, XksRequestMetadata metadata) {
    if (!XksKeyStore.KEY_ID.matcher(String.valueOf(xksKeyId)).matches()) return badKeyId(xksKeyId);
    return call("/keys/" + xksKeyId + "/metadata", request(metadata), XksClient::keyMetadata);
  }

  /**
   * Encrypt with the external key {@code xksKeyId}; asks for the Ciphertext Data Integrity Value
   * and checks it (as KMS does), so a ciphertext that was corrupted on its way back is an
   * {@code XKS_PROXY_INVALID_RESPONSE} rather than a data key that can never be decrypted.
   *
   * @param aad the additional authenticated data, or null for none
   */
  public CompletionStage<Ciphertext> encrypt(String xksKeyId, byte[] plaintext, byte[] aad,
      XksRequestMetadata metadata) {
    if (!XksKeyStore.KEY_ID.matcher(String.valueOf(xksKeyId)).matches()) return badKeyId(xksKeyId);
    if (plaintext == null) return CompletableFuture.failedFuture(new IllegalArgumentException("plaintext is null"));
    ObjectNode body = request(metadata);
    body.put("plaintext", b64(plaintext));
    body.put("encryptionAlgorithm", "AES_GCM");
    if (aad != null) body.put("additionalAuthenticatedData", b64(aad));
    body.put("ciphertextDataIntegrityValueAlgorithm", "SHA_256");
    return call("/keys/" + xksKeyId + "/encrypt", body, answer -> ciphertext(answer, plaintext.length, aad));
  }

  /**
   * Decrypt with the external key {@code xksKeyId}: the plaintext, or XksException
   * {@code InvalidCiphertextException} if the ciphertext, IV, tag or {@code aad} is not what
   * encrypt produced.
   */
  public CompletionStage<byte[]> decrypt(String xksKeyId, Ciphertext ciphertext, byte[] aad,
      XksRequestMetadata metadata) {
    if (!XksKeyStore.KEY_ID.matcher(String.valueOf(xksKeyId)).matches()) return badKeyId(xksKeyId);
    if (ciphertext == null) return CompletableFuture.failedFuture(new IllegalArgumentException("ciphertext is null"));
    ObjectNode body = request(metadata);
    body.put("ciphertext", b64(ciphertext.ciphertext()));
    if (ciphertext.ciphertextMetadata() != null) body.put("ciphertextMetadata", b64(ciphertext.ciphertextMetadata()));
    body.put("initializationVector", b64(ciphertext.initializationVector()));
    body.put("authenticationTag", b64(ciphertext.authenticationTag()));
    body.put("encryptionAlgorithm", "AES_GCM");
    if (aad != null) body.put("additionalAuthenticatedData", b64(aad));
    int length = ciphertext.ciphertext().length;
    return call("/keys/" + xksKeyId + "/decrypt", body, answer -> {
      byte[] plaintext = base64(answer, "plaintext");
      if (plaintext.length != length) throw invalid("a plaintext of " + plaintext.length + " bytes for a ciphertext of " + length);
      return plaintext;
    });
  }

  // ---- the call -----------------------------------------------------------------------------

  private static ObjectNode request(XksRequestMetadata metadata) {
    ObjectNode body = MAPPER.createObjectNode();
    metadata.toJson(body.putObject("requestMetadata"));
    return body;
  }

  /** A parser of a 200 answer; throws XksException (invalid response) for a body of the wrong shape. */
  private interface Parser<T> {
    T parse(JsonNode answer) throws XksException;
  }

  private <T> CompletionStage<T> call(String operationPath, ObjectNode body, Parser<T> parser) {
    byte[] bytes;
    try {
      bytes = MAPPER.writeValueAsBytes(body);
    } catch (IOException e) {
      return CompletableFuture.failedFuture(e);
    }
    URI uri = URI.create(base + operationPath);
    String amzDate = SigV4Signer.amzDate(Instant.now());
    Map<String, List<String>> headers = new LinkedHashMap<>();
    headers.put("host", List.of(host));
    headers.put("x-amz-date", List.of(amzDate));
    String authorization = signer.authorization(new SignedRequest("POST", uri.getRawPath(), "", headers, bytes),
        List.of("host", "x-amz-date"));
    HttpRequest request = HttpRequest.newBuilder(uri)
        .timeout(timeout)
        .header("Content-Type", "application/json")
        .header("X-Amz-Date", amzDate)
        .header("Authorization", authorization)
        .POST(HttpRequest.BodyPublishers.ofByteArray(bytes))
        .build();
    CompletableFuture<T> result = new CompletableFuture<>();
    http.sendAsync(request, HttpResponse.BodyHandlers.ofByteArray()).whenComplete((response, failure) -> {
      try {
        if (failure != null) throw transportFailure(failure);
        result.complete(answer(response, parser));
      } catch (XksException | RuntimeException e) {
        result.completeExceptionally(e);
      }
    });
    return result;
  }

  private static <T> T answer(HttpResponse<byte[]> response, Parser<T> parser) throws XksException {
    int status = response.statusCode();
    JsonNode json;
    try {
      json = MAPPER.readTree(response.body());
    } catch (IOException e) {
      json = null;
    }
    if (status == 200) {
      if (json == null || !json.isObject()) throw invalid("a 200 answer whose body is not a JSON object");
      return parser.parse(json);
    }
    String errorName = json != null && json.path("errorName").isTextual() ? json.get("errorName").asText() : null;
    String message = json != null && json.path("errorMessage").isTextual() ? json.get("errorMessage").asText() : "";
    if (errorName == null) {
      throw new XksException(ConnectionErrorCode.XKS_PROXY_INVALID_RESPONSE, null, status,
          "The XKS proxy answered HTTP " + status + " without a JSON error.", null);
    }
    ConnectionErrorCode code = KEY_ERRORS.contains(errorName) ? null
        : CONNECTION_ERRORS.getOrDefault(errorName, ConnectionErrorCode.XKS_PROXY_INVALID_RESPONSE);
    throw new XksException(code, errorName, status,
        "The XKS proxy answered HTTP " + status + " " + errorName + (message.isEmpty() ? "" : ": " + message), null);
  }

  /** The connection error code of a request that got no answer. */
  private XksException transportFailure(Throwable failure) {
    Throwable t = failure;
    while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
      t = t.getCause();
    }
    ConnectionErrorCode code;
    String what;
    if (t instanceof HttpConnectTimeoutException) {
      code = ConnectionErrorCode.XKS_PROXY_NOT_REACHABLE;
      what = "could not be connected to within " + timeout.toMillis() + " ms";
    } else if (t instanceof HttpTimeoutException) {
      code = ConnectionErrorCode.XKS_PROXY_TIMED_OUT;
      what = "did not answer within " + timeout.toMillis() + " ms";
    } else if (t instanceof SSLException) {
      code = ConnectionErrorCode.XKS_PROXY_INVALID_TLS_CONFIGURATION;
      what = "refused the TLS handshake (" + t.getMessage() + ")";
    } else if (t instanceof ConnectException || t instanceof UnknownHostException
        || t instanceof UnresolvedAddressException || t.getCause() instanceof UnresolvedAddressException) {
      code = ConnectionErrorCode.XKS_PROXY_NOT_REACHABLE;
      what = "is not reachable (" + t + ")";
    } else {
      code = ConnectionErrorCode.XKS_PROXY_NOT_REACHABLE;
      what = "could not be talked to (" + t + ")";
    }
    return new XksException(code, null, 0, "The XKS proxy at " + base + " " + what + ".", t);
  }

  // ---- answers ------------------------------------------------------------------------------

  private static Health health(JsonNode a) throws XksException {
    int fleet = a.path("xksProxyFleetSize").isInt() ? a.get("xksProxyFleetSize").asInt() : 0;
    if (fleet < 1) throw invalid("xksProxyFleetSize is not an integer above zero");
    JsonNode details = a.get("ekmFleetDetails");
    if (details == null || !details.isArray() || details.isEmpty() || details.size() > 10) {
      throw invalid("ekmFleetDetails is not an array of 1 to 10 entries");
    }
    List<EkmFleetDetail> ekms = new ArrayList<>();
    for (JsonNode d : details) {
      String status = text(d, "healthStatus");
      if (!status.equals("ACTIVE") && !status.equals("DEGRADED") && !status.equals("UNAVAILABLE")) {
        throw invalid("healthStatus '" + status + "' is not ACTIVE, DEGRADED or UNAVAILABLE");
      }
      ekms.add(new EkmFleetDetail(text(d, "id"), text(d, "model"), status));
    }
    return new Health(fleet, text(a, "xksProxyVendor"), text(a, "xksProxyModel"), text(a, "ekmVendor"),
        List.copyOf(ekms));
  }

  private static KeyMetadata keyMetadata(JsonNode a) throws XksException {
    JsonNode usage = a.get("keyUsage");
    if (usage == null || !usage.isArray() || usage.size() > 10) throw invalid("keyUsage is not an array of at most 10");
    List<String> usages = new ArrayList<>();
    for (JsonNode u : usage) {
      if (!u.isTextual()) throw invalid("keyUsage holds a value that is not a string");
      usages.add(u.asText());
    }
    return new KeyMetadata(text(a, "keySpec"), List.copyOf(usages), text(a, "keyStatus"));
  }

  private static Ciphertext ciphertext(JsonNode a, int plaintextLength, byte[] aad) throws XksException {
    byte[] ciphertext = base64(a, "ciphertext");
    byte[] iv = base64(a, "initializationVector");
    byte[] tag = base64(a, "authenticationTag");
    byte[] metadata = a.hasNonNull("ciphertextMetadata") ? base64(a, "ciphertextMetadata") : null;
    if (ciphertext.length != plaintextLength) {
      throw invalid("a ciphertext of " + ciphertext.length + " bytes for a plaintext of " + plaintextLength);
    }
    if (iv.length != 12 && iv.length != 16) throw invalid("an initializationVector of " + iv.length + " bytes");
    if (tag.length != 16) throw invalid("an authenticationTag of " + tag.length + " bytes");
    if (metadata != null && metadata.length > XksCipher.MAX_METADATA_BYTES) {
      throw invalid("a ciphertextMetadata of " + metadata.length + " bytes");
    }
    byte[] cdiv = base64(a, "ciphertextDataIntegrityValue");
    if (!MessageDigest.isEqual(cdiv, XksCipher.cdiv(aad, metadata, iv, ciphertext, tag))) {
      throw invalid("a ciphertextDataIntegrityValue that does not match the ciphertext");
    }
    return new Ciphertext(ciphertext, iv, tag, metadata);
  }

  private static String text(JsonNode a, String field) throws XksException {
    JsonNode v = a.get(field);
    if (v == null || !v.isTextual()) throw invalid(field + " is missing or not a string");
    return v.asText();
  }

  private static byte[] base64(JsonNode a, String field) throws XksException {
    try {
      return Base64.getDecoder().decode(text(a, field));
    } catch (IllegalArgumentException e) {
      throw invalid(field + " is not Base64");
    }
  }

  private static XksException invalid(String what) {
    return new XksException(ConnectionErrorCode.XKS_PROXY_INVALID_RESPONSE, null, 200,
        "The XKS proxy's answer cannot be interpreted: " + what + ".", null);
  }

  private static <T> CompletionStage<T> badKeyId(String id) {
    return CompletableFuture.failedFuture(new IllegalArgumentException(
        "An XksKeyId is 1-128 characters of A-Z, a-z, 0-9, '-', '_' and '.', not '" + id + "'."));
  }

  private static String b64(byte[] b) {
    return Base64.getEncoder().encodeToString(b);
  }

  @Override
  public String toString() {
    return "XksClient[" + base + ", " + signer + "]";
  }
}
