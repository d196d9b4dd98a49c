package io.kmsregions.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.kmsregions.key.KeyEntity;
import io.kmsregions.key.KeyEntity.Key;
import io.kmsregions.key.KeyState;
import io.kmsregions.key.KmsError;
import io.kmsregions.key.SharedProperties;
import io.kmsregions.key.Tag;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;

/**
 * Managing a key once it exists (kms-api.md §2 "Key lifecycle", "Tags", "Key policy",
 * "Rotation"): enabling, describing, tagging, its policy, deletion and rotation. The key actor is
 * the authority on the key-state table (§6); this class validates shapes and shapes answers.
 */
final class KeyManagementOperations {
  private static final List<String> INCLUDE_KEY_MATERIAL = List.of("ROTATIONS_ONLY", "ALL_KEY_MATERIAL");

  private final ApiContext api;

  KeyManagementOperations(ApiContext api) {
    this.api = api;
  }

  /** The operations of this group, by name. */
  Map<String, ApiContext.Operation> operations() {
    return Map.ofEntries(
        Map.entry("EnableKey", r -> noBody(change(r.body(), KeyEntity.EnableKey::new))),
        Map.entry("DisableKey", r -> noBody(change(r.body(), KeyEntity.DisableKey::new))),
        Map.entry("UpdateKeyDescription", r -> updateKeyDescription(r.body())),
        Map.entry("TagResource", r -> tagResource(r.body())),
        Map.entry("UntagResource", r -> untagResource(r.body())),
        Map.entry("ListResourceTags", r -> listResourceTags(r.body())),
        Map.entry("GetKeyPolicy", r -> getKeyPolicy(r.body())),
        Map.entry("PutKeyPolicy", r -> putKeyPolicy(r.body(), r.caller())),
        Map.entry("ListKeyPolicies", r -> listKeyPolicies(r.body())),
        Map.entry("ScheduleKeyDeletion", r -> scheduleKeyDeletion(r.body())),
        Map.entry("CancelKeyDeletion", r -> cancelKeyDeletion(r.body())),
        Map.entry("EnableKeyRotation", r -> enableKeyRotation(r.body())),
        Map.entry("DisableKeyRotation", r -> noBody(change(r.body(), KeyEntity.DisableKeyRotation::new))),
        Map.entry("GetKeyRotationStatus", r -> getKeyRotationStatus(r.body())),
        Map.entry("RotateKeyOnDemand", r -> rotateKeyOnDemand(r.body())),
        Map.entry("ListKeyRotations", r -> listKeyRotations(r.body())),
        Map.entry("GetKeyLastUsage", r -> getKeyLastUsage(r.body())));
  }

  /** A request whose only field is the KeyId (key id or key ARN), answered by the key actor. */
  private CompletionStage<Key> change(
      byte[] body, java.util.function.Function<org.apache.pekko.actor.typed.ActorRef<KeyEntity.KeyReply>, KeyEntity.Command> command) {
    ManagementRequests.KeyOnly r = Json.read(body, ManagementRequests.KeyOnly.class);
    String keyId = api.resolveKeyIdNoAlias(r.keyId());
    return api.askKey(keyId, command);
  }

  private static CompletionStage<JsonNode> noBody(CompletionStage<Key> done) {
    return done.thenApply(k -> null);
  }

  private CompletionStage<JsonNode> updateKeyDescription(byte[] body) {
    ManagementRequests.UpdateKeyDescription r = Json.read(body, ManagementRequests.UpdateKeyDescription.class);
    String keyId = api.resolveKeyIdNoAlias(r.keyId());
    Validate.required(r.description(), "description");
    Validate.length(r.description(), "description", 0, 8192);
    return noBody(api.askKey(keyId, replyTo -> new KeyEntity.UpdateKeyDescription(r.description(), replyTo)));
  }

  // ---- tags

  private CompletionStage<JsonNode> tagResource(byte[] body) {
    ManagementRequests.TagResource r = Json.read(body, ManagementRequests.TagResource.class);
    String keyId = api.resolveKeyIdNoAlias(r.keyId());
    Validate.required(r.tags(), "tags");
    List<Tag> tags = Validate.tags(r.tags());
    return noBody(api.askKey(keyId, replyTo -> new KeyEntity.TagResource(tags, replyTo)));
  }

  private CompletionStage<JsonNode> untagResource(byte[] body) {
    ManagementRequests.UntagResource r = Json.read(body, ManagementRequests.UntagResource.class);
    String keyId = api.resolveKeyIdNoAlias(r.keyId());
    Validate.required(r.tagKeys(), "tagKeys");
    for (int i = 0; i < r.tagKeys().size(); i++) {
      Validate.required(r.tagKeys().get(i), "tagKeys." + (i + 1) + ".member");
      Validate.length(r.tagKeys().get(i), "tagKeys." + (i + 1) + ".member", 1, 128);
    }
    return noBody(api.askKey(keyId, replyTo -> new KeyEntity.UntagResource(r.tagKeys(), replyTo)));
  }

