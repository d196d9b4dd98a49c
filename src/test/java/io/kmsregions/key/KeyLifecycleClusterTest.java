package io.kmsregions.key;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.kmsregions.testkit.TestCluster;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.kms.KmsClient;
import software.amazon.awssdk.services.kms.model.DisabledException;
import software.amazon.awssdk.services.kms.model.GetKeyRotationStatusResponse;
import software.amazon.awssdk.services.kms.model.KeyMetadata;
import software.amazon.awssdk.services.kms.model.KeySpec;
import software.amazon.awssdk.services.kms.model.KeyUsageType;
import software.amazon.awssdk.services.kms.model.KmsException;
import software.amazon.awssdk.services.kms.model.KmsInvalidStateException;
import software.amazon.awssdk.services.kms.model.MalformedPolicyDocumentException;
import software.amazon.awssdk.services.kms.model.NotFoundException;
import software.amazon.awssdk.services.kms.model.RotationsListEntry;
import software.amazon.awssdk.services.kms.model.ScheduleKeyDeletionResponse;
import software.amazon.awssdk.services.kms.model.Tag;
import software.amazon.awssdk.services.kms.model.UnsupportedOperationException;

/**
 * The key lifecycle on a real three-Region cluster (issue: key lifecycle, governance and
 * synchronisation of shared properties): independent properties stay in their Region, shared
 * properties change on the primary only and reach every replica, rotation never lets a member
 * encrypt with material another member lacks, and deletion walks a primary through
 * PendingReplicaDeletion on a sped-up clock.
 */
class KeyLifecycleClusterTest {
  private static final String US = "us-east-1";
  private static final String EU = "eu-west-1";
  private static final String AP = "ap-southeast-2";
  private static final List<String> ALL = List.of(US, EU, AP);

  @TempDir Path data;
  private TestCluster cluster;
  private final Map<String, KmsClient> clients = new HashMap<>();

  @AfterEach
  void stop() {
    clients.values().forEach(KmsClient::close);
    if (cluster != null) cluster.close();
  }

  private KmsClient kms(String region) {
    return clients.computeIfAbsent(region, r -> cluster.client(r));
  }

  private KeyMetadata describe(String region, String keyId) {
    return kms(region).describeKey(b -> b.keyId(keyId)).keyMetadata();
  }

  private String arn(String region, String keyId) {
    return "arn:aws:kms:" + region + ":111122223333:key/" + keyId;
  }

  private byte[] encrypt(String region, String keyId, String text) {
    return kms(region).encrypt(b -> b.keyId(keyId).plaintext(SdkBytes.fromUtf8String(text)))
        .ciphertextBlob().asByteArray();
  }

  private String decrypt(String region, byte[] blob) {
    return kms(region).decrypt(b -> b.ciphertextBlob(SdkBytes.fromByteArray(blob))).plaintext().asUtf8String();
  }

  /** A multi-Region key in us-east-1 with Enabled replicas in eu-west-1 and ap-southeast-2. */
  private String replicatedKey() {
    String keyId = kms(US).createKey(b -> b.multiRegion(true).description("primary")).keyMetadata().keyId();
    kms(US).replicateKey(b -> b.keyId(keyId).replicaRegion(EU).description("eu"));
    kms(US).replicateKey(b -> b.keyId(keyId).replicaRegion(AP).description("ap"));
    TestCluster.await(Duration.ofSeconds(30), "replicas Enabled with the full member list", () -> {
      for (String r : ALL) {
        KeyMetadata m = describe(r, keyId);
        if (!m.keyStateAsString().equals("Enabled") || m.multiRegionConfiguration().replicaKeys().size() != 2) {
          return false;
        }
      }
      return true;
    });
    return keyId;
  }

  private Map<String, String> tags(String region, String keyId) {
    return kms(region).listResourceTags(b -> b.keyId(keyId)).tags().stream()
        .collect(Collectors.toMap(Tag::tagKey, Tag::tagValue));
  }

