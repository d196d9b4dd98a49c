package io.kmsregions.api;

import io.kmsregions.key.KmsError;
import io.kmsregions.security.auth.Caller;
import io.kmsregions.security.authz.Authorizer;
import java.util.Map;

/**
 * The key policy lockout safety check of PutKeyPolicy, CreateKey and ReplicateKey (kms-api.md §4,
 * "lockout check unless BypassPolicyLockoutSafetyCheck:true"): the new policy must still let the
 * caller call PutKeyPolicy on the key, as the policy evaluator ({@link Authorizer}) decides it with
 * the caller's identity policy (grants never allow PutKeyPolicy). Otherwise
 * MalformedPolicyDocumentException with AWS's text.
 */
final class PolicyLockoutCheck {
  static final String MESSAGE = "The new key policy will not allow you to update the key policy in the future.";

  private PolicyLockoutCheck() {}

  /**
   * @param caller who makes the call; null for the service itself, checked as the account's root
   * @param keyArn the key's ARN in this Region (for CreateKey, the ARN the new key will have)
   * @throws KmsException MalformedPolicyDocumentException when the policy locks the caller out
   */
  static void require(String policy, ApiContext api, Caller caller, String keyArn) {
    Caller who = caller != null ? caller : new Caller("Root",
        "arn:" + api.settings().partition() + ":iam::" + api.settings().accountId() + ":root",
        api.settings().accountId(), null, false);
    Authorizer.Outcome outcome = api.authorizer().decide(
        Authorizer.request(who, "kms:PutKeyPolicy", keyArn, Map.of()), policy);
    if (outcome != Authorizer.Outcome.ALLOWED) {
      throw new KmsException(new KmsError("MalformedPolicyDocumentException", MESSAGE));
    }
  }
}
