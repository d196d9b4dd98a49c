package io.kmsregions.security.authz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kmsregions.security.auth.Caller;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The policy evaluator and the decision rules, without a cluster (issue 7 "Authorisation"). */
class PolicyEvaluatorTest {
  static final String ACCOUNT = "111122223333";
  static final String KEY = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
  static final Caller ALICE = new Caller("IAMUser", "arn:aws:iam::111122223333:user/alice", ACCOUNT, "A", true);
  static final Caller ROOT = new Caller("Root", "arn:aws:iam::111122223333:root", ACCOUNT, "R", true);
  static final Caller OTHER = new Caller("IAMUser", "arn:aws:iam::444455556666:user/eve", "444455556666", "E", true);

  static PolicyEvaluator.Request req(Caller c, String action, Map<String, List<String>> ctx) {
    return Authorizer.request(c, action, KEY, ctx);
  }

  static PolicyEvaluator.ResourceResult key(String policy, PolicyEvaluator.Request r) {
    return PolicyEvaluator.evaluateResource(PolicyEvaluator.parse(policy), r);
  }

  static String stmt(String effect, String principal, String action, String extra) {
    return "{\"Statement\":{\"Effect\":\"" + effect + "\",\"Principal\":" + principal + ",\"Action\":" + action
        + ",\"Resource\":\"*\"" + extra + "}}";
  }

  @Test
  void rootAccountReadsOnlyARootUsersArn() {
    assertEquals(ACCOUNT, PolicyEvaluator.rootAccount("arn:aws:iam::111122223333:root"));
    assertEquals(ACCOUNT, PolicyEvaluator.rootAccount("arn:aws-cn:iam::111122223333:root"));
    for (String notRoot : new String[] {"arn:aws:iam::111122223333:user/alice", "arn:aws:iam::11112222333:root",
        "arn:aws:iam::1111222233334:root", "arn:aws:iam::11112222333x:root", "arn::iam::111122223333:root",
        "arn:aws:sts::111122223333:root", "arn:aws:iam:us-east-1:111122223333:root", "111122223333", "*", "",
        "arn:aws:iam::111122223333:root/x", "xarn:aws:iam::111122223333:root", "arn:aws:iam::root"}) {
      assertEquals(null, PolicyEvaluator.rootAccount(notRoot), notRoot);
    }
    assertEquals(null, PolicyEvaluator.rootAccount(null));
    // The policy sees the same: a root ARN names its account, a malformed one names nobody.
    String byRoot = stmt("Allow", "{\"AWS\":\"arn:aws:iam::111122223333:root\"}", "\"kms:*\"", "");
    assertTrue(key(byRoot, req(ALICE, "kms:Encrypt", Map.of())).accountAllow());
    assertTrue(key(byRoot, req(ROOT, "kms:Encrypt", Map.of())).directAllow());
    String malformed = stmt("Allow", "{\"AWS\":\"arn:aws:iam::11112222333:root\"}", "\"kms:*\"", "");
    assertFalse(key(malformed, req(ALICE, "kms:Encrypt", Map.of())).accountAllow());
    assertFalse(key(malformed, req(ROOT, "kms:Encrypt", Map.of())).directAllow());
    assertTrue(ROOT.principalArn().equals("arn:aws:iam::111122223333:root")
        && req(ROOT, "kms:Encrypt", Map.of()).isRoot());
    assertFalse(req(ALICE, "kms:Encrypt", Map.of()).isRoot());
  }

  @Test
  void actionWildcardsAreCaseInsensitive() {
    String p = stmt("Allow", "{\"AWS\":\"arn:aws:iam::111122223333:user/alice\"}", "[\"kms:Get*\",\"kms:Desc?ibeKey\"]", "");
    assertTrue(key(p, req(ALICE, "kms:GetKeyPolicy", Map.of())).directAllow());
    assertTrue(key(p, req(ALICE, "kms:describekey", Map.of())).directAllow());
    assertFalse(key(p, req(ALICE, "kms:Encrypt", Map.of())).directAllow());
    assertTrue(key(stmt("Allow", "\"*\"", "\"kms:*\"", ""), req(ALICE, "kms:Encrypt", Map.of())).directAllow());
  }

  @Test
  void notActionAppliesToEverythingElse() {
    String p = "{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":\"*\",\"NotAction\":\"kms:Decrypt\",\"Resource\":\"*\"}]}";
    assertTrue(key(p, req(ALICE, "kms:Encrypt", Map.of())).directAllow());
    assertFalse(key(p, req(ALICE, "kms:Decrypt", Map.of())).directAllow());
  }

