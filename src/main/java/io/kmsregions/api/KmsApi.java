package io.kmsregions.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.kmsregions.KmsSettings;
import io.kmsregions.crypto.KeyMaterialGenerator;
import io.kmsregions.crypto.SymmetricCiphertext;
import io.kmsregions.key.Delivery;
import io.kmsregions.key.KeyArns;
import io.kmsregions.key.KeyCache;
import io.kmsregions.key.KeyEntity;
import io.kmsregions.key.KeyEntity.Key;
import io.kmsregions.key.KeyManager;
import io.kmsregions.key.KeyMaterial;
import io.kmsregions.key.KeySpec;
import io.kmsregions.key.KeyState;
import io.kmsregions.key.KeyUsage;
import io.kmsregions.key.KmsError;
import io.kmsregions.key.MultiRegionConfiguration;
import io.kmsregions.key.Origin;
import io.kmsregions.key.SharedProperties;
import io.kmsregions.key.Tag;
import io.kmsregions.region.RegionDirectory;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
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
  private static final String DRY_RUN_MESSAGE =
      "The request would have succeeded, but the DryRun option is set.";
  private static final HexFormat HEX = HexFormat.of();
  private static final SecureRandom RANDOM = new SecureRandom();

  /** Operations of the KMS API that this version does not implement yet. */
  private static final Set<String> KNOWN_OPERATIONS = Set.of(
      "CancelKeyDeletion", "ConnectCustomKeyStore", "CreateAlias", "CreateCustomKeyStore", "CreateGrant",
      "DeleteAlias", "DeleteCustomKeyStore", "DeleteImportedKeyMaterial", "DeriveSharedSecret",
      "DescribeCustomKeyStores", "DisableKey", "DisableKeyRotation", "DisconnectCustomKeyStore", "EnableKey",
      "EnableKeyRotation", "GenerateDataKeyPair", "GenerateDataKeyPairWithoutPlaintext", "GenerateMac",
      "GenerateRandom", "GetKeyLastUsage", "GetKeyPolicy", "GetKeyRotationStatus", "GetParametersForImport",
      "GetPublicKey", "ImportKeyMaterial", "ListAliases", "ListGrants", "ListKeyPolicies", "ListKeyRotations",
      "ListResourceTags", "ListRetirableGrants", "PutKeyPolicy", "ReEncrypt", "RetireGrant", "RevokeGrant",
      "RotateKeyOnDemand", "ScheduleKeyDeletion", "Sign", "TagResource", "UntagResource", "UpdateAlias",
      "UpdateCustomKeyStore", "UpdateKeyDescription", "Verify", "VerifyMac");

  /** The deprecated CustomerMasterKeySpec enum: KeySpec without the specs added later (kms-api.md §3). */
  private static final List<String> CUSTOMER_MASTER_KEY_SPECS = java.util.Arrays.stream(KeySpec.values())
      .filter(s -> s.customerMasterKeySpec().isPresent()).map(Enum::name).toList();

  private final KmsSettings settings;
  private final ActorSystem<?> system;
  private final ActorRef<KeyManager.Command> keys;
  private final ActorRef<RegionDirectory.Command> directory;
  private final KeyCache cache;
  private final Executor blocking;
  private final Map<String, Function<ApiRequest, CompletionStage<JsonNode>>> operations;

  public KmsApi(
      KmsSettings settings,
      ActorSystem<?> system,
      ActorRef<KeyManager.Command> keys,
      ActorRef<RegionDirectory.Command> directory,
      KeyCache cache) {
    this.settings = settings;
    this.system = system;
    this.keys = keys;
    this.directory = directory;
    this.cache = cache;
    this.blocking = system.dispatchers().lookup(DispatcherSelector.blocking());
    this.operations = Map.of(
        "CreateKey", r -> createKey(r.body()),
        "DescribeKey", r -> describeKey(r.body()),
        "ListKeys", r -> listKeys(r.body()),
        "ReplicateKey", r -> replicateKey(r.body()),
        "UpdatePrimaryRegion", r -> updatePrimaryRegion(r),
        "Encrypt", r -> encrypt(r.body()),
        "Decrypt", r -> decrypt(r.body()),
        "GenerateDataKey", r -> generateDataKey(r.body(), true),
        "GenerateDataKeyWithoutPlaintext", r -> generateDataKey(r.body(), false));
  }

  /** Handles one API call addressed to this Region. Never fails: errors become error bodies. */
  public CompletionStage<ApiResponse> handle(ApiRequest request) {
    Function<ApiRequest, CompletionStage<JsonNode>> op = operations.get(request.operation());
    if (op == null) {
      KmsError e = KNOWN_OPERATIONS.contains(request.operation())
          ? KmsError.unsupported("kms-regions does not implement " + request.operation() + " yet.")
          : new KmsError("UnknownOperationException", "Unknown operation " + request.operation() + ".");
      return CompletableFuture.completedFuture(ErrorBodies.response(e));
    }
    CompletionStage<JsonNode> result;
    try {
      result = op.apply(request);
    } catch (RuntimeException e) {
      result = CompletableFuture.failedFuture(e);
    }
    return result.handle((json, failure) -> {
      if (failure == null) {
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

  // ---------------------------------------------------------------- key lifecycle

  private CompletionStage<JsonNode> createKey(byte[] body) {
    Requests.CreateKey r = Json.read(body, Requests.CreateKey.class);
    if (r.keySpec() != null && r.customerMasterKeySpec() != null) {
      throw new KmsException(KmsError.validation(
          "You cannot specify KeySpec and CustomerMasterKeySpec in the same request. CustomerMasterKeySpec is deprecated."));
    }
    KeySpec spec = r.keySpec() != null
        ? Validate.enumValue(r.keySpec(), "keySpec", KeySpec.class)
        : r.customerMasterKeySpec() != null
            ? KeySpec.valueOf(Validate.oneOf(r.customerMasterKeySpec(), "customerMasterKeySpec", CUSTOMER_MASTER_KEY_SPECS))
            : null;
    if (spec == null) spec = KeySpec.SYMMETRIC_DEFAULT;
    KeyUsage usage = Validate.enumValue(r.keyUsage(), "keyUsage", KeyUsage.class);
    Origin origin = Validate.enumValue(r.origin(), "origin", Origin.class);
    if (origin == null) origin = Origin.AWS_KMS;
    Validate.length(r.description(), "description", 0, 8192);
    Validate.length(r.customKeyStoreId(), "customKeyStoreId", 1, 64);
    Validate.length(r.xksKeyId(), "xksKeyId", 1, 128);
    Validate.policy(r.policy());
    List<Tag> tags = Validate.tags(r.tags());
    if (usage == null) {
      final KeySpec s = spec;
      usage = spec.defaultUsage().orElseThrow(() -> new KmsException(KmsError.validation(
          "You must specify a KeyUsage value for all KMS keys except for symmetric encryption keys.")));
    }
    if (!spec.allowedUsages().contains(usage)) {
      throw new KmsException(KmsError.validation(
          "KeyUsage " + usage + " is not compatible with KeySpec " + spec));
    }
    boolean multiRegion = Boolean.TRUE.equals(r.multiRegion());
    boolean customStore = origin == Origin.AWS_CLOUDHSM || origin == Origin.EXTERNAL_KEY_STORE
        || r.customKeyStoreId() != null;
    if (r.xksKeyId() != null && origin != Origin.EXTERNAL_KEY_STORE) {
      throw new KmsException(KmsError.validation(
          "XksKeyId is valid only for keys with Origin EXTERNAL_KEY_STORE."));
    }
    if (customStore) {
      if (multiRegion) {
        throw new KmsException(KmsError.unsupported(
            "Multi-Region keys are not supported in custom key stores."));
      }
      if (r.customKeyStoreId() == null) {
        throw new KmsException(KmsError.validation(
            "A CustomKeyStoreId is required for keys with Origin " + origin + "."));
      }
      throw new KmsException(new KmsError("CustomKeyStoreNotFoundException",
          "Custom key store '" + r.customKeyStoreId() + "' does not exist."));
    }
    String keyId = multiRegion ? "mrk-" + randomHex(16) : UUID.randomUUID().toString();
    long now = System.currentTimeMillis();
    final KeySpec keySpec = spec;
    final KeyUsage keyUsage = usage;
    final Origin keyOrigin = origin;
    String policy = r.policy() != null ? r.policy() : defaultPolicy();
    String description = r.description() != null ? r.description() : "";
    CompletionStage<List<KeyMaterial>> materials = origin == Origin.EXTERNAL
        ? CompletableFuture.completedFuture(List.of())
        : CompletableFuture.supplyAsync(() -> {
            KeyMaterialGenerator.GeneratedMaterial g = KeyMaterialGenerator.generate(keySpec);
            return List.of(new KeyMaterial(SymmetricCiphertext.newKeyMaterialId(), g.secret(), g.publicKey(), now));
          }, blocking);
    return materials.thenCompose(m -> {
      Key initial = new Key(keyId, settings.region(), now, description, policy, tags,
          keyOrigin == Origin.EXTERNAL ? KeyState.PendingImport : KeyState.Enabled,
          new SharedProperties(1, keySpec, keyUsage, keyOrigin, m),
          multiRegion ? MultiRegionConfiguration.initial(settings.region()) : null,
          List.of(), 0);
      return askKey(keyId, replyTo -> new KeyEntity.CreateKey(initial, replyTo));
    }).thenApply(k -> {
      ObjectNode out = Json.MAPPER.createObjectNode();
      out.set("KeyMetadata", KeyMetadataJson.of(k, settings));
      return out;
    });
  }

  private CompletionStage<JsonNode> describeKey(byte[] body) {
    Requests.DescribeKey r = Json.read(body, Requests.DescribeKey.class);
    String keyId = resolveKeyId(r.keyId());
    Validate.grantTokens(r.grantTokens());
    return askKey(keyId, KeyEntity.GetKey::new).thenApply(k -> {
      ObjectNode out = Json.MAPPER.createObjectNode();
      out.set("KeyMetadata", KeyMetadataJson.of(k, settings));
      return out;
    });
  }

  private CompletionStage<JsonNode> listKeys(byte[] body) {
    Requests.ListKeys r = Json.read(body, Requests.ListKeys.class);
    Validate.range(r.limit(), "limit", 1, 1000);
    Validate.length(r.marker(), "marker", 1, 1024);
    if (r.marker() != null && !KeyArns.isKeyId(r.marker())) {
      throw new KmsException(new KmsError("InvalidMarkerException", "Invalid marker: " + r.marker()));
    }
    int limit = r.limit() == null ? 100 : r.limit();
    CompletionStage<KeyManager.KeyPage> page = AskPattern.ask(keys,
        replyTo -> new KeyManager.ListKeys(r.marker(), limit, replyTo), settings.askTimeout(), system.scheduler());
    return page.thenApply(p -> {
      ObjectNode out = Json.MAPPER.createObjectNode();
      ArrayNode list = out.putArray("Keys");
      for (String id : p.keyIds()) {
        ObjectNode e = list.addObject();
        e.put("KeyId", id);
        e.put("KeyArn", settings.keyArn(settings.region(), id));
      }
      out.put("Truncated", p.truncated());
      if (p.truncated()) out.put("NextMarker", p.keyIds().get(p.keyIds().size() - 1));
      return out;
    });
  }

  // ---------------------------------------------------------------- multi-Region keys

  private CompletionStage<JsonNode> replicateKey(byte[] body) {
    Requests.ReplicateKey r = Json.read(body, Requests.ReplicateKey.class);
    String keyId = resolveKeyId(r.keyId());
    Validate.region(r.replicaRegion(), "replicaRegion");
    Validate.length(r.description(), "description", 0, 8192);
    Validate.policy(r.policy());
    List<Tag> tags = Validate.tags(r.tags());
    String policy = r.policy() != null ? r.policy() : defaultPolicy();
    Delivery.ReplicaProperties props = new Delivery.ReplicaProperties(
        r.description() != null ? r.description() : "", policy, tags, System.currentTimeMillis());
    return askKey(keyId, replyTo -> new KeyEntity.ReplicateKey(r.replicaRegion(), props, replyTo))
        .thenApply(replica -> {
          ObjectNode out = Json.MAPPER.createObjectNode();
          out.set("ReplicaKeyMetadata", KeyMetadataJson.of(replica, settings));
          out.put("ReplicaPolicy", policy);
          out.set("ReplicaTags", KeyMetadataJson.tags(tags));
          return out;
        });
  }

  private CompletionStage<JsonNode> updatePrimaryRegion(ApiRequest request) {
    Requests.UpdatePrimaryRegion r = Json.read(request.body(), Requests.UpdatePrimaryRegion.class);
    String keyId = resolveKeyId(r.keyId());
    Validate.region(r.primaryRegion(), "primaryRegion");
    String target = r.primaryRegion();
    return key(keyId)
        .thenCompose(k -> k.isPrimary() && k.keyState() == KeyState.Enabled
                && k.multiRegion().replicaRegions().contains(target)
            ? checkNewPrimary(keyId, target, request.requestId())
            : CompletableFuture.completedFuture(null))
        .thenCompose(ignored -> askKey(keyId, replyTo -> new KeyEntity.UpdatePrimaryRegion(target, replyTo)))
        .thenApply(k -> null);
  }

  /**
   * AWS requires the new primary's replica to be Enabled when the call is made. Ask its Region;
   * when it is unreachable the handover starts anyway and waits for it (DESIGN.md).
   */
  private CompletionStage<Void> checkNewPrimary(String keyId, String target, String requestId) {
    ObjectNode describe = Json.MAPPER.createObjectNode().put("KeyId", keyId);
    ApiRequest forwarded = new ApiRequest("DescribeKey", Json.bytes(describe), requestId);
    CompletionStage<ApiResponse> answer = AskPattern.ask(directory,
        replyTo -> new RegionDirectory.ForwardApiRequest(target, forwarded, replyTo),
        settings.forwardTimeout(), system.scheduler());
    String targetArn = settings.keyArn(target, keyId);
    return answer.handle((resp, failure) -> {
      if (failure != null || resp.status() >= 500) return null;
      JsonNode json = readTree(resp.body());
      if (resp.status() != 200) {
        if ("NotFoundException".equals(json.path("__type").asText())) {
          throw new KmsException(KmsError.invalidState(targetArn + " " + KeyState.Creating.phrase()));
        }
        return null;
      }
      String state = json.path("KeyMetadata").path("KeyState").asText();
      if (state.equals(KeyState.Enabled.name())) return null;
      if (state.equals(KeyState.Disabled.name())) throw new KmsException(KmsError.disabled(targetArn));
      KeyState s = KeyState.valueOf(state);
      throw new KmsException(KmsError.invalidState(targetArn + " " + s.phrase()));
    });
  }

  // ---------------------------------------------------------------- cryptography

  private CompletionStage<JsonNode> encrypt(byte[] body) {
    Requests.Encrypt r = Json.read(body, Requests.Encrypt.class);
    String keyId = resolveKeyId(r.keyId());
    Validate.required(r.plaintext(), "plaintext");
    Validate.blobLength(r.plaintext(), "plaintext", 1, 4096);
    Validate.encryptionContext(r.encryptionContext(), "encryptionContext");
    Validate.grantTokens(r.grantTokens());
    validateEncryptionAlgorithm(r.encryptionAlgorithm(), "encryptionAlgorithm");
    return key(keyId).thenApply(k -> {
      KeyMaterial material = symmetricMaterial(k, "Encrypt", r.encryptionAlgorithm());
      if (Boolean.TRUE.equals(r.dryRun())) throw dryRun();
      byte[] blob = SymmetricCiphertext.encrypt(k.keyId(), material.keyMaterialId(), material.secret(),
          r.plaintext(), context(r.encryptionContext()));
      ObjectNode out = Json.MAPPER.createObjectNode();
      out.put("CiphertextBlob", blob);
      out.put("KeyId", arn(k));
      out.put("EncryptionAlgorithm", "SYMMETRIC_DEFAULT");
      return out;
    });
  }

  private CompletionStage<JsonNode> decrypt(byte[] body) {
    Requests.Decrypt r = Json.read(body, Requests.Decrypt.class);
    Validate.required(r.ciphertextBlob(), "ciphertextBlob");
    Validate.blobLength(r.ciphertextBlob(), "ciphertextBlob", 1, 6144);
    Validate.encryptionContext(r.encryptionContext(), "encryptionContext");
    Validate.grantTokens(r.grantTokens());
    validateEncryptionAlgorithm(r.encryptionAlgorithm(), "encryptionAlgorithm");
    String requested = r.keyId() == null ? null : resolveKeyId(r.keyId());
    SymmetricCiphertext.Header header;
    try {
      header = SymmetricCiphertext.parse(r.ciphertextBlob());
    } catch (IllegalArgumentException e) {
      throw new KmsException(KmsError.invalidCiphertext());
    }
    if (requested != null && !requested.equals(header.keyId())) {
      throw new KmsException(KmsError.incorrectKey());
    }
    if (!KeyArns.isKeyId(header.keyId())) throw new KmsException(KmsError.invalidCiphertext());
    return key(header.keyId()).thenApply(k -> {
      symmetricMaterial(k, "Decrypt", r.encryptionAlgorithm());
      KeyMaterial material = k.shared().material(header.keyMaterialId());
      if (material == null) throw new KmsException(KmsError.invalidCiphertext());
      if (Boolean.TRUE.equals(r.dryRun())) throw dryRun();
      byte[] plaintext;
      try {
        plaintext = SymmetricCiphertext.decrypt(header, material.secret(), r.ciphertextBlob(),
            context(r.encryptionContext()));
      } catch (GeneralSecurityException e) {
        throw new KmsException(KmsError.invalidCiphertext());
      }
      ObjectNode out = Json.MAPPER.createObjectNode();
      out.put("KeyId", arn(k));
      out.put("Plaintext", plaintext);
      out.put("EncryptionAlgorithm", "SYMMETRIC_DEFAULT");
      out.put("KeyMaterialId", material.keyMaterialId());
      return out;
    });
  }

  private CompletionStage<JsonNode> generateDataKey(byte[] body, boolean withPlaintext) {
    Requests.GenerateDataKey r = Json.read(body, Requests.GenerateDataKey.class);
    String keyId = resolveKeyId(r.keyId());
    Validate.encryptionContext(r.encryptionContext(), "encryptionContext");
    Validate.range(r.numberOfBytes(), "numberOfBytes", 1, 1024);
    Validate.oneOf(r.keySpec(), "keySpec", List.of("AES_256", "AES_128"));
    Validate.grantTokens(r.grantTokens());
    if ((r.numberOfBytes() == null) == (r.keySpec() == null)) {
      throw new KmsException(KmsError.validation("Please specify either number of bytes or key spec."));
    }
    int size = r.numberOfBytes() != null ? r.numberOfBytes() : r.keySpec().equals("AES_128") ? 16 : 32;
    return key(keyId).thenApply(k -> {
      KeyMaterial material = symmetricMaterial(k,
          withPlaintext ? "GenerateDataKey" : "GenerateDataKeyWithoutPlaintext", null);
      if (Boolean.TRUE.equals(r.dryRun())) throw dryRun();
      byte[] dataKey = new byte[size];
      RANDOM.nextBytes(dataKey);
      byte[] blob = SymmetricCiphertext.encrypt(k.keyId(), material.keyMaterialId(), material.secret(),
          dataKey, context(r.encryptionContext()));
      ObjectNode out = Json.MAPPER.createObjectNode();
      out.put("CiphertextBlob", blob);
      if (withPlaintext) out.put("Plaintext", dataKey);
      out.put("KeyId", arn(k));
      out.put("KeyMaterialId", material.keyMaterialId());
      return out;
    });
  }

  /**
   * The checks every symmetric cryptographic operation shares: a symmetric ENCRYPT_DECRYPT key, in
   * a state that allows cryptography (kms-api.md §6, first row), with current material.
   */
  private KeyMaterial symmetricMaterial(Key k, String operation, String algorithm) {
    String arn = arn(k);
    SharedProperties shared = k.shared();
    if (shared.keyUsage() != KeyUsage.ENCRYPT_DECRYPT) {
      throw new KmsException(KmsError.invalidKeyUsage(
          arn + " key usage is " + shared.keyUsage() + " which is not valid for " + operation + "."));
    }
    if (!shared.keySpec().isSymmetricEncryption()) {
      if (algorithm == null || algorithm.equals("SYMMETRIC_DEFAULT")) {
        throw new KmsException(KmsError.invalidKeyUsage("Algorithm " + (algorithm == null ? "SYMMETRIC_DEFAULT" : algorithm)
            + " is incompatible with key spec " + shared.keySpec() + "."));
      }
      throw new KmsException(KmsError.unsupported(
          "kms-regions does not implement " + operation + " with " + shared.keySpec() + " keys yet."));
    }
    if (algorithm != null && !algorithm.equals("SYMMETRIC_DEFAULT")) {
      throw new KmsException(KmsError.invalidKeyUsage(
          "Algorithm " + algorithm + " is incompatible with key spec " + shared.keySpec() + "."));
    }
    KmsError stateError = cryptoStateError(k, arn);
    if (stateError != null) throw new KmsException(stateError);
    KeyMaterial current = shared.currentMaterial();
    if (current == null) throw new KmsException(KmsError.invalidState(arn + " " + KeyState.PendingImport.phrase()));
    return current;
  }

  /** Cryptographic operations work in Enabled and Updating only (kms-api.md §6). */
  private static KmsError cryptoStateError(Key k, String arn) {
    return switch (k.keyState()) {
      case Enabled, Updating -> null;
      case Disabled -> KmsError.disabled(arn);
      default -> KmsError.invalidState(arn + " " + k.keyState().phrase());
    };
  }

  private static void validateEncryptionAlgorithm(String algorithm, String field) {
    Validate.oneOf(algorithm, field,
        List.of("SYMMETRIC_DEFAULT", "RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256", "SM2PKE"));
  }

  // ---------------------------------------------------------------- helpers

  /**
   * A KeyId parameter as a bare key id of this Region (kms-api.md §2, "KeyId forms").
   *
   * @throws KmsException ValidationException when missing or too long; NotFoundException for a
   *     malformed id, an ARN of another Region or account, or an alias (aliases come later)
   */
  private String resolveKeyId(String keyId) {
    Validate.required(keyId, "keyId");
    Validate.length(keyId, "keyId", 1, 2048);
    if (keyId.startsWith("arn:")) {
      String[] parts = keyId.split(":", 6);
      if (parts.length != 6 || !parts[2].equals("kms") || !parts[5].contains("/")) {
        throw new KmsException(KmsError.notFound("Invalid arn " + keyId));
      }
      if (!parts[3].equals(settings.region())) {
        throw new KmsException(KmsError.notFound("Invalid arn " + parts[3]));
      }
      if (!parts[4].equals(settings.accountId()) || !parts[1].equals(settings.partition())) {
        throw new KmsException(KmsError.notFound("Invalid arn " + keyId));
      }
      if (parts[5].startsWith("alias/")) {
        throw new KmsException(KmsError.notFound("Alias " + keyId + " is not found."));
      }
      if (!parts[5].startsWith("key/") || !KeyArns.isKeyId(parts[5].substring(4))) {
        throw new KmsException(KmsError.notFound("Invalid arn " + keyId));
      }
      return parts[5].substring(4);
    }
    if (keyId.startsWith("alias/")) {
      throw new KmsException(KmsError.notFound("Alias arn:" + settings.partition() + ":kms:" + settings.region()
          + ":" + settings.accountId() + ":" + keyId + " is not found."));
    }
    if (!KeyArns.isKeyId(keyId)) throw new KmsException(KmsError.notFound("Invalid keyId '" + keyId + "'"));
    return keyId;
  }

  /** The key's newest state: from the cache, or from its actor (which then starts on this node). */
  private CompletionStage<Key> key(String keyId) {
    Key cached = cache.get(keyId);
    if (cached != null) return CompletableFuture.completedFuture(cached);
    return askKey(keyId, KeyEntity.GetKey::new);
  }

  private CompletionStage<Key> askKey(
      String keyId, Function<ActorRef<KeyEntity.KeyReply>, KeyEntity.Command> command) {
    CompletionStage<KeyEntity.KeyReply> reply = AskPattern.ask(keys,
        replyTo -> new KeyManager.Route(keyId, command.apply(replyTo)), settings.askTimeout(), system.scheduler());
    return reply.thenApply(r -> {
      if (r instanceof KeyEntity.KeyFound f) return f.key();
      throw new KmsException(((KeyEntity.KeyFailed) r).error());
    });
  }

  private String arn(Key k) {
    return settings.keyArn(settings.region(), k.keyId());
  }

  private static Map<String, String> context(Map<String, String> context) {
    return context == null ? Map.of() : context;
  }

  private static KmsException dryRun() {
    return new KmsException(new KmsError("DryRunOperationException", DRY_RUN_MESSAGE));
  }

  private static JsonNode readTree(byte[] body) {
    try {
      return Json.MAPPER.readTree(body);
    } catch (java.io.IOException e) {
      return Json.MAPPER.createObjectNode();
    }
  }

  private static String randomHex(int bytes) {
    byte[] b = new byte[bytes];
    RANDOM.nextBytes(b);
    return HEX.formatHex(b);
  }

  /** The default key policy of CreateKey and ReplicateKey (kms-api.md §4), in AWS's layout. */
  String defaultPolicy() {
    return "{\n"
        + "  \"Version\" : \"2012-10-17\",\n"
        + "  \"Id\" : \"key-default-1\",\n"
        + "  \"Statement\" : [ {\n"
        + "    \"Sid\" : \"Enable IAM User Permissions\",\n"
        + "    \"Effect\" : \"Allow\",\n"
        + "    \"Principal\" : {\n"
        + "      \"AWS\" : \"arn:" + settings.partition() + ":iam::" + settings.accountId() + ":root\"\n"
        + "    },\n"
        + "    \"Action\" : \"kms:*\",\n"
        + "    \"Resource\" : \"*\"\n"
        + "  } ]\n"
        + "}";
  }
}
