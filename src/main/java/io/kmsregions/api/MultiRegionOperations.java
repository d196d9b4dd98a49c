package io.kmsregions.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.kmsregions.key.Delivery;
import io.kmsregions.key.KeyEntity;
import io.kmsregions.key.KeyState;
import io.kmsregions.key.KmsError;
import io.kmsregions.key.Tag;
import io.kmsregions.region.RegionDirectory;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/** ReplicateKey and UpdatePrimaryRegion (kms-api.md §5, DESIGN.md). */
final class MultiRegionOperations {
  private final ApiContext api;

  MultiRegionOperations(ApiContext api) {
    this.api = api;
  }

  /** The operations of this group, by name. */
  Map<String, ApiContext.Operation> operations() {
    return Map.of(
        "ReplicateKey", this::replicateKey,
        "UpdatePrimaryRegion", this::updatePrimaryRegion);
  }

  private CompletionStage<JsonNode> replicateKey(ApiRequest request) {
    Requests.ReplicateKey r = Json.read(request.body(), Requests.ReplicateKey.class);
    String keyId = api.resolveKeyIdNoAlias(r.keyId());
    Validate.region(r.replicaRegion(), "replicaRegion");
    Validate.length(r.description(), "description", 0, 8192);
    Validate.policy(r.policy());
    List<Tag> tags = Validate.tags(r.tags());
    String policy = r.policy() != null ? r.policy() : api.defaultPolicy();
    if (r.policy() != null && !Boolean.TRUE.equals(r.bypassPolicyLockoutSafetyCheck())) {
      // The replica's own policy must still let the caller put policies on the replica (its ARN
      // in the replica Region), as for CreateKey and PutKeyPolicy (kms-api.md §4).
      PolicyLockoutCheck.require(r.policy(), api, request.caller(), api.settings().keyArn(r.replicaRegion(), keyId));
    }
    Delivery.ReplicaProperties props = new Delivery.ReplicaProperties(
        r.description() != null ? r.description() : "", policy, tags, api.settings().clock().now());
    return api.askKey(keyId, replyTo -> new KeyEntity.ReplicateKey(r.replicaRegion(), props, replyTo))
        .thenApply(replica -> {
          ObjectNode out = Json.MAPPER.createObjectNode();
          out.set("ReplicaKeyMetadata", KeyMetadataJson.of(replica, api.settings()));
          out.put("ReplicaPolicy", policy);
          out.set("ReplicaTags", KeyMetadataJson.tags(tags));
          return out;
        });
  }

  private CompletionStage<JsonNode> updatePrimaryRegion(ApiRequest request) {
    Requests.UpdatePrimaryRegion r = Json.read(request.body(), Requests.UpdatePrimaryRegion.class);
    String keyId = api.resolveKeyIdNoAlias(r.keyId());
    Validate.region(r.primaryRegion(), "primaryRegion");
    String target = r.primaryRegion();
    return api.key(keyId)
        .thenCompose(k -> k.isPrimary() && k.keyState() == KeyState.Enabled
                && k.multiRegion().replicaRegions().contains(target)
            ? checkNewPrimary(keyId, target, request.requestId())
            : CompletableFuture.completedFuture(null))
        .thenCompose(ignored -> api.askKey(keyId, replyTo -> new KeyEntity.UpdatePrimaryRegion(target, replyTo)))
        .thenApply(k -> null);
  }

  /**
   * AWS requires the new primary's replica to be Enabled when the call is made. Ask its Region;
   * when it is unreachable the handover starts anyway and waits for it (DESIGN.md).
   */
  private CompletionStage<Void> checkNewPrimary(String keyId, String target, String requestId) {
    ObjectNode describe = Json.MAPPER.createObjectNode().put("KeyId", keyId);
    ApiRequest forwarded = new ApiRequest("DescribeKey", Json.bytes(describe), requestId);
    CompletionStage<ApiResponse> answer = ApiContext.ask(api.directory(),
        replyTo -> new RegionDirectory.ForwardApiRequest(target, forwarded, replyTo),
        api.settings().forwardTimeout(), api.system().scheduler());
    String targetArn = api.settings().keyArn(target, keyId);
    return answer.handle((resp, failure) -> {
      if (failure != null || resp.status() >= 500) return null;
      JsonNode json = api.readTree(resp.body());
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

}
