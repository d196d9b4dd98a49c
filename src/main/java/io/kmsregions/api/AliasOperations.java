package io.kmsregions.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.kmsregions.alias.AliasCache;
import io.kmsregions.alias.AliasManager;
import io.kmsregions.key.KeyEntity.Key;
import io.kmsregions.key.KeySpec;
import io.kmsregions.key.KeyState;
import io.kmsregions.key.KmsError;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import java.util.regex.Pattern;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * CreateAlias, UpdateAlias, DeleteAlias and ListAliases (kms-api.md §2 "Aliases", §6, §8).
 *
 * <p>Aliases are per Region and never replicated. Checks run in the order AWS most plausibly uses
 * (Coral validates shapes before the service runs): the shape of every field (Coral
 * ValidationException), then the alias name's rules, then the target key (it must
 * exist in this Region and, for Create and the new target of Update, not be pending deletion;
 * Update's new target must be of the same type and key usage as the current one), then what only
 * the {@link AliasManager} can decide atomically (the name is free, the key has fewer than 50
 * aliases). Reads (resolution, ListAliases) use the {@link AliasCache}.
 */
final class AliasOperations {
  static final Pattern ALIAS_NAME = Pattern.compile("^[a-zA-Z0-9:/_-]+$");
  private static final Pattern MARKER = Pattern.compile("[\\u0020-\\u00FF]*");
  static final String PREFIX_MESSAGE = "Alias must start with the prefix \"alias/\". Please see "
      + "https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html";
  /** ListAliases returns at most this many entries whatever Limit says (AWS documents 1..100). */
  private static final int MAX_PAGE = 100;
  private static final int DEFAULT_PAGE = 50;
  /** How often UpdateAlias re-checks when the alias moved under it between its check and its write. */
  private static final int UPDATE_ATTEMPTS = 3;

  private final ApiContext api;
  private final ActorRef<AliasManager.Command> manager;

  AliasOperations(ApiContext api, ActorRef<AliasManager.Command> manager) {
    this.api = api;
    this.manager = manager;
  }

  /** The operations of this group, by name. */
  Map<String, ApiContext.Operation> operations() {
    return Map.of(
        "CreateAlias", r -> createAlias(r.body()),
        "UpdateAlias", r -> updateAlias(r.body()),
        "DeleteAlias", r -> deleteAlias(r.body()),
        "ListAliases", r -> listAliases(r.body()));
  }

  private CompletionStage<JsonNode> createAlias(byte[] body) {
    AliasRequests.CreateAlias r = Json.read(body, AliasRequests.CreateAlias.class);
    validateAliasNameShape(r.aliasName());
    validateTargetShape(r.targetKeyId());
    String name = r.aliasName();
    requireWritableName(name);
    String keyId = targetKeyId(r.targetKeyId());
    return api.key(keyId)
        .thenCompose(k -> {
          requireNotPendingDeletion(k);
          return ask(replyTo -> new AliasManager.CreateAlias(name, keyId, now(), replyTo));
        })
        .thenApply(reply -> null);
  }

  private CompletionStage<JsonNode> updateAlias(byte[] body) {
    AliasRequests.UpdateAlias r = Json.read(body, AliasRequests.UpdateAlias.class);
    validateAliasNameShape(r.aliasName());
    validateTargetShape(r.targetKeyId());
    String name = r.aliasName();
    requireWritableName(name);
    String keyId = targetKeyId(r.targetKeyId());
    return update(name, keyId, 1).thenApply(reply -> null);
  }

  /**
   * One attempt of UpdateAlias: the alias must exist; the new target must exist, not be pending
   * deletion (kms-api.md §6 note 10: the current target may be), and be of the current target's
   * type and key usage. The manager writes only if the alias still points where this attempt
   * looked; otherwise the attempt is repeated with the newer target.
   */
  private CompletionStage<AliasManager.Reply> update(String name, String keyId, int attempt) {
    AliasManager.Alias current = api.aliases().get(name);
    if (current == null) throw new KmsException(aliasNotFound(name));
    return api.key(keyId)
        .thenCompose(newTarget -> {
          requireNotPendingDeletion(newTarget);
          return existingKey(current.targetKeyId()).thenCompose(oldTarget -> {
            if (oldTarget != null) requireSameType(name, oldTarget, newTarget);
            return ask(replyTo -> new AliasManager.UpdateAlias(
                name, keyId, current.targetKeyId(), now(), replyTo));
          });
        })
        .thenCompose(reply -> {
          if (!(reply instanceof AliasManager.Moved moved)) return CompletableFuture.completedFuture(reply);
          if (attempt >= UPDATE_ATTEMPTS) {
            throw new IllegalStateException("alias " + name + " kept moving during UpdateAlias");
          }
          return update(name, keyId, attempt + 1);
        });
  }

