package io.kmsregions.region;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kmsregions.testkit.TestCluster;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.kms.KmsClient;
import software.amazon.awssdk.services.kms.model.AlreadyExistsException;
import software.amazon.awssdk.services.kms.model.DataKeySpec;
import software.amazon.awssdk.services.kms.model.GenerateDataKeyResponse;
import software.amazon.awssdk.services.kms.model.KeyMetadata;
import software.amazon.awssdk.services.kms.model.KeyState;
import software.amazon.awssdk.services.kms.model.KmsException;
import software.amazon.awssdk.services.kms.model.MultiRegionConfiguration;
import software.amazon.awssdk.services.kms.model.MultiRegionKeyType;
import software.amazon.awssdk.services.kms.model.NotFoundException;
import software.amazon.awssdk.services.kms.model.ReplicateKeyResponse;
import software.amazon.awssdk.services.kms.model.UnsupportedOperationException;

/**
 * The multi-Region story of the foundation issue on a real three-Region cluster, driven over HTTP
 * by the AWS SDK for Java v2: create, replicate, encrypt in one Region and decrypt in the others,
 * swap the primary, restart the whole cluster, and crash a Region in the middle of a handover.
 */
class MultiRegionKeyClusterTest {
  private static final String US = "us-east-1";
  private static final String EU = "eu-west-1";
  private static final String AP = "ap-southeast-2";
  private static final Duration CONVERGE = Duration.ofSeconds(30);

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

  private byte[] encrypt(String region, String keyId, String text, Map<String, String> context) {
    return kms(region).encrypt(b -> b.keyId(keyId).plaintext(SdkBytes.fromUtf8String(text))
        .encryptionContext(context)).ciphertextBlob().asByteArray();
  }

  private String decrypt(String region, byte[] ciphertext, Map<String, String> context) {
    return kms(region).decrypt(b -> b.ciphertextBlob(SdkBytes.fromByteArray(ciphertext))
        .encryptionContext(context)).plaintext().asUtf8String();
  }

  private String arn(String region, String keyId) {
    return "arn:aws:kms:" + region + ":111122223333:key/" + keyId;
  }

  /** Waits until every Region in {@code members} shows the same set with {@code primary}, all Enabled. */
  private void awaitConverged(String keyId, String primary, List<String> members) {
    TestCluster.await(CONVERGE, keyId + " converged on primary " + primary, () -> {
      for (String region : members) {
        KeyMetadata m = describe(region, keyId);
        MultiRegionConfiguration c = m.multiRegionConfiguration();
        assertEquals(KeyState.ENABLED, m.keyState(), region + " state");
        assertEquals(primary, c.primaryKey().region(), region + " primary");
        assertEquals(arn(primary, keyId), c.primaryKey().arn());
        assertEquals(region.equals(primary) ? MultiRegionKeyType.PRIMARY : MultiRegionKeyType.REPLICA,
            c.multiRegionKeyType(), region + " type");
        List<String> replicas = c.replicaKeys().stream().map(r -> r.region()).sorted().toList();
        List<String> expected = members.stream().filter(r -> !r.equals(primary)).sorted().toList();
        assertEquals(expected, replicas, region + " replicas");
      }
      return true;
    });
  }

