package io.kmsregions.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.typesafe.config.ConfigFactory;
import io.kmsregions.lab.FaultInjector;
import io.kmsregions.region.RegionSpec;
import io.kmsregions.testkit.ClusterProcess;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code up} runs Artery between its Regions over mutual TLS by default (issue 7): it makes one
 * throwaway cluster CA under the data folder before starting the node processes, each node gets
 * a certificate of it (owner-only files), a restart on the same data folder reuses them, and
 * {@code kms-regions status} keeps working (the admin endpoint is plain HTTP). Seen from outside:
 * the cluster port completes a TLS 1.3 handshake with a node certificate of that CA and drops a
 * client without one. {@code --no-cluster-tls} runs plain TCP and generates nothing.
 */
class UpClusterTlsTest {
  static final List<String> REGIONS = List.of("us-east-1", "eu-west-1");
  // `up` waits UP_READY for its nodes (CI's 2 cores also run another fork's cluster), this test a
  // little longer, so that a slow start is reported by `up` with its reason.
  static final Duration UP_READY = Duration.ofSeconds(170);
  static final Duration READY = UP_READY.plusSeconds(30);
  // Two node JVMs and the supervisor on a shared 2-core machine.
  static final String NODE_JVM = "-Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1";

  @TempDir Path work;

  @Test
  void theCommandLineLeavesClusterTlsOnUnlessNoClusterTlsIsGiven() {
    UpCommand up = new UpCommand();
    new CommandLine(up).parseArgs();
    assertNull(up.nodeOptions.properties().get("kms.cluster.tls.enabled"), "no option: conf/ decides");
    assertTrue(up.nodeOptions.config().withFallback(ConfigFactory.load()).getBoolean("kms.cluster.tls.enabled"),
        "conf/ says on");
    UpCommand off = new UpCommand();
    new CommandLine(off).parseArgs("--no-cluster-tls");
    // What every node process of `up` gets as -D.
    assertEquals("false", off.nodeOptions.properties().get("kms.cluster.tls.enabled"));
    UpCommand on = new UpCommand();
    new CommandLine(on).parseArgs("--cluster-tls");
    assertEquals("true", on.nodeOptions.properties().get("kms.cluster.tls.enabled"));
    NodeCommand node = new NodeCommand();
    new CommandLine(node).parseArgs("--region", "us-east-1", "--no-cluster-tls");
    assertEquals("false", node.nodeOptions.properties().get("kms.cluster.tls.enabled"));
    LabCommand.Run lab = new LabCommand.Run();
    new CommandLine(lab).parseArgs("x.yaml");
    assertNull(lab.clusterTls, "the laboratory follows conf/ (on) unless told");
    LabCommand.Run labOff = new LabCommand.Run();
    new CommandLine(labOff).parseArgs("x.yaml", "--no-cluster-tls");
    assertEquals(Boolean.FALSE, labOff.clusterTls);
  }

  @Test
  void upRunsMutualTlsWithOneGeneratedCaAndReusesItOnRestart() throws Exception {
    Path regions = work.resolve("regions");
    ClusterProcess.writeRegions(regions, REGIONS);
    List<RegionSpec> specs = RegionSpec.load(regions);
    Path data = work.resolve("data");
    Path ca = data.resolve("cluster-ca");
    byte[] caStore;
    byte[] usNode;
    try (ClusterProcess up = start(data, regions)) {
      assertTrue(up.output().contains("cluster links: mutual TLS, cluster CA " + ca.toAbsolutePath()), up.output());
      for (RegionSpec s : specs) assertEquals("tls-tcp", transport(specs, s.name()));
      String status = status(regions);
      assertTrue(status.contains("Cluster links: tls-tcp"), status);

      // One authority for the whole data folder, made by `up`; each Region a certificate it issued.
      X509Certificate caCert = (X509Certificate) load(ca.resolve("truststore.p12"), password(ca)).getCertificate("ca");
      for (RegionSpec s : specs) {
        Path nodeStore = data.resolve(s.name()).resolve("tls").resolve("node.p12");
        X509Certificate cert = (X509Certificate) load(nodeStore, password(ca)).getCertificate("node");
        cert.verify(caCert.getPublicKey());
        assertEquals("CN=" + s.name(), cert.getSubjectX500Principal().getName());
        assertOwnerOnly(nodeStore, "rw-------");
        assertOwnerOnly(nodeStore.getParent(), "rwx------");
      }
      for (String f : List.of("ca.p12", "password", "truststore.p12")) assertOwnerOnly(ca.resolve(f), "rw-------");
      assertOwnerOnly(ca, "rwx------");

      // From outside: a client with a node certificate of the cluster's CA completes a TLS 1.3
      // handshake on the cluster port; one without a certificate is dropped.
      RegionSpec us = specs.stream().filter(s -> s.name().equals("us-east-1")).findFirst().orElseThrow();
      try (SSLSocket s = connect(us.clusterPort(), data.resolve("eu-west-1").resolve("tls").resolve("node.p12"), ca)) {
        s.startHandshake();
        assertEquals("TLSv1.3", s.getSession().getProtocol());
        assertEquals("CN=us-east-1",
            ((X509Certificate) s.getSession().getPeerCertificates()[0]).getSubjectX500Principal().getName());
      }
      try (SSLSocket s = connect(us.clusterPort(), null, ca)) {
        boolean dropped;
        try {
          s.startHandshake();
          dropped = s.getInputStream().read() == -1; // TLS 1.3: the server's refusal follows the handshake
        } catch (SSLException | java.net.SocketException refused) {
          dropped = true;
        }
        assertTrue(dropped, "a client without a certificate was not dropped");
      }
      caStore = Files.readAllBytes(ca.resolve("ca.p12"));
      usNode = Files.readAllBytes(data.resolve("us-east-1").resolve("tls").resolve("node.p12"));
      stop(up);
    }

    // Again on the same data folder: the same authority and certificates, still TLS.
    try (ClusterProcess up = start(data, regions)) {
      assertArrayEquals(caStore, Files.readAllBytes(ca.resolve("ca.p12")), "the cluster CA is reused");
      assertArrayEquals(usNode, Files.readAllBytes(data.resolve("us-east-1").resolve("tls").resolve("node.p12")),
          "the node certificate is reused");
      for (RegionSpec s : specs) assertEquals("tls-tcp", transport(specs, s.name()));
      stop(up);
    }
  }