  @Test
  void independentPropertiesStayInTheirRegion() {
    cluster = TestCluster.start(data);
    String keyId = replicatedKey();

    // Enabled state
    kms(US).disableKey(b -> b.keyId(keyId));
    assertEquals("Disabled", describe(US, keyId).keyStateAsString());
    assertFalse(describe(US, keyId).enabled());
    DisabledException disabled = assertThrows(DisabledException.class, () -> encrypt(US, keyId, "x"));
    assertEquals(arn(US, keyId) + " is disabled.", disabled.awsErrorDetails().errorMessage());
    byte[] fromEu = encrypt(EU, keyId, "eu still works");
    assertThrows(DisabledException.class, () -> decrypt(US, fromEu));
    assertEquals("eu still works", decrypt(AP, fromEu));
    kms(US).enableKey(b -> b.keyId(keyId));
    assertEquals("eu still works", decrypt(US, fromEu));

    // Description
    kms(EU).updateKeyDescription(b -> b.keyId(keyId).description("changed in eu"));
    assertEquals("changed in eu", describe(EU, keyId).description());
    assertEquals("primary", describe(US, keyId).description());
    assertEquals("ap", describe(AP, keyId).description());

    // Tags: upsert by key, independent, with the TagException rules
    kms(US).tagResource(b -> b.keyId(keyId).tags(Tag.builder().tagKey("team").tagValue("a").build(),
        Tag.builder().tagKey("env").tagValue("prod").build()));
    kms(US).tagResource(b -> b.keyId(keyId).tags(Tag.builder().tagKey("team").tagValue("b").build()));
    assertEquals(Map.of("team", "b", "env", "prod"), tags(US, keyId));
    assertEquals(Map.of(), tags(EU, keyId));
    kms(US).untagResource(b -> b.keyId(keyId).tagKeys("env", "absent"));
    assertEquals(Map.of("team", "b"), tags(US, keyId));
    KmsException reserved = assertThrows(KmsException.class, () -> kms(US).tagResource(b -> b.keyId(keyId)
        .tags(Tag.builder().tagKey("AWS:x").tagValue("v").build())));
    assertEquals("TagException", reserved.awsErrorDetails().errorCode());
    assertEquals(Map.of("team", "b"), tags(US, keyId));
    for (int i = 0; i < 49; i++) {
      int n = i;
      kms(AP).tagResource(b -> b.keyId(keyId).tags(Tag.builder().tagKey("k" + n).tagValue("v").build()));
    }
    KmsException tooMany = assertThrows(KmsException.class, () -> kms(AP).tagResource(b -> b.keyId(keyId)
        .tags(Tag.builder().tagKey("k49").tagValue("v").build(), Tag.builder().tagKey("k50").tagValue("v").build())));
    assertEquals("TagException", tooMany.awsErrorDetails().errorCode());
    assertEquals(49, tags(AP, keyId).size());
    var page = kms(AP).listResourceTags(b -> b.keyId(keyId).limit(20));
    assertTrue(page.truncated());
    assertEquals(20, page.tags().size());
    var next = kms(AP).listResourceTags(b -> b.keyId(keyId).limit(50).marker(page.nextMarker()));
    assertFalse(next.truncated());
    assertEquals(29, next.tags().size());

    // Policy: default, replaced per Region, the lockout check unless bypassed
    String defaultPolicy = kms(EU).getKeyPolicy(b -> b.keyId(keyId).policyName("default")).policy();
    assertTrue(defaultPolicy.contains("\"Enable IAM User Permissions\""));
    String narrow = "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\","
        + "\"Principal\":{\"AWS\":\"arn:aws:iam::111122223333:root\"},\"Action\":\"kms:*\",\"Resource\":\"*\"},"
        + "{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::111122223333:role/app\"},"
        + "\"Action\":\"kms:Decrypt\",\"Resource\":\"*\"}]}";
    kms(EU).putKeyPolicy(b -> b.keyId(keyId).policyName("default").policy(narrow));
    assertEquals(narrow, kms(EU).getKeyPolicy(b -> b.keyId(keyId)).policy());
    assertEquals(defaultPolicy.replace("eu-west-1", "us-east-1"), kms(US).getKeyPolicy(b -> b.keyId(keyId)).policy());
    // No statement lets the caller (the account root) call PutKeyPolicy; with authorisation
    // (issue 7) the root keeps what the rest of this test uses.
    String lockout = "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\","
        + "\"Principal\":{\"AWS\":\"arn:aws:iam::111122223333:role/app\"},\"Action\":\"kms:Decrypt\",\"Resource\":\"*\"},"
        + "{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::111122223333:root\"},"
        + "\"Action\":[\"kms:Decrypt\",\"kms:Get*\",\"kms:Describe*\"],\"Resource\":\"*\"}]}";
    MalformedPolicyDocumentException locked = assertThrows(MalformedPolicyDocumentException.class,
        () -> kms(EU).putKeyPolicy(b -> b.keyId(keyId).policyName("default").policy(lockout)));
    assertEquals("The new key policy will not allow you to update the key policy in the future.",
        locked.awsErrorDetails().errorMessage());
    assertEquals(narrow, kms(EU).getKeyPolicy(b -> b.keyId(keyId)).policy());
    kms(EU).putKeyPolicy(b -> b.keyId(keyId).policyName("default").policy(lockout).bypassPolicyLockoutSafetyCheck(true));
    assertEquals(lockout, kms(EU).getKeyPolicy(b -> b.keyId(keyId)).policy());
    assertThrows(NotFoundException.class, () -> kms(US).getKeyPolicy(b -> b.keyId(keyId).policyName("other")));
    assertEquals(List.of("default"), kms(US).listKeyPolicies(b -> b.keyId(keyId)).policyNames());

    // Last usage, per Region: the newest cryptographic use with its request id.
    String fresh = kms(AP).createKey(b -> b.description("unused")).keyMetadata().keyId();
    var unused = kms(AP).getKeyLastUsage(b -> b.keyId(fresh));
    assertNull(unused.keyLastUsage().operation());
    assertEquals(arn(AP, fresh), unused.keyId());
    var encrypted = kms(US).encrypt(b -> b.keyId(keyId).plaintext(SdkBytes.fromUtf8String("use")));
    var used = kms(US).getKeyLastUsage(b -> b.keyId(keyId));
    assertEquals("Encrypt", used.keyLastUsage().operationAsString());
    assertEquals(encrypted.responseMetadata().requestId(), used.keyLastUsage().kmsRequestId());
    kms(EU).decrypt(b -> b.ciphertextBlob(encrypted.ciphertextBlob()));
    assertEquals("Decrypt", kms(EU).getKeyLastUsage(b -> b.keyId(keyId)).keyLastUsage().operationAsString());
    assertEquals("Encrypt", kms(US).getKeyLastUsage(b -> b.keyId(keyId)).keyLastUsage().operationAsString());
  }

