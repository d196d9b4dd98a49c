package io.kmsregions.cli;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;

/** The {@code --auth} and {@code --cluster-tls} options of {@code up} and {@code node}. */
final class AuthOption {
  private AuthOption() {}

  /** The values of {@code --auth}, spelled as typed (picocli converts by name). */
  @SuppressWarnings("java:S115")
  enum Mode { sigv4, open }

  /**
   * The configuration {@code --auth MODE} stands for: {@code kms.auth.mode}, and for {@code open}
   * the operator's explicit consent to run open on a non-loopback address (the node then logs a
   * warning); no option leaves both to conf/ (sigv4 by default). {@code --cluster-tls} turns on
   * Artery over mutual TLS.
   */
  static Config config(Mode auth, boolean clusterTls) {
    Config tls = clusterTls ? ConfigFactory.parseString("kms.cluster.tls.enabled = on") : ConfigFactory.empty();
    if (auth == null) return tls;
    String mode = auth.name();
    return ConfigFactory.parseString("kms.auth.mode = " + mode + "\n"
        + "kms.auth.allow-open-on-any-address = " + mode.equals("open")).withFallback(tls);
  }
}
