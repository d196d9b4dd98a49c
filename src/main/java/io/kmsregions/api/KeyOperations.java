package io.kmsregions.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.kmsregions.crypto.KeyMaterialGenerator;
import io.kmsregions.crypto.SymmetricCiphertext;
import io.kmsregions.key.KeyArns;
import io.kmsregions.key.CustomKeyStoreBinding;
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
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/** Creating, describing and listing keys (kms-api.md §2 "Key lifecycle", §3, §4). */
final class KeyOperations {
  private static final List<String> CUSTOMER_MASTER_KEY_SPECS = java.util.Arrays.stream(KeySpec.values())
      .filter(s -> s.customerMasterKeySpec().isPresent()).map(Enum::name).toList();

  private final ApiContext api;
  private final CustomKeyStoreKeys customKeyStores;

  KeyOperations(ApiContext api) {
    this.api = api;
    this.customKeyStores = new CustomKeyStoreKeys(api);
  }

  /** The operations of this group, by name. */
  Map<String, ApiContext.Operation> operations() {
    return Map.of(
        "CreateKey", r -> createKey(r.body(), r.caller()),
        "DescribeKey", r -> describeKey(r.body()),
        "ListKeys", r -> listKeys(r.body()));
  }

  private CompletionStage<JsonNode> createKey(byte[] body, io.kmsregions.security.auth.Caller caller) {
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
      if (origin != Origin.AWS_CLOUDHSM && origin != Origin.EXTERNAL_KEY_STORE) {
        throw new KmsException(KmsError.validation(
            "CustomKeyStoreId is valid only for keys with Origin AWS_CLOUDHSM or EXTERNAL_KEY_STORE."));
      }
    }
    String keyId = multiRegion ? "mrk-" + api.randomHex(16) : UUID.randomUUID().toString();
    long now = api.settings().clock().now();
    final KeySpec keySpec = spec;
    final KeyUsage keyUsage = usage;
    final Origin keyOrigin = origin;
    String policy = r.policy() != null ? r.policy() : api.defaultPolicy();
    if (r.policy() != null && !Boolean.TRUE.equals(r.bypassPolicyLockoutSafetyCheck())) {
      PolicyLockoutCheck.require(r.policy(), api, caller, api.settings().keyArn(api.settings().region(), keyId));
    }
    String description = r.description() != null ? r.description() : "";
    CompletionStage<CustomKeyStoreBinding> binding = customStore
        ? customKeyStores.admit(r.customKeyStoreId(), origin, keySpec, keyUsage, r.xksKeyId(), keyId, caller)
        : CompletableFuture.completedFuture(null);
    CompletionStage<List<KeyMaterial>> materials = origin == Origin.EXTERNAL
        ? CompletableFuture.completedFuture(List.of())
        : CompletableFuture.supplyAsync(() -> {
            KeyMaterialGenerator.GeneratedMaterial g = KeyMaterialGenerator.generate(keySpec);
            return List.of(new KeyMaterial(SymmetricCiphertext.newKeyMaterialId(), g.secret(), g.publicKey(), now, keyId));
          }, api.blocking());
    return binding.thenCompose(inStore -> materials.thenCompose(m -> {
      Key initial = new Key(keyId, api.settings().region(), now, description, policy, tags,
          keyOrigin == Origin.EXTERNAL ? KeyState.PendingImport : KeyState.Enabled,
          new SharedProperties(1, keySpec, keyUsage, keyOrigin, m),
          multiRegion ? MultiRegionConfiguration.initial(api.settings().region()) : null,
          List.of(), 0).inCustomKeyStore(inStore);
      CompletionStage<Key> created = api.askKey(keyId, replyTo -> new KeyEntity.CreateKey(initial, replyTo));
      // A key admitted to a store but not created leaves the store again: no half-created key.
      return inStore == null ? created : created.whenComplete((k, failure) -> {
        if (failure != null) customKeyStores.release(keyId);
      });
    })).thenApply(k -> {
      ObjectNode out = Json.MAPPER.createObjectNode();
      out.set("KeyMetadata", KeyMetadataJson.of(k, api.settings()));
      return out;
    });
  }

  private CompletionStage<JsonNode> describeKey(byte[] body) {
    Requests.DescribeKey r = Json.read(body, Requests.DescribeKey.class);
    String keyId = api.resolveKeyId(r.keyId());
    Validate.grantTokens(r.grantTokens());
    // From the key cache, as Encrypt reads it (the actor publishes before it replies to a change),
    // else from the actor: no mailbox round trip and no ask timer for a key in use.
    return api.key(keyId).thenApply(k -> {
      ObjectNode out = Json.MAPPER.createObjectNode();
      out.set("KeyMetadata", KeyMetadataJson.of(k, api.settings()));
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
    CompletionStage<KeyManager.KeyPage> page = ApiContext.ask(api.keys(),
        replyTo -> new KeyManager.ListKeys(r.marker(), limit, replyTo), api.settings().askTimeout(), api.system().scheduler());
    return page.thenApply(p -> {
      ObjectNode out = Json.MAPPER.createObjectNode();
      ArrayNode list = out.putArray("Keys");
      for (String id : p.keyIds()) {
        ObjectNode e = list.addObject();
        e.put("KeyId", id);
        e.put("KeyArn", api.settings().keyArn(api.settings().region(), id));
      }
      out.put("Truncated", p.truncated());
      if (p.truncated()) out.put("NextMarker", p.keyIds().get(p.keyIds().size() - 1));
      return out;
    });
  }

}
