package io.kmsregions.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code kms-regions} command line. Subcommands: {@code up} (every Region of
 * {@code regions/}, each its own node process), {@code node} (one Region), {@code status},
 * {@code fault} and {@code force-promote} (the failover laboratory by hand), {@code bench},
 * {@code xks-proxy} (an external key store proxy), {@code tls} (cluster certificates made ahead of time).
 */
@Command(
    name = "kms-regions",
    mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    description = "AWS KMS simulated across several AWS Regions, one Pekko Cluster node per Region.",
    subcommands = {UpCommand.class, NodeCommand.class, StatusCommand.class, FaultCommand.class, ForcePromoteCommand.class,
        LabCommand.class,
        BenchCommand.class, XksProxyCommand.class, TlsCommand.class})
public final class Main implements Runnable {

  public static void main(String[] args) {
    int code = new CommandLine(new Main()).execute(args);
    // Every command that serves blocks in call() until it is stopped, so a command that returns is
    // done. Exit even when it leaves threads behind: an ActorSystem over tls-tcp sometimes never
    // terminates with Pekko 1.7.0 (apache/pekko#3247), which once kept a finished `bench` alive.
    System.exit(code);
  }

  @Override
  public void run() {
    new CommandLine(this).usage(System.out);
  }

  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = Main.class.getPackage().getImplementationVersion();
      return new String[] {"kms-regions " + (v == null ? "dev" : v)};
    }
  }
}
