package io.kmsregions.api;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.kmsregions.KmsSettings;
import io.kmsregions.key.KmsError;
import io.kmsregions.region.RegionDirectory;
import io.kmsregions.security.auth.AuthenticationException;
import io.kmsregions.security.auth.Authenticator;
import io.kmsregions.security.auth.Caller;
import java.time.Duration;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ThreadLocalRandom;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.http.javadsl.model.ContentType;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntity;
import org.apache.pekko.http.javadsl.model.HttpMethods;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.http.javadsl.settings.ServerSettings;
import org.apache.pekko.stream.Materializer;

/**
 * The HTTP front of one Region node: the AWS JSON 1.1 protocol on {@code POST /} (kms-api.md §1).
 *
 * <p>The operation comes from {@code X-Amz-Target: TrentService.<Operation>}. The Region comes
 * from the SigV4 credential scope of the {@code Authorization} header
 * ({@code Credential=AKID/DATE/REGION/kms/aws4_request}), or is this node's own when there is
 * none. A call for another Region of the cluster is forwarded to that Region's node; when that
 * node is unreachable the answer is HTTP 503. Every call is authenticated first (SigV4, or
 * {@code open}; see {@link Authenticator}), and the verified caller travels with it.
 *
 * <p>{@code GET /health} answers this node's Region and the Regions it can reach;
 * {@code X-Amz-Target: KmsRegions.Noop} answers {@code {}} without touching a key (benchmarks).
 */
public final class KmsHttpServer {
  private static final String TARGET_PREFIX = "TrentService.";
  /** Answered after reading the body, touching no key: the HTTP stack's own ceiling for `bench`. */
  public static final String NOOP_TARGET = "KmsRegions.Noop";
  private static final ApiResponse NOOP = new ApiResponse(200, "{}".getBytes(java.nio.charset.StandardCharsets.UTF_8));
  private static final ContentType AMZ_JSON = ContentTypes.parse("application/x-amz-json-1.1");

  private final KmsSettings settings;
  private final ActorSystem<?> system;
  private final KmsApi api;
  private final ActorRef<RegionDirectory.Command> directory;
  private final Materializer materializer;
  /** Set by {@link #bind}: the mode depends on the address the listener binds. */
  private volatile Authenticator authenticator;

  public KmsHttpServer(
      KmsSettings settings, ActorSystem<?> system, KmsApi api, ActorRef<RegionDirectory.Command> directory) {
    this.settings = settings;
    this.system = system;
    this.api = api;
    this.directory = directory;
    this.materializer = Materializer.matFromSystem(system);
  }

