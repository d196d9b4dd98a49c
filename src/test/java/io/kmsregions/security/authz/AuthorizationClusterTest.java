package io.kmsregions.security.authz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.kmsregions.testkit.TestCluster;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.kms.KmsClient;
import software.amazon.awssdk.services.kms.model.GrantOperation;
import software.amazon.awssdk.services.kms.model.KeyState;
import software.amazon.awssdk.services.kms.model.KmsException;

/**
 * Authorisation on a real two-Region cluster in {@code sigv4} mode with the AWS SDK for Java v2
 * (issue 7 "Authorisation"): key policies, identity policies from {@code conf} and grants, for
 * every operation family; explicit deny; an encryption-context condition; a grant used through its
 * token; grant constraints; the lockout check; and a refused call changing nothing.
 *
 * <p>Principals: {@code admin} (no identity policy: administrator-like), {@code bob} (identity
 * policy allowing kms:Describe*, kms:List* and kms:GetKeyPolicy only) and {@code carol} (an
 * identity policy allowing nothing: she can act only where a key policy names her or a grant lets
 * her).
 */
class AuthorizationClusterTest {
  static final String US = "us-east-1";
  static final String EU = "eu-west-1";
  static final String ACCOUNT = "111122223333";
  static final String BOB = "arn:aws:iam::" + ACCOUNT + ":user/bob";
  static final String CAROL = "arn:aws:iam::" + ACCOUNT + ":user/carol";
  static final String ROOT = "arn:aws:iam::" + ACCOUNT + ":root";

  @TempDir static Path dataDir;
  static TestCluster cluster;

  @BeforeAll
  static void start() {
    cluster = TestCluster.start(dataDir, List.of(US, EU), ConfigFactory.parseString(String.join("\n",
        "kms.auth.mode = sigv4",
        "kms.auth.credentials = [",
        "  { access-key-id = AKIDADMIN, secret-access-key = admin-secret, principal-arn = \"arn:aws:iam::111122223333:user/admin\" }",
        "  { access-key-id = AKIDBOB, secret-access-key = bob-secret, principal-arn = \"" + BOB + "\",",
        "    identity-policy = \"\"\"{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",",
        "      \"Action\":[\"kms:Describe*\",\"kms:List*\",\"kms:GetKeyPolicy\"],\"Resource\":\"*\"}]}\"\"\" }",
        "  { access-key-id = AKIDCAROL, secret-access-key = carol-secret, principal-arn = \"" + CAROL + "\",",
        "    identity-policy = \"\"\"{\"Version\":\"2012-10-17\",\"Statement\":[]}\"\"\" }",
        "]")));
  }

  @AfterAll
  static void stop() {
    if (cluster != null) cluster.close();
  }

