package io.kmsregions.api;

import com.fasterxml.jackson.databind.JsonNode;
import io.kmsregions.crypto.SymmetricCiphertext;
import io.kmsregions.grant.GrantStore;
import io.kmsregions.key.KmsError;
import io.kmsregions.security.auth.Caller;
import io.kmsregions.security.authz.Authorizer;
import io.kmsregions.security.authz.PolicyEvaluator;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * Authorises every API call before its operation runs (issue 7 "Authorisation"; README "Security
 * model"): the action is {@code kms:<Operation>}, the resource the key's ARN in this Region, and
 * this Region's copy of the key policy decides, with the caller's identity policy and this
 * Region's grants ({@link Authorizer}). Because it runs first, a refused call changes nothing.
 *
 * <p>When the request names no usable key (missing or malformed KeyId, unknown key or alias, a
 * ciphertext that names no key), authorisation is left to the operation's own validation, which
 * then answers the same error it always did (ValidationException, NotFoundException, ...): there is
 * no key policy to evaluate. Internal calls (no caller) are not authorised.
 */
final class KeyAuthorization {
  /** Operations without a key resource: authorised by the identity policy alone, on resource {@code *}. */
  private static final Set<String> KEYLESS = Set.of("CreateKey", "ListKeys", "ListAliases", "GenerateRandom",
      "ListRetirableGrants", "CreateCustomKeyStore", "DescribeCustomKeyStores", "UpdateCustomKeyStore",
      "ConnectCustomKeyStore", "DisconnectCustomKeyStore", "DeleteCustomKeyStore");
  /** Operations whose KeyId may be an alias (kms-api.md §2, "KeyId forms"); others refuse one themselves. */
  private static final Set<String> ALIAS_FORMS = Set.of("Encrypt", "Decrypt", "ReEncrypt", "GenerateDataKey",
      "GenerateDataKeyWithoutPlaintext", "GenerateDataKeyPair", "GenerateDataKeyPairWithoutPlaintext", "Sign",
      "Verify", "GenerateMac", "VerifyMac", "GetPublicKey", "DescribeKey", "DeriveSharedSecret");

  /** One key a request acts on: the action on it, its grant operation, and its encryption context. */
  private record Target(String keyIdText, boolean aliasAllowed, String action, String grantOperation,
      Map<String, String> encryptionContext) {}

  private final ApiContext api;
  private final ActorRef<GrantStore.Command> grants;
  private final Authorizer authorizer;

  KeyAuthorization(ApiContext api, ActorRef<GrantStore.Command> grants, Authorizer authorizer) {
    this.api = api;
    this.grants = grants;
    this.authorizer = authorizer;
  }

  /** Completes normally when the caller may make this call; else with AccessDeniedException. */
  CompletionStage<Void> check(ApiRequest request) {
    Caller caller = request.caller();
    if (caller == null) return CompletableFuture.completedFuture(null);
    String op = request.operation();
    JsonNode body = ApiContext.readTree(request.body());
    if (!body.isObject()) return CompletableFuture.completedFuture(null); // the operation answers the bad body
    if (KEYLESS.contains(op)) {
      String action = "kms:" + op;
      PolicyEvaluator.Request r = Authorizer.request(caller, action, "*", Map.of());
      Authorizer.Outcome outcome = authorizer.decide(r, null);
      if (outcome == Authorizer.Outcome.ALLOWED) return CompletableFuture.completedFuture(null);
      return CompletableFuture.failedFuture(denied(outcome, caller, action, "*"));
    }
    if (op.equals("RetireGrant")) return retireGrant(caller, body);
    Map<String, List<String>> extra = extraContext(op, body);
    CompletionStage<Void> chain = CompletableFuture.completedFuture(null);
    for (Target t : targets(op, body)) {
      chain = chain.thenCompose(v -> authorize(caller, t, extra, op, body));
    }
    return chain;
  }

  /**
   * RetireGrant (Developer Guide, "Retiring and revoking grants"): the grant's retiring principal
   * may retire it; anyone else needs kms:RetireGrant on its key from the key policy, or a grant of
   * theirs with the RetireGrant operation. A request with only a GrantToken names the key through
   * the grant.
   */
  private CompletionStage<Void> retireGrant(Caller caller, JsonNode body) {
    String grantId = text(body, "GrantId");
    String token = text(body, "GrantToken");
    if (token != null) {
      try {
        grantId = GrantOperations.grantIdOf(token, api.settings().region());
      } catch (KmsException e) {
        return CompletableFuture.completedFuture(null); // the operation answers InvalidGrantTokenException
      }
    }
    if (grantId == null) return CompletableFuture.completedFuture(null);
    String id = grantId;
    String keyIdText = text(body, "KeyId");
    CompletionStage<GrantStore.Reply> reply = ApiContext.ask(grants, replyTo -> new GrantStore.GetGrant(id, replyTo),
        api.settings().askTimeout(), api.system().scheduler());
    return reply.thenCompose(r -> {
      GrantStore.Grant g = r instanceof GrantStore.GrantReply found ? found.grant() : null;
      if (g == null) return CompletableFuture.completedFuture(null); // the operation answers NotFound
      if (caller.principalArn().equals(g.retiringPrincipal())) return CompletableFuture.completedFuture(null);
      Target t = new Target(keyIdText != null ? keyIdText : g.keyId(), false, "kms:RetireGrant", "RetireGrant", Map.of());
      return authorize(caller, t, Map.of(), "RetireGrant", body);
    });
  }

  private List<Target> targets(String op, JsonNode body) {
    List<Target> out = new ArrayList<>();
    String action = "kms:" + op;
    switch (op) {
      case "Decrypt" -> out.add(new Target(keyIdOrCiphertext(body, "KeyId", "CiphertextBlob"), true, action, op,
          context(body.path("EncryptionContext"))));
      case "ReEncrypt" -> {
        // AWS authorises ReEncrypt as two actions: kms:ReEncryptFrom on the source key and
        // kms:ReEncryptTo on the destination key (Developer Guide, "ReEncrypt" permissions).
        out.add(new Target(keyIdOrCiphertext(body, "SourceKeyId", "CiphertextBlob"), true, "kms:ReEncryptFrom",
            "ReEncryptFrom", context(body.path("SourceEncryptionContext"))));
        out.add(new Target(text(body, "DestinationKeyId"), true, "kms:ReEncryptTo", "ReEncryptTo",
            context(body.path("DestinationEncryptionContext"))));
      }
      case "CreateAlias", "UpdateAlias", "DeleteAlias" -> {
        // The alias's current key and the new target key must both allow the alias operation.
        String alias = text(body, "AliasName");
        if (!op.equals("CreateAlias") && alias != null && alias.startsWith("alias/")) {
          out.add(new Target(alias, true, action, op, Map.of()));
        }
        if (!op.equals("DeleteAlias")) out.add(new Target(text(body, "TargetKeyId"), false, action, op, Map.of()));
      }
      default -> out.add(new Target(text(body, "KeyId"), ALIAS_FORMS.contains(op), action, op,
          context(body.path("EncryptionContext"))));
    }
    return out;
  }

  private CompletionStage<Void> authorize(Caller caller, Target t, Map<String, List<String>> extra, String op,
      JsonNode body) {
    String keyId = resolve(t);
    if (keyId == null) return CompletableFuture.completedFuture(null);
    return api.key(keyId).handle((key, failure) -> key).thenCompose(key -> {
      if (key == null) return CompletableFuture.completedFuture(null); // the operation answers NotFound
      String resource = api.arn(key);
      Map<String, List<String>> ctx = new HashMap<>(extra);
      if (!t.encryptionContext().isEmpty()) {
        ctx.put("kms:encryptioncontextkeys", new ArrayList<>(t.encryptionContext().keySet()));
        // Condition key names are case-insensitive in IAM, the context key part included.
        t.encryptionContext().forEach((k, v) -> ctx.computeIfAbsent(
            "kms:encryptioncontext:" + k.toLowerCase(Locale.ROOT), x -> new ArrayList<>()).add(v));
      }
      PolicyEvaluator.Request r = Authorizer.request(caller, t.action(), resource, ctx);
      // A key always has a policy; should a state lack one, it is the default (kms-api.md §4).
      String policy = key.policy() != null ? key.policy() : api.defaultPolicy();
      Authorizer.Outcome outcome = authorizer.decide(r, policy);
      if (outcome == Authorizer.Outcome.ALLOWED) return CompletableFuture.completedFuture(null);
      if (outcome == Authorizer.Outcome.DENIED_BY_KEY_POLICY || outcome == Authorizer.Outcome.DENIED_BY_IDENTITY_POLICY) {
        return CompletableFuture.<Void>failedFuture(denied(outcome, caller, t.action(), resource));
      }
      return grantAllows(caller, key.keyId(), t, op, body).thenCompose(allowed -> allowed
          ? CompletableFuture.<Void>completedFuture(null)
          : CompletableFuture.<Void>failedFuture(denied(outcome, caller, t.action(), resource)));
    });
  }

  /**
   * Whether a grant of this Region for the caller allows the target. Grants take effect at once in
   * this simulation, so GrantTokens (validated by the operations) are accepted and need no lookup.
   */
  private CompletionStage<Boolean> grantAllows(Caller caller, String keyId, Target t, String op, JsonNode body) {
    GrantStore.Filter filter = new GrantStore.Filter(keyId, null, caller.principalArn(), null, null, null);
    CompletionStage<GrantStore.Reply> page = ApiContext.ask(grants,
        replyTo -> new GrantStore.ListGrants(filter, 0, GrantStore.GRANTS_PER_KEY, replyTo),
        api.settings().askTimeout(), api.system().scheduler());
    List<String> requested = op.equals("CreateGrant") ? PolicyEvaluator.values(body.path("Operations")) : List.of();
    return page.thenApply(reply -> {
      if (!(reply instanceof GrantStore.Page p)) return false;
      for (GrantStore.Grant g : p.grants()) {
        GrantStore.Constraints c = g.constraints();
        if (!Authorizer.grantAllows(g.operations(), c == null ? null : c.encryptionContextSubset(),
            c == null ? null : c.encryptionContextEquals(), t.grantOperation(), t.encryptionContext())) continue;
        // A grant that allows CreateGrant allows only grants of its own operations or fewer
        // (Developer Guide, "Grant constraints": no escalation through grants).
        if (op.equals("CreateGrant") && !g.operations().containsAll(requested)) continue;
        return true;
      }
      return false;
    });
  }

  private String resolve(Target t) {
    String text = t.keyIdText();
    if (text == null) return null;
    if (!t.aliasAllowed() && (text.startsWith("alias/") || text.contains(":alias/"))) return null;
    try {
      return api.resolveKeyId(text);
    } catch (KmsException e) {
      return null;
    }
  }

  /** The named KeyId, or the key a symmetric ciphertext names in its header. */
  private static String keyIdOrCiphertext(JsonNode body, String keyField, String blobField) {
    String keyId = text(body, keyField);
    if (keyId != null) return keyId;
    String blob = text(body, blobField);
    if (blob == null) return null;
    try {
      return SymmetricCiphertext.parse(Base64.getDecoder().decode(blob)).keyId();
    } catch (RuntimeException e) {
      return null; // not ours or malformed: the operation answers InvalidCiphertextException
    }
  }

  /** kms:GrantOperations, kms:GranteePrincipal and kms:RetiringPrincipal of CreateGrant. */
  private static Map<String, List<String>> extraContext(String op, JsonNode body) {
    Map<String, List<String>> out = new HashMap<>();
    if (op.equals("CreateGrant")) {
      List<String> ops = PolicyEvaluator.values(body.path("Operations"));
      if (!ops.isEmpty()) out.put("kms:grantoperations", ops);
      String grantee = text(body, "GranteePrincipal");
      if (grantee != null) out.put("kms:granteeprincipal", List.of(grantee));
      String retiring = text(body, "RetiringPrincipal");
      if (retiring != null) out.put("kms:retiringprincipal", List.of(retiring));
    }
    return out;
  }

  private static Map<String, String> context(JsonNode node) {
    if (!node.isObject()) return Map.of();
    Map<String, String> out = new LinkedHashMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      if (e.getValue().isTextual()) out.put(e.getKey(), e.getValue().asText());
    }
    return out;
  }

  private static String text(JsonNode body, String field) {
    JsonNode n = body.path(field);
    return n.isTextual() ? n.asText() : null;
  }

  private static KmsException denied(Authorizer.Outcome outcome, Caller caller, String action, String resource) {
    return new KmsException(new KmsError("AccessDeniedException",
        Authorizer.message(outcome, caller.principalArn(), action, resource)));
  }
}
