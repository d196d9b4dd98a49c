package io.kmsregions.api;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.kmsregions.alias.KeyBackdoor;
import io.kmsregions.key.KeyState;
import io.kmsregions.testkit.TestCluster;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.kms.KmsClient;
import software.amazon.awssdk.services.kms.model.AliasListEntry;
import software.amazon.awssdk.services.kms.model.DataKeySpec;
import software.amazon.awssdk.services.kms.model.KeyMetadata;
import software.amazon.awssdk.services.kms.model.KeySpec;
import software.amazon.awssdk.services.kms.model.KeyUsageType;
import software.amazon.awssdk.services.kms.model.KmsException;
import software.amazon.awssdk.services.kms.model.ListAliasesResponse;

/**
 * Aliases over a real three-Region cluster, driven by the AWS SDK for Java v2 (kms-api.md §2
 * "Aliases", §6, §8): the four operations, aliases as KeyId of the operations that accept them,
 * every error case (each also checks that the Region's aliases did not change), aliases being
 * independent per Region even for a multi-Region key, and durability across a node restart.
 */
class AliasApiTest {
  private static final String US = "us-east-1";
  private static final String EU = "eu-west-1";
  private static final String AP = "ap-southeast-2";
  private static final String ACCOUNT = "111122223333";
  private static final String PREFIX_MESSAGE = "Alias must start with the prefix \"alias/\". Please see "
      + "https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html";

  @TempDir static Path dataDir;
  private static TestCluster cluster;
  private static final Map<String, KmsClient> clients = new HashMap<>();
  /** A symmetric key of us-east-1, created once. */
  private static String usKey;

  @BeforeAll
  static void startCluster() {
    cluster = TestCluster.start(dataDir);
    usKey = createKey(US, KeySpec.SYMMETRIC_DEFAULT, null);
  }

  @AfterAll
  static void stopCluster() {
    clients.values().forEach(KmsClient::close);
    if (cluster != null) cluster.close();
  }

  // ------------------------------------------------------------------ the operations

  @Test
  void createListUpdateDeleteWithKeyIdAndKeyArn() {
    String key = createKey(US, KeySpec.SYMMETRIC_DEFAULT, null);
    String other = createKey(US, KeySpec.SYMMETRIC_DEFAULT, null);
    String byId = alias("by-id");
    String byArn = alias("by-arn");
    Instant before = Instant.now().minusSeconds(2);
    kms(US).createAlias(b -> b.aliasName(byId).targetKeyId(key));
    kms(US).createAlias(b -> b.aliasName(byArn).targetKeyId(keyArn(US, key)));
    Instant after = Instant.now().plusSeconds(2);

    List<AliasListEntry> ofKey = listAll(US, key);
    assertEquals(List.of(byArn, byId).stream().sorted().toList(),
        ofKey.stream().map(AliasListEntry::aliasName).toList(), "ListAliases with KeyId lists the key's aliases in name order");
    for (AliasListEntry e : ofKey) {
      assertEquals("arn:aws:kms:" + US + ":" + ACCOUNT + ":" + e.aliasName(), e.aliasArn());
      assertEquals(key, e.targetKeyId(), "TargetKeyId is the bare key id, also when created with the key ARN");
      assertTrue(!e.creationDate().isBefore(before) && !e.creationDate().isAfter(after), e.toString());
      assertEquals(e.creationDate(), e.lastUpdatedDate(), "never updated: LastUpdatedDate is the creation date");
    }
    assertEquals(ofKey, listAll(US, keyArn(US, key)), "the KeyId filter takes the key ARN too");
    assertTrue(listAll(US, null).containsAll(ofKey), "ListAliases without KeyId lists every alias");
    assertTrue(listAll(US, other).isEmpty(), "another key has none");

    AliasListEntry created = entry(US, byId);
    sleep(Duration.ofMillis(20));
    kms(US).updateAlias(b -> b.aliasName(byId).targetKeyId(keyArn(US, other)));
    AliasListEntry updated = entry(US, byId);
    assertEquals(other, updated.targetKeyId());
    assertEquals(created.creationDate(), updated.creationDate(), "UpdateAlias keeps CreationDate");
    assertTrue(updated.lastUpdatedDate().isAfter(created.lastUpdatedDate()), "UpdateAlias sets LastUpdatedDate");
    assertEquals(List.of(byId), listAll(US, other).stream().map(AliasListEntry::aliasName).toList());
    assertEquals(keyArn(US, other), kms(US).describeKey(b -> b.keyId(byId)).keyMetadata().arn(),
        "the alias resolves to its new target at once");

    kms(US).deleteAlias(b -> b.aliasName(byId));
    assertNull(entryOrNull(US, byId));
    assertEquals(List.of(byArn), listAll(US, key).stream().map(AliasListEntry::aliasName).toList());
    refused(US, "NotFoundException", "Alias " + aliasArn(US, byId) + " is not found.",
        () -> kms(US).describeKey(b -> b.keyId(byId)));
    refused(US, "NotFoundException", "Alias " + aliasArn(US, byId) + " is not found.",
        () -> kms(US).deleteAlias(b -> b.aliasName(byId)));
    // The name is free again.
    kms(US).createAlias(b -> b.aliasName(byId).targetKeyId(key));
    assertEquals(key, entry(US, byId).targetKeyId());
  }