  static KmsClient client(String region, String akid, String secret) {
    return KmsClient.builder()
        .endpointOverride(cluster.endpoint(region))
        .region(Region.of(region))
        .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(akid, secret)))
        .httpClient(UrlConnectionHttpClient.create())
        .overrideConfiguration(c -> c.retryStrategy(AwsRetryStrategy.doNotRetry()))
        .build();
  }

  static KmsClient admin(String region) {
    return client(region, "AKIDADMIN", "admin-secret");
  }

  static KmsClient bob(String region) {
    return client(region, "AKIDBOB", "bob-secret");
  }

  static KmsClient carol(String region) {
    return client(region, "AKIDCAROL", "carol-secret");
  }

  /** The call is refused with AccessDeniedException naming the principal, the action and the resource. */
  static KmsException denied(String principal, String action, String resource, Executable call) {
    KmsException e = assertThrows(KmsException.class, call);
    assertEquals("AccessDeniedException", e.awsErrorDetails().errorCode(), e.getMessage());
    assertEquals(400, e.statusCode());
    String message = e.awsErrorDetails().errorMessage();
    assertTrue(message.startsWith("User: " + principal + " is not authorized to perform: " + action
        + " on resource: " + resource), message);
    return e;
  }

  static String newKey(KmsClient kms) {
    return kms.createKey(b -> {}).keyMetadata().arn();
  }

  static SdkBytes bytes(String s) {
    return SdkBytes.fromString(s, StandardCharsets.UTF_8);
  }

  static String policy(String... statements) {
    return "{\"Version\":\"2012-10-17\",\"Statement\":[" + String.join(",", statements) + "]}";
  }

  static final String ACCOUNT_ADMIN = "{\"Sid\":\"Enable IAM User Permissions\",\"Effect\":\"Allow\","
      + "\"Principal\":{\"AWS\":\"" + ROOT + "\"},\"Action\":\"kms:*\",\"Resource\":\"*\"}";

  @Test
  void cryptographicOperations() {
    String key = newKey(admin(US));
    SdkBytes blob = admin(US).encrypt(b -> b.keyId(key).plaintext(bytes("hi"))).ciphertextBlob();
    assertEquals("hi", admin(US).decrypt(b -> b.ciphertextBlob(blob)).plaintext().asUtf8String());
    // bob's identity policy does not allow encryption; the default key policy delegates to it.
    denied(BOB, "kms:Encrypt", key, () -> bob(US).encrypt(b -> b.keyId(key).plaintext(bytes("hi"))));
    // Decrypt without KeyId: the key comes from the ciphertext.
    denied(BOB, "kms:Decrypt", key, () -> bob(US).decrypt(b -> b.ciphertextBlob(blob)));
    KmsException e = denied(CAROL, "kms:GenerateDataKey", key,
        () -> carol(US).generateDataKey(b -> b.keyId(key).numberOfBytes(32)));
    assertTrue(e.awsErrorDetails().errorMessage().endsWith("kms:GenerateDataKey action"));
    // ReEncrypt is authorised as kms:ReEncryptFrom on the source.
    denied(BOB, "kms:ReEncryptFrom", key, () -> bob(US).reEncrypt(b -> b.ciphertextBlob(blob).destinationKeyId(key)));
    assertNotNull(admin(US).reEncrypt(b -> b.ciphertextBlob(blob).destinationKeyId(key)).ciphertextBlob());
  }

  @Test
  void managementOperationsAndRefusedCallsChangeNothing() {
    String key = newKey(admin(US));
    assertEquals(KeyState.ENABLED, bob(US).describeKey(b -> b.keyId(key)).keyMetadata().keyState());
    String before = bob(US).getKeyPolicy(b -> b.keyId(key)).policy();
    denied(BOB, "kms:DisableKey", key, () -> bob(US).disableKey(b -> b.keyId(key)));
    denied(BOB, "kms:ScheduleKeyDeletion", key, () -> bob(US).scheduleKeyDeletion(b -> b.keyId(key)));
    denied(BOB, "kms:PutKeyPolicy", key, () -> bob(US).putKeyPolicy(b -> b.keyId(key).policy(policy(
        "{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"kms:*\",\"Resource\":\"*\"}"))));
    denied(BOB, "kms:TagResource", key, () -> bob(US).tagResource(b -> b.keyId(key).tags(t -> t.tagKey("a").tagValue("b"))));
    assertEquals(KeyState.ENABLED, admin(US).describeKey(b -> b.keyId(key)).keyMetadata().keyState());
    assertEquals(before, admin(US).getKeyPolicy(b -> b.keyId(key)).policy());
    assertTrue(admin(US).listResourceTags(b -> b.keyId(key)).tags().isEmpty());
    admin(US).disableKey(b -> b.keyId(key));
    assertEquals(KeyState.DISABLED, bob(US).describeKey(b -> b.keyId(key)).keyMetadata().keyState());
    // Operations without a key resource: the identity policy alone.
    assertNotNull(bob(US).listKeys(b -> {}).keys());
    denied(BOB, "kms:CreateKey", "*", () -> bob(US).createKey(b -> {}));
    denied(CAROL, "kms:ListKeys", "*", () -> carol(US).listKeys(b -> {}));
    denied(CAROL, "kms:GenerateRandom", "*", () -> carol(US).generateRandom(b -> b.numberOfBytes(8)));
  }

  @Test
  void multiRegionOperationsEachRegionItsOwnPolicy() throws Exception {
    String primary = admin(US).createKey(b -> b.multiRegion(true)).keyMetadata().arn();
    String keyId = primary.substring(primary.lastIndexOf('/') + 1);
    denied(BOB, "kms:ReplicateKey", primary, () -> bob(US).replicateKey(b -> b.keyId(primary).replicaRegion(EU)));
    String replica = admin(US).replicateKey(b -> b.keyId(primary).replicaRegion(EU)).replicaKeyMetadata().arn();
    // The replica's own policy, in EU, lets carol encrypt there; the primary's, in US, does not.
    String carolEncrypts = "{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"" + CAROL + "\"},"
        + "\"Action\":[\"kms:Encrypt\",\"kms:DescribeKey\"],\"Resource\":\"*\"}";
    awaitReplica(keyId);
    admin(EU).putKeyPolicy(b -> b.keyId(replica).policy(policy(ACCOUNT_ADMIN, carolEncrypts)));
    assertNotNull(carol(EU).encrypt(b -> b.keyId(replica).plaintext(bytes("eu"))).ciphertextBlob());
    denied(CAROL, "kms:Encrypt", primary, () -> carol(US).encrypt(b -> b.keyId(primary).plaintext(bytes("us"))));
    denied(CAROL, "kms:UpdatePrimaryRegion", replica,
        () -> carol(EU).updatePrimaryRegion(b -> b.keyId(replica).primaryRegion(EU)));
    denied(BOB, "kms:UpdatePrimaryRegion", primary,
        () -> bob(US).updatePrimaryRegion(b -> b.keyId(primary).primaryRegion(EU)));
    assertEquals("PRIMARY", admin(US).describeKey(b -> b.keyId(primary)).keyMetadata()
        .multiRegionConfiguration().multiRegionKeyTypeAsString());
  }

  static void awaitReplica(String keyId) throws InterruptedException {
    for (int i = 0; i < 100; i++) {
      try {
        admin(EU).describeKey(b -> b.keyId(keyId));
        return;
      } catch (KmsException e) {
        Thread.sleep(100);
      }
    }
  }

  @Test
  void aliasesAndGrants() {
    String key = newKey(admin(US));
    denied(BOB, "kms:CreateAlias", key, () -> bob(US).createAlias(b -> b.aliasName("alias/bobs").targetKeyId(key)));
    admin(US).createAlias(b -> b.aliasName("alias/authz-admin").targetKeyId(key));
    denied(BOB, "kms:DeleteAlias", key, () -> bob(US).deleteAlias(b -> b.aliasName("alias/authz-admin")));
    assertTrue(bob(US).listAliases(b -> {}).aliases().stream().anyMatch(a -> a.aliasName().equals("alias/authz-admin")));
    denied(CAROL, "kms:ListAliases", "*", () -> carol(US).listAliases(b -> {}));
    denied(BOB, "kms:CreateGrant", key, () -> bob(US).createGrant(b -> b.keyId(key).granteePrincipal(BOB)
        .operations(GrantOperation.ENCRYPT)));
    assertTrue(bob(US).listGrants(b -> b.keyId(key)).grants().isEmpty());
    String grantId = admin(US).createGrant(b -> b.keyId(key).granteePrincipal(BOB).operations(GrantOperation.ENCRYPT))
        .grantId();
    denied(BOB, "kms:RevokeGrant", key, () -> bob(US).revokeGrant(b -> b.keyId(key).grantId(grantId)));
    assertEquals(1, bob(US).listGrants(b -> b.keyId(key)).grants().size());
    // Through an alias, the key's policy still decides (the grant lets bob encrypt).
    assertNotNull(bob(US).encrypt(b -> b.keyId("alias/authz-admin").plaintext(bytes("x"))).ciphertextBlob());
    admin(US).revokeGrant(b -> b.keyId(key).grantId(grantId));
  }

  @Test
  void explicitDenyBeatsAllow() {
    String key = newKey(admin(US));
    String denyDecrypt = "{\"Effect\":\"Deny\",\"Principal\":{\"AWS\":\"arn:aws:iam::111122223333:user/admin\"},"
        + "\"Action\":\"kms:Decrypt\",\"Resource\":\"*\"}";
    admin(US).putKeyPolicy(b -> b.keyId(key).policy(policy(ACCOUNT_ADMIN, denyDecrypt)));
    SdkBytes blob = admin(US).encrypt(b -> b.keyId(key).plaintext(bytes("x"))).ciphertextBlob();
    KmsException e = denied("arn:aws:iam::111122223333:user/admin", "kms:Decrypt", key,
        () -> admin(US).decrypt(b -> b.ciphertextBlob(blob)));
    assertTrue(e.awsErrorDetails().errorMessage().endsWith("with an explicit deny in a resource-based policy"));
  }

  @Test
  void encryptionContextCondition() {
    String key = newKey(admin(US));
    String carolFinance = "{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"" + CAROL + "\"},"
        + "\"Action\":[\"kms:Encrypt\",\"kms:Decrypt\"],\"Resource\":\"*\","
        + "\"Condition\":{\"StringEquals\":{\"kms:EncryptionContext:Dept\":\"Finance\"}}}";
    admin(US).putKeyPolicy(b -> b.keyId(key).policy(policy(ACCOUNT_ADMIN, carolFinance)));
    SdkBytes blob = carol(US).encrypt(b -> b.keyId(key).plaintext(bytes("x")).encryptionContext(Map.of("Dept", "Finance")))
        .ciphertextBlob();
    assertEquals("x", carol(US).decrypt(b -> b.ciphertextBlob(blob).encryptionContext(Map.of("Dept", "Finance")))
        .plaintext().asUtf8String());
    denied(CAROL, "kms:Encrypt", key, () -> carol(US).encrypt(b -> b.keyId(key).plaintext(bytes("x"))));
    denied(CAROL, "kms:Encrypt", key, () -> carol(US).encrypt(b -> b.keyId(key).plaintext(bytes("x"))
        .encryptionContext(Map.of("Dept", "HR"))));
  }

  @Test
  void grantUsedThroughItsTokenAndItsConstraints() {
    String key = newKey(admin(US));
    denied(CAROL, "kms:Encrypt", key, () -> carol(US).encrypt(b -> b.keyId(key).plaintext(bytes("x"))
        .encryptionContext(Map.of("Project", "apollo"))));
    var grant = admin(US).createGrant(b -> b.keyId(key).granteePrincipal(CAROL)
        .operations(GrantOperation.ENCRYPT, GrantOperation.DECRYPT, GrantOperation.DESCRIBE_KEY)
        .constraints(c -> c.encryptionContextSubset(Map.of("Project", "apollo"))));
    String token = grant.grantToken();
    SdkBytes blob = carol(US).encrypt(b -> b.keyId(key).plaintext(bytes("x")).grantTokens(token)
        .encryptionContext(Map.of("Project", "apollo", "Stage", "1"))).ciphertextBlob();
    assertEquals("x", carol(US).decrypt(b -> b.ciphertextBlob(blob).grantTokens(token)
        .encryptionContext(Map.of("Project", "apollo", "Stage", "1"))).plaintext().asUtf8String());
    assertEquals(key, carol(US).describeKey(b -> b.keyId(key).grantTokens(token)).keyMetadata().arn());
    // The constraint refuses another context; operations the grant lacks stay refused.
    denied(CAROL, "kms:Encrypt", key, () -> carol(US).encrypt(b -> b.keyId(key).plaintext(bytes("x")).grantTokens(token)
        .encryptionContext(Map.of("Project", "gemini"))));
    denied(CAROL, "kms:GenerateDataKey", key, () -> carol(US).generateDataKey(b -> b.keyId(key).numberOfBytes(16)
        .grantTokens(token).encryptionContext(Map.of("Project", "apollo"))));
    // Once revoked, the grant allows nothing.
    admin(US).revokeGrant(b -> b.keyId(key).grantId(grant.grantId()));
    denied(CAROL, "kms:DescribeKey", key, () -> carol(US).describeKey(b -> b.keyId(key)));
  }

  @Test
  void onlyTheRetiringPrincipalOrTheKeyPolicyRetiresAGrant() {
    String key = newKey(admin(US));
    var grant = admin(US).createGrant(b -> b.keyId(key).granteePrincipal(CAROL).retiringPrincipal(BOB)
        .operations(GrantOperation.ENCRYPT));
    // carol holds the grant, but it does not give RetireGrant and the key policy does not name her.
    denied(CAROL, "kms:RetireGrant", key, () -> carol(US).retireGrant(b -> b.grantToken(grant.grantToken())));
    assertEquals(1, admin(US).listGrants(b -> b.keyId(key)).grants().size());
    // bob, its retiring principal, may, although his identity policy allows no RetireGrant.
    bob(US).retireGrant(b -> b.grantToken(grant.grantToken()));
    assertTrue(admin(US).listGrants(b -> b.keyId(key)).grants().isEmpty());
  }

  @Test
  void lockoutSafetyCheck() {
    String key = newKey(admin(US));
    String carolOnly = policy("{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"" + CAROL + "\"},\"Action\":\"kms:*\",\"Resource\":\"*\"}");
    KmsException e = assertThrows(KmsException.class, () -> admin(US).putKeyPolicy(b -> b.keyId(key).policy(carolOnly)));
    assertEquals("MalformedPolicyDocumentException", e.awsErrorDetails().errorCode());
    assertEquals("The new key policy will not allow you to update the key policy in the future.",
        e.awsErrorDetails().errorMessage());
    e = assertThrows(KmsException.class, () -> admin(US).createKey(b -> b.policy(carolOnly)));
    assertEquals("MalformedPolicyDocumentException", e.awsErrorDetails().errorCode());
    // ReplicateKey checks the replica's policy the same way, and then creates no replica.
    String mrk = admin(US).createKey(b -> b.multiRegion(true)).keyMetadata().keyId();
    e = assertThrows(KmsException.class, () -> admin(US).replicateKey(b -> b.keyId(mrk).replicaRegion(EU).policy(carolOnly)));
    assertEquals("MalformedPolicyDocumentException", e.awsErrorDetails().errorCode());
    assertTrue(admin(US).describeKey(b -> b.keyId(mrk)).keyMetadata().multiRegionConfiguration().replicaKeys().isEmpty());
    admin(US).replicateKey(b -> b.keyId(mrk).replicaRegion(EU).policy(carolOnly).bypassPolicyLockoutSafetyCheck(true));
    // A policy that still lets the caller (through the account) put policies passes.
    admin(US).putKeyPolicy(b -> b.keyId(key).policy(policy(ACCOUNT_ADMIN)));
    // Bypassed, the caller locks itself out; carol, named in the new policy, now holds the key.
    admin(US).putKeyPolicy(b -> b.keyId(key).policy(carolOnly).bypassPolicyLockoutSafetyCheck(true));
    denied("arn:aws:iam::111122223333:user/admin", "kms:GetKeyPolicy", key, () -> admin(US).getKeyPolicy(b -> b.keyId(key)));
    assertEquals(carolOnly, carol(US).getKeyPolicy(b -> b.keyId(key)).policy());
  }
}
