package io.kmsregions.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.typesafe.config.ConfigFactory;
import io.kmsregions.alias.KeyBackdoor;
import io.kmsregions.key.KeyState;
import io.kmsregions.testkit.TestCluster;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.services.kms.KmsClient;
import software.amazon.awssdk.services.kms.model.CreateGrantRequest;
import software.amazon.awssdk.services.kms.model.CreateGrantResponse;
import software.amazon.awssdk.services.kms.model.GrantListEntry;
import software.amazon.awssdk.services.kms.model.GrantOperation;
import software.amazon.awssdk.services.kms.model.KeySpec;
import software.amazon.awssdk.services.kms.model.KeyUsageType;
import software.amazon.awssdk.services.kms.model.KmsException;
import software.amazon.awssdk.services.kms.model.ListGrantsResponse;

/**
 * Grants over a real three-Region cluster, driven by the AWS SDK for Java v2 (kms-api.md §2
 * "Grants", §6, §8): create, list, retire, revoke; idempotence by name; ListRetirableGrants across
 * keys; operations that must fit the key type; constraints; the key-state table; DryRun; every
 * error case (each also checks that the grants of the Region did not change); grants being
 * independent per Region even for a multi-Region key; durability across a node restart.
 */
class GrantApiTest {
  private static final String US = "us-east-1";
  private static final String EU = "eu-west-1";
  private static final String AP = "ap-southeast-2";
  private static final String ACCOUNT = "111122223333";
  private static final String ROLE = "arn:aws:iam::" + ACCOUNT + ":role/grantee";
  private static final String RETIRER = "arn:aws:iam::" + ACCOUNT + ":role/retirer";
  /** A small quota of grants per key for this cluster, so that reaching it takes a few calls. */
  private static final int GRANTS_PER_KEY_HERE = 12;
  private static final String DRY_RUN_MESSAGE = "The request would have succeeded, but the DryRun option is set.";

  @TempDir static Path dataDir;
  private static TestCluster cluster;
  private static final Map<String, KmsClient> clients = new HashMap<>();
  /** A symmetric key of us-east-1, created once. */
  private static String usKey;

  @BeforeAll
  static void startCluster() {
    cluster = TestCluster.start(dataDir, TestCluster.DEFAULT_REGIONS,
        ConfigFactory.parseString("kms.quotas.grants-per-key = " + GRANTS_PER_KEY_HERE));
    usKey = createKey(US, KeySpec.SYMMETRIC_DEFAULT, null);
  }

  @AfterAll
  static void stopCluster() {
    clients.values().forEach(KmsClient::close);
    if (cluster != null) cluster.close();
  }

  // ------------------------------------------------------------------ the operations

  @Test
  void createListRetireAndRevoke() {
    String key = createKey(US, KeySpec.SYMMETRIC_DEFAULT, null);
    Instant before = Instant.now().minusSeconds(2);
    CreateGrantResponse created = kms(US).createGrant(b -> b.keyId(key).granteePrincipal(ROLE)
        .retiringPrincipal(RETIRER).name("first")
        .operations(GrantOperation.ENCRYPT, GrantOperation.DECRYPT, GrantOperation.DESCRIBE_KEY)
        .constraints(c -> c.encryptionContextSubset(Map.of("tenant", "t-1"))));
    Instant after = Instant.now().plusSeconds(2);
    assertTrue(created.grantId().matches("[0-9a-f]{64}"), created.grantId());
    assertFalse(created.grantToken().isBlank());

    List<GrantListEntry> grants = listAll(US, key);
    assertEquals(1, grants.size());
    GrantListEntry g = grants.get(0);
    assertEquals(keyArn(US, key), g.keyId(), "GrantListEntry.KeyId is the key ARN");
    assertEquals(created.grantId(), g.grantId());
    assertEquals("first", g.name());
    assertEquals(ROLE, g.granteePrincipal());
    assertEquals(RETIRER, g.retiringPrincipal());
    assertNull(g.granteeServicePrincipal());
    assertEquals("arn:aws:iam::" + ACCOUNT + ":root", g.issuingAccount());
    assertEquals(List.of(GrantOperation.ENCRYPT, GrantOperation.DECRYPT, GrantOperation.DESCRIBE_KEY), g.operations());
    assertEquals(Map.of("tenant", "t-1"), g.constraints().encryptionContextSubset());
    assertFalse(g.constraints().hasEncryptionContextEquals());
    assertTrue(!g.creationDate().isBefore(before) && !g.creationDate().isAfter(after), g.toString());
    // The key ARN names the key too.
    assertEquals(grants, listAll(US, keyArn(US, key)));

    CreateGrantResponse second = kms(US).createGrant(b -> b.keyId(keyArn(US, key)).granteePrincipal(RETIRER)
        .operations(GrantOperation.GENERATE_DATA_KEY));
    CreateGrantResponse third = kms(US).createGrant(b -> b.keyId(key).granteePrincipal(ROLE)
        .operations(GrantOperation.RETIRE_GRANT));
    assertEquals(List.of(created.grantId(), second.grantId(), third.grantId()), ids(listAll(US, key)),
        "grants are listed in creation order");
    assertNull(listAll(US, key).get(1).name(), "no Name when none was given");

    // Filters.
    assertEquals(List.of(second.grantId()),
        ids(kms(US).listGrants(b -> b.keyId(key).grantId(second.grantId())).grants()));
    assertEquals(List.of(created.grantId(), third.grantId()),
        ids(kms(US).listGrants(b -> b.keyId(key).granteePrincipal(ROLE)).grants()));
    assertTrue(kms(US).listGrants(b -> b.keyId(key).granteePrincipal("arn:aws:iam::1:role/none")).grants().isEmpty());

    kms(US).retireGrant(b -> b.grantToken(created.grantToken()));
    assertEquals(List.of(second.grantId(), third.grantId()), ids(listAll(US, key)));
    kms(US).retireGrant(b -> b.keyId(keyArn(US, key)).grantId(second.grantId()));
    assertEquals(List.of(third.grantId()), ids(listAll(US, key)));
    kms(US).revokeGrant(b -> b.keyId(key).grantId(third.grantId()));
    assertTrue(listAll(US, key).isEmpty());
  }