  private CompletionStage<JsonNode> deleteAlias(byte[] body) {
    AliasRequests.DeleteAlias r = Json.read(body, AliasRequests.DeleteAlias.class);
    validateAliasNameShape(r.aliasName());
    requirePrefix(r.aliasName());
    requireNotReserved(r.aliasName());
    return ask(replyTo -> new AliasManager.DeleteAlias(r.aliasName(), replyTo)).thenApply(reply -> null);
  }

  private CompletionStage<JsonNode> listAliases(byte[] body) {
    AliasRequests.ListAliases r = Json.read(body, AliasRequests.ListAliases.class);
    Validate.length(r.keyId(), "keyId", 1, 2048);
    Validate.range(r.limit(), "limit", 1, 1000);
    validateMarker(r.marker());
    // Markers are the last alias name of the previous page: anything else was not ours.
    if (r.marker() != null && (!r.marker().startsWith("alias/") || !ALIAS_NAME.matcher(r.marker()).matches())) {
      throw new KmsException(new KmsError("InvalidMarkerException", "Invalid marker: " + r.marker()));
    }
    int limit = Math.min(r.limit() == null ? DEFAULT_PAGE : r.limit(), MAX_PAGE);
    CompletionStage<String> keyFilter = r.keyId() == null
        ? CompletableFuture.completedFuture(null)
        : api.key(api.resolveKeyIdNoAlias(r.keyId())).thenApply(Key::keyId); // the key must exist
    return keyFilter.thenApply(keyId -> {
      var rest = r.marker() == null ? api.aliases().all() : api.aliases().all().tailMap(r.marker(), false);
      ObjectNode out = Json.MAPPER.createObjectNode();
      ArrayNode list = out.putArray("Aliases");
      String last = null;
      boolean truncated = false;
      for (AliasManager.Alias a : rest.values()) {
        if (keyId != null && !keyId.equals(a.targetKeyId())) continue;
        if (list.size() == limit) {
          truncated = true;
          break;
        }
        ObjectNode e = list.addObject();
        e.put("AliasName", a.aliasName());
        e.put("AliasArn", AliasCache.aliasArn(api.settings(), a.aliasName()));
        e.put("TargetKeyId", a.targetKeyId());
        e.put("CreationDate", KeyMetadataJson.epochSeconds(a.creationDate()));
        e.put("LastUpdatedDate", KeyMetadataJson.epochSeconds(a.lastUpdatedDate()));
        last = a.aliasName();
      }
      out.put("Truncated", truncated);
      if (truncated) out.put("NextMarker", last);
      return out;
    });
  }

  // ---------------------------------------------------------------- rules

  /** AliasName's model constraints (Coral ValidationException). */
  static void validateAliasNameShape(String aliasName) {
    Validate.required(aliasName, "aliasName");
    Validate.length(aliasName, "aliasName", 1, 256);
    if (!ALIAS_NAME.matcher(aliasName).matches()) {
      throw new KmsException(KmsError.constraint(aliasName, "aliasName",
          "Member must satisfy regular expression pattern: ^[a-zA-Z0-9:/_-]+$"));
    }
  }

  private static void validateTargetShape(String targetKeyId) {
    Validate.required(targetKeyId, "targetKeyId");
    Validate.length(targetKeyId, "targetKeyId", 1, 2048);
  }

  private static void validateMarker(String marker) {
    Validate.length(marker, "marker", 1, 1024);
    if (marker != null && !MARKER.matcher(marker).matches()) {
      throw new KmsException(KmsError.constraint(marker, "marker",
          "Member must satisfy regular expression pattern: [\\u0020-\\u00FF]*"));
    }
  }