  /**
   * Binds {@code host:port}; the binding is released in coordinated shutdown. Fails, binding
   * nothing, when {@code kms.auth} does not allow its mode on {@code host} (open mode on a
   * non-loopback address without {@code --auth open}).
   */
  public CompletionStage<ServerBinding> bind(String host, int port) {
    try {
      authenticator = Authenticator.create(system.settings().config(), host);
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
    // Pekko's per-request timer off on this endpoint: `deadline` below stands in for it.
    ServerSettings server = ServerSettings.create(com.typesafe.config.ConfigFactory
        .parseString("pekko.http.server.request-timeout = infinite").withFallback(system.settings().config()));
    return Http.get(system).newServerAt(host, port).withSettings(server).bind(this::handle)
        .thenApply(b -> b.addToCoordinatedShutdown(Duration.ofSeconds(3), system));
  }

  /** Answers one HTTP request; never fails. */
  public CompletionStage<HttpResponse> handle(HttpRequest request) {
    String requestId = requestId();
    String path = request.getUri().path();
    if (request.method() == HttpMethods.GET && path.equals("/health")) {
      return health(requestId);
    }
    if (request.method() != HttpMethods.POST || !(path.equals("/") || path.isEmpty())) {
      request.discardEntityBytes(materializer);
      return done(requestId, ErrorBodies.response(new KmsError("UnknownOperationException",
          "kms-regions serves the KMS API on POST /.", 404)));
    }
    if (request.entity().getContentLengthOption().orElse(0L) > settings.maxRequestBytes()) {
      // Declared too large: drain it (the parser caps what it accepts at all, pekko.http.server.
      // parsing.max-content-length) and then answer, so the client reads the 413 instead of a reset
      // connection (the fuzz test found the race).
      return request.discardEntityBytes(materializer).completionStage()
          .handle((done, failure) -> response(requestId, tooLarge()));
    }
    Optional<String> target = request.getHeader("X-Amz-Target").map(h -> h.value());
    if (target.isPresent() && target.get().equals(NOOP_TARGET)) {
      return body(request).handle((bytes, failure) -> response(requestId, failure == null ? NOOP : tooLarge()));
    }
    if (target.isEmpty() || !target.get().startsWith(TARGET_PREFIX)) {
      request.discardEntityBytes(materializer);
      return done(requestId, ErrorBodies.response(new KmsError("UnknownOperationException",
          target.isEmpty() ? "Missing X-Amz-Target header." : "Unknown target " + target.get() + ".")));
    }
    String operation = target.get().substring(TARGET_PREFIX.length());
    String region = request.getHeader("Authorization").map(h -> regionOf(h.value())).orElse(null);
    if (region == null) region = settings.region();
    final String inRegion = region;
    return body(request)
        .handle((bytes, failure) -> {
          if (failure == null) {
            Caller caller;
            try {
              caller = authenticator.authenticate(request, bytes);
            } catch (AuthenticationException e) {
              return CompletableFuture.completedFuture(ErrorBodies.response(e.error()));
            }
            return dispatch(inRegion, new ApiRequest(operation, bytes, requestId, caller));
          }
          // The body was too large, or did not arrive in time.
          return CompletableFuture.completedFuture(tooLarge());
        })
        .thenCompose(r -> deadline(operation, requestId, r))
        .thenApply(r -> response(requestId, r));
  }

  /**
   * The request timeout ({@code kms.http.request-timeout}): an answer not there in time becomes
   * DependencyTimeoutException (503). Pekko HTTP's own request-timeout keeps each request's timer
   * in Pekko's scheduler for the whole timeout even after the answer (its cancel only marks it), so
   * at 10,000 calls a second 300,000 dead timers sat in linked lists every young collection had to
   * walk: 10-14 ms pauses. The JDK's delayer, behind {@code orTimeout}, removes a timer when its
   * answer comes (BENCHMARKS.md, "Timers").
   */
  private CompletionStage<ApiResponse> deadline(String operation, String requestId, CompletionStage<ApiResponse> answer) {
    CompletableFuture<ApiResponse> f = answer.toCompletableFuture();
    if (f.isDone()) return f;
    long timeout = settings.requestTimeout().toMillis();
    // On a copy: the answer's own future may be shared, and must not be failed by this request's clock.
    return f.copy().orTimeout(timeout, java.util.concurrent.TimeUnit.MILLISECONDS).exceptionally(failure -> {
      Throwable cause = failure instanceof java.util.concurrent.CompletionException c && c.getCause() != null
          ? c.getCause() : failure;
      if (cause instanceof java.util.concurrent.TimeoutException) {
        system.log().warn("{} {} not answered within {} ms in {}", operation, requestId, timeout, settings.region());
        return ErrorBodies.response(new KmsError("DependencyTimeoutException",
            "The request was not answered within " + timeout + " ms; try again.", 503));
      }
      system.log().error("{} {} failed in {}", operation, requestId, settings.region(), cause);
      return ErrorBodies.response(KmsError.internal("Internal error; request id " + requestId));
    });
  }

  /**
   * The request body. One that arrived with the head is already strict: take its bytes without
   * materialising a stream; otherwise collect it, at most {@code kms.http.max-request-bytes}.
   * The array is the ByteString's own when it has one of exactly this size (no copy): request
   * bodies are only ever read, never written.
   */
  private CompletionStage<byte[]> body(HttpRequest request) {
    HttpEntity entity = request.entity();
    if (entity instanceof HttpEntity.Strict strict) {
      if (strict.getData().size() > settings.maxRequestBytes()) {
        return CompletableFuture.failedFuture(new IllegalArgumentException("body too large"));
      }
      return CompletableFuture.completedFuture(strict.getData().toArrayUnsafe());
    }
    return ApiContext.direct(entity.toStrict(settings.forwardTimeout().toMillis(), settings.maxRequestBytes(), materializer))
        .thenApply(s -> s.getData().toArrayUnsafe());
  }

  private ApiResponse tooLarge() {
    return ErrorBodies.response(new KmsError("RequestEntityTooLargeException",
        "The request body is larger than " + settings.maxRequestBytes() + " bytes or was not received in time.", 413));
  }

  private CompletionStage<ApiResponse> dispatch(String region, ApiRequest request) {
    if (region.equals(settings.region())) return api.handle(request);
    if (!settings.regions().contains(region)) {
      return CompletableFuture.completedFuture(ErrorBodies.response(new KmsError("InvalidSignatureException",
          "Credential should be scoped to a valid region. '" + region
              + "' is not a Region of this cluster " + settings.regions() + ".")));
    }
    CompletionStage<ApiResponse> forwarded = ApiContext.ask(directory,
        replyTo -> new RegionDirectory.ForwardApiRequest(region, request, replyTo),
        settings.forwardTimeout(), system.scheduler());
    return forwarded.exceptionally(failure -> ErrorBodies.response(KmsError.unavailable(
        "The Region " + region + " did not answer within " + settings.forwardTimeout().toMillis() + " ms.")));
  }

  private CompletionStage<HttpResponse> health(String requestId) {
    CompletionStage<RegionDirectory.ReachableRegions> reachable = ApiContext.ask(directory,
        RegionDirectory.GetReachableRegions::new, settings.askTimeout(), system.scheduler());
    return reachable.thenApply(r -> {
      ObjectNode body = Json.MAPPER.createObjectNode();
      body.put("Region", settings.region());
      body.putPOJO("ReachableRegions", r.regions());
      return response(requestId, new ApiResponse(200, Json.bytes(body)));
    });
  }

  /**
   * The Region of a SigV4 {@code Authorization} header's credential scope, or null.
   * Example: {@code AWS4-HMAC-SHA256 Credential=AKID/20260101/eu-west-1/kms/aws4_request, ...}.
   */
  static String regionOf(String authorization) {
    int at = authorization.indexOf("Credential=");
    if (at < 0) return null;
    int end = authorization.indexOf(',', at);
    String[] scope = authorization.substring(at + "Credential=".length(), end < 0 ? authorization.length() : end)
        .trim().split("/");
    return scope.length >= 5 ? scope[2] : null;
  }

  private CompletionStage<HttpResponse> done(String requestId, ApiResponse r) {
    return CompletableFuture.completedFuture(response(requestId, r));
  }

  private static HttpResponse response(String requestId, ApiResponse r) {
    return HttpResponse.create()
        .withStatus(r.status())
        .addHeader(RawHeader.create("x-amzn-RequestId", requestId))
        .withEntity(AMZ_JSON, r.body());
  }

  private static String requestId() {
    ThreadLocalRandom random = ThreadLocalRandom.current();
    return new UUID(random.nextLong(), random.nextLong()).toString();
  }
}
