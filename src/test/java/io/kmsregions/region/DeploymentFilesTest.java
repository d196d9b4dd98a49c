package io.kmsregions.region;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * docker-compose.yml, the Dockerfile and regions/ describe the same cluster. Docker does not run
 * where the tests run, so this is how the deployment files are checked.
 */
class DeploymentFilesTest {

  private static List<RegionSpec> regions;
  private static JsonNode compose;
  private static JsonNode services;

  @BeforeAll
  static void load() throws IOException {
    regions = RegionSpec.load(Path.of("regions"));
    compose = new YAMLMapper().readTree(Path.of("docker-compose.yml").toFile());
    services = compose.path("services");
    assertTrue(services.isObject() && services.size() > 0, "docker-compose.yml has no services: " + compose);
  }

  @Test
  void theDefaultRegionsAreTheIssuesThree() {
    Map<String, Integer> httpPorts = regions.stream()
        .collect(Collectors.toMap(RegionSpec::name, RegionSpec::httpPort));
    assertEquals(Map.of("us-east-1", 4566, "eu-west-1", 4567, "ap-southeast-2", 4568), httpPorts);
  }

  @Test
  void clusterPortsAreDistinct() {
    List<Integer> ports = regions.stream().map(RegionSpec::clusterPort).toList();
    assertEquals(ports.size(), new HashSet<>(ports).size(), "cluster ports in regions/: " + ports);
    Set<Integer> http = regions.stream().map(RegionSpec::httpPort).collect(Collectors.toSet());
    for (int p : ports) assertTrue(!http.contains(p), "cluster port " + p + " is also an HTTP port");
  }

  @Test
  void oneServicePerRegionAndTheCertificateService() {
    Set<String> names = new TreeSet<>();
    services.fieldNames().forEachRemaining(names::add);
    Set<String> expected = new TreeSet<>(regions.stream().map(RegionSpec::name).toList());
    expected.add(CERTS_SERVICE);
    assertEquals(expected, names, "docker-compose.yml services vs regions/*.conf and " + CERTS_SERVICE);
  }

  /** The one-shot service that writes the cluster certificates before any Region starts. */
  static final String CERTS_SERVICE = "cluster-certs";

  @Test
  void theCertificateServiceGeneratesEveryRegionsCertificateIntoTheSharedVolume() {
    JsonNode certs = service(CERTS_SERVICE);
    List<String> command = command(certs);
    assertEquals(List.of("tls", "generate"), command.subList(0, 2), "command " + command);
    assertEquals("/certs", optionValue(command, "--out"), "command " + command);
    assertEquals("/ca", optionValue(command, "--ca-dir"), "the CA key outside the Regions' volume: " + command);
    assertEquals("/app/regions", optionValue(command, "--regions"), "command " + command);
    Map<String, String> mounts = mounts(certs);
    assertEquals("cluster-certs", mounts.get("/certs"), "volumes " + mounts);
    assertEquals("cluster-ca", mounts.get("/ca"), "volumes " + mounts);
    assertTrue(!certs.path("restart").asText("no").equals("always"), "a one-shot service");
    Set<String> declared = new HashSet<>();
    compose.path("volumes").fieldNames().forEachRemaining(declared::add);
    assertTrue(declared.containsAll(List.of("cluster-certs", "cluster-ca")), "named volumes " + declared);
  }

  @Test
  void eachRegionMountsTheClusterCertificatesReadOnlyAfterTheyAreWritten() {
    for (RegionSpec r : regions) {
      JsonNode s = service(r.name());
      List<String> volumes = strings(s.path("volumes"));
      assertTrue(volumes.contains("cluster-certs:/certs:ro"), r.name() + " volumes " + volumes);
      assertTrue(volumes.stream().noneMatch(v -> v.startsWith("cluster-ca:")), r.name() + " must not mount the CA key");
      // KMS_CLUSTER_CERTS is what conf/ reads into kms.cluster.tls.certificates.
      assertEquals("/certs", s.path("environment").path("KMS_CLUSTER_CERTS").asText(), r.name() + " environment");
      assertEquals("service_completed_successfully",
          s.path("depends_on").path(CERTS_SERVICE).path("condition").asText(), r.name() + " depends_on");
      assertTrue(!command(s).contains("--no-cluster-tls"), r.name() + " runs without cluster TLS");
    }
  }

  @Test
  void theConfigurationReadsTheMountedCertificatesFromTheEnvironment() {
    com.typesafe.config.Config conf = com.typesafe.config.ConfigFactory.parseMap(Map.of("KMS_CLUSTER_CERTS", "/certs"))
        .withFallback(com.typesafe.config.ConfigFactory.parseFile(Path.of("conf", "application.conf").toFile()))
        .resolve();
    assertEquals("/certs", conf.getString("kms.cluster.tls.certificates"));
    assertTrue(conf.getBoolean("kms.cluster.tls.enabled"), "cluster TLS on by default");
    assertEquals(new io.kmsregions.security.tls.ClusterTls.Source.Folder(Path.of("/certs")),
        io.kmsregions.security.tls.ClusterTls.source(conf.withFallback(com.typesafe.config.ConfigFactory.load()),
            Path.of("/data")));
  }

