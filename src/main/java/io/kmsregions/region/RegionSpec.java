package io.kmsregions.region;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * One Region of the cluster, as a file in {@code regions/} describes it: its name, where its KMS
 * HTTP endpoint listens and its cluster (Artery) address. Adding a Region is adding a file.
 *
 * <pre>
 *   name = "eu-west-1"
 *   http { host = "127.0.0.1", port = 4567 }
 *   cluster { host = "127.0.0.1", port = 17356 }
 *   admin { port = 5567 }          # optional; default: the HTTP port + 1000
 * </pre>
 *
 * @param adminPort the admin endpoint's port (status, faults; on the HTTP host), or -1 for none
 */
public record RegionSpec(String name, String httpHost, int httpPort, String clusterHost, int clusterPort, int adminPort) {

  /** A Region without an admin endpoint. */
  public RegionSpec(String name, String httpHost, int httpPort, String clusterHost, int clusterPort) {
    this(name, httpHost, httpPort, clusterHost, clusterPort, -1);
  }

  /**
   * The spec named {@code region} in {@code specs}.
   *
   * @throws IllegalArgumentException naming the known Regions when there is none
   */
  public static RegionSpec named(List<RegionSpec> specs, String region) {
    return specs.stream().filter(s -> s.name().equals(region)).findFirst()
        .orElseThrow(() -> new IllegalArgumentException("unknown Region '" + region + "'; known: "
            + specs.stream().map(RegionSpec::name).toList()));
  }

  /** The Pekko address of this Region's node in the cluster {@code systemName}. */
  public String clusterAddress(String systemName) {
    return "pekko://" + systemName + "@" + clusterHost + ":" + clusterPort;
  }

  public RegionSpec withClusterHost(String host) {
    return new RegionSpec(name, httpHost, httpPort, host, clusterPort, adminPort);
  }

  public RegionSpec withHttpHost(String host) {
    return new RegionSpec(name, host, httpPort, clusterHost, clusterPort, adminPort);
  }

  public RegionSpec withAdminPort(int port) {
    return new RegionSpec(name, httpHost, httpPort, clusterHost, clusterPort, port);
  }

  /** The admin endpoint's base URL, e.g. {@code http://127.0.0.1:5566}. */
  public String adminUrl() {
    return "http://" + ("0.0.0.0".equals(httpHost) ? "127.0.0.1" : httpHost) + ":" + adminPort;
  }

  /** The KMS API's base URL, e.g. {@code http://127.0.0.1:4566}. */
  public String httpUrl() {
    return "http://" + ("0.0.0.0".equals(httpHost) ? "127.0.0.1" : httpHost) + ":" + httpPort;
  }

  /** The lines of a Region file for this spec (the format {@link #from} reads). */
  public String toFileText() {
    return "name = \"" + name + "\"\n"
        + "http { host = \"" + httpHost + "\", port = " + httpPort + " }\n"
        + "cluster { host = \"" + clusterHost + "\", port = " + clusterPort + " }\n"
        + "admin { port = " + adminPort + " }\n";
  }

  public static RegionSpec from(Config c) {
    int http = c.getInt("http.port");
    return new RegionSpec(c.getString("name"), c.getString("http.host"), http,
        c.getString("cluster.host"), c.getInt("cluster.port"), c.hasPath("admin.port") ? c.getInt("admin.port") : (http + 1000 <= 65535 ? http + 1000 : -1));
  }

  /**
   * Every {@code *.conf} file of {@code dir}, sorted by Region name.
   *
   * @throws IllegalArgumentException if the folder is missing or empty, a file is invalid, or two
   *     files name the same Region or port
   */
  public static List<RegionSpec> load(Path dir) {
    if (!Files.isDirectory(dir)) {
      throw new IllegalArgumentException("No Regions folder at " + dir.toAbsolutePath()
          + " (run from the project's root, or pass --regions DIR)");
    }
    List<RegionSpec> specs = new ArrayList<>();
    try (Stream<Path> files = Files.list(dir)) {
      for (Path f : files.filter(p -> p.toString().endsWith(".conf")).sorted().toList()) {
        try {
          specs.add(from(ConfigFactory.parseFile(f.toFile()).resolve()));
        } catch (RuntimeException e) {
          throw new IllegalArgumentException("Invalid Region file " + f + ": " + e.getMessage(), e);
        }
      }
    } catch (IOException e) {
      throw new IllegalArgumentException("Cannot read " + dir + ": " + e.getMessage(), e);
    }
    if (specs.isEmpty()) throw new IllegalArgumentException("No Region files (*.conf) in " + dir);
    specs.sort(Comparator.comparing(RegionSpec::name));
    for (int i = 0; i < specs.size(); i++) {
      for (int j = i + 1; j < specs.size(); j++) {
        RegionSpec a = specs.get(i), b = specs.get(j);
        if (a.name().equals(b.name())) throw new IllegalArgumentException("Region " + a.name() + " is defined twice");
        if (a.httpPort() == b.httpPort() && a.httpHost().equals(b.httpHost())) {
          throw new IllegalArgumentException(a.name() + " and " + b.name() + " share HTTP port " + a.httpPort());
        }
        if (a.clusterPort() == b.clusterPort() && a.clusterHost().equals(b.clusterHost())) {
          throw new IllegalArgumentException(a.name() + " and " + b.name() + " share cluster port " + a.clusterPort());
        }
      }
    }
    return List.copyOf(specs);
  }
}