  @Test
  void replicateEncryptEverywhereSwapPrimaryAndSurviveARestart() {
    cluster = TestCluster.start(data);
    Map<String, String> context = Map.of("purpose", "test", "tenant", "42");

    KeyMetadata created = kms(US).createKey(b -> b.multiRegion(true).description("story")).keyMetadata();
    String keyId = created.keyId();
    assertTrue(keyId.matches("mrk-[0-9a-f]{32}"), keyId);
    byte[] before = encrypt(US, keyId, "made before any replica", context);

    ReplicateKeyResponse toEu = kms(US).replicateKey(b -> b.keyId(keyId).replicaRegion(EU).description("eu copy"));
    KeyMetadata replica = toEu.replicaKeyMetadata();
    assertEquals(KeyState.CREATING, replica.keyState());
    assertFalse(replica.enabled());
    assertEquals(arn(EU, keyId), replica.arn());
    assertEquals(MultiRegionKeyType.REPLICA, replica.multiRegionConfiguration().multiRegionKeyType());
    assertEquals(null, replica.currentKeyMaterialId());
    assertTrue(toEu.replicaPolicy().contains("\"kms:*\""));
    // The primary lists the new replica at once.
    assertEquals(List.of(EU), describe(US, keyId).multiRegionConfiguration().replicaKeys().stream()
        .map(r -> r.region()).toList());

    kms(US).replicateKey(b -> b.keyId(keyId).replicaRegion(AP));
    awaitConverged(keyId, US, List.of(US, EU, AP));
    assertEquals("eu copy", describe(EU, keyId).description());
    assertEquals("story", describe(US, keyId).description());
    assertEquals("", describe(AP, keyId).description());
    assertEquals(describe(US, keyId).currentKeyMaterialId(), describe(AP, keyId).currentKeyMaterialId());

    // Any member decrypts what any other encrypted, including ciphertexts older than the replica.
    byte[] fromUs = encrypt(US, keyId, "hello from us-east-1", context);
    for (String r : List.of(US, EU, AP)) {
      assertEquals("hello from us-east-1", decrypt(r, fromUs, context), r);
      assertEquals("made before any replica", decrypt(r, before, context), r);
    }
    byte[] fromAp = encrypt(AP, keyId, "hello from ap-southeast-2", Map.of());
    assertEquals("hello from ap-southeast-2", decrypt(US, fromAp, Map.of()));
    assertEquals("hello from ap-southeast-2", kms(EU).decrypt(b -> b.keyId(arn(EU, keyId))
        .ciphertextBlob(SdkBytes.fromByteArray(fromAp))).plaintext().asUtf8String());
    NotFoundException foreignArn = assertThrows(NotFoundException.class, () -> kms(EU).decrypt(b -> b
        .keyId(arn(US, keyId)).ciphertextBlob(SdkBytes.fromByteArray(fromAp))));
    assertEquals("Invalid arn us-east-1", foreignArn.awsErrorDetails().errorMessage());
    GenerateDataKeyResponse dataKey = kms(EU).generateDataKey(b -> b.keyId(keyId).keySpec(DataKeySpec.AES_128));
    assertEquals(16, dataKey.plaintext().asByteArray().length);
    assertEquals(dataKey.plaintext(), kms(US).decrypt(b -> b.ciphertextBlob(dataKey.ciphertextBlob())).plaintext());

    // ReplicateKey only from the current primary, once per Region, never to its own Region.
    UnsupportedOperationException notPrimary = assertThrows(UnsupportedOperationException.class,
        () -> kms(EU).replicateKey(b -> b.keyId(keyId).replicaRegion(AP)));
    assertEquals(arn(EU, keyId) + " is not a multi-region primary key.", notPrimary.awsErrorDetails().errorMessage());
    assertThrows(AlreadyExistsException.class, () -> kms(US).replicateKey(b -> b.keyId(keyId).replicaRegion(EU)));
    KmsException own = assertThrows(KmsException.class, () -> kms(US).replicateKey(b -> b.keyId(keyId).replicaRegion(US)));
    assertEquals("ValidationException", own.awsErrorDetails().errorCode());

    // A client of eu-west-1 may use any node's endpoint: the call is forwarded through the cluster.
    try (KmsClient euViaUs = cluster.clientVia(EU, US)) {
      assertEquals(arn(EU, keyId), euViaUs.describeKey(b -> b.keyId(keyId)).keyMetadata().arn());
    }

    // Swap the primary to eu-west-1.
    kms(US).updatePrimaryRegion(b -> b.keyId(keyId).primaryRegion(EU));
    KeyMetadata oldPrimary = describe(US, keyId);
    assertTrue(oldPrimary.keyState() == KeyState.UPDATING || oldPrimary.keyState() == KeyState.ENABLED);
    assertEquals(EU, oldPrimary.multiRegionConfiguration().primaryKey().region());
    awaitConverged(keyId, EU, List.of(US, EU, AP));
    assertThrows(UnsupportedOperationException.class,
        () -> kms(US).replicateKey(b -> b.keyId(keyId).replicaRegion(AP)));
    assertThrows(UnsupportedOperationException.class,
        () -> kms(US).updatePrimaryRegion(b -> b.keyId(keyId).primaryRegion(AP)));
    byte[] fromEu = encrypt(EU, keyId, "after the swap", context);
    assertEquals("after the swap", decrypt(AP, fromEu, context));

    // Restart every Region on the same data: keys, replicas, the primary and old ciphertexts survive.
    String single = kms(AP).createKey(b -> b.description("single")).keyMetadata().keyId();
    byte[] fromSingle = encrypt(AP, single, "single-Region", Map.of());
    for (String r : List.of(AP, EU, US)) cluster.stop(r);
    clients.values().forEach(KmsClient::close);
    clients.clear();
    for (String r : List.of(US, EU, AP)) cluster.restart(r);

    awaitConverged(keyId, EU, List.of(US, EU, AP));
    for (String r : List.of(US, EU, AP)) {
      assertEquals("hello from us-east-1", decrypt(r, fromUs, context), r);
      assertEquals("made before any replica", decrypt(r, before, context), r);
      assertEquals("after the swap", decrypt(r, fromEu, context), r);
      assertTrue(kms(r).listKeys().keys().stream().anyMatch(k -> k.keyId().equals(keyId)), r);
    }
    assertEquals("single-Region", decrypt(AP, fromSingle, Map.of()));
    assertEquals("single", describe(AP, single).description());
    assertThrows(NotFoundException.class, () -> describe(US, single));
  }