  @Test
  void rotationIsSharedAndNoMemberEncryptsWithMaterialAnotherLacks() {
    // A replica away during 24 rotations: each is held until it returns, all count to the quota.
    cluster = TestCluster.start(data);
    String keyId = replicatedKey();
    String original = describe(US, keyId).currentKeyMaterialId();
    byte[] old = encrypt(AP, keyId, "before any rotation");

    // Shared properties change on the primary only.
    UnsupportedOperationException onReplica = assertThrows(UnsupportedOperationException.class,
        () -> kms(EU).rotateKeyOnDemand(b -> b.keyId(keyId)));
    assertTrue(onReplica.awsErrorDetails().errorMessage().contains("replica"), onReplica.getMessage());
    assertThrows(UnsupportedOperationException.class, () -> kms(EU).enableKeyRotation(b -> b.keyId(keyId)));

    kms(US).enableKeyRotation(b -> b.keyId(keyId).rotationPeriodInDays(180));
    TestCluster.await(Duration.ofSeconds(20), "rotation settings on every replica", () -> {
      for (String r : ALL) {
        GetKeyRotationStatusResponse status = kms(r).getKeyRotationStatus(b -> b.keyId(keyId));
        if (!status.keyRotationEnabled() || status.rotationPeriodInDays() != 180) return false;
        assertTrue(status.nextRotationDate() != null, r);
      }
      return true;
    });

    kms(US).rotateKeyOnDemand(b -> b.keyId(keyId));
    TestCluster.await(Duration.ofSeconds(20), "the new material is current in every Region", () -> {
      String current = describe(US, keyId).currentKeyMaterialId();
      if (current.equals(original)) return false;
      for (String r : ALL) {
        if (!describe(r, keyId).currentKeyMaterialId().equals(current)) return false;
      }
      return true;
    });
    for (String r : ALL) {
      List<RotationsListEntry> rotations = kms(r).listKeyRotations(b -> b.keyId(keyId)).rotations();
      assertEquals(1, rotations.size(), r);
      assertEquals("ON_DEMAND", rotations.get(0).rotationTypeAsString());
      assertEquals(describe(r, keyId).currentKeyMaterialId(), rotations.get(0).keyMaterialId());
      assertEquals("before any rotation", decrypt(r, old), r);
      byte[] fresh = encrypt(r, keyId, "after, from " + r);
      for (String other : ALL) assertEquals("after, from " + r, decrypt(other, fresh), other);
    }

    // A replica away during two rotations: the others keep encrypting with material it has.
    String beforeOutage = describe(US, keyId).currentKeyMaterialId();
    cluster.crash(AP);
    cluster.awaitUnreachable(US, AP);
    kms(US).rotateKeyOnDemand(b -> b.keyId(keyId));
    kms(US).rotateKeyOnDemand(b -> b.keyId(keyId));
    // The quota of 25 on-demand rotations counts the ones still on their way to the replica.
    for (int i = 0; i < 22; i++) kms(US).rotateKeyOnDemand(b -> b.keyId(keyId));
    KmsException quota = assertThrows(KmsException.class, () -> kms(US).rotateKeyOnDemand(b -> b.keyId(keyId)));
    assertEquals("LimitExceededException", quota.awsErrorDetails().errorCode());
    kms(US).updateKeyDescription(b -> b.keyId(keyId).description("primary, renamed"));
    byte[] duringOutage = encrypt(EU, keyId, "made while ap-southeast-2 was away");
    assertEquals(beforeOutage, describe(US, keyId).currentKeyMaterialId());
    assertEquals(beforeOutage, describe(EU, keyId).currentKeyMaterialId());
    assertTrue(kms(US).getKeyRotationStatus(b -> b.keyId(keyId)).onDemandRotationStartDate() != null);

    cluster.restart(AP);
    clients.remove(AP).close();
    TestCluster.await(Duration.ofSeconds(30), "ap-southeast-2 caught up with every rotation", () -> {
      String current = describe(US, keyId).currentKeyMaterialId();
      return !current.equals(beforeOutage) && describe(AP, keyId).currentKeyMaterialId().equals(current)
          && describe(EU, keyId).currentKeyMaterialId().equals(current);
    });
    assertEquals(25, kms(AP).listKeyRotations(b -> b.keyId(keyId)).rotations().size());
    assertEquals("ap", describe(AP, keyId).description());
    assertEquals("made while ap-southeast-2 was away", decrypt(AP, duringOutage));
    assertEquals("before any rotation", decrypt(AP, old));
    assertNull(kms(US).getKeyRotationStatus(b -> b.keyId(keyId)).onDemandRotationStartDate());

    // Only symmetric encryption keys rotate.
    String signing = kms(US).createKey(b -> b.keySpec(KeySpec.ECC_NIST_P256).keyUsage(KeyUsageType.SIGN_VERIFY))
        .keyMetadata().keyId();
    assertThrows(UnsupportedOperationException.class, () -> kms(US).rotateKeyOnDemand(b -> b.keyId(signing)));
    assertThrows(UnsupportedOperationException.class, () -> kms(US).enableKeyRotation(b -> b.keyId(signing)));
    KmsException period = assertThrows(KmsException.class,
        () -> kms(US).enableKeyRotation(b -> b.keyId(keyId).rotationPeriodInDays(89)));
    assertEquals("ValidationException", period.awsErrorDetails().errorCode());
  }

