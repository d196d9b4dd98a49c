package io.kmsregions.security.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.kmsregions.region.RegionNode;
import io.kmsregions.region.RegionSpec;
import io.kmsregions.testkit.TestCluster;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.kms.KmsClient;
import software.amazon.awssdk.services.kms.model.KeyState;

/**
 * Artery over mutual TLS: a two-Region cluster with generated certificates forms and replicates a
 * multi-Region key; a node whose certificate another authority issued, and a node speaking plain
 * TCP, cannot join it, while the same node certified by the cluster's authority does.
 */
class ClusterTlsTest {
  static final String US = "us-east-1";
  static final String EU = "eu-west-1";
  static final Config TLS = ConfigFactory.parseString("kms.cluster.tls.enabled = on");

  @TempDir Path dataDir;
  @TempDir Path otherDataDir;

  @Test
  void aTlsClusterFormsAndANodeWithoutItsCertificateCannotJoin() throws Exception {
    try (TestCluster cluster = TestCluster.start(dataDir, List.of(US, EU), TLS);
        KmsClient us = cluster.client(US);
        KmsClient eu = cluster.client(EU)) {
      Config used = cluster.node(US).system().settings().config();
      assertEquals("tls-tcp", used.getString("pekko.remote.artery.transport"));
      assertTrue(used.getBoolean("pekko.remote.artery.ssl.config-ssl-engine.require-mutual-authentication"));
      assertEquals("rw-------", PosixFilePermissions.toString(
          Files.getPosixFilePermissions(dataDir.resolve("cluster-ca").resolve("ca.p12"))));

      String keyId = us.createKey(b -> b.multiRegion(true)).keyMetadata().keyId();
      us.replicateKey(b -> b.keyId(keyId).replicaRegion(EU));
      TestCluster.await(Duration.ofSeconds(60), "replica Enabled over TLS",
          () -> eu.describeKey(b -> b.keyId(keyId)).keyMetadata().keyState() == KeyState.ENABLED);
      byte[] blob = us.encrypt(b -> b.keyId(keyId).plaintext(SdkBytes.fromUtf8String("tls"))).ciphertextBlob()
          .asByteArray();
      assertEquals("tls", eu.decrypt(b -> b.ciphertextBlob(SdkBytes.fromByteArray(blob))).plaintext().asUtf8String());

      // Two intruders that try to join through the cluster's seed nodes: one with a certificate of
      // another authority (its own data folder, so its own generated CA), one without TLS.
      List<RegionSpec> seeds = new ArrayList<>();
      for (String r : List.of(US, EU)) {
        Address a = Adapter.toClassic(cluster.node(r).system()).provider().getDefaultAddress();
        seeds.add(new RegionSpec(r, "127.0.0.1", cluster.httpPort(r), a.getHost().get(), (Integer) a.getPort().get()));
      }
      // All three start at once; the friend's join bounds how long the intruders had to try.
      long started = System.nanoTime();
      RegionNode otherCa = intruder("ap-southeast-2", seeds, otherDataDir.resolve("ca"), TLS);
      RegionNode plain = intruder("sa-east-1", seeds, otherDataDir.resolve("plain"), ConfigFactory.empty());
      // Control: the same kind of node, certified by the cluster's own CA, does join, so the two
      // intruders are kept out by their certificates, not by how they were started.
      RegionNode friend = intruder("ca-central-1", seeds, dataDir, TLS);
      try {
        try {
          friend.ready().toCompletableFuture().get(120, TimeUnit.SECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
          throw new AssertionError("ca-central-1, certified by the cluster's CA, did not join in 120 s; members as"
              + " us-east-1 sees them: " + memberDataCenters(cluster) + ", as ca-central-1 sees them: "
              + org.apache.pekko.cluster.Cluster.get(Adapter.toClassic(friend.system())).state(), e);
        }
        TestCluster.await(Duration.ofSeconds(30), "ca-central-1 a member as us-east-1 sees it",
            () -> memberDataCenters(cluster).contains("ca-central-1"));
        // The intruders retry their join every second: give them at least 15 s in all.
        long waited = (System.nanoTime() - started) / 1_000_000;
        if (waited < 15_000) Thread.sleep(15_000 - waited);
        assertFalse(otherCa.ready().toCompletableFuture().isDone(), "a node of another CA joined");
        assertFalse(plain.ready().toCompletableFuture().isDone(), "a plain TCP node joined");
        assertFalse(memberDataCenters(cluster).contains("ap-southeast-2"), "members: " + memberDataCenters(cluster));
        assertFalse(memberDataCenters(cluster).contains("sa-east-1"), "members: " + memberDataCenters(cluster));
        // The cluster still works.
        assertEquals("tls", eu.decrypt(b -> b.ciphertextBlob(SdkBytes.fromByteArray(blob))).plaintext().asUtf8String());
      } finally {
        for (RegionNode n : List.of(friend, otherCa, plain)) {
          n.system().terminate();
          n.system().getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
        }
      }
    }
  }

  /** The data centers (Regions) of the cluster's members, as us-east-1 sees them. */
  static java.util.Set<String> memberDataCenters(TestCluster cluster) {
    java.util.Set<String> dcs = new java.util.TreeSet<>();
    for (org.apache.pekko.cluster.Member m : org.apache.pekko.cluster.Cluster.get(
        Adapter.toClassic(cluster.node(US).system())).state().getMembers()) {
      dcs.add(m.dataCenter());
    }
    return dcs;
  }

  static RegionNode intruder(String region, List<RegionSpec> seeds, Path dir, Config extra) {
    RegionSpec self = new RegionSpec(region, "127.0.0.1", TestCluster.freePort(), "127.0.0.1", TestCluster.freePort());
    List<RegionSpec> all = new ArrayList<>(seeds);
    all.add(self); // last: it joins the others, never forms a cluster of its own
    return RegionNode.start(self, all, dir, extra.withFallback(ConfigFactory.parseString(String.join("\n",
        "kms.auth.mode = open",
        "pekko.coordinated-shutdown.run-by-jvm-shutdown-hook = off",
        "pekko.cluster.seed-node-timeout = 2s",
        "pekko.cluster.retry-unsuccessful-join-after = 1s",
        "pekko.persistence.journal.leveldb.fsync = off"))));
  }
}