  @Test
  void upWithNoClusterTlsRunsPlainTcpAndGeneratesNothing() throws Exception {
    Path regions = work.resolve("regions");
    ClusterProcess.writeRegions(regions, REGIONS);
    List<RegionSpec> specs = RegionSpec.load(regions);
    Path data = work.resolve("data");
    try (ClusterProcess up = start(data, regions, "--no-cluster-tls")) {
      assertTrue(up.output().contains("cluster links: plain TCP"), up.output());
      for (RegionSpec s : specs) assertEquals("tcp", transport(specs, s.name()));
      String status = status(regions);
      assertTrue(status.contains("Cluster links: tcp"), status);
      assertFalse(Files.exists(data.resolve("cluster-ca")), "no CA generated");
      for (RegionSpec s : specs) assertFalse(Files.exists(data.resolve(s.name()).resolve("tls")), s.name());
      stop(up);
    }
  }

  /** SIGTERM: `up` stops its nodes cleanly (it exits 143, as a JVM ended by SIGTERM does). */
  private static void stop(ClusterProcess up) throws Exception {
    up.terminate(Duration.ofSeconds(60));
    assertTrue(up.output().contains("kms-regions stopped"), up.output());
  }

  private static ClusterProcess start(Path data, Path regions, String... extra) throws Exception {
    List<String> args = new java.util.ArrayList<>(List.of("up", "--data-dir", data.toString(), "--regions",
        regions.toString(), "--supervisor-port", "-1", "--node-jvm-options", NODE_JVM,
        "--ready-timeout", Long.toString(UP_READY.toSeconds())));
    args.addAll(List.of(extra));
    return ClusterProcess.start(READY, args.toArray(String[]::new));
  }

  /** The cluster transport {@code region}'s node reports on its admin endpoint. */
  private static String transport(List<RegionSpec> specs, String region) {
    JsonNode status = new FaultInjector(specs, null).status(region, Duration.ofSeconds(10));
    assertTrue(status != null, region + "'s admin endpoint did not answer");
    return status.path("clusterTransport").asText();
  }

  /** {@code kms-regions status --regions DIR}, its standard output (exit code 0). */
  private static String status(Path regions) {
    PrintStream out = System.out;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
    int code;
    try {
      code = new CommandLine(new Main()).execute("status", "--regions", regions.toString());
    } finally {
      System.setOut(out);
    }
    assertEquals(0, code, captured.toString(StandardCharsets.UTF_8));
    return captured.toString(StandardCharsets.UTF_8);
  }

  private static SSLSocket connect(int port, Path keyStore, Path ca) throws Exception {
    String password = password(ca);
    KeyManagerFactory kmf = null;
    if (keyStore != null) {
      kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      kmf.init(load(keyStore, password), password.toCharArray());
    }
    TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(load(ca.resolve("truststore.p12"), password));
    SSLContext ctx = SSLContext.getInstance("TLSv1.3");
    ctx.init(kmf == null ? null : kmf.getKeyManagers(), tmf.getTrustManagers(), null);
    SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket("127.0.0.1", port);
    s.setSoTimeout(10_000);
    return s;
  }

  private static String password(Path ca) throws Exception {
    return Files.readString(ca.resolve("password"), StandardCharsets.US_ASCII).trim();
  }

  private static KeyStore load(Path file, String password) throws Exception {
    KeyStore ks = KeyStore.getInstance("PKCS12");
    try (var in = Files.newInputStream(file)) {
      ks.load(in, password.toCharArray());
    }
    return ks;
  }

  private static void assertOwnerOnly(Path p, String mode) throws Exception {
    assertEquals(mode, PosixFilePermissions.toString(Files.getPosixFilePermissions(p)), p.toString());
  }
}
