package io.kmsregions.security.authz;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Evaluates AWS IAM-style JSON policies as KMS uses them (issue 7 "Authorisation"; kms-api.md §4
 * "Default policy"; AWS IAM User Guide, "IAM JSON policy elements reference" and "Policy evaluation
 * logic"): Statement (object or list), Effect, Principal/NotPrincipal, Action/NotAction,
 * Resource/NotResource and Condition.
 *
 * <p>Pure and thread-safe: no I/O. Parsed policies are cached by their text, because the same few
 * key policies are evaluated on every call.
 *
 * <p>Condition operators: String(Not)Equals, String(Not)EqualsIgnoreCase, String(Not)Like,
 * Arn(Not)Equals, Arn(Not)Like, Bool and Null, with the {@code ForAnyValue:}/{@code ForAllValues:}
 * set qualifiers and the {@code IfExists} suffix. An operator this evaluator does not know (Numeric*,
 * Date*, IpAddress, ...) never matches, so an Allow that depends on it does not apply and neither
 * does a Deny (kms-regions' requests carry no numeric, date or IP keys anyway).
 */
public final class PolicyEvaluator {
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final Map<String, JsonNode> PARSED = new ConcurrentHashMap<>();

  private PolicyEvaluator() {}

  /**
   * One request as a policy sees it.
   *
   * @param principalArn the caller's ARN ({@code aws:PrincipalArn})
   * @param principalAccount the caller's account
   * @param action {@code kms:<Operation>}
   * @param resource the key ARN, or {@code *} for operations without a key resource
   * @param context condition keys, lower-cased, to their values (absent keys are missing)
   */
  public record Request(
      String principalArn, String principalAccount, String action, String resource, Map<String, List<String>> context) {

    /** True when the caller is its account's root user. */
    public boolean isRoot() {
      return principalAccount != null && principalAccount.equals(rootAccount(principalArn));
    }
  }

  /**
   * The account of a root user's ARN, {@code arn:<partition>:iam::<12 digits>:root}, or null for
   * any other string. By hand rather than by regex: it runs for every authorised call, and every
   * byte a call allocates brings the next young collection closer (BENCHMARKS.md, "p99 at half").
   */
  static String rootAccount(String arn) {
    if (arn == null || !arn.startsWith("arn:") || !arn.endsWith(":root")) return null;
    int partitionEnd = arn.indexOf(':', 4);
    if (partitionEnd <= 4 || !arn.startsWith(":iam::", partitionEnd)) return null;
    int from = partitionEnd + ":iam::".length();
    int to = arn.length() - ":root".length();
    if (to - from != 12) return null;
    for (int i = from; i < to; i++) {
      char c = arn.charAt(i);
      if (c < '0' || c > '9') return null;
    }
    return arn.substring(from, to);
  }

  /** How a statement's Principal covers the caller. */
  enum PrincipalMatch { NONE, ACCOUNT, DIRECT }

  /**
   * A key policy's verdict. {@code accountAllow}: an Allow applies only because it names the
   * caller's account (its root ARN or account id), which in AWS delegates the decision to the
   * account's IAM (identity) policies, as the default key policy does.
   */
  public record ResourceResult(boolean explicitDeny, boolean directAllow, boolean accountAllow) {}

  /** An identity policy's verdict. */
  public record IdentityResult(boolean explicitDeny, boolean allow) {}

  /**
   * The policy parsed, from the cache when it was seen before.
   *
   * @throws IllegalArgumentException when it is not a JSON object
   */
  public static JsonNode parse(String policy) {
    JsonNode cached = PARSED.get(policy);
    if (cached != null) return cached;
    JsonNode node;
    try {
      node = MAPPER.readTree(policy);
    } catch (java.io.IOException e) {
      throw new IllegalArgumentException("policy is not JSON", e);
    }
    if (node == null || !node.isObject()) throw new IllegalArgumentException("policy is not a JSON object");
    if (PARSED.size() > 1000) PARSED.clear(); // a bound, not an LRU: policies are few and small
    PARSED.put(policy, node);
    return node;
  }

  /** A resource-based (key) policy: statements apply only to the principals they name. */
  public static ResourceResult evaluateResource(JsonNode policy, Request r) {
    boolean deny = false, direct = false, account = false;
    for (JsonNode s : statements(policy)) {
      PrincipalMatch p = principal(s, r);
      if (p == PrincipalMatch.NONE || !applies(s, r)) continue;
      if (isDeny(s)) deny = true;
      else if (isAllow(s)) {
        if (p == PrincipalMatch.DIRECT) direct = true;
        else account = true;
      }
    }
    return new ResourceResult(deny, direct, account);
  }

  /** An identity-based policy: attached to the caller, so it has no Principal. */
  public static IdentityResult evaluateIdentity(JsonNode policy, Request r) {
    boolean deny = false, allow = false;
    for (JsonNode s : statements(policy)) {
      if (!applies(s, r)) continue;
      if (isDeny(s)) deny = true;
      else if (isAllow(s)) allow = true;
    }
    return new IdentityResult(deny, allow);
  }

  private static boolean isAllow(JsonNode s) {
    return s.path("Effect").asText().equals("Allow");
  }

  private static boolean isDeny(JsonNode s) {
    return s.path("Effect").asText().equals("Deny");
  }

  private static List<JsonNode> statements(JsonNode policy) {
    JsonNode st = policy.path("Statement");
    List<JsonNode> out = new ArrayList<>();
    if (st.isObject()) out.add(st);
    else if (st.isArray()) st.forEach(n -> { if (n.isObject()) out.add(n); });
    return out;
  }

  /** Action/NotAction, Resource/NotResource and Condition. */
  static boolean applies(JsonNode s, Request r) {
    if (s.has("Action")) {
      if (!anyGlob(s.get("Action"), r.action(), true)) return false;
    } else if (s.has("NotAction")) {
      if (anyGlob(s.get("NotAction"), r.action(), true)) return false;
    } else {
      return false;
    }
    if (s.has("Resource")) {
      if (!anyGlob(s.get("Resource"), r.resource(), false)) return false;
    } else if (s.has("NotResource")) {
      if (anyGlob(s.get("NotResource"), r.resource(), false)) return false;
    }
    return conditions(s.path("Condition"), r.context());
  }

  // ---------------------------------------------------------------- principals

  /**
   * Principal: {@code "*"}, {@code {"AWS": "*"}}, the caller's ARN (DIRECT), or the caller's
   * account as its id or root ARN (ACCOUNT; DIRECT for the root user itself). NotPrincipal: the
   * statement applies to every caller it does not list, by ARN or by account (DIRECT).
   */
  static PrincipalMatch principal(JsonNode s, Request r) {
    if (s.has("Principal")) return principalMatch(s.get("Principal"), r);
    if (s.has("NotPrincipal")) {
      return principalMatch(s.get("NotPrincipal"), r) == PrincipalMatch.NONE ? PrincipalMatch.DIRECT : PrincipalMatch.NONE;
    }
    return PrincipalMatch.NONE; // a key policy statement without a principal applies to nobody
  }

  private static PrincipalMatch principalMatch(JsonNode principal, Request r) {
    if (principal.isTextual()) return principal.asText().equals("*") ? PrincipalMatch.DIRECT : PrincipalMatch.NONE;
    PrincipalMatch best = PrincipalMatch.NONE;
    for (String v : values(principal.path("AWS"))) {
      PrincipalMatch m;
      if (v.equals("*") || v.equals(r.principalArn())) {
        m = PrincipalMatch.DIRECT;
      } else {
        boolean account = v.equals(r.principalAccount()) || r.principalAccount().equals(rootAccount(v));
        m = !account ? PrincipalMatch.NONE : r.isRoot() ? PrincipalMatch.DIRECT : PrincipalMatch.ACCOUNT;
      }
      if (m.ordinal() > best.ordinal()) best = m;
    }
    return best;
  }

  // ---------------------------------------------------------------- conditions

  /** Every operator block, and every key in it, must hold (AND); values of one key are ORed. */
  static boolean conditions(JsonNode condition, Map<String, List<String>> context) {
    if (condition.isMissingNode() || condition.isNull()) return true;
    if (!condition.isObject()) return false;
    for (Iterator<Map.Entry<String, JsonNode>> ops = condition.fields(); ops.hasNext(); ) {
      Map.Entry<String, JsonNode> op = ops.next();
      if (!op.getValue().isObject()) return false;
      for (Iterator<Map.Entry<String, JsonNode>> keys = op.getValue().fields(); keys.hasNext(); ) {
        Map.Entry<String, JsonNode> key = keys.next();
        List<String> requestValues = context.get(key.getKey().toLowerCase(Locale.ROOT));
        if (!condition(op.getKey(), requestValues, values(key.getValue()))) return false;
      }
    }
    return true;
  }

  /** One operator over one condition key (IAM User Guide, "IAM JSON policy elements: Condition operators"). */
  static boolean condition(String operator, List<String> requestValues, List<String> policyValues) {
    String op = operator;
    String qualifier = "";
    int colon = op.indexOf(':');
    if (colon >= 0) {
      qualifier = op.substring(0, colon).toLowerCase(Locale.ROOT);
      op = op.substring(colon + 1);
      if (!qualifier.equals("foranyvalue") && !qualifier.equals("forallvalues")) return false;
    }
    boolean ifExists = op.endsWith("IfExists");
    if (ifExists) op = op.substring(0, op.length() - "IfExists".length());
    boolean absent = requestValues == null || requestValues.isEmpty();
    if (op.equals("Null")) {
      // Null: "true" asks for the key to be absent, "false" for it to be present.
      return !policyValues.isEmpty() && policyValues.get(0).equalsIgnoreCase("true") == absent;
    }
    Matcher2 matcher = matcher(op);
    if (matcher == null) return false;
    boolean negated = op.contains("Not");
    if (absent) {
      // A missing key: IfExists passes; ForAllValues over an empty set is true, ForAnyValue false;
      // otherwise positive operators fail and negated ones hold (IAM's documented behaviour).
      if (ifExists) return true;
      if (qualifier.equals("forallvalues")) return true;
      if (qualifier.equals("foranyvalue")) return false;
      return negated;
    }
    if (qualifier.equals("forallvalues")) {
      for (String v : requestValues) if (matchesAny(matcher, v, policyValues) == negated) return false;
      return true;
    }
    if (qualifier.equals("foranyvalue")) {
      for (String v : requestValues) if (matchesAny(matcher, v, policyValues) != negated) return true;
      return false;
    }
    boolean any = false;
    for (String v : requestValues) any |= matchesAny(matcher, v, policyValues);
    return any != negated;
  }

  private interface Matcher2 {
    boolean matches(String requestValue, String policyValue);
  }

  /** The positive form of an operator; null for one this evaluator does not know. */
  private static Matcher2 matcher(String op) {
    return switch (op) {
      case "StringEquals", "StringNotEquals" -> String::equals;
      case "StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase" -> String::equalsIgnoreCase;
      case "StringLike", "StringNotLike", "ArnEquals", "ArnNotEquals", "ArnLike", "ArnNotLike" ->
          (v, p) -> glob(p, v, false);
      case "Bool" -> String::equalsIgnoreCase;
      default -> null;
    };
  }

  private static boolean matchesAny(Matcher2 m, String value, List<String> policyValues) {
    for (String p : policyValues) if (m.matches(value, p)) return true;
    return false;
  }

  // ---------------------------------------------------------------- wildcards

  private static boolean anyGlob(JsonNode patterns, String value, boolean ignoreCase) {
    for (String p : values(patterns)) if (glob(p, value, ignoreCase)) return true;
    return false;
  }

  /** {@code *} matches any run of characters, {@code ?} any one character (IAM wildcards). */
  static boolean glob(String pattern, String value, boolean ignoreCase) {
    if (ignoreCase) {
      pattern = pattern.toLowerCase(Locale.ROOT);
      value = value.toLowerCase(Locale.ROOT);
    }
    int p = 0, v = 0, star = -1, mark = 0;
    while (v < value.length()) {
      if (p < pattern.length() && (pattern.charAt(p) == '?' || pattern.charAt(p) == value.charAt(v))) {
        p++;
        v++;
      } else if (p < pattern.length() && pattern.charAt(p) == '*') {
        star = p++;
        mark = v;
      } else if (star >= 0) {
        p = star + 1;
        v = ++mark;
      } else {
        return false;
      }
    }
    while (p < pattern.length() && pattern.charAt(p) == '*') p++;
    return p == pattern.length();
  }

  /** A policy element that is a string or a list of strings (numbers and booleans as text). */
  public static List<String> values(JsonNode node) {
    List<String> out = new ArrayList<>();
    if (node == null || node.isMissingNode() || node.isNull()) return out;
    if (node.isArray()) {
      node.forEach(n -> { if (n.isValueNode()) out.add(n.asText()); });
    } else if (node.isValueNode()) {
      out.add(node.asText());
    }
    return out;
  }
}
