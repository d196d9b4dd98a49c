package io.kmsregions.cli;

import io.kmsregions.region.RegionSpec;
import io.kmsregions.security.tls.ClusterTls;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code tls}: the certificates of Artery over mutual TLS made ahead of time, for nodes that do
 * not share a data folder (docker-compose: one volume per Region, certificates mounted read-only).
 */
@Command(name = "tls", mixinStandardHelpOptions = true,
    description = "Certificates for Artery over mutual TLS between Regions.",
    subcommands = TlsCommand.Generate.class)
final class TlsCommand implements Runnable {
  @Override
  public void run() {
    new picocli.CommandLine(this).usage(System.out);
  }

  /**
   * {@code tls generate --out DIR}: a cluster CA (kept, or created) and one node certificate per
   * Region of {@code regions/}, laid out as {@code kms.cluster.tls.certificates} (KMS_CLUSTER_CERTS)
   * reads them. Running it again keeps what is there and adds missing Regions.
   */
  @Command(name = "generate", mixinStandardHelpOptions = true,
      description = "Write a cluster CA and a node certificate per Region: OUT/cluster-ca/{truststore.p12,password}, "
          + "OUT/<region>/tls/node.p12 (owner-only). Nodes read them with KMS_CLUSTER_CERTS=OUT.")
  static final class Generate implements Callable<Integer> {
    @Option(names = "--out", required = true, description = "Folder the nodes will read (KMS_CLUSTER_CERTS).")
    Path out;

    @Option(names = "--ca-dir", description = "Folder of the CA's private key (default: OUT/cluster-ca). Elsewhere, the "
        + "CA key stays out of OUT: only the trust store and the password are copied there.")
    Path caDir;

    @Option(names = "--regions", defaultValue = "regions", description = "Folder of Region files (default: ${DEFAULT-VALUE}).")
    Path regionsDir;

    @Override
    public Integer call() {
      List<RegionSpec> regions;
      try {
        regions = RegionSpec.load(regionsDir);
      } catch (IllegalArgumentException e) {
        System.err.println("kms-regions tls generate: " + e.getMessage());
        return 2;
      }
      // Subject alternative names: the Region file's cluster host and the Region's name (the host
      // of a docker-compose service); informative only, the nodes do not verify host names.
      Map<String, List<String>> hosts = new LinkedHashMap<>();
      for (RegionSpec r : regions) hosts.put(r.name(), List.of(r.clusterHost(), r.name()).stream().distinct().toList());
      Path ca = caDir != null ? caDir : out.resolve("cluster-ca");
      List<String> issued = ClusterTls.generate(out, ca, hosts);
      for (RegionSpec r : regions) {
        System.out.println(r.name() + ": " + (issued.contains(r.name()) ? "issued " : "kept ")
            + out.toAbsolutePath().resolve(r.name()).resolve("tls").resolve("node.p12"));
      }
      System.out.println("cluster CA: " + ca.toAbsolutePath() + "; nodes: KMS_CLUSTER_CERTS=" + out.toAbsolutePath());
      return 0;
    }
  }
}