  @Test
  void handoverToACrashedRegionWaitsAndCompletesWhenItReturns() {
    cluster = TestCluster.start(data);
    String keyId = kms(US).createKey(b -> b.multiRegion(true)).keyMetadata().keyId();
    kms(US).replicateKey(b -> b.keyId(keyId).replicaRegion(EU));
    kms(US).replicateKey(b -> b.keyId(keyId).replicaRegion(AP));
    awaitConverged(keyId, US, List.of(US, EU, AP));
    byte[] early = encrypt(EU, keyId, "early", Map.of());

    cluster.crash(AP);
    cluster.awaitUnreachable(US, AP);
    // Through a live node, the crashed Region answers 503.
    try (KmsClient apViaUs = cluster.clientVia(AP, US)) {
      KmsException e = assertThrows(KmsException.class, () -> apViaUs.describeKey(b -> b.keyId(keyId)));
      assertEquals(503, e.statusCode());
    }

    // The handover is accepted and stays Updating while its target is down.
    kms(US).updatePrimaryRegion(b -> b.keyId(keyId).primaryRegion(AP));
    assertEquals(KeyState.UPDATING, describe(US, keyId).keyState());
    // Cryptography keeps working in the Regions that are up, on the old primary too.
    byte[] during = encrypt(US, keyId, "during", Map.of());
    assertEquals("during", decrypt(EU, during, Map.of()));
    assertEquals("early", decrypt(US, early, Map.of()));
    // Work that needs the absent Region stays pending: still Updating a while later.
    sleep(Duration.ofSeconds(2));
    assertEquals(KeyState.UPDATING, describe(US, keyId).keyState());

    cluster.restart(AP);
    awaitConverged(keyId, AP, List.of(US, EU, AP));
    assertEquals("during", decrypt(AP, during, Map.of()));
    assertEquals("early", decrypt(AP, early, Map.of()));
  }

  @Test
  void handoverCompletesWhenTheOldPrimaryCrashesRightAfterStartingIt() {
    cluster = TestCluster.start(data);
    String keyId = kms(EU).createKey(b -> b.multiRegion(true)).keyMetadata().keyId();
    kms(EU).replicateKey(b -> b.keyId(keyId).replicaRegion(US));
    kms(EU).replicateKey(b -> b.keyId(keyId).replicaRegion(AP));
    awaitConverged(keyId, EU, List.of(US, EU, AP));

    kms(EU).updatePrimaryRegion(b -> b.keyId(keyId).primaryRegion(US));
    cluster.crash(EU);
    clients.remove(EU).close();
    cluster.restart(EU);
    awaitConverged(keyId, US, List.of(US, EU, AP));
    byte[] ct = encrypt(US, keyId, "new primary", Map.of());
    assertEquals("new primary", decrypt(EU, ct, Map.of()));
  }

  @Test
  void replicaCreationInterruptedByACrashOfTheTargetCompletesAfterRestart() {
    cluster = TestCluster.start(data);
    String keyId = kms(US).createKey(b -> b.multiRegion(true)).keyMetadata().keyId();
    cluster.crash(EU);
    cluster.awaitUnreachable(US, EU);
    KeyMetadata replica = kms(US).replicateKey(b -> b.keyId(keyId).replicaRegion(EU)).replicaKeyMetadata();
    assertEquals(KeyState.CREATING, replica.keyState());
    byte[] ct = encrypt(US, keyId, "while eu-west-1 was down", Map.of());
    // A replica still being created cannot become the primary (it is not Enabled).
    KmsException creating = assertThrows(KmsException.class,
        () -> kms(US).updatePrimaryRegion(b -> b.keyId(keyId).primaryRegion(EU)));
    assertEquals("KMSInvalidStateException", creating.awsErrorDetails().errorCode());
    assertEquals(arn(EU, keyId) + " is creating.", creating.awsErrorDetails().errorMessage());
    assertEquals(KeyState.ENABLED, describe(US, keyId).keyState());
    cluster.restart(EU);
    clients.remove(EU);
    awaitConverged(keyId, US, List.of(US, EU));
    assertEquals("while eu-west-1 was down", decrypt(EU, ct, Map.of()));
  }

  private static void sleep(Duration d) {
    try {
      Thread.sleep(d.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