  private CompletionStage<JsonNode> listResourceTags(byte[] body) {
    ManagementRequests.ListResourceTags r = Json.read(body, ManagementRequests.ListResourceTags.class);
    String keyId = api.resolveKeyIdNoAlias(r.keyId());
    Validate.range(r.limit(), "limit", 1, 50);
    int from = Pages.start(r.marker());
    int limit = r.limit() == null ? 50 : r.limit();
    return api.key(keyId).thenApply(k -> {
      List<Tag> tags = k.tags();
      Pages.check(from, tags.size());
      ObjectNode out = Json.MAPPER.createObjectNode();
      List<Tag> page = tags.subList(from, Math.min(tags.size(), from + limit));
      out.set("Tags", KeyMetadataJson.tags(page));
      Pages.finish(out, from + page.size(), tags.size());
      return out;
    });
  }

  // ---- policy

  private CompletionStage<JsonNode> getKeyPolicy(byte[] body) {
    ManagementRequests.GetKeyPolicy r = Json.read(body, ManagementRequests.GetKeyPolicy.class);
    String keyId = api.resolveKeyIdNoAlias(r.keyId());
    requireDefaultPolicyName(r.policyName());
    return api.key(keyId).thenApply(k -> {
      ObjectNode out = Json.MAPPER.createObjectNode();
      out.put("Policy", k.policy());
      out.put("PolicyName", "default");
      return out;
    });
  }

  private CompletionStage<JsonNode> putKeyPolicy(byte[] body, io.kmsregions.security.auth.Caller caller) {
    ManagementRequests.PutKeyPolicy r = Json.read(body, ManagementRequests.PutKeyPolicy.class);
    String keyId = api.resolveKeyIdNoAlias(r.keyId());
    requireDefaultPolicyName(r.policyName());
    Validate.required(r.policy(), "policy");
    Validate.policy(r.policy());
    if (!Boolean.TRUE.equals(r.bypassPolicyLockoutSafetyCheck())) {
      PolicyLockoutCheck.require(r.policy(), api, caller, api.settings().keyArn(api.settings().region(), keyId));
    }
    return noBody(api.askKey(keyId, replyTo -> new KeyEntity.PutKeyPolicy(r.policy(), replyTo)));
  }

  private CompletionStage<JsonNode> listKeyPolicies(byte[] body) {
    ManagementRequests.ListKeyPolicies r = Json.read(body, ManagementRequests.ListKeyPolicies.class);
    String keyId = api.resolveKeyIdNoAlias(r.keyId());
    Validate.range(r.limit(), "limit", 1, 1000);
    int from = Pages.start(r.marker());
    return api.key(keyId).thenApply(k -> {
      Pages.check(from, 1);
      ObjectNode out = Json.MAPPER.createObjectNode();
      ArrayNode names = out.putArray("PolicyNames");
      if (from == 0) names.add("default");
      out.put("Truncated", false);
      return out;
    });
  }

  private static void requireDefaultPolicyName(String name) {
    if (name == null) return;
    Validate.length(name, "policyName", 1, 128);
    if (!name.equals("default")) {
      throw new KmsException(KmsError.notFound("No such policy exists: " + name + ". The only valid policy name is default."));
    }
  }

  // ---- last usage

  private CompletionStage<JsonNode> getKeyLastUsage(byte[] body) {
    ManagementRequests.KeyOnly r = Json.read(body, ManagementRequests.KeyOnly.class);
    String keyId = api.resolveKeyIdNoAlias(r.keyId());
    return api.key(keyId).thenApply(k -> {
      ObjectNode out = Json.MAPPER.createObjectNode();
      out.put("KeyId", api.arn(k));
      ObjectNode last = out.putObject("KeyLastUsage");
      io.kmsregions.key.KeyUsageTracker.LastUsage used = api.usage().lastUsage(keyId);
      if (used != null) {
        last.put("Operation", used.operation());
        last.put("Timestamp", KeyMetadataJson.epochSeconds(used.timestamp()));
        last.put("KmsRequestId", used.requestId());
      }
      out.put("TrackingStartDate", KeyMetadataJson.epochSeconds(
          Math.max(api.usage().trackingStartDate(), k.creationDate())));
      out.put("KeyCreationDate", KeyMetadataJson.epochSeconds(k.creationDate()));
      return out;
    });
  }

  // ---- deletion

  private CompletionStage<JsonNode> scheduleKeyDeletion(byte[] body) {
    ManagementRequests.ScheduleKeyDeletion r = Json.read(body, ManagementRequests.ScheduleKeyDeletion.class);
    String keyId = api.resolveKeyIdNoAlias(r.keyId());
    Validate.range(r.pendingWindowInDays(), "pendingWindowInDays", 1, 365);
    int days = r.pendingWindowInDays() == null ? 30 : r.pendingWindowInDays();
    if (days < 7 || days > 30) {
      // The model allows 1..365; the service enforces 7..30 (kms-api.md §2).
      throw new KmsException(KmsError.validation(
          "PendingWindowInDays must be between 7 and 30 days, not " + days + "."));
    }
    return api.askKey(keyId, replyTo -> new KeyEntity.ScheduleKeyDeletion(days, replyTo)).thenApply(k -> {
      ObjectNode out = Json.MAPPER.createObjectNode();
      out.put("KeyId", api.arn(k));
      if (k.keyState() == KeyState.PendingDeletion) {
        out.put("DeletionDate", KeyMetadataJson.epochSeconds(k.deletionDate()));
      }
      out.put("KeyState", k.keyState().name());
      out.put("PendingWindowInDays", k.pendingWindowInDays());
      return out;
    });
  }

