package io.kmsregions.security.authz;

import com.fasterxml.jackson.databind.JsonNode;
import com.typesafe.config.Config;
import io.kmsregions.security.auth.Caller;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Decides whether a caller may perform a KMS action (issue 7 "Authorisation"; AWS KMS Developer
 * Guide, "Key policies" and "Grants"; IAM User Guide, "Policy evaluation logic"):
 *
 * <ol>
 *   <li>an explicit Deny in the key policy or in the caller's identity policy refuses;
 *   <li>an Allow in the key policy that names the caller (its ARN, {@code *}, or, for the account's
 *       root user, its account) allows;
 *   <li>an Allow in the key policy that names the caller's account ({@code arn:aws:iam::ACCOUNT:root}
 *       or the account id, as the default key policy of kms-api.md §4 does) delegates to IAM: it
 *       allows when the caller's identity policy allows too;
 *   <li>otherwise a grant may allow ({@link #grantAllows}); the API asks for grants only then.
 * </ol>
 *
 * <p>Identity policies: each {@code kms.auth.credentials} entry may carry {@code identity-policy}, a
 * JSON policy document attached to its principal. A principal of the simulated account without one
 * is treated as having an AdministratorAccess-like policy ({@code Allow * on *}), so that the default
 * key policy lets every configured principal use every key, as a fresh AWS account's administrators
 * can; the account's root user always has it. A principal of another account needs both an identity
 * policy and the key policy to allow (cross-account access). Operations without a key resource
 * (CreateKey, ListKeys, ListAliases, GenerateRandom, ...) are decided by the identity policy alone,
 * on resource {@code *}.
 */
public final class Authorizer {
  /** Why a request was refused or allowed. */
  public enum Outcome { ALLOWED, DENIED_BY_KEY_POLICY, DENIED_BY_IDENTITY_POLICY, NO_KEY_POLICY_ALLOWS,
    NO_IDENTITY_POLICY_ALLOWS }

  /** The operations whose grants carry encryption context constraints (Developer Guide, "Grant constraints"). */
  private static final Set<String> CONTEXT_OPERATIONS = Set.of("Encrypt", "Decrypt", "ReEncryptFrom", "ReEncryptTo",
      "GenerateDataKey", "GenerateDataKeyWithoutPlaintext", "GenerateDataKeyPair", "GenerateDataKeyPairWithoutPlaintext");

  private final String accountId;
  private final Map<String, JsonNode> identityPolicies;

  public Authorizer(String accountId, Map<String, String> identityPolicies) {
    this.accountId = accountId;
    Map<String, JsonNode> parsed = new HashMap<>();
    identityPolicies.forEach((principal, policy) -> {
      try {
        parsed.put(principal, PolicyEvaluator.parse(policy));
      } catch (IllegalArgumentException e) {
        throw new IllegalStateException("kms.auth.credentials: the identity-policy of " + principal + " is not a JSON policy");
      }
    });
    this.identityPolicies = Map.copyOf(parsed);
  }

  /** The authorizer of a node's configuration: {@code kms.account-id} and {@code kms.auth.credentials}. */
  public static Authorizer fromConfig(Config config) {
    String account = config.getString("kms.account-id");
    String partition = config.getString("kms.partition");
    Map<String, String> policies = new HashMap<>();
    for (Config c : config.getConfigList("kms.auth.credentials")) {
      if (!c.hasPath("identity-policy")) continue;
      String akid = c.getString("access-key-id");
      String acct = c.hasPath("account-id") ? c.getString("account-id") : account;
      // The same default principal as io.kmsregions.security.auth.Authenticator gives the entry.
      String principal = c.hasPath("principal-arn") ? c.getString("principal-arn")
          : "arn:" + partition + ":iam::" + acct + ":user/" + akid;
      policies.put(principal, c.getString("identity-policy"));
    }
    return new Authorizer(account, policies);
  }

  /** The request a policy sees for this caller, action ({@code kms:X}) and resource (key ARN or {@code *}). */
  public static PolicyEvaluator.Request request(Caller caller, String action, String resource,
      Map<String, List<String>> context) {
    Map<String, List<String>> all = new HashMap<>(context);
    all.put("aws:principalarn", List.of(caller.principalArn()));
    all.put("aws:principalaccount", List.of(caller.accountId()));
    all.put("kms:calleraccount", List.of(caller.accountId()));
    return new PolicyEvaluator.Request(caller.principalArn(), caller.accountId(), action, resource, all);
  }

  /**
   * The key policy and identity policy's decision for a request on a key ({@code keyPolicy} not
   * null) or on no key ({@code keyPolicy} null: identity policy only). Grants are not considered:
   * when the outcome is a NO_..._ALLOWS one (not an explicit deny), a grant may still allow.
   */
  public Outcome decide(PolicyEvaluator.Request r, String keyPolicy) {
    PolicyEvaluator.IdentityResult identity = identity(r);
    if (keyPolicy == null) {
      if (identity.explicitDeny()) return Outcome.DENIED_BY_IDENTITY_POLICY;
      return identity.allow() ? Outcome.ALLOWED : Outcome.NO_IDENTITY_POLICY_ALLOWS;
    }
    JsonNode policy;
    try {
      policy = PolicyEvaluator.parse(keyPolicy);
    } catch (IllegalArgumentException e) {
      policy = PolicyEvaluator.parse("{}"); // stored policies were validated; an unreadable one allows nothing
    }
    PolicyEvaluator.ResourceResult key = PolicyEvaluator.evaluateResource(policy, r);
    if (key.explicitDeny()) return Outcome.DENIED_BY_KEY_POLICY;
    if (identity.explicitDeny()) return Outcome.DENIED_BY_IDENTITY_POLICY;
    boolean sameAccount = r.principalAccount().equals(accountId);
    // Cross-account: the key policy and the caller's own account must both allow.
    if (key.directAllow() && (sameAccount || identity.allow())) return Outcome.ALLOWED;
    if (key.accountAllow() && identity.allow()) return Outcome.ALLOWED;
    // Delegated to the account but its identity policy does not allow: AWS names that policy.
    return key.accountAllow() ? Outcome.NO_IDENTITY_POLICY_ALLOWS : Outcome.NO_KEY_POLICY_ALLOWS;
  }

  private PolicyEvaluator.IdentityResult identity(PolicyEvaluator.Request r) {
    JsonNode policy = identityPolicies.get(r.principalArn());
    if (policy != null) return PolicyEvaluator.evaluateIdentity(policy, r);
    // The root user, and a principal of this account without a configured identity policy, are
    // treated as administrators (see the class comment); another account's principal has nothing.
    return new PolicyEvaluator.IdentityResult(false, r.principalAccount().equals(accountId));
  }

  /**
   * Whether a grant allows {@code operation} (a grant operation name: {@code Encrypt},
   * {@code ReEncryptFrom}, {@code DescribeKey}, ...) with {@code context}, the request's encryption
   * context (Developer Guide, "Grant constraints"): EncryptionContextEquals requires exactly that
   * context; EncryptionContextSubset requires those pairs among the context's. Constraints bind the
   * operations that take an encryption context only.
   */
  public static boolean grantAllows(Collection<String> grantOperations, Map<String, String> subset,
      Map<String, String> equals, String operation, Map<String, String> context) {
    if (!grantOperations.contains(operation)) return false;
    if (!CONTEXT_OPERATIONS.contains(operation)) return true;
    Map<String, String> ec = context == null ? Map.of() : context;
    if (equals != null && !equals.equals(ec)) return false;
    if (subset != null) {
      for (Map.Entry<String, String> e : subset.entrySet()) if (!e.getValue().equals(ec.get(e.getKey()))) return false;
    }
    return true;
  }

  /**
   * AccessDeniedException's message in AWS's shape: {@code User: <principal arn> is not authorized
   * to perform: kms:<Action> on resource: <key arn> because no resource-based policy allows the
   * kms:<Action> action} (or {@code with an explicit deny in a resource-based policy}).
   */
  public static String message(Outcome outcome, String principalArn, String action, String resource) {
    String head = "User: " + principalArn + " is not authorized to perform: " + action + " on resource: " + resource;
    return switch (outcome) {
      case DENIED_BY_KEY_POLICY -> head + " with an explicit deny in a resource-based policy";
      case DENIED_BY_IDENTITY_POLICY -> head + " with an explicit deny in an identity-based policy";
      case NO_IDENTITY_POLICY_ALLOWS -> head + " because no identity-based policy allows the " + action + " action";
      default -> head + " because no resource-based policy allows the " + action + " action";
    };
  }
}