  @Test
  void resourceAndNotResource() {
    String other = "{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"kms:*\",\"Resource\":\"arn:aws:kms:*:*:key/other\"}}";
    assertFalse(key(other, req(ALICE, "kms:Encrypt", Map.of())).directAllow());
    String mine = "{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"kms:*\",\"Resource\":\"arn:aws:kms:us-east-1:*\"}}";
    assertTrue(key(mine, req(ALICE, "kms:Encrypt", Map.of())).directAllow());
    String not = "{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"kms:*\",\"NotResource\":\"" + KEY + "\"}}";
    assertFalse(key(not, req(ALICE, "kms:Encrypt", Map.of())).directAllow());
  }

  @Test
  void principalsByArnAccountAndRoot() {
    String byAccount = stmt("Allow", "{\"AWS\":\"arn:aws:iam::111122223333:root\"}", "\"kms:*\"", "");
    PolicyEvaluator.ResourceResult alice = key(byAccount, req(ALICE, "kms:Encrypt", Map.of()));
    assertTrue(alice.accountAllow());
    assertFalse(alice.directAllow());
    assertTrue(key(byAccount, req(ROOT, "kms:Encrypt", Map.of())).directAllow());
    assertTrue(key(stmt("Allow", "{\"AWS\":[\"111122223333\"]}", "\"kms:*\"", ""), req(ALICE, "kms:Encrypt", Map.of()))
        .accountAllow());
    PolicyEvaluator.ResourceResult eve = key(byAccount, req(OTHER, "kms:Encrypt", Map.of()));
    assertFalse(eve.accountAllow() || eve.directAllow());
    assertFalse(key(stmt("Allow", "{\"Service\":\"logs.amazonaws.com\"}", "\"kms:*\"", ""),
        req(ALICE, "kms:Encrypt", Map.of())).directAllow());
  }

  @Test
  void notPrincipalDeniesEveryoneElse() {
    String p = "{\"Statement\":{\"Effect\":\"Deny\",\"NotPrincipal\":{\"AWS\":\"arn:aws:iam::111122223333:user/alice\"},"
        + "\"Action\":\"kms:*\",\"Resource\":\"*\"}}";
    assertFalse(key(p, req(ALICE, "kms:Encrypt", Map.of())).explicitDeny());
    assertTrue(key(p, req(OTHER, "kms:Encrypt", Map.of())).explicitDeny());
  }

  @Test
  void stringOperators() {
    Map<String, List<String>> ctx = Map.of("kms:encryptioncontext:dept", List.of("Finance"));
    assertTrue(PolicyEvaluator.condition("StringEquals", ctx.get("kms:encryptioncontext:dept"), List.of("Finance")));
    assertFalse(PolicyEvaluator.condition("StringEquals", List.of("Finance"), List.of("finance")));
    assertTrue(PolicyEvaluator.condition("StringEqualsIgnoreCase", List.of("Finance"), List.of("finance")));
    assertTrue(PolicyEvaluator.condition("StringNotEquals", List.of("Finance"), List.of("HR")));
    assertFalse(PolicyEvaluator.condition("StringNotEquals", List.of("Finance"), List.of("HR", "Finance")));
    assertTrue(PolicyEvaluator.condition("StringLike", List.of("Finance-2024"), List.of("Fin*-20??")));
    assertTrue(PolicyEvaluator.condition("StringNotLike", List.of("Finance"), List.of("HR*")));
    assertTrue(PolicyEvaluator.condition("ArnLike", List.of("arn:aws:iam::111122223333:user/alice"),
        List.of("arn:aws:iam::*:user/*")));
    assertFalse(PolicyEvaluator.condition("ArnEquals", List.of("arn:aws:iam::111122223333:user/alice"),
        List.of("arn:aws:iam::111122223333:user/bob")));
    assertTrue(PolicyEvaluator.condition("Bool", List.of("true"), List.of("TRUE")));
    assertFalse(PolicyEvaluator.condition("NumericEquals", List.of("1"), List.of("1")), "unknown operators never match");
  }