  /** The service's rules for a name that CreateAlias or UpdateAlias writes. */
  private static void requireWritableName(String name) {
    requirePrefix(name);
    requireNotReserved(name);
    if (name.contains(":")) {
      // The model's pattern allows ':', the service does not (wording as moto records it).
      throw new KmsException(KmsError.validation(name + " contains invalid characters for an alias"));
    }
    if (name.length() == "alias/".length()) {
      // [?] AWS's answer for a bare prefix is not recorded; the model's InvalidAliasNameException fits.
      throw new KmsException(new KmsError("InvalidAliasNameException", "Alias name " + name + " is not valid."));
    }
  }

  private static void requirePrefix(String name) {
    if (!name.startsWith("alias/")) throw new KmsException(KmsError.validation(PREFIX_MESSAGE));
  }

  /**
   * {@code alias/aws/} names belong to AWS managed keys, which a customer can neither create nor
   * change (kms-api.md §2). AWS's error type is unverified (kms-api.md §9); we answer as moto does,
   * with a NotAuthorizedException without message: AWS refuses it as an authorization failure
   * (no caller may act on an AWS managed alias), not as a malformed name, so the model's
   * InvalidAliasNameException is the less plausible choice.
   */
  private static void requireNotReserved(String name) {
    if (name.startsWith("alias/aws/")) throw new KmsException(new KmsError("NotAuthorizedException", null));
  }

  /**
   * TargetKeyId takes a key id or key ARN only. An alias there is refused as moto records AWS
   * doing: ValidationException {@code Aliases must refer to keys. Not aliases}.
   */
  private String targetKeyId(String target) {
    String[] arn = target.split(":", 6);
    boolean alias = target.startsWith("alias/")
        || (target.startsWith("arn:") && arn.length == 6 && arn[5].startsWith("alias/"));
    if (alias) throw new KmsException(KmsError.validation("Aliases must refer to keys. Not aliases"));
    return api.resolveKeyIdNoAlias(target);
  }

  private void requireNotPendingDeletion(Key k) {
    if (k.keyState() == KeyState.PendingDeletion || k.keyState() == KeyState.PendingReplicaDeletion) {
      throw new KmsException(KmsError.invalidState(api.arn(k) + " " + k.keyState().phrase()));
    }
  }

  /**
   * UpdateAlias's rule: the new target is of the same type (symmetric encryption, asymmetric or
   * HMAC) and has the same key usage as the current one. The wording is ours: AWS's is not recorded.
   */
  private void requireSameType(String name, Key current, Key next) {
    String currentType = keyType(current);
    String nextType = keyType(next);
    if (!currentType.equals(nextType) || current.shared().keyUsage() != next.shared().keyUsage()) {
      throw new KmsException(KmsError.validation("The new target key " + api.arn(next) + " of " + name
          + " is " + describe(nextType, next) + ", but its current target key " + api.arn(current) + " is "
          + describe(currentType, current) + ". An alias can only move to a key of the same type"
          + " (symmetric, asymmetric or HMAC) and key usage."));
    }
  }

  private static String keyType(Key k) {
    KeySpec spec = k.shared().keySpec();
    if (spec.isSymmetricEncryption()) return "symmetric";
    if (spec.family() == KeySpec.Family.HMAC) return "HMAC";
    return "asymmetric";
  }

  private static String describe(String type, Key k) {
    return ("asymmetric".equals(type) ? "an " : "a ") + type + " key with key usage " + k.shared().keyUsage();
  }

  // ---------------------------------------------------------------- plumbing

  /** The key, or null when it does not exist (any other failure fails the stage). */
  private CompletionStage<Key> existingKey(String keyId) {
    return api.key(keyId).handle((k, failure) -> {
      if (failure == null) return k;
      Throwable cause = failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
      if (cause instanceof KmsException e && e.error().type().equals("NotFoundException")) return null;
      throw failure instanceof CompletionException c ? c : new CompletionException(failure);
    });
  }

  /** Asks the manager; a {@link AliasManager.Failed} answer fails the stage with its error. */
  private CompletionStage<AliasManager.Reply> ask(
      Function<ActorRef<AliasManager.Reply>, AliasManager.Command> command) {
    return ApiContext.ask(manager, command::apply, api.settings().askTimeout(), api.system().scheduler())
        .thenApply(reply -> {
          if (reply instanceof AliasManager.Failed f) throw new KmsException(f.error());
          return reply;
        });
  }

  private KmsError aliasNotFound(String name) {
    return KmsError.notFound("Alias " + AliasCache.aliasArn(api.settings(), name) + " is not found.");
  }

  private long now() {
    return api.settings().clock().now();
  }
}
