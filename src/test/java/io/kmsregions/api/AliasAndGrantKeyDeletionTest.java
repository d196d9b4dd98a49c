package io.kmsregions.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.kmsregions.testkit.TestCluster;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.services.kms.KmsClient;
import software.amazon.awssdk.services.kms.model.AliasListEntry;
import software.amazon.awssdk.services.kms.model.GrantOperation;
import software.amazon.awssdk.services.kms.model.KmsException;

/**
 * When a key is really deleted (its deletion window ends, on a sped-up cluster clock), its aliases
 * and grants go with it: the key publishes KeyManager.KeyDeleted, the alias manager and the grant
 * store of its Region remove what belongs to it, durably. Other keys' aliases and grants stay.
 */
class AliasAndGrantKeyDeletionTest {
  private static final String US = "us-east-1";
  private static final String ROLE = "arn:aws:iam::111122223333:role/grantee";
  private static final String RETIRER = "arn:aws:iam::111122223333:role/deletion-retirer";

  @TempDir static Path dataDir;
  private static TestCluster cluster;
  private static KmsClient kms;

  @BeforeAll
  static void startCluster() {
    // 7 simulated days pass in about 3 seconds.
    cluster = TestCluster.start(dataDir, List.of(US, "eu-west-1", "ap-southeast-2"),
        ConfigFactory.parseString("kms.clock.time-scale = 200000"));
    kms = cluster.client(US);
  }

  @AfterAll
  static void stopCluster() {
    if (kms != null) kms.close();
    if (cluster != null) cluster.close();
  }

  @Test
  void aDeletedKeyTakesItsAliasesAndGrantsWithIt() {
    String doomed = kms.createKey(b -> { }).keyMetadata().keyId();
    String kept = kms.createKey(b -> { }).keyMetadata().keyId();
    String suffix = UUID.randomUUID().toString().substring(0, 8);
    String doomedAlias = "alias/doomed-" + suffix;
    String keptAlias = "alias/kept-" + suffix;
    kms.createAlias(b -> b.aliasName(doomedAlias).targetKeyId(doomed));
    kms.createAlias(b -> b.aliasName(keptAlias).targetKeyId(kept));
    String doomedGrant = kms.createGrant(b -> b.keyId(doomed).granteePrincipal(ROLE).retiringPrincipal(RETIRER)
        .operations(GrantOperation.DECRYPT)).grantId();
    String keptGrant = kms.createGrant(b -> b.keyId(kept).granteePrincipal(ROLE).retiringPrincipal(RETIRER)
        .operations(GrantOperation.DECRYPT)).grantId();

    kms.scheduleKeyDeletion(b -> b.keyId(doomed).pendingWindowInDays(7));
    // While pending deletion the alias still points at the key.
    assertEquals(doomed, target(doomedAlias));

    TestCluster.await(Duration.ofSeconds(60), doomed + " is deleted", () -> {
      try {
        kms.describeKey(b -> b.keyId(doomed));
        return false;
      } catch (KmsException e) {
        return "NotFoundException".equals(e.awsErrorDetails().errorCode());
      }
    });
    TestCluster.await(Duration.ofSeconds(10), "the deleted key's alias is gone",
        () -> aliases().stream().noneMatch(a -> a.aliasName().equals(doomedAlias)));
    KmsException e = assertThrows(KmsException.class, () -> kms.describeKey(b -> b.keyId(doomedAlias)));
    assertEquals("NotFoundException", e.awsErrorDetails().errorCode());
    assertEquals(kept, target(keptAlias));
    assertEquals(List.of(keptGrant), retirableGrantIds());

    // The removal is durable, and the freed name can be used again.
    cluster.stop(US);
    cluster.restart(US);
    assertTrue(aliases().stream().noneMatch(a -> a.aliasName().equals(doomedAlias)));
    assertEquals(kept, target(keptAlias));
    assertEquals(List.of(keptGrant), retirableGrantIds());
    kms.createAlias(b -> b.aliasName(doomedAlias).targetKeyId(kept));
    assertEquals(kept, target(doomedAlias));
    assertTrue(retirableGrantIds().stream().noneMatch(doomedGrant::equals));
  }

  private static List<AliasListEntry> aliases() {
    return kms.listAliases(b -> b.limit(100)).aliases();
  }

  private static String target(String aliasName) {
    return aliases().stream().filter(a -> a.aliasName().equals(aliasName)).findFirst()
        .map(AliasListEntry::targetKeyId).orElse(null);
  }

  private static List<String> retirableGrantIds() {
    return kms.listRetirableGrants(b -> b.retiringPrincipal(RETIRER)).grants().stream()
        .map(g -> g.grantId()).toList();
  }
}
