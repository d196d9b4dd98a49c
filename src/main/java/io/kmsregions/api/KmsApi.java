package io.kmsregions.api;

import com.fasterxml.jackson.databind.JsonNode;
import io.kmsregions.KmsSettings;
import io.kmsregions.alias.AliasCache;
import io.kmsregions.audit.AuditLog;
import io.kmsregions.alias.AliasManager;
import io.kmsregions.grant.GrantStore;
import io.kmsregions.key.KeyCache;
import io.kmsregions.key.KeyManager;
import io.kmsregions.key.KeySpec;
import io.kmsregions.key.KmsError;
import io.kmsregions.region.RegionDirectory;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The KMS operations of one Region (kms-api.md §2): validates a request, asks the key actors,
 * does the cryptography off the actors, and shapes the answer. Every client mistake becomes an
 * AWS error ({@link KmsException}); anything else is logged and answered with
 * KMSInternalException, never a stack trace.
 */
public final class KmsApi {
  private static final Logger log = LoggerFactory.getLogger(KmsApi.class);

  /** The deprecated CustomerMasterKeySpec enum: KeySpec without the specs added later (kms-api.md §3). */
  private final KmsSettings settings;
  private final ApiContext context;
  private final AliasCache aliasCache;
  private final AuditLog audit;
  private final KeyAuthorization authorization;
  private final Map<String, ApiContext.Operation> operations = new java.util.HashMap<>();

  public KmsApi(
      KmsSettings settings,
      ActorSystem<?> system,
      ActorRef<KeyManager.Command> keys,
      ActorRef<RegionDirectory.Command> directory,
      KeyCache cache,
      ActorRef<AliasManager.Command> aliases,
      AliasCache aliasCache,
      ActorRef<GrantStore.Command> grants,
      io.kmsregions.keystore.KeyStoreServices keyStores) {
    this.settings = settings;
    this.aliasCache = aliasCache;
    this.context = new ApiContext(settings, system, keys, directory, cache, aliasCache, keyStores);
    this.audit = AuditLog.get(system);
    this.authorization = new KeyAuthorization(context, grants, context.authorizer());
    operations.putAll(new KeyOperations(context).operations());
    operations.putAll(new KeyManagementOperations(context).operations());
    operations.putAll(new MultiRegionOperations(context).operations());
    operations.putAll(new CryptoOperations(context).operations());
    operations.putAll(new AliasOperations(context, aliases).operations());
    operations.putAll(new GrantOperations(context, grants).operations());
    operations.putAll(new ImportOperations(context).operations());
    operations.putAll(new CustomKeyStoreOperations(context).operations());
  }

  /** The default key policy of CreateKey (kms-api.md §4), for keys created outside the API (seeded keys). */
  public String defaultPolicy() {
    return context.defaultPolicy();
  }

  /** The cryptographic operations whose use GetKeyLastUsage reports. */
  private static final Set<String> TRACKED = Set.of("Encrypt", "Decrypt", "ReEncrypt", "GenerateDataKey",
      "GenerateDataKeyWithoutPlaintext", "GenerateDataKeyPair", "GenerateDataKeyPairWithoutPlaintext", "Sign",
      "Verify", "GenerateMac", "VerifyMac", "GetPublicKey", "DeriveSharedSecret");

  /** Every answer of a tracked operation names its key(s) by ARN: record the use of each. */
  private void recordUse(ApiRequest request, JsonNode json) {
    long now = settings.clock().now();
    for (String field : new String[] {"KeyId", "SourceKeyId"}) {
      String arn = json.path(field).asText("");
      int slash = arn.lastIndexOf("key/");
      if (slash >= 0) context.usage().record(arn.substring(slash + 4), request.operation(), now, request.requestId());
    }
  }

  /**
   * Handles one API call addressed to this Region. Never fails: errors become error bodies. Every
   * call, answered or refused, is recorded in this Region's audit log ({@link AuditLog}).
   */
  public CompletionStage<ApiResponse> handle(ApiRequest request) {
    return handleUnaudited(request).thenApply(response -> {
      audit.apiCall(request.operation(), request.requestId(), request.caller(), request.body(), response.status(),
          response.body());
      return response;
    });
  }

  private CompletionStage<JsonNode> authorizedApply(ApiContext.Operation op, ApiRequest request) {
    return authorization.check(request).thenCompose(allowed -> op.apply(request));
  }

  private CompletionStage<ApiResponse> handleUnaudited(ApiRequest request) {
    ApiContext.Operation op = operations.get(request.operation());
    if (op == null) {
      KmsError e = new KmsError("UnknownOperationException", "Unknown operation " + request.operation() + ".");
      return CompletableFuture.completedFuture(ErrorBodies.response(e));
    }
    CompletionStage<JsonNode> result;
    try {
      // KeyIds may name aliases: until this Region's aliases have recovered after a start, wait
      // for them rather than answer "not found" for an alias that exists.
      // Authorised first (KeyAuthorization), so that a refused call changes nothing.
      result = aliasCache.isLoaded()
          ? authorizedApply(op, request)
          : aliasCache.whenLoaded(settings.askTimeout()).thenCompose(loaded -> authorizedApply(op, request));
    } catch (RuntimeException e) {
      result = CompletableFuture.failedFuture(e);
    }
    return result.handle((json, failure) -> {
      if (failure == null) {
        if (json != null && TRACKED.contains(request.operation())) recordUse(request, json);
        return new ApiResponse(200, json == null ? new byte[0] : Json.bytes(json));
      }
      Throwable cause = failure instanceof CompletionException && failure.getCause() != null
          ? failure.getCause() : failure;
      if (cause instanceof KmsException k) return ErrorBodies.response(k.error());
      if (cause instanceof java.util.concurrent.TimeoutException) {
        log.warn("{} {} timed out in {}", request.operation(), request.requestId(), settings.region());
        return ErrorBodies.response(new KmsError("DependencyTimeoutException",
            "The key did not answer in time; try again.", 503));
      }
      log.error("{} {} failed in {}", request.operation(), request.requestId(), settings.region(), cause);
      return ErrorBodies.response(KmsError.internal("Internal error; request id " + request.requestId()));
    });
  }

}
