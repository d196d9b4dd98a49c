package io.kmsregions.cli;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;

/** The {@code --auth} and {@code --[no-]cluster-tls} options of {@code up} and {@code node}. */
final class AuthOption {
  private AuthOption() {}

  /** The values of {@code --auth}, spelled as typed (picocli converts by name). */
  @SuppressWarnings("java:S115")
  enum Mode { sigv4, open }

  /**
   * The configuration {@code --auth MODE} stands for: {@code kms.auth.mode}, and for {@code open}
   * the operator's explicit consent to run open on a non-loopback address (the node then logs a
   * warning); no option leaves both to conf/ (sigv4 by default). {@code clusterTls} true
   * ({@code --cluster-tls}) or false ({@code --no-cluster-tls}) sets {@code kms.cluster.tls.enabled};
   * null leaves it to conf/ (on by default).
   */
  static Config config(Mode auth, Boolean clusterTls) {
    Config tls = clusterTls == null ? ConfigFactory.empty()
        : ConfigFactory.parseString("kms.cluster.tls.enabled = " + clusterTls);
    if (auth == null) return tls;
    String mode = auth.name();
    return ConfigFactory.parseString("kms.auth.mode = " + mode + "\n"
        + "kms.auth.allow-open-on-any-address = " + mode.equals("open")).withFallback(tls);
  }
}