  @Test
  void aNameMakesRetriesIdempotent() {
    String key = createKey(US, KeySpec.SYMMETRIC_DEFAULT, null);
    Consumer<CreateGrantRequest.Builder> request = b -> b.keyId(key).granteePrincipal(ROLE).name("retry-me")
        .operations(GrantOperation.ENCRYPT, GrantOperation.DECRYPT);
    CreateGrantResponse first = kms(US).createGrant(request);
    CreateGrantResponse retry = kms(US).createGrant(request);
    CreateGrantResponse reordered = kms(US).createGrant(b -> b.keyId(keyArn(US, key)).granteePrincipal(ROLE)
        .name("retry-me").operations(GrantOperation.DECRYPT, GrantOperation.ENCRYPT));
    assertEquals(first.grantId(), retry.grantId(), "the same Name and parameters: the same grant");
    assertEquals(first.grantId(), reordered.grantId(), "operations are a set");
    assertNotEquals(first.grantToken(), retry.grantToken(), "every CreateGrant returns a new token");
    assertEquals(1, listAll(US, key).size());

    CreateGrantResponse otherOps = kms(US).createGrant(b -> b.keyId(key).granteePrincipal(ROLE).name("retry-me")
        .operations(GrantOperation.ENCRYPT));
    CreateGrantResponse otherGrantee = kms(US).createGrant(b -> b.keyId(key).granteePrincipal(RETIRER)
        .name("retry-me").operations(GrantOperation.ENCRYPT, GrantOperation.DECRYPT));
    assertNotEquals(first.grantId(), otherOps.grantId(), "other parameters: a new grant");
    assertNotEquals(first.grantId(), otherGrantee.grantId());
    Consumer<CreateGrantRequest.Builder> unnamed = b -> b.keyId(key).granteePrincipal(ROLE)
        .operations(GrantOperation.ENCRYPT);
    assertNotEquals(kms(US).createGrant(unnamed).grantId(), kms(US).createGrant(unnamed).grantId(),
        "without a Name every CreateGrant makes a new grant");
    assertEquals(5, listAll(US, key).size());

    // Every token of a grant identifies it: retire with the retry's token, then the first one is spent.
    kms(US).retireGrant(b -> b.grantToken(retry.grantToken()));
    assertFalse(ids(listAll(US, key)).contains(first.grantId()));
    refused(US, key, "NotFoundException", null, () -> kms(US).retireGrant(b -> b.grantToken(first.grantToken())));
    // After the retirement, the same request creates a new grant.
    assertNotEquals(first.grantId(), kms(US).createGrant(request).grantId());
  }

  @Test
  void listRetirableGrantsSpansTheKeysOfTheRegion() {
    String retirer = "arn:aws:iam::" + ACCOUNT + ":role/retirer-" + UUID.randomUUID().toString().substring(0, 8);
    String a = createKey(US, KeySpec.SYMMETRIC_DEFAULT, null);
    String b = createKey(US, KeySpec.HMAC_256, KeyUsageType.GENERATE_VERIFY_MAC);
    String ga = kms(US).createGrant(r -> r.keyId(a).granteePrincipal(ROLE).retiringPrincipal(retirer)
        .operations(GrantOperation.ENCRYPT)).grantId();
    String gb = kms(US).createGrant(r -> r.keyId(b).granteePrincipal(ROLE).retiringPrincipal(retirer)
        .operations(GrantOperation.GENERATE_MAC)).grantId();
    kms(US).createGrant(r -> r.keyId(a).granteePrincipal(ROLE).retiringPrincipal(RETIRER)
        .operations(GrantOperation.DECRYPT));
    kms(US).createGrant(r -> r.keyId(b).granteePrincipal(retirer).operations(GrantOperation.VERIFY_MAC));

    List<GrantListEntry> retirable = listRetirable(US, retirer, 1);
    assertEquals(List.of(ga, gb), ids(retirable), "one page of 1 at a time, across both keys");
    assertEquals(Set.of(keyArn(US, a), keyArn(US, b)),
        retirable.stream().map(GrantListEntry::keyId).collect(Collectors.toSet()));
    assertTrue(retirable.stream().allMatch(g -> retirer.equals(g.retiringPrincipal())));
    assertTrue(listRetirable(US, "arn:aws:iam::" + ACCOUNT + ":role/nobody", 50).isEmpty());

    kms(US).retireGrant(r -> r.keyId(b).grantId(gb));
    assertEquals(List.of(ga), ids(listRetirable(US, retirer, 50)));
  }

  @Test
  void servicePrincipalsAreStoredAndListed() {
    String key = createKey(US, KeySpec.SYMMETRIC_DEFAULT, null);
    String grantId = kms(US).createGrant(b -> b.keyId(key).granteeServicePrincipal("rds.amazonaws.com")
        .retiringServicePrincipal("rds.amazonaws.com").operations(GrantOperation.DECRYPT)).grantId();
    GrantListEntry g = listAll(US, key).get(0);
    assertEquals(grantId, g.grantId());
    assertEquals("rds.amazonaws.com", g.granteeServicePrincipal());
    assertEquals("rds.amazonaws.com", g.retiringServicePrincipal());
    assertNull(g.granteePrincipal());
    assertEquals(List.of(grantId), ids(kms(US).listRetirableGrants(b -> b.retiringServicePrincipal("rds.amazonaws.com")).grants()));
    assertEquals(List.of(grantId), ids(kms(US).listGrants(b -> b.keyId(key).granteeServicePrincipal("rds.amazonaws.com")).grants()));
  }

