package io.kmsregions.cli;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine.Option;

/**
 * The options every node takes, whether started by {@code node} or by {@code up} for each Region
 * (a picocli mixin): seeded keys, authentication mode and Artery over TLS.
 */
final class NodeOptions {
  @Option(names = "--seed", paramLabel = "FILE",
      description = "YAML file of keys to create at start with fixed ids and material (default: kms.seed-file / KMS_SEED_FILE).")
  Path seedFile;

  @Option(names = "--auth", description = "sigv4 (verify AWS SigV4 signatures against kms.auth.credentials) or open "
      + "(accept anyone; on a non-loopback address only when given here, with a warning). Default: kms.auth.mode, sigv4.")
  AuthOption.Mode auth;

  // Boolean, not boolean: neither form given leaves kms.cluster.tls.enabled (KMS_CLUSTER_TLS) to decide.
  @Option(names = "--cluster-tls", negatable = true, description = "Artery between Regions over mutual TLS (the "
      + "default, kms.cluster.tls.enabled); without configured certificates the first start generates a throwaway "
      + "cluster CA and node certificates under the data folder. --no-cluster-tls: plain TCP.")
  Boolean clusterTls;

  /** The configuration these options stand for (empty when none is given). */
  Config config() {
    Config seed = seedFile == null ? ConfigFactory.empty()
        : ConfigFactory.parseMap(Map.of("kms.seed-file", seedFile.toAbsolutePath().toString()));
    return seed.withFallback(AuthOption.config(auth, clusterTls));
  }

  /** The same configuration as {@code -D} properties, for node processes started by a supervisor. */
  Map<String, String> properties() {
    Map<String, String> p = new LinkedHashMap<>();
    config().entrySet().forEach(e -> p.put(e.getKey(), String.valueOf(e.getValue().unwrapped())));
    return p;
  }
}
