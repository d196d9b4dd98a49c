package io.kmsregions.keystore.cloudhsm;

import com.typesafe.config.Config;
import io.kmsregions.keystore.CustomKeyStore.ConnectionErrorCode;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The CloudHSM clusters one Region's node simulates (configuration {@code kms.cloudhsm.clusters}),
 * which AWS_CLOUDHSM custom key stores connect to (kms-api.md §2 "Custom key stores"; AWS KMS
 * Developer Guide, "AWS CloudHSM key stores").
 *
 * <p>A cluster has a state, subnets in availability zones, HSMs (each in one zone, ACTIVE or not),
 * the {@code kmsuser} password KMS logs in with, and the trust anchor certificate its owner
 * initialised it with. HSMs can be added, removed and have their state changed at run time (the
 * admin endpoint), so that a user can watch a store fail to connect, or CreateKey be refused, when
 * HSMs go away. Key material of CloudHSM keys stays in the key's own (sealed) journal; what this
 * simulation decides is whether the cluster can serve: an operation needs at least one ACTIVE HSM.
 *
 * <p>Thread-safe: the API, the key store actor and the admin endpoint read and change it.
 */
public final class SimulatedCloudHsm {
  /** CloudHsmClusterId: {@code cluster-} and 11 to 16 characters of {@code [2-7a-zA-Z]}. */
  public static final Pattern CLUSTER_ID = Pattern.compile("^cluster-[2-7a-zA-Z]{11,16}$");

  /** One HSM of a cluster; {@code availabilityZone} is a full zone name such as us-east-1a. */
  public record Hsm(String hsmId, String availabilityZone, String state) {
    public boolean isActive() {
      return "ACTIVE".equals(state);
    }
  }

  /**
   * A cluster as it is now.
   *
   * @param state ACTIVE (usable), or UNINITIALIZED, DEGRADED, ... (CloudHsmClusterNotActiveException)
   * @param subnetZones the availability zones of the cluster's subnets
   * @param trustAnchor the DER bytes of the trust anchor certificate
   * @param related the ids of clusters that share this one's backup history (UpdateCustomKeyStore)
   */
  public record Cluster(String clusterId, String state, List<String> subnetZones, List<Hsm> hsms,
      String kmsuserPassword, byte[] trustAnchor, Set<String> related) {
    public Cluster {
      subnetZones = List.copyOf(subnetZones);
      hsms = List.copyOf(hsms);
      related = Set.copyOf(related);
    }

    public boolean isActive() {
      return "ACTIVE".equals(state);
    }

    /** The distinct zones of the ACTIVE HSMs. */
    public Set<String> activeZones() {
      Set<String> zones = new TreeSet<>();
      for (Hsm h : hsms) if (h.isActive()) zones.add(h.availabilityZone());
      return zones;
    }

    Cluster withHsms(List<Hsm> h) {
      return new Cluster(clusterId, state, subnetZones, h, kmsuserPassword, trustAnchor, related);
    }
  }

  private final String region;
  private final Map<String, Cluster> clusters = new LinkedHashMap<>();
  private int nextHsm = 1;

  private SimulatedCloudHsm(String region) {
    this.region = region;
  }

  /**
   * The clusters of {@code kms.cloudhsm.clusters}. Each entry: {@code cluster-id}, {@code state}
   * (default ACTIVE), {@code kmsuser-password}, {@code trust-anchor-certificate} (a file path, or
   * {@code classpath:NAME}), {@code subnet-availability-zones} and {@code hsms} ({@code
   * availability-zone}, {@code state}); zones are suffixes (a, b, ...) of this Region's name.
   *
   * @throws IllegalArgumentException naming the entry and the setting that is wrong
   */
  public static SimulatedCloudHsm fromConfig(Config config, String region) {
    SimulatedCloudHsm hsm = new SimulatedCloudHsm(region);
    if (!config.hasPath("kms.cloudhsm.clusters")) return hsm;
    for (Config c : config.getConfigList("kms.cloudhsm.clusters")) {
      String id = c.getString("cluster-id");
      if (!CLUSTER_ID.matcher(id).matches()) {
        throw new IllegalArgumentException("kms.cloudhsm.clusters: cluster-id " + id + " is not cluster- and 11 to 16 of [2-7a-zA-Z]");
      }
      List<Hsm> hsms = new ArrayList<>();
      for (Config h : c.getConfigList("hsms")) {
        hsms.add(new Hsm(hsm.newHsmId(), region + h.getString("availability-zone"),
            h.hasPath("state") ? h.getString("state") : "ACTIVE"));
      }
      List<String> zones = c.getStringList("subnet-availability-zones").stream().map(z -> region + z).toList();
      byte[] anchor = certificateDer(read(c.getString("trust-anchor-certificate")))
          .orElseThrow(() -> new IllegalArgumentException("kms.cloudhsm.clusters: " + id
              + ": trust-anchor-certificate is not a PEM certificate"));
      Set<String> related = c.hasPath("related-clusters") ? Set.copyOf(c.getStringList("related-clusters")) : Set.of();
      hsm.clusters.put(id, new Cluster(id, c.hasPath("state") ? c.getString("state") : "ACTIVE", zones, hsms,
          c.getString("kmsuser-password"), anchor, related));
    }
    return hsm;
  }