  @Test
  void aliasNameAndAliasArnWorkAsKeyIdOfDescribeEncryptDecryptAndGenerateDataKey() {
    String name = alias("crypto");
    kms(US).createAlias(b -> b.aliasName(name).targetKeyId(usKey));
    for (String form : List.of(name, aliasArn(US, name))) {
      KeyMetadata m = kms(US).describeKey(b -> b.keyId(form)).keyMetadata();
      assertEquals(usKey, m.keyId(), form);
      assertEquals(keyArn(US, usKey), m.arn(), form);

      byte[] secret = ("secret via " + form).getBytes(StandardCharsets.UTF_8);
      var encrypted = kms(US).encrypt(b -> b.keyId(form).plaintext(SdkBytes.fromByteArray(secret)));
      assertEquals(keyArn(US, usKey), encrypted.keyId(), "Encrypt answers with the key ARN, not the alias");
      for (String decryptWith : List.of(name, aliasArn(US, name), usKey)) {
        var decrypted = kms(US).decrypt(b -> b.ciphertextBlob(encrypted.ciphertextBlob()).keyId(decryptWith));
        assertArrayEquals(secret, decrypted.plaintext().asByteArray(), decryptWith);
        assertEquals(keyArn(US, usKey), decrypted.keyId());
      }

      var dataKey = kms(US).generateDataKey(b -> b.keyId(form).keySpec(DataKeySpec.AES_256));
      assertEquals(keyArn(US, usKey), dataKey.keyId());
      assertEquals(32, dataKey.plaintext().asByteArray().length);
      var unwrapped = kms(US).decrypt(b -> b.ciphertextBlob(dataKey.ciphertextBlob()).keyId(form));
      assertArrayEquals(dataKey.plaintext().asByteArray(), unwrapped.plaintext().asByteArray());
    }
    // Decrypt with an alias of another key is IncorrectKey, as with that key's id.
    String otherKey = createKey(US, KeySpec.SYMMETRIC_DEFAULT, null);
    String otherName = alias("crypto-other");
    kms(US).createAlias(b -> b.aliasName(otherName).targetKeyId(otherKey));
    var blob = kms(US).encrypt(b -> b.keyId(name).plaintext(SdkBytes.fromUtf8String("x"))).ciphertextBlob();
    refused(US, "IncorrectKeyException", null, () -> kms(US).decrypt(b -> b.ciphertextBlob(blob).keyId(otherName)));
  }

  @Test
  void listAliasesPagesWithMarkers() {
    String key = createKey(US, KeySpec.SYMMETRIC_DEFAULT, null);
    List<String> names = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      String n = alias("page-" + i);
      names.add(n);
      kms(US).createAlias(b -> b.aliasName(n).targetKeyId(key));
    }
    List<String> seen = new ArrayList<>();
    String marker = null;
    List<Integer> sizes = new ArrayList<>();
    do {
      final String m = marker;
      ListAliasesResponse page = kms(US).listAliases(b -> b.keyId(key).limit(2).marker(m));
      sizes.add(page.aliases().size());
      page.aliases().forEach(a -> seen.add(a.aliasName()));
      assertNotNull(page.truncated(), "Truncated is always sent");
      if (page.truncated()) {
        assertNotNull(page.nextMarker());
      } else {
        assertNull(page.nextMarker(), "no NextMarker when not truncated");
      }
      marker = page.truncated() ? page.nextMarker() : null;
    } while (marker != null);
    assertEquals(List.of(2, 2, 1), sizes);
    assertEquals(names.stream().sorted().toList(), seen);