  /**
   * What {@code tls generate} writes for the shipped Regions is what a node of each Region reads
   * with KMS_CLUSTER_CERTS (the compose layout, checked without Docker); the CA key stays out.
   */
  @Test
  void theGeneratedFolderHoldsWhatEveryRegionReads(@TempDir Path dir) throws Exception {
    int code = new picocli.CommandLine(new io.kmsregions.cli.Main()).execute("tls", "generate",
        "--out", dir.resolve("certs").toString(), "--ca-dir", dir.resolve("ca").toString(), "--regions", "regions");
    assertEquals(0, code);
    assertTrue(!Files.exists(dir.resolve("certs").resolve("cluster-ca").resolve("ca.p12")), "no CA key in /certs");
    com.typesafe.config.Config conf = com.typesafe.config.ConfigFactory.parseMap(
        Map.of("kms.cluster.tls.certificates", dir.resolve("certs").toString()))
        .withFallback(com.typesafe.config.ConfigFactory.load());
    for (RegionSpec r : regions) {
      com.typesafe.config.Config tls = io.kmsregions.security.tls.ClusterTls.config(conf, dir.resolve("data"), r.name(),
          List.of(r.name()));
      assertEquals("tls-tcp", tls.getString("pekko.remote.artery.transport"));
      for (String store : List.of("key-store", "trust-store")) {
        Path p = Path.of(tls.getString("pekko.remote.artery.ssl.config-ssl-engine." + store));
        assertTrue(p.startsWith(dir.resolve("certs")) && Files.isReadable(p), r.name() + " " + store + " " + p);
      }
    }
    assertTrue(!Files.exists(dir.resolve("data")), "a node reading mounted certificates generates nothing");
  }

  @Test
  void eachServiceRunsItsRegionsNode() {
    for (RegionSpec r : regions) {
      List<String> command = command(service(r.name()));
      String where = r.name() + " command " + command;
      assertEquals("node", command.get(0), where);
      assertEquals(r.name(), optionValue(command, "--region"), where);
      assertTrue(command.contains("--cluster-hosts-are-region-names"), where);
      // The published port reaches the node only if it listens on every interface of the container.
      assertEquals("0.0.0.0", optionValue(command, "--http-host"), where);
      assertEquals("/data", optionValue(command, "--data-dir"), where);
      assertEquals("/app/regions", optionValue(command, "--regions"), where);
      assertTrue(service(r.name()).hasNonNull("build") || service(r.name()).hasNonNull("image"),
          r.name() + " has neither build nor image");
    }
  }

  @Test
  void eachServicePublishesItsHttpPortOnTheSameHostPort() {
    for (RegionSpec r : regions) {
      List<String> ports = ports(service(r.name()));
      String mapping = r.httpPort() + ":" + r.httpPort();
      assertTrue(ports.contains(mapping), r.name() + " publishes " + ports + ", not " + mapping);
    }
  }

  @Test
  void eachServiceExposesItsClusterPort() {
    for (RegionSpec r : regions) {
      List<String> expose = strings(service(r.name()).path("expose"));
      assertTrue(expose.contains(String.valueOf(r.clusterPort())) || expose.contains(r.clusterPort() + "/tcp"),
          r.name() + " exposes " + expose + ", not its cluster port " + r.clusterPort());
    }
  }

  @Test
  void eachServiceKeepsDataInItsOwnNamedVolume() {
    Set<String> declared = new HashSet<>();
    compose.path("volumes").fieldNames().forEachRemaining(declared::add);
    Set<String> used = new HashSet<>();
    for (RegionSpec r : regions) {
      String volume = dataVolume(service(r.name()));
      assertTrue(volume != null, r.name() + " has no volume on /data: " + service(r.name()).path("volumes"));
      assertTrue(declared.contains(volume), r.name() + "'s volume " + volume + " is not a named volume of " + declared);
      assertTrue(used.add(volume), "volume " + volume + " is shared by two Regions");
    }
  }

  @Test
  void theImageHasTheJarAndTheRegionFiles() throws IOException {
    String dockerfile = Files.readString(Path.of("Dockerfile"));
    assertTrue(dockerfile.contains("FROM maven:3.9-eclipse-temurin-17"), "build stage");
    assertTrue(dockerfile.contains("FROM eclipse-temurin:17-jre"), "runtime stage");
    assertTrue(dockerfile.contains("COPY regions /app/regions"), "Region files at /app/regions");
    assertTrue(dockerfile.contains("COPY conf /app/conf"), "conf at /app/conf");
    assertTrue(dockerfile.contains("ENTRYPOINT [\"java\", \"-jar\", \"/app/kms-regions.jar\"]"),
        "the compose commands are arguments of java -jar /app/kms-regions.jar");
  }