  @Test
  void missingKeysNullAndIfExists() {
    assertFalse(PolicyEvaluator.condition("StringEquals", null, List.of("x")));
    assertTrue(PolicyEvaluator.condition("StringNotEquals", null, List.of("x")), "negated operators hold for a missing key");
    assertTrue(PolicyEvaluator.condition("StringEqualsIfExists", null, List.of("x")));
    assertFalse(PolicyEvaluator.condition("StringEqualsIfExists", List.of("y"), List.of("x")));
    assertTrue(PolicyEvaluator.condition("Null", null, List.of("true")));
    assertFalse(PolicyEvaluator.condition("Null", List.of("v"), List.of("true")));
    assertTrue(PolicyEvaluator.condition("Null", List.of("v"), List.of("false")));
  }

  @Test
  void setQualifiers() {
    List<String> keys = List.of("Dept", "Project");
    assertTrue(PolicyEvaluator.condition("ForAllValues:StringEquals", keys, List.of("Dept", "Project", "Team")));
    assertFalse(PolicyEvaluator.condition("ForAllValues:StringEquals", keys, List.of("Dept")));
    assertTrue(PolicyEvaluator.condition("ForAllValues:StringEquals", null, List.of("Dept")), "vacuously true");
    assertTrue(PolicyEvaluator.condition("ForAnyValue:StringEquals", keys, List.of("Project")));
    assertFalse(PolicyEvaluator.condition("ForAnyValue:StringEquals", keys, List.of("Team")));
    assertFalse(PolicyEvaluator.condition("ForAnyValue:StringEquals", null, List.of("Team")));
    assertTrue(PolicyEvaluator.condition("ForAnyValue:StringNotEquals", keys, List.of("Dept")));
    assertFalse(PolicyEvaluator.condition("ForAllValues:StringNotEquals", keys, List.of("Dept")));
    assertTrue(PolicyEvaluator.condition("ForAnyValue:StringLike", keys, List.of("Pro*")));
  }

  @Test
  void conditionBlocksAreAndedAndKeyNamesCaseInsensitive() {
    String p = stmt("Allow", "\"*\"", "\"kms:Encrypt\"", ",\"Condition\":{\"StringEquals\":{\"kms:EncryptionContext:Dept\":\"Finance\"},"
        + "\"StringLike\":{\"KMS:CallerAccount\":\"1111*\"}}");
    Map<String, List<String>> ctx = Map.of("kms:encryptioncontext:dept", List.of("Finance"));
    assertTrue(key(p, req(ALICE, "kms:Encrypt", ctx)).directAllow());
    assertFalse(key(p, req(ALICE, "kms:Encrypt", Map.of())).directAllow());
    String twoKeys = stmt("Allow", "\"*\"", "\"kms:Encrypt\"", ",\"Condition\":{\"StringEquals\":{"
        + "\"kms:EncryptionContext:Dept\":\"Finance\",\"aws:PrincipalArn\":\"arn:aws:iam::111122223333:user/bob\"}}");
    assertFalse(key(twoKeys, req(ALICE, "kms:Encrypt", ctx)).directAllow());
  }

  @Test
  void decisionRules() {
    Authorizer authz = new Authorizer(ACCOUNT, Map.of(
        "arn:aws:iam::111122223333:user/bob", "{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"kms:Describe*\",\"Resource\":\"*\"}}",
        "arn:aws:iam::444455556666:user/eve", "{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"kms:*\",\"Resource\":\"*\"}}"));
    Caller bob = new Caller("IAMUser", "arn:aws:iam::111122223333:user/bob", ACCOUNT, "B", true);
    String defaultPolicy = stmt("Allow", "{\"AWS\":\"arn:aws:iam::111122223333:root\"}", "\"kms:*\"", "");
    // Delegation to the account: alice has no identity policy (administrator-like), bob a narrow one.
    assertEquals(Authorizer.Outcome.ALLOWED, authz.decide(req(ALICE, "kms:Encrypt", Map.of()), defaultPolicy));
    assertEquals(Authorizer.Outcome.ALLOWED, authz.decide(req(bob, "kms:DescribeKey", Map.of()), defaultPolicy));
    assertEquals(Authorizer.Outcome.NO_IDENTITY_POLICY_ALLOWS, authz.decide(req(bob, "kms:Encrypt", Map.of()), defaultPolicy));
    // Another account: the key policy must name it and its identity policy allow.
    assertEquals(Authorizer.Outcome.NO_KEY_POLICY_ALLOWS, authz.decide(req(OTHER, "kms:Encrypt", Map.of()), defaultPolicy));
    String withEve = "{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::444455556666:root\"},"
        + "\"Action\":\"kms:Encrypt\",\"Resource\":\"*\"}]}";
    assertEquals(Authorizer.Outcome.ALLOWED, authz.decide(req(OTHER, "kms:Encrypt", Map.of()), withEve));
    // Explicit deny wins over an allow.
    String deny = "{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"kms:*\",\"Resource\":\"*\"},"
        + "{\"Effect\":\"Deny\",\"Principal\":\"*\",\"Action\":\"kms:Encrypt\",\"Resource\":\"*\"}]}";
    assertEquals(Authorizer.Outcome.DENIED_BY_KEY_POLICY, authz.decide(req(ROOT, "kms:Encrypt", Map.of()), deny));
    // No key: the identity policy alone.
    assertEquals(Authorizer.Outcome.ALLOWED, authz.decide(Authorizer.request(ALICE, "kms:CreateKey", "*", Map.of()), null));
    assertEquals(Authorizer.Outcome.NO_IDENTITY_POLICY_ALLOWS,
        authz.decide(Authorizer.request(bob, "kms:CreateKey", "*", Map.of()), null));
  }

