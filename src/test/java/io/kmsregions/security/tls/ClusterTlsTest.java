package io.kmsregions.security.tls;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
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
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
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
 * TCP, cannot join it, while the same node certified by the cluster's authority does. TLS is the
 * default; the generated material is owner-only and reused; Regions on separate data folders join
 * with a certificates folder written ahead of time (docker-compose's design).
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
      assertEquals("tcp", plainTransport(), "--no-cluster-tls / kms.cluster.tls.enabled = off gives plain TCP");

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
      RegionNode plain = intruder("sa-east-1", seeds, otherDataDir.resolve("plain"),
          ConfigFactory.parseString("kms.cluster.tls.enabled = off")); // TLS is the default now
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
        for (RegionNode n : List.of(friend, otherCa, plain)) n.system().terminate();
        for (RegionNode n : List.of(friend, otherCa, plain)) awaitTerminated(n);
      }
    }
  }

  @Test
  void tlsIsTheDefaultAndTheGeneratedAuthorityAndNodeStoresAreOwnerOnly() throws Exception {
    Config defaults = ConfigFactory.load();
    assertTrue(defaults.getBoolean("kms.cluster.tls.enabled"), "conf/ turns cluster TLS on by default");
    assertEquals(new ClusterTls.Source.Generated(dataDir.toAbsolutePath().resolve("cluster-ca")),
        ClusterTls.source(defaults, dataDir));
    Config c = ClusterTls.config(defaults, dataDir, US, List.of("127.0.0.1"));
    assertEquals("tls-tcp", c.getString("pekko.remote.artery.transport"));
    assertEquals(dataDir.resolve(US).resolve("tls").resolve("node.p12").toString(),
        c.getString("pekko.remote.artery.ssl.config-ssl-engine.key-store"));
    Path ca = dataDir.resolve("cluster-ca");
    for (Path f : List.of(ca.resolve("ca.p12"), ca.resolve("password"), ca.resolve("truststore.p12"),
        dataDir.resolve(US).resolve("tls").resolve("node.p12"))) {
      assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(f)), f.toString());
    }
    for (Path d : List.of(ca, dataDir.resolve(US).resolve("tls"))) {
      assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(d)), d.toString());
    }
    assertTrue(ClusterTls.config(ConfigFactory.parseString("kms.cluster.tls.enabled = off").withFallback(defaults),
        otherDataDir, US, List.of()).isEmpty(), "off: no TLS settings");
    assertFalse(Files.exists(otherDataDir.resolve("cluster-ca")), "off: nothing generated");
  }

  @Test
  void aSecondStartReusesTheMaterialAndANodeCertificateOfAnotherAuthorityIsIssuedAgain() throws Exception {
    ClusterTls.NodeStores first = ClusterTls.ensure(dataDir, US, List.of("127.0.0.1"));
    byte[] ca = Files.readAllBytes(dataDir.resolve("cluster-ca").resolve("ca.p12"));
    byte[] node = Files.readAllBytes(first.keyStore());
    ClusterTls.NodeStores again = ClusterTls.ensure(dataDir, US, List.of("127.0.0.1"));
    assertEquals(first, again);
    assertArrayEquals(ca, Files.readAllBytes(dataDir.resolve("cluster-ca").resolve("ca.p12")), "the CA is reused");
    assertArrayEquals(node, Files.readAllBytes(first.keyStore()), "the node certificate is reused");

    // The authority replaced (its folder deleted): the old node certificate would keep the node out.
    try (var files = Files.walk(dataDir.resolve("cluster-ca"))) {
      for (Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) Files.delete(p);
    }
    ClusterTls.NodeStores renewed = ClusterTls.ensure(dataDir, US, List.of("127.0.0.1"));
    X509Certificate caCert = (X509Certificate) load(renewed.trustStore(), renewed.password()).getCertificate("ca");
    ((X509Certificate) load(renewed.keyStore(), renewed.password()).getCertificate("node")).verify(caCert.getPublicKey());
  }

  /**
   * docker-compose's design: Regions on separate data folders (one volume each) join with the
   * certificates that {@code tls generate} wrote ahead of time (kms.cluster.tls.certificates), the
   * CA's private key kept elsewhere; the nodes generate and write nothing; a Region without its
   * files there refuses to start, naming the file.
   */
  @Test
  void regionsOnSeparateDataFoldersJoinWithAGeneratedCertificatesFolder() throws Exception {
    Path certs = otherDataDir.resolve("certs");
    Path caDir = otherDataDir.resolve("ca");
    assertEquals(List.of(EU, US), ClusterTls.generate(certs, caDir, Map.of(US, List.of("us-east-1"), EU, List.of())));
    assertEquals(List.of(), ClusterTls.generate(certs, caDir, Map.of(US, List.of(), EU, List.of())), "kept");
    assertTrue(Files.exists(caDir.resolve("ca.p12")));
    List<String> written = files(certs);
    assertEquals(List.of("cluster-ca/password", "cluster-ca/truststore.p12", EU + "/tls/node.p12",
        US + "/tls/node.p12"), written.stream().sorted().toList(), "no CA key in the nodes' folder");
    for (String f : written) {
      assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(certs.resolve(f))), f);
    }

    Config mounted = ConfigFactory.parseMap(Map.of("kms.cluster.tls.certificates", certs.toString()));
    IllegalStateException missing = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class,
        () -> ClusterTls.config(mounted.withFallback(ConfigFactory.load()), dataDir, "sa-east-1", List.of()));
    assertTrue(missing.getMessage().contains(certs.resolve("sa-east-1").resolve("tls").resolve("node.p12").toString())
        && missing.getMessage().contains("kms-regions tls generate"), missing.getMessage());

    List<RegionSpec> specs = List.of(
        new RegionSpec(US, "127.0.0.1", TestCluster.freePort(), "127.0.0.1", TestCluster.freePort()),
        new RegionSpec(EU, "127.0.0.1", TestCluster.freePort(), "127.0.0.1", TestCluster.freePort()));
    List<RegionNode> nodes = new ArrayList<>();
    try {
      for (RegionSpec s : specs) {
        nodes.add(RegionNode.start(s, specs, dataDir.resolve("volume-" + s.name()), mounted.withFallback(
            ConfigFactory.parseString(String.join("\n", "kms.auth.mode = open",
                "pekko.coordinated-shutdown.run-by-jvm-shutdown-hook = off",
                "pekko.cluster.seed-node-timeout = 2s", "pekko.cluster.retry-unsuccessful-join-after = 1s",
                "pekko.persistence.journal.leveldb.fsync = off")))));
      }
      for (RegionNode n : nodes) n.ready().toCompletableFuture().get(120, TimeUnit.SECONDS);
      for (RegionNode n : nodes) {
        assertEquals("tls-tcp", n.system().settings().config().getString("pekko.remote.artery.transport"));
        TestCluster.await(Duration.ofSeconds(60), "both Regions Up members", () -> {
          java.util.Set<String> dcs = new java.util.TreeSet<>();
          org.apache.pekko.cluster.Cluster.get(Adapter.toClassic(n.system())).state().getMembers()
              .forEach(m -> { if (m.status() == org.apache.pekko.cluster.MemberStatus.up()) dcs.add(m.dataCenter()); });
          return dcs.equals(java.util.Set.of(US, EU));
        });
      }
    } finally {
      for (RegionNode n : nodes) n.system().terminate();
      for (RegionNode n : nodes) awaitTerminated(n);
    }
    assertEquals(written, files(certs), "the nodes wrote nothing in the certificates folder");
    for (RegionSpec s : specs) {
      assertFalse(Files.exists(dataDir.resolve("volume-" + s.name()).resolve("cluster-ca")), "nothing generated");
    }
  }

  /**
   * Waits up to 30 s for {@code n} to terminate. Pekko 1.7.0's Artery may wait without a deadline
   * for a TLS stream on termination (apache/pekko#3247; it failed CI once here): what these tests
   * check is done by then, so such a node is left to finish.
   */
  private static void awaitTerminated(RegionNode n) {
    if (!n.awaitTerminated(Duration.ofSeconds(30))) {
      System.err.println(n.spec().name() + " did not terminate within 30 s (apache/pekko#3247); left to finish");
    }
  }

  private static List<String> files(Path dir) throws java.io.IOException {
    try (var all = Files.walk(dir)) {
      return all.filter(Files::isRegularFile).map(p -> dir.relativize(p).toString()).sorted().toList();
    }
  }

  private static KeyStore load(Path file, String password) throws Exception {
    KeyStore ks = KeyStore.getInstance("PKCS12");
    try (var in = Files.newInputStream(file)) {
      ks.load(in, password.toCharArray());
    }
    return ks;
  }

  /** The Artery transport a node gets with cluster TLS switched off. */
  private String plainTransport() {
    Config off = ConfigFactory.parseString("kms.cluster.tls.enabled = off").withFallback(ConfigFactory.load());
    return ClusterTls.config(off, otherDataDir, US, List.of()).withFallback(off).getString("pekko.remote.artery.transport");
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