  private CompletionStage<JsonNode> cancelKeyDeletion(byte[] body) {
    return change(body, KeyEntity.CancelKeyDeletion::new).thenApply(k -> {
      ObjectNode out = Json.MAPPER.createObjectNode();
      out.put("KeyId", api.arn(k));
      return out;
    });
  }

  // ---- rotation (shared properties: changed on the primary, synchronised to replicas)

  private CompletionStage<JsonNode> enableKeyRotation(byte[] body) {
    ManagementRequests.EnableKeyRotation r = Json.read(body, ManagementRequests.EnableKeyRotation.class);
    String keyId = api.resolveKeyIdNoAlias(r.keyId());
    Validate.range(r.rotationPeriodInDays(), "rotationPeriodInDays", 90, 2560);
    int days = r.rotationPeriodInDays() == null ? 365 : r.rotationPeriodInDays();
    return noBody(api.askKey(keyId, replyTo -> new KeyEntity.EnableKeyRotation(days, replyTo)));
  }

  private CompletionStage<JsonNode> getKeyRotationStatus(byte[] body) {
    ManagementRequests.KeyOnly r = Json.read(body, ManagementRequests.KeyOnly.class);
    String keyId = api.resolveKeyIdNoAlias(r.keyId());
    return api.key(keyId).thenApply(k -> {
      KmsError e = KeyEntity.rotationStatusError(k, api.arn(k));
      if (e != null) throw new KmsException(e);
      SharedProperties s = k.shared();
      ObjectNode out = Json.MAPPER.createObjectNode();
      out.put("KeyRotationEnabled", s.rotationEnabled());
      out.put("KeyId", api.arn(k));
      if (s.rotationEnabled()) {
        out.put("RotationPeriodInDays", s.rotationPeriodInDays());
        out.put("NextRotationDate", KeyMetadataJson.epochSeconds(s.nextRotationDate()));
      }
      k.pendingRotations().stream().filter(p -> p.rotationType().equals("ON_DEMAND")).findFirst()
          .ifPresent(p -> out.put("OnDemandRotationStartDate", KeyMetadataJson.epochSeconds(p.startDate())));
      return out;
    });
  }

  private CompletionStage<JsonNode> rotateKeyOnDemand(byte[] body) {
    return change(body, KeyEntity.RotateKeyOnDemand::new).thenApply(k -> {
      ObjectNode out = Json.MAPPER.createObjectNode();
      out.put("KeyId", api.arn(k));
      return out;
    });
  }

  private CompletionStage<JsonNode> listKeyRotations(byte[] body) {
    ManagementRequests.ListKeyRotations r = Json.read(body, ManagementRequests.ListKeyRotations.class);
    String keyId = api.resolveKeyIdNoAlias(r.keyId());
    Validate.range(r.limit(), "limit", 1, 1000);
    Validate.oneOf(r.includeKeyMaterial(), "includeKeyMaterial", INCLUDE_KEY_MATERIAL);
    boolean all = "ALL_KEY_MATERIAL".equals(r.includeKeyMaterial());
    int from = Pages.start(r.marker());
    int limit = r.limit() == null ? 100 : r.limit();
    return api.key(keyId).thenApply(k -> {
      if (!k.shared().keySpec().isSymmetricEncryption()) {
        throw new KmsException(KmsError.unsupported(
            api.arn(k) + " has key spec " + k.shared().keySpec() + ", which does not support rotation."));
      }
      List<SharedProperties.Rotation> rows = all ? k.shared().allMaterialRows() : k.shared().rotations();
      if (all) rows = ImportOperations.withPendingMaterial(k, rows);
      Pages.check(from, rows.size());
      ObjectNode out = Json.MAPPER.createObjectNode();
      ArrayNode list = out.putArray("Rotations");
      List<SharedProperties.Rotation> page = rows.subList(from, Math.min(rows.size(), from + limit));
      for (SharedProperties.Rotation rot : page) {
        ObjectNode e = list.addObject();
        e.put("KeyId", api.arn(k));
        e.put("KeyMaterialId", rot.keyMaterialId());
        e.put("KeyMaterialState", ImportOperations.keyMaterialState(k, rot.keyMaterialId()));
        ImportOperations.describeImport(k, rot.keyMaterialId(), e);
        if (rot.rotationType() != null) {
          e.put("RotationDate", KeyMetadataJson.epochSeconds(rot.rotationDate()));
          e.put("RotationType", rot.rotationType());
        }
      }
      Pages.finish(out, from + page.size(), rows.size());
      return out;
    });
  }
}