  @Test
  void grantsAndTheirConstraints() {
    assertTrue(Authorizer.grantAllows(List.of("Encrypt"), null, null, "Encrypt", Map.of()));
    assertFalse(Authorizer.grantAllows(List.of("Encrypt"), null, null, "Decrypt", Map.of()));
    assertTrue(Authorizer.grantAllows(List.of("Decrypt"), Map.of("a", "1"), null, "Decrypt", Map.of("a", "1", "b", "2")));
    assertFalse(Authorizer.grantAllows(List.of("Decrypt"), Map.of("a", "1"), null, "Decrypt", Map.of("a", "2")));
    assertTrue(Authorizer.grantAllows(List.of("Decrypt"), null, Map.of("a", "1"), "Decrypt", Map.of("a", "1")));
    assertFalse(Authorizer.grantAllows(List.of("Decrypt"), null, Map.of("a", "1"), "Decrypt", Map.of("a", "1", "b", "2")));
    assertTrue(Authorizer.grantAllows(List.of("DescribeKey"), null, Map.of("a", "1"), "DescribeKey", Map.of()),
        "constraints bind only operations with an encryption context");
  }

  @Test
  void messagesHaveAwsShape() {
    assertEquals("User: arn:aws:iam::111122223333:user/alice is not authorized to perform: kms:Encrypt on resource: " + KEY
        + " because no resource-based policy allows the kms:Encrypt action",
        Authorizer.message(Authorizer.Outcome.NO_KEY_POLICY_ALLOWS, ALICE.principalArn(), "kms:Encrypt", KEY));
    assertEquals("User: arn:aws:iam::111122223333:user/alice is not authorized to perform: kms:Encrypt on resource: " + KEY
        + " with an explicit deny in a resource-based policy",
        Authorizer.message(Authorizer.Outcome.DENIED_BY_KEY_POLICY, ALICE.principalArn(), "kms:Encrypt", KEY));
  }

  /**
   * kms:ViaService and aws:SourceArn are set only when an AWS service calls KMS for a principal;
   * no AWS service calls kms-regions, so for every call they are absent: a policy that allows only
   * through a service allows nothing, and a Null condition sees them missing.
   */
  @Test
  void viaServiceAndSourceArnAreAbsentForDirectCalls() {
    String viaEc2 = stmt("Allow", "\"*\"", "\"kms:*\"",
        ",\"Condition\":{\"StringEquals\":{\"kms:ViaService\":\"ec2.us-east-1.amazonaws.com\"}}");
    assertFalse(key(viaEc2, req(ALICE, "kms:Decrypt", Map.of())).directAllow());
    String direct = stmt("Allow", "\"*\"", "\"kms:*\"",
        ",\"Condition\":{\"Null\":{\"kms:ViaService\":\"true\",\"aws:SourceArn\":\"true\"}}");
    assertTrue(key(direct, req(ALICE, "kms:Decrypt", Map.of())).directAllow());
    String fromBucket = stmt("Allow", "\"*\"", "\"kms:*\"",
        ",\"Condition\":{\"ArnLike\":{\"aws:SourceArn\":\"arn:aws:s3:::bucket\"}}");
    assertFalse(key(fromBucket, req(ALICE, "kms:Decrypt", Map.of())).directAllow());
  }
}