  @Test
  void aPrimaryWithReplicasIsDeletedAfterThemOnASpedUpClock() {
    // One simulated day per 50 ms of real time: a 7-day window passes in about 0.35 s.
    double scale = 86_400_000.0 / 50;
    cluster = TestCluster.start(data, ALL, ConfigFactory.parseString(
        "kms.clock.time-scale = " + scale + "\nkms.clock.origin = " + System.currentTimeMillis()));
    String keyId = replicatedKey();
    String single = kms(EU).createKey(b -> b.description("single")).keyMetadata().keyId();

    ScheduleKeyDeletionResponse primary = kms(US).scheduleKeyDeletion(b -> b.keyId(keyId).pendingWindowInDays(7));
    assertEquals("PendingReplicaDeletion", primary.keyStateAsString());
    assertNull(primary.deletionDate());
    assertEquals(7, primary.pendingWindowInDays());
    KeyMetadata waiting = describe(US, keyId);
    assertEquals(7, waiting.pendingDeletionWindowInDays());
    assertNull(waiting.deletionDate());
    KmsInvalidStateException pending = assertThrows(KmsInvalidStateException.class, () -> encrypt(US, keyId, "x"));
    assertEquals(arn(US, keyId) + " is pending deletion.", pending.awsErrorDetails().errorMessage());
    assertThrows(KmsInvalidStateException.class,
        () -> kms(US).scheduleKeyDeletion(b -> b.keyId(keyId).pendingWindowInDays(7)));
    // Replicas are untouched until they are scheduled themselves, and wait for nothing.
    assertEquals("Enabled", describe(EU, keyId).keyStateAsString());
    // A window outside 7..30 days is refused.
    assertThrows(KmsException.class, () -> kms(EU).scheduleKeyDeletion(b -> b.keyId(keyId).pendingWindowInDays(6)));
    assertThrows(KmsException.class, () -> kms(EU).scheduleKeyDeletion(b -> b.keyId(keyId).pendingWindowInDays(31)));

    // Cancelling returns a key to Disabled.
    kms(EU).scheduleKeyDeletion(b -> b.keyId(single).pendingWindowInDays(30));
    kms(EU).cancelKeyDeletion(b -> b.keyId(single));
    assertEquals("Disabled", describe(EU, single).keyStateAsString());
    assertThrows(KmsInvalidStateException.class, () -> kms(EU).cancelKeyDeletion(b -> b.keyId(single)));

    ScheduleKeyDeletionResponse eu = kms(EU).scheduleKeyDeletion(b -> b.keyId(keyId).pendingWindowInDays(7));
    assertEquals("PendingDeletion", eu.keyStateAsString());
    assertTrue(eu.deletionDate() != null);
    TestCluster.await(Duration.ofSeconds(20), "the eu-west-1 replica is gone and left the member list", () -> {
      assertThrows(NotFoundException.class, () -> describe(EU, keyId));
      return describe(US, keyId).multiRegionConfiguration().replicaKeys().size() == 1
          && describe(AP, keyId).multiRegionConfiguration().replicaKeys().size() == 1;
    });
    assertFalse(kms(EU).listKeys().keys().stream().anyMatch(k -> k.keyId().equals(keyId)));
    assertEquals("PendingReplicaDeletion", describe(US, keyId).keyStateAsString());

    kms(AP).scheduleKeyDeletion(b -> b.keyId(keyId).pendingWindowInDays(7));
    TestCluster.await(Duration.ofSeconds(20), "the last replica is gone: the primary's window starts", () -> {
      assertThrows(NotFoundException.class, () -> describe(AP, keyId));
      KeyMetadata m;
      try {
        m = describe(US, keyId);
      } catch (NotFoundException gone) {
        return true; // its own 7 days may already have passed too
      }
      return m.keyStateAsString().equals("PendingDeletion") && m.deletionDate() != null;
    });
    TestCluster.await(Duration.ofSeconds(20), "the primary is deleted", () -> {
      assertThrows(NotFoundException.class, () -> describe(US, keyId));
      return kms(US).listKeys().keys().stream().noneMatch(k -> k.keyId().equals(keyId));
    });
    // Deleted means deleted after a restart too.
    cluster.stop(US);
    clients.remove(US).close();
    cluster.restart(US);
    assertThrows(NotFoundException.class, () -> describe(US, keyId));
    assertNotEquals(null, describe(EU, single));
  }
}
