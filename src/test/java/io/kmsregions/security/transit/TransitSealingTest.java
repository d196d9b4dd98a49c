package io.kmsregions.security.transit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kmsregions.key.KeyEntity;
import io.kmsregions.key.KeyEntity.ReplicationCommand;
import io.kmsregions.key.KeyMaterial;
import io.kmsregions.key.KeySpec;
import io.kmsregions.key.KeyUsage;
import io.kmsregions.key.MultiRegionConfiguration;
import io.kmsregions.key.Origin;
import io.kmsregions.key.SharedProperties;
import io.kmsregions.region.RegionGateway;
import io.kmsregions.testkit.TestCluster;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.serialization.Serialization;
import org.apache.pekko.serialization.SerializationExtension;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Key material crossing Regions is sealed for the receiving node (issue 7, "In transit"): the
 * receiver opens it, nobody else can, and the bytes Artery would carry do not contain it.
 */
class TransitSealingTest {
  static final String KEY_ID = "mrk-0123456789abcdef0123456789abcdef";

  static byte[] random(int n) {
    byte[] b = new byte[n];
    new SecureRandom().nextBytes(b);
    return b;
  }

  static SharedProperties shared(byte[] secret) {
    return new SharedProperties(3, KeySpec.SYMMETRIC_DEFAULT, KeyUsage.ENCRYPT_DECRYPT, Origin.AWS_KMS,
        List.of(new KeyMaterial("aa".repeat(32), secret, null, 1L, KEY_ID)));
  }

  static ReplicationCommand sync(byte[] secret, ActorRef<KeyEntity.DeliveryReply> replyTo) {
    return new KeyEntity.SynchronizeSharedProperties(shared(secret),
        MultiRegionConfiguration.initial("us-east-1"), replyTo);
  }

  static byte[] secretOf(ReplicationCommand c) {
    return ((KeyEntity.SynchronizeSharedProperties) c).shared().materials().get(0).secret();
  }

  @Test
  void onlyTheReceivingNodeOpensWhatWasSealedForIt() throws Exception {
    TransitSealing us = TransitSealing.create("us-east-1");
    TransitSealing eu = TransitSealing.create("eu-west-1");
    TransitSealing ap = TransitSealing.create("ap-southeast-2");
    byte[] secret = random(32);
    ReplicationCommand sealed = us.sealFor("eu-west-1", eu.publicKey(), KEY_ID, sync(secret, null));
    assertFalse(Arrays.equals(secret, secretOf(sealed)));
    assertFalse(contains(secretOf(sealed), secret));
    ReplicationCommand opened = eu.openFrom("us-east-1", us.publicKey(), KEY_ID, sealed);
    assertArrayEquals(secret, secretOf(opened));
    // Another Region, or the same Region after a restart (a new key pair), cannot open it.
    assertThrows(GeneralSecurityException.class, () -> ap.openFrom("us-east-1", us.publicKey(), KEY_ID, sealed));
    TransitSealing euRestarted = TransitSealing.create("eu-west-1");
    assertThrows(GeneralSecurityException.class, () -> euRestarted.openFrom("us-east-1", us.publicKey(), KEY_ID, sealed));
    // Bound to the key id: moved to another key, it does not open.
    assertThrows(GeneralSecurityException.class,
        () -> eu.openFrom("us-east-1", us.publicKey(), "mrk-ffffffffffffffffffffffffffffffff", sealed));
    // Commands without material pass as they are.
    ReplicationCommand done = new KeyEntity.ReplicaDeleted("eu-west-1", null);
    assertTrue(done == us.sealFor("eu-west-1", eu.publicKey(), KEY_ID, done));
  }

  /** A new replication command must be taught to TransitSealing.mapMaterials before it can cross Regions. */
  @Test
  void everyReplicationCommandIsKnown() {
    Set<String> permitted = Arrays.stream(ReplicationCommand.class.getPermittedSubclasses())
        .map(Class::getSimpleName).collect(Collectors.toSet());
    assertEquals(Set.of("CreateReplica", "SynchronizeSharedProperties", "Promote", "SynchronizeConfiguration",
        "CompleteHandover", "ReplicaDeleted"), permitted);
  }

  @TempDir Path dir;

  /** What Artery would carry: the node's own serialization of the gateway message. */
  @Test
  void theSerializedMessageBetweenRegionsHoldsNoMaterial() throws Exception {
    try (TestCluster cluster = TestCluster.start(dir, List.of("us-east-1"), com.typesafe.config.ConfigFactory.empty())) {
      ActorSystem<Void> system = cluster.node("us-east-1").system();
      Serialization serialization = SerializationExtension.get(Adapter.toClassic(system));
      ActorRef<KeyEntity.DeliveryReply> replyTo = Adapter.toTyped(Adapter.toClassic(system).deadLetters());
      TransitSealing us = TransitSealing.create("us-east-1");
      TransitSealing eu = TransitSealing.create("eu-west-1");
      byte[] secret = random(32);
      RegionGateway.ToKey plain = new RegionGateway.ToKey(KEY_ID, sync(secret, replyTo), "us-east-1",
          us.publicKey(), eu.fingerprint());
      RegionGateway.ToKey sealed = new RegionGateway.ToKey(KEY_ID,
          us.sealFor("eu-west-1", eu.publicKey(), KEY_ID, sync(secret, replyTo)), "us-east-1", us.publicKey(),
          eu.fingerprint());
      // Control: unsealed, the secret is in the bytes; sealed, it is not.
      assertTrue(contains(serialization.serialize(plain).get(), secret));
      byte[] wire = serialization.serialize(sealed).get();
      assertFalse(contains(wire, secret));
      RegionGateway.ToKey back = (RegionGateway.ToKey) serialization.deserialize(wire, RegionGateway.ToKey.class).get();
      assertArrayEquals(secret, secretOf(eu.openFrom(back.fromRegion(), back.senderPublicKey(), KEY_ID, back.command())));
    }
  }

  static boolean contains(byte[] haystack, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= haystack.length; i++) {
      for (int j = 0; j < needle.length; j++) if (haystack[i + j] != needle[j]) continue outer;
      return true;
    }
    return false;
  }
}