    ListAliasesResponse all = kms(US).listAliases(b -> b.keyId(key));
    assertEquals(5, all.aliases().size(), "the default Limit (50) holds them all");
    assertFalse(all.truncated());
  }

  // ------------------------------------------------------------------ CreateAlias errors

  @Test
  void createAliasRefusesBadNames() {
    refused(US, "ValidationException", PREFIX_MESSAGE,
        () -> kms(US).createAlias(b -> b.aliasName("no-prefix-" + UUID.randomUUID()).targetKeyId(usKey)));
    refused(US, "ValidationException", PREFIX_MESSAGE,
        () -> kms(US).createAlias(b -> b.aliasName("Alias/upper").targetKeyId(usKey)));
    // AWS's error type for the reserved prefix is unverified; we answer NotAuthorizedException, as moto does.
    refused(US, "NotAuthorizedException", "",
        () -> kms(US).createAlias(b -> b.aliasName("alias/aws/mine").targetKeyId(usKey)));
    KmsException pattern = refused(US, "ValidationException", null,
        () -> kms(US).createAlias(b -> b.aliasName("alias/has space").targetKeyId(usKey)));
    assertEquals("1 validation error detected: Value 'alias/has space' at 'aliasName' failed to satisfy "
        + "constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9:/_-]+$",
        pattern.awsErrorDetails().errorMessage());
    refused(US, "ValidationException", "alias/with:colon contains invalid characters for an alias",
        () -> kms(US).createAlias(b -> b.aliasName("alias/with:colon").targetKeyId(usKey)));
    String longest = "alias/" + "x".repeat(250);
    KmsException tooLong = refused(US, "ValidationException", null,
        () -> kms(US).createAlias(b -> b.aliasName(longest + "y").targetKeyId(usKey)));
    assertTrue(tooLong.awsErrorDetails().errorMessage().contains("Member must have length less than or equal to 256"));
    refused(US, "InvalidAliasNameException", null,
        () -> kms(US).createAlias(b -> b.aliasName("alias/").targetKeyId(usKey)));
    KmsException missing = refused(US, "ValidationException", null,
        () -> kms(US).createAlias(b -> b.targetKeyId(usKey)));
    assertTrue(missing.awsErrorDetails().errorMessage().contains("'aliasName'"), missing.getMessage());
    KmsException noTarget = refused(US, "ValidationException", null,
        () -> kms(US).createAlias(b -> b.aliasName(alias("no-target"))));
    assertTrue(noTarget.awsErrorDetails().errorMessage().contains("'targetKeyId'"), noTarget.getMessage());
    // Control: 256 characters are fine.
    kms(US).createAlias(b -> b.aliasName(longest).targetKeyId(usKey));
    assertEquals(usKey, entry(US, longest).targetKeyId());
  }

  @Test
  void createAliasRefusesADuplicateName() {
    String name = alias("dup");
    kms(US).createAlias(b -> b.aliasName(name).targetKeyId(usKey));
    String other = createKey(US, KeySpec.SYMMETRIC_DEFAULT, null);
    refused(US, "AlreadyExistsException", "An alias with the name " + aliasArn(US, name) + " already exists",
        () -> kms(US).createAlias(b -> b.aliasName(name).targetKeyId(other)));
    refused(US, "AlreadyExistsException", "An alias with the name " + aliasArn(US, name) + " already exists",
        () -> kms(US).createAlias(b -> b.aliasName(name).targetKeyId(usKey)));
    assertEquals(usKey, entry(US, name).targetKeyId());
  }

  @Test
  void createAliasRefusesTargetsThatAreNotKeysOfThisRegion() {
    String existing = alias("existing");
    kms(US).createAlias(b -> b.aliasName(existing).targetKeyId(usKey));
    String name = alias("target");
    refused(US, "ValidationException", "Aliases must refer to keys. Not aliases",
        () -> kms(US).createAlias(b -> b.aliasName(name).targetKeyId(existing)));
    refused(US, "ValidationException", "Aliases must refer to keys. Not aliases",
        () -> kms(US).createAlias(b -> b.aliasName(name).targetKeyId(aliasArn(US, existing))));
    String unknown = UUID.randomUUID().toString();
    refused(US, "NotFoundException", "Key '" + keyArn(US, unknown) + "' does not exist",
        () -> kms(US).createAlias(b -> b.aliasName(name).targetKeyId(unknown)));
    refused(US, "NotFoundException", "Invalid keyId 'not-a-key'",
        () -> kms(US).createAlias(b -> b.aliasName(name).targetKeyId("not-a-key")));
    refused(US, "NotFoundException", "Invalid arn " + EU,
        () -> kms(US).createAlias(b -> b.aliasName(name).targetKeyId(keyArn(EU, usKey))));
    String euKey = createKey(EU, KeySpec.SYMMETRIC_DEFAULT, null);
    refused(US, "NotFoundException", "Key '" + keyArn(US, euKey) + "' does not exist",
        () -> kms(US).createAlias(b -> b.aliasName(name).targetKeyId(euKey)));
    assertNull(entryOrNull(US, name));
  }

  @Test
  void createAliasFollowsTheKeyStateTable() {
    // kms-api.md §6: CreateAlias works in every state except PendingDeletion / PendingReplicaDeletion.
    String scheduled = createKey(US, KeySpec.SYMMETRIC_DEFAULT, null);
    kms(US).scheduleKeyDeletion(b -> b.keyId(scheduled).pendingWindowInDays(7));
    refused(US, "KMSInvalidStateException", keyArn(US, scheduled) + " is pending deletion.",
        () -> kms(US).createAlias(b -> b.aliasName(alias("pd")).targetKeyId(scheduled)));
    // States the API cannot reach quickly are made directly (KeyBackdoor).
    for (KeyState state : List.of(KeyState.PendingReplicaDeletion)) {
      String key = KeyBackdoor.copyInState(cluster.node(US), usKey, state);
      refused(US, "KMSInvalidStateException", keyArn(US, key) + " is pending deletion.",
          () -> kms(US).createAlias(b -> b.aliasName(alias("pd")).targetKeyId(key)));
    }
    String disabled = createKey(US, KeySpec.SYMMETRIC_DEFAULT, null);
    kms(US).disableKey(b -> b.keyId(disabled));
    String onDisabled = alias("disabled");
    kms(US).createAlias(b -> b.aliasName(onDisabled).targetKeyId(disabled));
    assertEquals(disabled, entry(US, onDisabled).targetKeyId());
    for (KeyState state : List.of(KeyState.Creating, KeyState.Updating, KeyState.Unavailable)) {
      String key = KeyBackdoor.copyInState(cluster.node(US), usKey, state);
      String name = alias(state.name().toLowerCase());
      kms(US).createAlias(b -> b.aliasName(name).targetKeyId(key));
      assertEquals(key, entry(US, name).targetKeyId(), state.name());
    }
    String imported = kms(US).createKey(b -> b.origin("EXTERNAL")).keyMetadata().keyId();
    String name = alias("pending-import");
    kms(US).createAlias(b -> b.aliasName(name).targetKeyId(imported));
    assertEquals(imported, entry(US, name).targetKeyId());
  }

  @Test
  void aKeyHasAtMostFiftyAliases() {
    String key = createKey(US, KeySpec.SYMMETRIC_DEFAULT, null);
    String other = createKey(US, KeySpec.SYMMETRIC_DEFAULT, null);
    for (int i = 0; i < 50; i++) {
      String n = alias("quota-" + i);
      kms(US).createAlias(b -> b.aliasName(n).targetKeyId(key));
    }
    refused(US, "LimitExceededException", null,
        () -> kms(US).createAlias(b -> b.aliasName(alias("quota-51")).targetKeyId(key)));
    String elsewhere = alias("quota-elsewhere");
    kms(US).createAlias(b -> b.aliasName(elsewhere).targetKeyId(other));
    refused(US, "LimitExceededException", null,
        () -> kms(US).updateAlias(b -> b.aliasName(elsewhere).targetKeyId(key)));
    assertEquals(50, listAll(US, key).size());
    // Freeing one makes room again.
    kms(US).deleteAlias(b -> b.aliasName(listAll(US, key).get(0).aliasName()));
    kms(US).updateAlias(b -> b.aliasName(elsewhere).targetKeyId(key));
    assertEquals(50, listAll(US, key).size());
  }

  // ------------------------------------------------------------------ UpdateAlias errors

  @Test
  void updateAliasKeepsTheKeyTypeAndUsage() {
    String symmetric = createKey(US, KeySpec.SYMMETRIC_DEFAULT, null);
    String symmetric2 = createKey(US, KeySpec.SYMMETRIC_DEFAULT, null);
    String hmac256 = createKey(US, KeySpec.HMAC_256, KeyUsageType.GENERATE_VERIFY_MAC);
    String hmac512 = createKey(US, KeySpec.HMAC_512, KeyUsageType.GENERATE_VERIFY_MAC);
    String rsaSign = createKey(US, KeySpec.RSA_2048, KeyUsageType.SIGN_VERIFY);
    String rsaEncrypt = createKey(US, KeySpec.RSA_2048, KeyUsageType.ENCRYPT_DECRYPT);
    String eccSign = createKey(US, KeySpec.ECC_NIST_P256, KeyUsageType.SIGN_VERIFY);

    String sym = alias("type-sym");
    kms(US).createAlias(b -> b.aliasName(sym).targetKeyId(symmetric));
    for (String wrong : List.of(hmac256, rsaSign, rsaEncrypt, eccSign)) {
      KmsException e = refused(US, "ValidationException", null,
          () -> kms(US).updateAlias(b -> b.aliasName(sym).targetKeyId(wrong)));
      assertTrue(e.awsErrorDetails().errorMessage().contains(keyArn(US, wrong)), e.getMessage());
    }
    kms(US).updateAlias(b -> b.aliasName(sym).targetKeyId(symmetric2));
    assertEquals(symmetric2, entry(US, sym).targetKeyId());

    String mac = alias("type-hmac");
    kms(US).createAlias(b -> b.aliasName(mac).targetKeyId(hmac256));
    refused(US, "ValidationException", null, () -> kms(US).updateAlias(b -> b.aliasName(mac).targetKeyId(symmetric)));
    kms(US).updateAlias(b -> b.aliasName(mac).targetKeyId(hmac512)); // HMAC to HMAC of another size
    assertEquals(hmac512, entry(US, mac).targetKeyId());

    String sign = alias("type-sign");
    kms(US).createAlias(b -> b.aliasName(sign).targetKeyId(rsaSign));
    // Both asymmetric, but another key usage.
    refused(US, "ValidationException", null, () -> kms(US).updateAlias(b -> b.aliasName(sign).targetKeyId(rsaEncrypt)));
    kms(US).updateAlias(b -> b.aliasName(sign).targetKeyId(eccSign)); // asymmetric SIGN_VERIFY to another spec
    assertEquals(eccSign, entry(US, sign).targetKeyId());
  }

  @Test
  void updateAliasRefusesMissingAliasesBadNamesAndBadTargets() {
    String name = alias("upd");
    kms(US).createAlias(b -> b.aliasName(name).targetKeyId(usKey));
    String other = createKey(US, KeySpec.SYMMETRIC_DEFAULT, null);
    String missing = alias("upd-missing");
    refused(US, "NotFoundException", "Alias " + aliasArn(US, missing) + " is not found.",
        () -> kms(US).updateAlias(b -> b.aliasName(missing).targetKeyId(other)));
    refused(US, "ValidationException", PREFIX_MESSAGE,
        () -> kms(US).updateAlias(b -> b.aliasName("upd").targetKeyId(other)));
    refused(US, "NotAuthorizedException", "",
        () -> kms(US).updateAlias(b -> b.aliasName("alias/aws/ebs").targetKeyId(other)));
    refused(US, "ValidationException", "Aliases must refer to keys. Not aliases",
        () -> kms(US).updateAlias(b -> b.aliasName(name).targetKeyId(name)));
    String unknown = UUID.randomUUID().toString();
    refused(US, "NotFoundException", "Key '" + keyArn(US, unknown) + "' does not exist",
        () -> kms(US).updateAlias(b -> b.aliasName(name).targetKeyId(unknown)));
    String pending = createKey(US, KeySpec.SYMMETRIC_DEFAULT, null);
    kms(US).scheduleKeyDeletion(b -> b.keyId(pending).pendingWindowInDays(30));
    refused(US, "KMSInvalidStateException", keyArn(US, pending) + " is pending deletion.",
        () -> kms(US).updateAlias(b -> b.aliasName(name).targetKeyId(pending)));
    String replicaPending = KeyBackdoor.copyInState(cluster.node(US), usKey, KeyState.PendingReplicaDeletion);
    refused(US, "KMSInvalidStateException", keyArn(US, replicaPending) + " is pending deletion.",
        () -> kms(US).updateAlias(b -> b.aliasName(name).targetKeyId(replicaPending)));
    // Disabled targets are fine.
    String disabled = createKey(US, KeySpec.SYMMETRIC_DEFAULT, null);
    kms(US).disableKey(b -> b.keyId(disabled));
    kms(US).updateAlias(b -> b.aliasName(name).targetKeyId(disabled));
    assertEquals(disabled, entry(US, name).targetKeyId());
  }

  /** kms-api.md §6 note 10: an alias of a key pending deletion may still be moved away from it. */
  @Test
  void anAliasOfAKeyPendingDeletionMayMoveAway() {
    String key = createKey(US, KeySpec.SYMMETRIC_DEFAULT, null);
    String name = alias("leaving");
    kms(US).createAlias(b -> b.aliasName(name).targetKeyId(key));
    kms(US).scheduleKeyDeletion(b -> b.keyId(key).pendingWindowInDays(7));
    assertEquals(key, entry(US, name).targetKeyId(), "scheduling the deletion leaves the alias");
    assertEquals("PendingDeletion", kms(US).describeKey(b -> b.keyId(name)).keyMetadata().keyStateAsString(),
        "DescribeKey by alias works in every key state");
    String other = createKey(US, KeySpec.SYMMETRIC_DEFAULT, null);
    kms(US).updateAlias(b -> b.aliasName(name).targetKeyId(other));
    assertEquals(other, entry(US, name).targetKeyId());
    // DeleteAlias works in every key state too.
    String second = alias("leaving-2");
    kms(US).createAlias(b -> b.aliasName(second).targetKeyId(other));
    kms(US).scheduleKeyDeletion(b -> b.keyId(other).pendingWindowInDays(7));
    kms(US).deleteAlias(b -> b.aliasName(second));
    assertNull(entryOrNull(US, second));
  }

  @Test
  void listAliasesServesAtMostOneHundredPerPage() {
    List<String> keys = List.of(createKey(EU, KeySpec.SYMMETRIC_DEFAULT, null),
        createKey(EU, KeySpec.SYMMETRIC_DEFAULT, null), createKey(EU, KeySpec.SYMMETRIC_DEFAULT, null));
    for (int i = 0; i < 101; i++) {
      String n = alias("hundred-" + i);
      String k = keys.get(i % 3);
      kms(EU).createAlias(b -> b.aliasName(n).targetKeyId(k));
    }
    int total = listAll(EU, null).size();
    assertTrue(total >= 101, "at least the 101 just created: " + total);
    ListAliasesResponse first = kms(EU).listAliases(b -> b.limit(1000));
    assertEquals(100, first.aliases().size(), "Limit above 100 is served in pages of 100");
    assertTrue(first.truncated());
    ListAliasesResponse rest = kms(EU).listAliases(b -> b.limit(1000).marker(first.nextMarker()));
    assertEquals(total - 100, rest.aliases().size());
    assertFalse(rest.aliases().stream().anyMatch(first.aliases()::contains), "the next page starts after the marker");
  }

  @Test
  void deleteAliasRefusesBadNames() {
    refused(US, "ValidationException", PREFIX_MESSAGE, () -> kms(US).deleteAlias(b -> b.aliasName("nope")));
    refused(US, "NotAuthorizedException", "", () -> kms(US).deleteAlias(b -> b.aliasName("alias/aws/s3")));
    refused(US, "ValidationException", null, () -> kms(US).deleteAlias(b -> b.aliasName("alias/bad name")));
    refused(US, "ValidationException", null, () -> kms(US).deleteAlias(b -> { }));
  }

  @Test
  void listAliasesRefusesBadParameters() {
    refused(US, "InvalidMarkerException", null, () -> kms(US).listAliases(b -> b.marker("not-a-marker")));
    refused(US, "ValidationException", null, () -> kms(US).listAliases(b -> b.limit(0)));
    refused(US, "ValidationException", null, () -> kms(US).listAliases(b -> b.limit(1001)));
    String unknown = UUID.randomUUID().toString();
    refused(US, "NotFoundException", "Key '" + keyArn(US, unknown) + "' does not exist",
        () -> kms(US).listAliases(b -> b.keyId(unknown)));
    String name = alias("filter");
    kms(US).createAlias(b -> b.aliasName(name).targetKeyId(usKey));
    // The KeyId filter takes a key id or key ARN only.
    refused(US, "InvalidArnException", "Key Aliases are not supported for this operation.",
        () -> kms(US).listAliases(b -> b.keyId(name)));
    refused(US, "InvalidArnException", "Key Aliases are not supported for this operation.",
        () -> kms(US).listAliases(b -> b.keyId(aliasArn(US, name))));
  }

  @Test
  void malformedBodiesAreSerializationErrors() throws Exception {
    HttpClient http = HttpClient.newHttpClient();
    List<String> before = snapshot(US);
    for (String[] call : new String[][] {
        {"CreateAlias", "{\"AliasName\":5,\"TargetKeyId\":\"" + usKey + "\"}"},
        {"CreateAlias", "{\"AliasName\":[\"alias/x\"]}"},
        {"UpdateAlias", "{\"AliasName\":\"alias/x\",\"TargetKeyId\":{}}"},
        {"ListAliases", "{\"Limit\":\"10\"}"},
        {"DeleteAlias", "not json"}}) {
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(cluster.endpoint(US) + "/"))
              .header("X-Amz-Target", "TrentService." + call[0])
              .header("Content-Type", "application/x-amz-json-1.1")
              .POST(HttpRequest.BodyPublishers.ofString(call[1])).build(),
          HttpResponse.BodyHandlers.ofString());
      assertEquals(400, r.statusCode(), call[1] + " -> " + r.body());
      assertTrue(r.body().contains("\"__type\":\"SerializationException\""), call[1] + " -> " + r.body());
    }
    assertEquals(before, snapshot(US));
  }

  // ------------------------------------------------------------------ Regions

  @Test
  void aliasesAreIndependentPerRegionEvenForAMultiRegionKey() {
    String mrk = kms(US).createKey(b -> b.multiRegion(true)).keyMetadata().keyId();
    kms(US).replicateKey(b -> b.keyId(mrk).replicaRegion(EU));
    awaitEnabled(EU, mrk);

    String name = alias("mrk");
    kms(US).createAlias(b -> b.aliasName(name).targetKeyId(mrk));
    assertEquals(keyArn(US, mrk), kms(US).describeKey(b -> b.keyId(name)).keyMetadata().arn());
    // Not in eu-west-1, although the key set has a member there.
    refused(EU, "NotFoundException", "Alias " + aliasArn(EU, name) + " is not found.",
        () -> kms(EU).describeKey(b -> b.keyId(name)));
    refused(EU, "NotFoundException", "Alias " + aliasArn(EU, name) + " is not found.",
        () -> kms(EU).encrypt(b -> b.keyId(name).plaintext(SdkBytes.fromUtf8String("x"))));
    assertNull(entryOrNull(EU, name));
    assertTrue(listAll(EU, mrk).isEmpty());
    // An alias ARN names its Region: us-east-1's alias ARN is no KeyId in eu-west-1.
    refused(EU, "NotFoundException", "Invalid arn " + US, () -> kms(EU).describeKey(b -> b.keyId(aliasArn(US, name))));

    // eu-west-1 may have the same name, for its own member; each Region resolves to its own.
    kms(EU).createAlias(b -> b.aliasName(name).targetKeyId(mrk));
    assertEquals(keyArn(EU, mrk), kms(EU).describeKey(b -> b.keyId(name)).keyMetadata().arn());
    assertEquals(keyArn(US, mrk), kms(US).describeKey(b -> b.keyId(name)).keyMetadata().arn());
    var blob = kms(US).encrypt(b -> b.keyId(name).plaintext(SdkBytes.fromUtf8String("both"))).ciphertextBlob();
    var decrypted = kms(EU).decrypt(b -> b.ciphertextBlob(blob).keyId(name));
    assertEquals("both", decrypted.plaintext().asUtf8String());
    assertEquals(keyArn(EU, mrk), decrypted.keyId());

    // Changing one Region's alias leaves the other's alone.
    String usOnly = createKey(US, KeySpec.SYMMETRIC_DEFAULT, null);
    kms(US).updateAlias(b -> b.aliasName(name).targetKeyId(usOnly));
    assertEquals(mrk, entry(EU, name).targetKeyId());
    kms(US).deleteAlias(b -> b.aliasName(name));
    assertEquals(mrk, entry(EU, name).targetKeyId());
    assertEquals(keyArn(EU, mrk), kms(EU).describeKey(b -> b.keyId(name)).keyMetadata().arn());
    assertNull(entryOrNull(US, name));
  }

  @Test
  void aliasesSurviveARestartOfTheirRegion() {
    String key = createKey(AP, KeySpec.SYMMETRIC_DEFAULT, null);
    String other = createKey(AP, KeySpec.SYMMETRIC_DEFAULT, null);
    String kept = alias("durable");
    String moved = alias("durable-moved");
    String gone = alias("durable-gone");
    kms(AP).createAlias(b -> b.aliasName(kept).targetKeyId(key));
    kms(AP).createAlias(b -> b.aliasName(moved).targetKeyId(key));
    kms(AP).createAlias(b -> b.aliasName(gone).targetKeyId(key));
    kms(AP).updateAlias(b -> b.aliasName(moved).targetKeyId(other));
    kms(AP).deleteAlias(b -> b.aliasName(gone));
    List<String> before = snapshot(AP);

    cluster.stop(AP);
    cluster.restart(AP);

    // The first request after the restart already resolves the alias.
    assertEquals(keyArn(AP, key), kms(AP).describeKey(b -> b.keyId(kept)).keyMetadata().arn());
    assertEquals(before, snapshot(AP), "names, targets and dates are as before the restart");
    assertEquals(keyArn(AP, other), kms(AP).describeKey(b -> b.keyId(aliasArn(AP, moved))).keyMetadata().arn());
    assertNull(entryOrNull(AP, gone));
    refused(AP, "AlreadyExistsException", null, () -> kms(AP).createAlias(b -> b.aliasName(kept).targetKeyId(other)));
  }

  // ------------------------------------------------------------------ helpers

  private static KmsClient kms(String region) {
    return clients.computeIfAbsent(region, cluster::client);
  }

  private static String createKey(String region, KeySpec spec, KeyUsageType usage) {
    return kms(region).createKey(b -> b.keySpec(spec).keyUsage(usage)).keyMetadata().keyId();
  }

  private static String alias(String stem) {
    return "alias/test/" + stem + "-" + UUID.randomUUID().toString().substring(0, 8);
  }

  private static String keyArn(String region, String keyId) {
    return "arn:aws:kms:" + region + ":" + ACCOUNT + ":key/" + keyId;
  }

  private static String aliasArn(String region, String name) {
    return "arn:aws:kms:" + region + ":" + ACCOUNT + ":" + name;
  }

  /**
   * {@code call} fails with the AWS error {@code type} (HTTP 400) and, unless null, exactly
   * {@code message} ("" for none), and the Region's aliases are the same before and after.
   */
  static KmsException refused(String region, String type, String message, Executable call) {
    List<String> before = snapshot(region);
    KmsException e = assertThrows(KmsException.class, call, "expected " + type);
    assertEquals(type, e.awsErrorDetails().errorCode(), e.getMessage());
    assertEquals(400, e.statusCode(), e.getMessage());
    if (message != null) {
      String actual = e.awsErrorDetails().errorMessage();
      assertEquals(message, actual == null ? "" : actual, e.getMessage());
    }
    assertEquals(before, snapshot(region), "a refused request changes no alias");
    return e;
  }

  /** Every alias of {@code region}, with its target and dates. */
  private static List<String> snapshot(String region) {
    return listAll(region, null).stream()
        .map(a -> a.aliasName() + "->" + a.targetKeyId() + "@" + a.creationDate() + "/" + a.lastUpdatedDate())
        .toList();
  }

  private static List<AliasListEntry> listAll(String region, String keyId) {
    List<AliasListEntry> all = new ArrayList<>();
    String marker = null;
    for (int page = 0; page < 1000; page++) {
      final String m = marker;
      ListAliasesResponse r = kms(region).listAliases(b -> b.keyId(keyId).limit(100).marker(m));
      all.addAll(r.aliases());
      if (!r.truncated()) return all;
      marker = r.nextMarker();
    }
    return fail("ListAliases never ended");
  }

  private static AliasListEntry entryOrNull(String region, String name) {
    return listAll(region, null).stream().filter(a -> a.aliasName().equals(name)).findFirst().orElse(null);
  }

  private static AliasListEntry entry(String region, String name) {
    AliasListEntry e = entryOrNull(region, name);
    assertNotNull(e, name + " is listed in " + region);
    return e;
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

  private static void sleep(Duration d) {
    try {
      Thread.sleep(d.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
