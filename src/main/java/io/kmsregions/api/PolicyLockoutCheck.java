package io.kmsregions.api;

import com.fasterxml.jackson.databind.JsonNode;
import io.kmsregions.KmsSettings;
import io.kmsregions.key.KmsError;

/**
 * The key policy lockout safety check of PutKeyPolicy (kms-api.md §4): the new policy must still
 * let the caller call PutKeyPolicy, unless BypassPolicyLockoutSafetyCheck is set.
 *
 * <p>Until requests are authenticated, the caller is the account's root principal, so the check
 * asks whether some Allow statement grants {@code kms:PutKeyPolicy} (directly or by wildcard) to
 * {@code *}, the account id or {@code arn:<partition>:iam::<account>:root}, and no Deny statement
 * takes it away. The security issue replaces this with the full policy evaluator.
 */
final class PolicyLockoutCheck {
  static final String MESSAGE = "The new key policy will not allow you to update the key policy in the future.";

  private PolicyLockoutCheck() {}

  /** @throws KmsException MalformedPolicyDocumentException when the policy locks the caller out */
  static void require(String policy, KmsSettings settings) {
    JsonNode statements;
    try {
      statements = Json.MAPPER.readTree(policy).path("Statement");
    } catch (java.io.IOException e) {
      throw malformed();
    }
    if (statements.isObject()) statements = Json.MAPPER.createArrayNode().add(statements);
    boolean allowed = false;
    for (JsonNode s : statements) {
      if (!coversCaller(s.path("Principal"), settings) || !coversAction(s.path("Action"))) continue;
      String effect = s.path("Effect").asText();
      if (effect.equals("Deny")) throw malformed();
      if (effect.equals("Allow") && s.path("Condition").isMissingNode()) allowed = true;
    }
    if (!allowed) throw malformed();
  }

  private static boolean coversCaller(JsonNode principal, KmsSettings settings) {
    if (principal.isTextual()) return principal.asText().equals("*");
    JsonNode aws = principal.path("AWS");
    String root = "arn:" + settings.partition() + ":iam::" + settings.accountId() + ":root";
    for (JsonNode p : aws.isArray() ? aws : Json.MAPPER.createArrayNode().add(aws)) {
      String v = p.asText();
      if (v.equals("*") || v.equals(root) || v.equals(settings.accountId())) return true;
    }
    return false;
  }

  private static boolean coversAction(JsonNode action) {
    for (JsonNode a : action.isArray() ? action : Json.MAPPER.createArrayNode().add(action)) {
      String v = a.asText().toLowerCase(java.util.Locale.ROOT);
      if (v.equals("*") || v.equals("kms:*") || v.equals("kms:putkeypolicy") || v.equals("kms:put*")) return true;
    }
    return false;
  }

  private static KmsException malformed() {
    return new KmsException(new KmsError("MalformedPolicyDocumentException", MESSAGE));
  }
}