  @Test
  void loadRejectsTwoFilesNamingTheSameRegion(@TempDir Path dir) throws IOException {
    region(dir, "a.conf", "us-east-1", 4566, 17355);
    region(dir, "b.conf", "us-east-1", 4567, 17356);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> RegionSpec.load(dir));
    assertTrue(e.getMessage().contains("us-east-1"), e.getMessage());
  }

  @Test
  void loadRejectsTwoRegionsSharingAnHttpPort(@TempDir Path dir) throws IOException {
    region(dir, "us-east-1.conf", "us-east-1", 4566, 17355);
    region(dir, "eu-west-1.conf", "eu-west-1", 4566, 17356);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> RegionSpec.load(dir));
    assertTrue(e.getMessage().contains("4566"), e.getMessage());
  }

  @Test
  void loadRejectsTwoRegionsSharingAClusterPort(@TempDir Path dir) throws IOException {
    region(dir, "us-east-1.conf", "us-east-1", 4566, 17355);
    region(dir, "eu-west-1.conf", "eu-west-1", 4567, 17355);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> RegionSpec.load(dir));
    assertTrue(e.getMessage().contains("17355"), e.getMessage());
  }

  @Test
  void loadAcceptsDistinctRegions(@TempDir Path dir) throws IOException {
    region(dir, "us-east-1.conf", "us-east-1", 4566, 17355);
    region(dir, "eu-west-1.conf", "eu-west-1", 4567, 17356);
    assertEquals(List.of("eu-west-1", "us-east-1"), RegionSpec.load(dir).stream().map(RegionSpec::name).toList());
  }

  // --- helpers ---

  private static void region(Path dir, String file, String name, int httpPort, int clusterPort) throws IOException {
    Files.writeString(dir.resolve(file), "name = \"" + name + "\"\n"
        + "http { host = \"127.0.0.1\", port = " + httpPort + " }\n"
        + "cluster { host = \"127.0.0.1\", port = " + clusterPort + " }\n");
  }

  private static JsonNode service(String name) {
    JsonNode s = services.get(name);
    assertTrue(s != null && s.isObject(), "no service " + name + " in docker-compose.yml");
    return s;
  }

  /** The command as a list; compose also accepts one string, split on spaces. */
  private static List<String> command(JsonNode service) {
    JsonNode c = service.path("command");
    List<String> command = c.isTextual() ? List.of(c.asText().trim().split("\\s+")) : strings(c);
    assertTrue(!command.isEmpty(), "service without a command: " + service);
    return command;
  }

  private static String optionValue(List<String> command, String option) {
    for (int i = 0; i < command.size(); i++) {
      if (command.get(i).equals(option) && i + 1 < command.size()) return command.get(i + 1);
      if (command.get(i).startsWith(option + "=")) return command.get(i).substring(option.length() + 1);
    }
    return null;
  }

  /** Published ports as "host:container", from the short or the long syntax. */
  private static List<String> ports(JsonNode service) {
    List<String> ports = new ArrayList<>();
    for (JsonNode p : service.path("ports")) {
      if (p.isObject()) {
        ports.add(p.path("published").asText() + ":" + p.path("target").asText());
      } else {
        String s = p.asText();
        if (s.endsWith("/tcp")) s = s.substring(0, s.length() - 4);
        ports.add(s);
      }
    }
    return ports;
  }

  /** Container path → volume or host path, from the short or the long syntax. */
  private static Map<String, String> mounts(JsonNode service) {
    Map<String, String> out = new java.util.LinkedHashMap<>();
    for (JsonNode v : service.path("volumes")) {
      if (v.isObject()) {
        out.put(v.path("target").asText(), v.path("source").asText());
      } else {
        String[] parts = v.asText().split(":");
        if (parts.length >= 2) out.put(parts[1], parts[0]);
      }
    }
    return out;
  }

  /** The volume mounted on /data, from the short or the long syntax, or null. */
  private static String dataVolume(JsonNode service) {
    for (JsonNode v : service.path("volumes")) {
      if (v.isObject()) {
        if (v.path("target").asText().equals("/data")) return v.path("source").asText();
      } else {
        String[] parts = v.asText().split(":");
        if (parts.length >= 2 && parts[1].equals("/data")) return parts[0];
      }
    }
    return null;
  }

  private static List<String> strings(JsonNode array) {
    List<String> out = new ArrayList<>();
    array.forEach(n -> out.add(n.asText()));
    return out;
  }
}