  @Test
  void listGrantsPagesWithMarkers() {
    String key = createKey(US, KeySpec.SYMMETRIC_DEFAULT, null);
    List<String> created = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      created.add(kms(US).createGrant(b -> b.keyId(key).granteePrincipal(ROLE).operations(GrantOperation.ENCRYPT))
          .grantId());
    }
    List<Integer> sizes = new ArrayList<>();
    List<String> seen = new ArrayList<>();
    String marker = null;
    do {
      final String m = marker;
      ListGrantsResponse page = kms(US).listGrants(b -> b.keyId(key).limit(2).marker(m));
      sizes.add(page.grants().size());
      seen.addAll(ids(page.grants()));
      if (page.truncated()) {
        assertNotNull(page.nextMarker());
      } else {
        assertNull(page.nextMarker());
      }
      marker = page.truncated() ? page.nextMarker() : null;
    } while (marker != null);
    assertEquals(List.of(2, 2, 1), sizes);
    assertEquals(created, seen);
    ListGrantsResponse all = kms(US).listGrants(b -> b.keyId(key));
    assertEquals(5, all.grants().size());
    assertFalse(all.truncated());
  }

  // ------------------------------------------------------------------ operations must fit the key

  @Test
  void operationsMustFitTheKeyType() {
    String symmetric = usKey;
    String rsaSign = createKey(US, KeySpec.RSA_2048, KeyUsageType.SIGN_VERIFY);
    String rsaEncrypt = createKey(US, KeySpec.RSA_2048, KeyUsageType.ENCRYPT_DECRYPT);
    String hmac = createKey(US, KeySpec.HMAC_256, KeyUsageType.GENERATE_VERIFY_MAC);
    String agreement = createKey(US, KeySpec.ECC_NIST_P256, KeyUsageType.KEY_AGREEMENT);
    Map<String, List<GrantOperation>> fit = Map.of(
        symmetric, List.of(GrantOperation.ENCRYPT, GrantOperation.DECRYPT, GrantOperation.RE_ENCRYPT_FROM,
            GrantOperation.RE_ENCRYPT_TO, GrantOperation.GENERATE_DATA_KEY,
            GrantOperation.GENERATE_DATA_KEY_WITHOUT_PLAINTEXT, GrantOperation.GENERATE_DATA_KEY_PAIR,
            GrantOperation.GENERATE_DATA_KEY_PAIR_WITHOUT_PLAINTEXT, GrantOperation.DESCRIBE_KEY,
            GrantOperation.CREATE_GRANT, GrantOperation.RETIRE_GRANT),
        rsaSign, List.of(GrantOperation.SIGN, GrantOperation.VERIFY, GrantOperation.GET_PUBLIC_KEY,
            GrantOperation.DESCRIBE_KEY, GrantOperation.CREATE_GRANT, GrantOperation.RETIRE_GRANT),
        rsaEncrypt, List.of(GrantOperation.ENCRYPT, GrantOperation.DECRYPT, GrantOperation.RE_ENCRYPT_FROM,
            GrantOperation.RE_ENCRYPT_TO, GrantOperation.GET_PUBLIC_KEY, GrantOperation.DESCRIBE_KEY),
        hmac, List.of(GrantOperation.GENERATE_MAC, GrantOperation.VERIFY_MAC, GrantOperation.DESCRIBE_KEY),
        agreement, List.of(GrantOperation.DERIVE_SHARED_SECRET, GrantOperation.GET_PUBLIC_KEY,
            GrantOperation.DESCRIBE_KEY));
    Map<String, List<GrantOperation>> misfit = Map.of(
        symmetric, List.of(GrantOperation.SIGN, GrantOperation.VERIFY, GrantOperation.GET_PUBLIC_KEY,
            GrantOperation.GENERATE_MAC, GrantOperation.DERIVE_SHARED_SECRET, GrantOperation.ENCAPSULATE),
        rsaSign, List.of(GrantOperation.ENCRYPT, GrantOperation.GENERATE_DATA_KEY, GrantOperation.GENERATE_MAC,
            GrantOperation.DERIVE_SHARED_SECRET),
        rsaEncrypt, List.of(GrantOperation.SIGN, GrantOperation.GENERATE_DATA_KEY,
            GrantOperation.GENERATE_DATA_KEY_PAIR),
        hmac, List.of(GrantOperation.ENCRYPT, GrantOperation.SIGN, GrantOperation.GET_PUBLIC_KEY),
        agreement, List.of(GrantOperation.SIGN, GrantOperation.ENCRYPT, GrantOperation.DECAPSULATE));
    for (var e : fit.entrySet()) {
      String grantId = kms(US).createGrant(b -> b.keyId(e.getKey()).granteePrincipal(ROLE).operations(e.getValue()))
          .grantId();
      GrantListEntry g = kms(US).listGrants(b -> b.keyId(e.getKey()).grantId(grantId)).grants().get(0);
      assertEquals(e.getValue(), g.operations());
    }
    for (var e : misfit.entrySet()) {
      for (GrantOperation op : e.getValue()) {
        KmsException ex = refused(US, e.getKey(), "ValidationException", null, () -> kms(US).createGrant(b ->
            b.keyId(e.getKey()).granteePrincipal(ROLE).operations(GrantOperation.DESCRIBE_KEY, op)));
        assertTrue(ex.awsErrorDetails().errorMessage().contains(op.toString()), "names " + op + ": " + ex.getMessage());
      }
    }
  }

  @Test
  void operationsAreRequiredAndMustBeGrantOperations() {
    refused(US, usKey, "ValidationException", null,
        () -> kms(US).createGrant(b -> b.keyId(usKey).granteePrincipal(ROLE)));
    refused(US, usKey, "ValidationException", null,
        () -> kms(US).createGrant(b -> b.keyId(usKey).granteePrincipal(ROLE).operations(List.<GrantOperation>of())));
    KmsException e = refused(US, usKey, "ValidationException", null,
        () -> kms(US).createGrant(b -> b.keyId(usKey).granteePrincipal(ROLE).operationsWithStrings("Encrypt", "Teleport")));
    assertTrue(e.awsErrorDetails().errorMessage().contains("'operations'"), e.getMessage());
    assertTrue(e.awsErrorDetails().errorMessage().contains("Member must satisfy enum value set"), e.getMessage());
  }

  @Test
  void constraintsAreForSymmetricEncryptionKeysAndBounded() {
    String rsa = createKey(US, KeySpec.RSA_2048, KeyUsageType.SIGN_VERIFY);
    refused(US, rsa, "ValidationException", null, () -> kms(US).createGrant(b -> b.keyId(rsa).granteePrincipal(ROLE)
        .operations(GrantOperation.SIGN).constraints(c -> c.encryptionContextEquals(Map.of("a", "b")))));
    String hmac = createKey(US, KeySpec.HMAC_256, KeyUsageType.GENERATE_VERIFY_MAC);
    refused(US, hmac, "ValidationException", null, () -> kms(US).createGrant(b -> b.keyId(hmac).granteePrincipal(ROLE)
        .operations(GrantOperation.GENERATE_MAC).constraints(c -> c.encryptionContextSubset(Map.of("a", "b")))));

    String key = createKey(US, KeySpec.SYMMETRIC_DEFAULT, null);
    Map<String, String> nine = new HashMap<>();
    for (int i = 0; i < 9; i++) nine.put("k" + i, "v");
    refused(US, key, "ValidationException", null, () -> kms(US).createGrant(b -> b.keyId(key).granteePrincipal(ROLE)
        .operations(GrantOperation.DECRYPT).constraints(c -> c.encryptionContextSubset(nine))));
    refused(US, key, "ValidationException", null, () -> kms(US).createGrant(b -> b.keyId(key).granteePrincipal(ROLE)
        .operations(GrantOperation.DECRYPT).constraints(c -> c.encryptionContextEquals(Map.of("k", "v".repeat(385))))));
    // Control: 8 pairs and 384 characters are fine.
    nine.remove("k8");
    nine.put("k0", "v".repeat(384));
    kms(US).createGrant(b -> b.keyId(key).granteePrincipal(ROLE).operations(GrantOperation.DECRYPT)
        .constraints(c -> c.encryptionContextEquals(nine)));
    assertEquals(nine, listAll(US, key).get(0).constraints().encryptionContextEquals());
  }

  // ------------------------------------------------------------------ CreateGrant errors

  @Test
  void principalsMustBeGivenOnceAndWellFormed() {
    refused(US, usKey, "ValidationException", null,
        () -> kms(US).createGrant(b -> b.keyId(usKey).operations(GrantOperation.ENCRYPT)));
    refused(US, usKey, "ValidationException", null, () -> kms(US).createGrant(b -> b.keyId(usKey)
        .granteePrincipal(ROLE).granteeServicePrincipal("s3.amazonaws.com").operations(GrantOperation.ENCRYPT)));
    refused(US, usKey, "ValidationException", null, () -> kms(US).createGrant(b -> b.keyId(usKey)
        .granteePrincipal(ROLE).retiringPrincipal(RETIRER).retiringServicePrincipal("s3.amazonaws.com")
        .operations(GrantOperation.ENCRYPT)));
    KmsException pattern = refused(US, usKey, "ValidationException", null, () -> kms(US).createGrant(b -> b.keyId(usKey)
        .granteePrincipal("not a principal").operations(GrantOperation.ENCRYPT)));
    assertTrue(pattern.awsErrorDetails().errorMessage().contains("'granteePrincipal'"), pattern.getMessage());
    refused(US, usKey, "ValidationException", null, () -> kms(US).createGrant(b -> b.keyId(usKey)
        .granteePrincipal("r".repeat(257)).operations(GrantOperation.ENCRYPT)));
    refused(US, usKey, "ValidationException", null, () -> kms(US).createGrant(b -> b.keyId(usKey)
        .granteePrincipal(ROLE).name("bad name").operations(GrantOperation.ENCRYPT)));
    refused(US, usKey, "ValidationException", null, () -> kms(US).createGrant(b -> b.keyId(usKey)
        .granteePrincipal(ROLE).name("n".repeat(257)).operations(GrantOperation.ENCRYPT)));
  }

  @Test
  void createGrantTakesAKeyIdOrKeyArnOfThisRegion() {
    String name = "alias/grant-" + UUID.randomUUID().toString().substring(0, 8);
    kms(US).createAlias(b -> b.aliasName(name).targetKeyId(usKey));
    refused(US, usKey, "InvalidArnException", "Key Aliases are not supported for this operation.",
        () -> kms(US).createGrant(b -> b.keyId(name).granteePrincipal(ROLE).operations(GrantOperation.ENCRYPT)));
    refused(US, usKey, "InvalidArnException", "Key Aliases are not supported for this operation.",
        () -> kms(US).createGrant(b -> b.keyId("arn:aws:kms:" + US + ":" + ACCOUNT + ":" + name)
            .granteePrincipal(ROLE).operations(GrantOperation.ENCRYPT)));
    refused(US, usKey, "NotFoundException", "Invalid arn " + EU, () -> kms(US).createGrant(b -> b.keyId(keyArn(EU, usKey))
        .granteePrincipal(ROLE).operations(GrantOperation.ENCRYPT)));
    String unknown = UUID.randomUUID().toString();
    refused(US, usKey, "NotFoundException", "Key '" + keyArn(US, unknown) + "' does not exist",
        () -> kms(US).createGrant(b -> b.keyId(unknown).granteePrincipal(ROLE).operations(GrantOperation.ENCRYPT)));
    refused(US, usKey, "ValidationException", null,
        () -> kms(US).createGrant(b -> b.granteePrincipal(ROLE).operations(GrantOperation.ENCRYPT)));
  }

  @Test
  void createGrantFollowsTheKeyStateTable() {
    String disabled = createKey(US, KeySpec.SYMMETRIC_DEFAULT, null);
    CreateGrantResponse before = grant(US, disabled);
    kms(US).disableKey(b -> b.keyId(disabled));
    refused(US, disabled, "DisabledException", keyArn(US, disabled) + " is disabled.", () -> grant(US, disabled));
    String scheduled = createKey(US, KeySpec.SYMMETRIC_DEFAULT, null);
    kms(US).scheduleKeyDeletion(b -> b.keyId(scheduled).pendingWindowInDays(7));
    refused(US, scheduled, "KMSInvalidStateException", keyArn(US, scheduled) + " is pending deletion.",
        () -> grant(US, scheduled));
    // States the API cannot reach quickly are made directly (KeyBackdoor).
    for (KeyState state : List.of(KeyState.PendingReplicaDeletion)) {
      String key = KeyBackdoor.copyInState(cluster.node(US), usKey, state);
      refused(US, key, "KMSInvalidStateException", keyArn(US, key) + " is pending deletion.", () -> grant(US, key));
    }
    String creating = KeyBackdoor.copyInState(cluster.node(US), usKey, KeyState.Creating);
    refused(US, creating, "KMSInvalidStateException", keyArn(US, creating) + " is creating.", () -> grant(US, creating));
    String imported = kms(US).createKey(b -> b.origin("EXTERNAL")).keyMetadata().keyId();
    refused(US, imported, "KMSInvalidStateException", keyArn(US, imported) + " is pending import.",
        () -> grant(US, imported));
    for (KeyState state : List.of(KeyState.Updating, KeyState.Unavailable)) {
      String key = KeyBackdoor.copyInState(cluster.node(US), usKey, state);
      String grantId = grant(US, key).grantId();
      assertEquals(List.of(grantId), ids(listAll(US, key)), state.name());
    }
    // Listing, retiring and revoking work in every state (kms-api.md §6): on a disabled key, and on
    // one pending deletion.
    assertEquals(List.of(before.grantId()), ids(listAll(US, disabled)));
    kms(US).retireGrant(b -> b.grantToken(before.grantToken()));
    assertTrue(listAll(US, disabled).isEmpty());
    String pendingKey = createKey(US, KeySpec.SYMMETRIC_DEFAULT, null);
    CreateGrantResponse onPending = grant(US, pendingKey);
    CreateGrantResponse onPending2 = grant(US, pendingKey);
    kms(US).scheduleKeyDeletion(b -> b.keyId(pendingKey).pendingWindowInDays(7));
    assertEquals(List.of(onPending.grantId(), onPending2.grantId()), ids(listAll(US, pendingKey)));
    kms(US).revokeGrant(b -> b.keyId(pendingKey).grantId(onPending.grantId()));
    kms(US).retireGrant(b -> b.keyId(pendingKey).grantId(onPending2.grantId()));
    assertTrue(listAll(US, pendingKey).isEmpty());
  }

  @Test
  void aKeyHasAtMostItsQuotaOfGrants() {
    // This cluster's quota is GRANTS_PER_KEY_HERE (kms.quotas.grants-per-key); AWS's 50,000 is the default.
    String key = createKey(US, KeySpec.SYMMETRIC_DEFAULT, null);
    List<String> created = new ArrayList<>();
    for (int i = 0; i < GRANTS_PER_KEY_HERE; i++) created.add(grant(US, key).grantId());
    KmsException e = refused(US, key, "LimitExceededException", null, () -> grant(US, key));
    assertTrue(e.awsErrorDetails().errorMessage().contains(keyArn(US, key)), e.getMessage());
    // A named retry of an existing grant is no new grant, so it is still answered.
    Consumer<CreateGrantRequest.Builder> named = b -> b.keyId(key).granteePrincipal(ROLE).name("at-quota")
        .operations(GrantOperation.ENCRYPT);
    kms(US).revokeGrant(b -> b.keyId(key).grantId(created.get(0)));
    String namedId = kms(US).createGrant(named).grantId();
    assertEquals(namedId, kms(US).createGrant(named).grantId());
    // Other keys have their own quota.
    grant(US, createKey(US, KeySpec.SYMMETRIC_DEFAULT, null));
    assertEquals(GRANTS_PER_KEY_HERE, listAll(US, key).size());
  }

  @Test
  void dryRunsChangeNothing() {
    String key = createKey(US, KeySpec.SYMMETRIC_DEFAULT, null);
    refused(US, key, "DryRunOperationException", DRY_RUN_MESSAGE, () -> kms(US).createGrant(b -> b.keyId(key)
        .granteePrincipal(ROLE).operations(GrantOperation.ENCRYPT).dryRun(true)));
    // A dry run of a request that would fail fails as the request would.
    refused(US, key, "ValidationException", null, () -> kms(US).createGrant(b -> b.keyId(key)
        .granteePrincipal(ROLE).operations(GrantOperation.SIGN).dryRun(true)));
    CreateGrantResponse g = grant(US, key);
    refused(US, key, "DryRunOperationException", DRY_RUN_MESSAGE,
        () -> kms(US).retireGrant(b -> b.grantToken(g.grantToken()).dryRun(true)));
    refused(US, key, "DryRunOperationException", DRY_RUN_MESSAGE,
        () -> kms(US).revokeGrant(b -> b.keyId(key).grantId(g.grantId()).dryRun(true)));
    String unknown = "0".repeat(64);
    refused(US, key, "NotFoundException", null,
        () -> kms(US).revokeGrant(b -> b.keyId(key).grantId(unknown).dryRun(true)));
    assertEquals(List.of(g.grantId()), ids(listAll(US, key)));
  }

  // ------------------------------------------------------------------ RetireGrant, RevokeGrant, ListGrants errors

  @Test
  void retireGrantRefusesWhatIsNotAGrant() {
    String key = createKey(US, KeySpec.SYMMETRIC_DEFAULT, null);
    String other = createKey(US, KeySpec.SYMMETRIC_DEFAULT, null);
    CreateGrantResponse g = grant(US, key);
    refused(US, key, "ValidationException", "Grant token OR (grant ID, key ID) must be specified",
        () -> kms(US).retireGrant(b -> { }));
    refused(US, key, "ValidationException", "Grant token OR (grant ID, key ID) must be specified",
        () -> kms(US).retireGrant(b -> b.grantId(g.grantId())));
    refused(US, key, "InvalidGrantTokenException", null, () -> kms(US).retireGrant(b -> b.grantToken("not-a-token!")));
    byte[] token = Base64.getDecoder().decode(g.grantToken());
    token[token.length - 20] ^= 1; // still well-formed: names another grant id
    refused(US, key, "NotFoundException", null,
        () -> kms(US).retireGrant(b -> b.grantToken(Base64.getEncoder().encodeToString(token))));
    refused(US, key, "InvalidGrantTokenException", null,
        () -> kms(US).retireGrant(b -> b.grantToken(Base64.getEncoder().encodeToString(new byte[] {1, 2, 3}))));
    refused(US, key, "InvalidGrantIdException", null, () -> kms(US).retireGrant(b -> b.keyId(key).grantId("xyz")));
    refused(US, key, "NotFoundException", null, () -> kms(US).retireGrant(b -> b.keyId(key).grantId("a".repeat(64))));
    refused(US, key, "NotFoundException", null, () -> kms(US).retireGrant(b -> b.keyId(other).grantId(g.grantId())));
    refused(US, key, "NotFoundException", null, () -> kms(US).retireGrant(b -> b.grantToken(g.grantToken()).keyId(other)));
    String unknownKey = UUID.randomUUID().toString();
    refused(US, key, "NotFoundException", "Key '" + keyArn(US, unknownKey) + "' does not exist",
        () -> kms(US).retireGrant(b -> b.keyId(unknownKey).grantId(g.grantId())));
    // A token of another Region's grant.
    String euKey = createKey(EU, KeySpec.SYMMETRIC_DEFAULT, null);
    CreateGrantResponse euGrant = grant(EU, euKey);
    refused(US, key, "InvalidGrantTokenException", null, () -> kms(US).retireGrant(b -> b.grantToken(euGrant.grantToken())));
    assertEquals(List.of(g.grantId()), ids(listAll(US, key)));
    assertEquals(List.of(euGrant.grantId()), ids(listAll(EU, euKey)));
    // Control.
    kms(US).retireGrant(b -> b.grantToken(g.grantToken()));
    refused(US, key, "NotFoundException", null, () -> kms(US).retireGrant(b -> b.grantToken(g.grantToken())));
  }

  @Test
  void revokeGrantRefusesWhatIsNotAGrantOfTheKey() {
    String key = createKey(US, KeySpec.SYMMETRIC_DEFAULT, null);
    String other = createKey(US, KeySpec.SYMMETRIC_DEFAULT, null);
    CreateGrantResponse g = grant(US, key);
    refused(US, key, "ValidationException", null, () -> kms(US).revokeGrant(b -> b.keyId(key)));
    refused(US, key, "ValidationException", null, () -> kms(US).revokeGrant(b -> b.grantId(g.grantId())));
    refused(US, key, "InvalidGrantIdException", null, () -> kms(US).revokeGrant(b -> b.keyId(key).grantId("G1")));
    refused(US, key, "NotFoundException", null, () -> kms(US).revokeGrant(b -> b.keyId(key).grantId("b".repeat(64))));
    refused(US, key, "NotFoundException", null, () -> kms(US).revokeGrant(b -> b.keyId(other).grantId(g.grantId())));
    String unknownKey = UUID.randomUUID().toString();
    refused(US, key, "NotFoundException", "Key '" + keyArn(US, unknownKey) + "' does not exist",
        () -> kms(US).revokeGrant(b -> b.keyId(unknownKey).grantId(g.grantId())));
    String name = "alias/revoke-" + UUID.randomUUID().toString().substring(0, 8);
    kms(US).createAlias(b -> b.aliasName(name).targetKeyId(key));
    refused(US, key, "InvalidArnException", "Key Aliases are not supported for this operation.",
        () -> kms(US).revokeGrant(b -> b.keyId(name).grantId(g.grantId())));
    assertEquals(List.of(g.grantId()), ids(listAll(US, key)));
    kms(US).revokeGrant(b -> b.keyId(key).grantId(g.grantId()));
    refused(US, key, "NotFoundException", null, () -> kms(US).revokeGrant(b -> b.keyId(key).grantId(g.grantId())));
  }

  @Test
  void listGrantsRefusesBadParameters() {
    String key = createKey(US, KeySpec.SYMMETRIC_DEFAULT, null);
    grant(US, key);
    refused(US, key, "ValidationException", null, () -> kms(US).listGrants(b -> { }));
    String unknown = UUID.randomUUID().toString();
    refused(US, key, "NotFoundException", "Key '" + keyArn(US, unknown) + "' does not exist",
        () -> kms(US).listGrants(b -> b.keyId(unknown)));
    refused(US, key, "InvalidMarkerException", null, () -> kms(US).listGrants(b -> b.keyId(key).marker("nope")));
    refused(US, key, "ValidationException", null, () -> kms(US).listGrants(b -> b.keyId(key).limit(0)));
    refused(US, key, "ValidationException", null, () -> kms(US).listGrants(b -> b.keyId(key).limit(1001)));
    refused(US, key, "InvalidGrantIdException", null, () -> kms(US).listGrants(b -> b.keyId(key).grantId("nope")));
    refused(US, key, "ValidationException", null, () -> kms(US).listRetirableGrants(b -> { }));
    refused(US, key, "ValidationException", null,
        () -> kms(US).listRetirableGrants(b -> b.retiringPrincipal(RETIRER).retiringServicePrincipal("s3.amazonaws.com")));
    refused(US, key, "InvalidMarkerException", null,
        () -> kms(US).listRetirableGrants(b -> b.retiringPrincipal(RETIRER).marker("x")));
    // A well-formed GrantId that is no grant of the key lists nothing.
    assertTrue(kms(US).listGrants(b -> b.keyId(key).grantId("c".repeat(64))).grants().isEmpty());
  }

  @Test
  void malformedBodiesAreSerializationErrors() throws Exception {
    HttpClient http = HttpClient.newHttpClient();
    List<String> before = grantSnapshot(US, usKey);
    for (String[] call : new String[][] {
        {"CreateGrant", "{\"KeyId\":\"" + usKey + "\",\"GranteePrincipal\":\"" + ROLE + "\",\"Operations\":\"Encrypt\"}"},
        {"CreateGrant", "{\"KeyId\":\"" + usKey + "\",\"GranteePrincipal\":1,\"Operations\":[\"Encrypt\"]}"},
        {"CreateGrant", "{\"KeyId\":\"" + usKey + "\",\"GranteePrincipal\":\"" + ROLE
            + "\",\"Operations\":[\"Encrypt\"],\"Constraints\":{\"EncryptionContextSubset\":[1]}}"},
        {"ListGrants", "{\"KeyId\":\"" + usKey + "\",\"Limit\":true}"},
        {"RetireGrant", "{\"GrantToken\":{}}"},
        {"RevokeGrant", "[]"}}) {
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(cluster.endpoint(US) + "/"))
              .header("X-Amz-Target", "TrentService." + call[0])
              .header("Content-Type", "application/x-amz-json-1.1")
              .POST(HttpRequest.BodyPublishers.ofString(call[1])).build(),
          HttpResponse.BodyHandlers.ofString());
      assertEquals(400, r.statusCode(), call[1] + " -> " + r.body());
      assertTrue(r.body().contains("\"__type\":\"SerializationException\""), call[1] + " -> " + r.body());
    }
    assertEquals(before, grantSnapshot(US, usKey));
  }

  // ------------------------------------------------------------------ Regions

  @Test
  void grantsAreIndependentPerRegionEvenForAMultiRegionKey() {
    String mrk = kms(US).createKey(b -> b.multiRegion(true)).keyMetadata().keyId();
    kms(US).replicateKey(b -> b.keyId(mrk).replicaRegion(EU));
    awaitEnabled(EU, mrk);
    String retirer = "arn:aws:iam::" + ACCOUNT + ":role/mrk-retirer-" + UUID.randomUUID().toString().substring(0, 8);

    CreateGrantResponse us = kms(US).createGrant(b -> b.keyId(mrk).granteePrincipal(ROLE).retiringPrincipal(retirer)
        .name("mrk").operations(GrantOperation.DECRYPT));
    assertEquals(List.of(us.grantId()), ids(listAll(US, mrk)));
    assertTrue(listAll(EU, mrk).isEmpty(), "the replica has no grant");
    assertTrue(listRetirable(EU, retirer, 50).isEmpty());

    // The same named request in eu-west-1 makes eu-west-1's own grant.
    CreateGrantResponse eu = kms(EU).createGrant(b -> b.keyId(mrk).granteePrincipal(ROLE).retiringPrincipal(retirer)
        .name("mrk").operations(GrantOperation.DECRYPT));
    assertNotEquals(us.grantId(), eu.grantId());
    assertEquals(List.of(eu.grantId()), ids(listAll(EU, mrk)));
    assertEquals(keyArn(EU, mrk), listAll(EU, mrk).get(0).keyId());
    assertEquals(List.of(us.grantId()), ids(listRetirable(US, retirer, 50)));
    assertEquals(List.of(eu.grantId()), ids(listRetirable(EU, retirer, 50)));

    // A Region does not know the other's grants.
    refused(EU, mrk, "InvalidGrantTokenException", null, () -> kms(EU).retireGrant(b -> b.grantToken(us.grantToken())));
    refused(EU, mrk, "NotFoundException", null, () -> kms(EU).revokeGrant(b -> b.keyId(mrk).grantId(us.grantId())));
    kms(US).revokeGrant(b -> b.keyId(mrk).grantId(us.grantId()));
    assertTrue(listAll(US, mrk).isEmpty());
    assertEquals(List.of(eu.grantId()), ids(listAll(EU, mrk)));
  }

  @Test
  void grantsSurviveARestartOfTheirRegion() {
    String key = createKey(AP, KeySpec.SYMMETRIC_DEFAULT, null);
    CreateGrantResponse kept = kms(AP).createGrant(b -> b.keyId(key).granteePrincipal(ROLE).name("kept")
        .retiringPrincipal(RETIRER).operations(GrantOperation.ENCRYPT)
        .constraints(c -> c.encryptionContextEquals(Map.of("app", "x"))));
    CreateGrantResponse retired = grant(AP, key);
    CreateGrantResponse later = grant(AP, key);
    kms(AP).retireGrant(b -> b.grantToken(retired.grantToken()));
    List<String> before = grantSnapshot(AP, key);

    cluster.stop(AP);
    cluster.restart(AP);

    assertEquals(before, grantSnapshot(AP, key), "grants, with every field, are as before the restart");
    assertEquals(List.of(kept.grantId(), later.grantId()), ids(listAll(AP, key)));
    // Named retries still find the grant; its tokens still retire it; numbering goes on.
    assertEquals(kept.grantId(), kms(AP).createGrant(b -> b.keyId(key).granteePrincipal(ROLE).name("kept")
        .retiringPrincipal(RETIRER).operations(GrantOperation.ENCRYPT)
        .constraints(c -> c.encryptionContextEquals(Map.of("app", "x")))).grantId());
    CreateGrantResponse fresh = grant(AP, key);
    assertEquals(List.of(kept.grantId(), later.grantId(), fresh.grantId()), ids(listAll(AP, key)));
    kms(AP).retireGrant(b -> b.grantToken(kept.grantToken()));
    assertEquals(List.of(later.grantId(), fresh.grantId()), ids(listAll(AP, key)));
  }

  // ------------------------------------------------------------------ helpers

  private static KmsClient kms(String region) {
    return clients.computeIfAbsent(region, cluster::client);
  }

  private static String createKey(String region, KeySpec spec, KeyUsageType usage) {
    return kms(region).createKey(b -> b.keySpec(spec).keyUsage(usage)).keyMetadata().keyId();
  }

  private static CreateGrantResponse grant(String region, String keyId) {
    return kms(region).createGrant(b -> b.keyId(keyId).granteePrincipal(ROLE).operations(GrantOperation.DESCRIBE_KEY));
  }

  private static String keyArn(String region, String keyId) {
    return "arn:aws:kms:" + region + ":" + ACCOUNT + ":key/" + keyId;
  }

  private static List<String> ids(List<GrantListEntry> grants) {
    return grants.stream().map(GrantListEntry::grantId).toList();
  }

  /**
   * {@code call} fails with the AWS error {@code type} (HTTP 400) and, unless null, exactly
   * {@code message}; the grants of {@code keyId} and the Region's retirable grants of the test's
   * retiring principal are the same before and after.
   */
  private static KmsException refused(String region, String keyId, String type, String message, Executable call) {
    List<String> before = grantSnapshot(region, keyId);
    List<String> retirableBefore = ids(listRetirable(region, RETIRER, 100));
    KmsException e = assertThrows(KmsException.class, call, "expected " + type);
    assertEquals(type, e.awsErrorDetails().errorCode(), e.getMessage());
    assertEquals(400, e.statusCode(), e.getMessage());
    if (message != null) assertEquals(message, e.awsErrorDetails().errorMessage(), e.getMessage());
    assertEquals(before, grantSnapshot(region, keyId), "a refused request changes no grant");
    assertEquals(retirableBefore, ids(listRetirable(region, RETIRER, 100)), "a refused request changes no grant");
    return e;
  }

  /** Every grant of {@code keyId}, with every field. */
  private static List<String> grantSnapshot(String region, String keyId) {
    return listAll(region, keyId).stream().map(GrantListEntry::toString).toList();
  }

  private static List<GrantListEntry> listAll(String region, String keyId) {
    List<GrantListEntry> all = new ArrayList<>();
    String marker = null;
    for (int page = 0; page < 1000; page++) {
      final String m = marker;
      ListGrantsResponse r = kms(region).listGrants(b -> b.keyId(keyId).limit(100).marker(m));
      all.addAll(r.grants());
      if (!r.truncated()) return all;
      marker = r.nextMarker();
    }
    return fail("ListGrants never ended");
  }

  private static List<GrantListEntry> listRetirable(String region, String principal, int limit) {
    List<GrantListEntry> all = new ArrayList<>();
    String marker = null;
    for (int page = 0; page < 10_000; page++) {
      final String m = marker;
      var r = kms(region).listRetirableGrants(b -> b.retiringPrincipal(principal).limit(limit).marker(m));
      assertTrue(r.grants().size() <= limit);
      all.addAll(r.grants());
      if (!r.truncated()) return all;
      marker = r.nextMarker();
    }
    return fail("ListRetirableGrants never ended");
  }

  private static void awaitEnabled(String region, String keyId) {
    TestCluster.await(Duration.ofSeconds(30), keyId + " Enabled in " + region, () -> {
      try {
        return "Enabled".equals(kms(region).describeKey(b -> b.keyId(keyId)).keyMetadata().keyStateAsString());
      } catch (KmsException e) {
        return false;
      }
    });
  }
}