  private String newHsmId() {
    return String.format("hsm-%011d", nextHsm++);
  }

  /** The cluster with this id, as it is now. */
  public synchronized Optional<Cluster> cluster(String clusterId) {
    return Optional.ofNullable(clusters.get(clusterId));
  }

  public synchronized List<Cluster> clusters() {
    return List.copyOf(clusters.values());
  }

  /**
   * Adds an HSM in zone {@code zoneSuffix} (a, b, ...) of this Region, ACTIVE.
   *
   * @return the new HSM
   * @throws IllegalArgumentException when there is no such cluster
   */
  public synchronized Hsm addHsm(String clusterId, String zoneSuffix) {
    Cluster c = require(clusterId);
    Hsm h = new Hsm(newHsmId(), region + zoneSuffix, "ACTIVE");
    List<Hsm> hsms = new ArrayList<>(c.hsms());
    hsms.add(h);
    clusters.put(clusterId, c.withHsms(hsms));
    return h;
  }

  /**
   * Deletes HSM {@code hsmId}.
   *
   * @throws IllegalArgumentException when there is no such cluster or HSM
   */
  public synchronized void deleteHsm(String clusterId, String hsmId) {
    Cluster c = require(clusterId);
    List<Hsm> hsms = new ArrayList<>(c.hsms());
    if (!hsms.removeIf(h -> h.hsmId().equals(hsmId))) {
      throw new IllegalArgumentException("cluster " + clusterId + " has no HSM " + hsmId);
    }
    clusters.put(clusterId, c.withHsms(hsms));
  }

  private Cluster require(String clusterId) {
    Cluster c = clusters.get(clusterId);
    if (c == null) throw new IllegalArgumentException("no CloudHSM cluster " + clusterId);
    return c;
  }

  /**
   * Why a store of this cluster cannot connect with {@code password}, or empty when it can: the
   * cluster is gone (CLUSTER_NOT_FOUND), the password is not kmsuser's (INVALID_CREDENTIALS), or
   * fewer than two ACTIVE HSMs in different zones (INSUFFICIENT_CLOUDHSM_HSMS; issue 8 and the
   * create-key reference: "at least two active HSMs in different Availability Zones").
   */
  public synchronized Optional<ConnectionErrorCode> connectError(String clusterId, String password) {
    Cluster c = clusters.get(clusterId);
    if (c == null) return Optional.of(ConnectionErrorCode.CLUSTER_NOT_FOUND);
    if (!c.isActive()) return Optional.of(ConnectionErrorCode.NETWORK_ERRORS);
    if (!c.kmsuserPassword().equals(password)) return Optional.of(ConnectionErrorCode.INVALID_CREDENTIALS);
    if (c.activeZones().size() < 2) return Optional.of(ConnectionErrorCode.INSUFFICIENT_CLOUDHSM_HSMS);
    return Optional.empty();
  }

  /** Whether the cluster can perform cryptography now: it exists and has an ACTIVE HSM. */
  public synchronized boolean canServe(String clusterId) {
    Cluster c = clusters.get(clusterId);
    return c != null && c.isActive() && !c.activeZones().isEmpty();
  }

  /** The DER bytes of the first certificate in a PEM text, or empty when there is none. */
  public static Optional<byte[]> certificateDer(String pem) {
    if (pem == null) return Optional.empty();
    Matcher m = Pattern.compile("-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\\s]+)-----END CERTIFICATE-----").matcher(pem);
    if (!m.find()) return Optional.empty();
    try {
      byte[] der = Base64.getMimeDecoder().decode(m.group(1));
      java.security.cert.CertificateFactory.getInstance("X.509")
          .generateCertificate(new java.io.ByteArrayInputStream(der));
      return Optional.of(der);
    } catch (IllegalArgumentException | java.security.cert.CertificateException e) {
      return Optional.empty();
    }
  }

  private static String read(String location) {
    try {
      if (location.startsWith("classpath:")) {
        try (InputStream in = SimulatedCloudHsm.class.getClassLoader().getResourceAsStream(location.substring(10))) {
          if (in == null) throw new IllegalArgumentException("kms.cloudhsm: no class path resource " + location);
          return new String(in.readAllBytes(), StandardCharsets.US_ASCII);
        }
      }
      return Files.readString(Path.of(location), StandardCharsets.US_ASCII);
    } catch (IOException e) {
      throw new IllegalArgumentException("kms.cloudhsm: cannot read " + location + ": " + e.getMessage());
    }
  }
}
