package io.kmsregions.cli;

import io.kmsregions.lab.LabRunner;
import io.kmsregions.lab.Scenario;
import io.kmsregions.lab.LabChecks;
import io.kmsregions.lab.history.History;
import io.kmsregions.lab.report.HtmlReport;
import io.kmsregions.lab.report.SummaryTable;
import io.kmsregions.region.RegionSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code lab}: the failover laboratory (issue 5). */
@Command(name = "lab", mixinStandardHelpOptions = true,
    description = "The failover laboratory: run a scenario, or check a recorded history again.",
    subcommands = {LabCommand.Run.class, LabCommand.Check.class})
final class LabCommand implements Callable<Integer> {
  @Override
  public Integer call() {
    new picocli.CommandLine(this).usage(System.out);
    return 2;
  }

  /** Checks and reports a history; prints the summary table; exit 0 only if every check passed. */
  static int checkAndReport(Path history, Scenario scenario, Path out) throws java.io.IOException {
    History h = History.read(history);
    LabChecks.Verdict v = LabChecks.run(h, scenario);
    System.out.println();
    System.out.print(SummaryTable.render(h, v.results(), v.settings(), 10));
    Path report = out.resolve("report.html");
    HtmlReport.write(h, v.results(), v.settings(), report);
    System.out.println();
    System.out.println((v.passed() ? "PASS" : "FAIL") + "  report: " + report.toAbsolutePath() + "  history: "
        + history.toAbsolutePath());
    return v.passed() ? 0 : 1;
  }

  @Command(name = "run", mixinStandardHelpOptions = true,
      description = "Run a scenario: start its own cluster, run, tear down, check, report. Exit 0 only if every check passes.")
  static final class Run implements Callable<Integer> {
    @Parameters(index = "0", description = "The scenario file (YAML), e.g. conf/scenarios/primary-crash.yaml.")
    Path file;

    @Option(names = "--out", description = "Output folder (default: lab-out/<scenario>-<time>).")
    Path out;

    @Option(names = "--regions", defaultValue = "regions", description = "Folder of Region files (default: ${DEFAULT-VALUE}).")
    Path regionsDir;

    @Option(names = "--speed", defaultValue = "1", description = "Run the workload and schedule this many times faster (short runs; default: ${DEFAULT-VALUE}).")
    double speed;

    @Option(names = "--client-timeout", defaultValue = "2", description = "Seconds before a client call counts as indeterminate (default: ${DEFAULT-VALUE}).")
    double clientTimeout;

    @Option(names = "--node-jvm-options", split = " ", defaultValue = "-Xmx384m -XX:+UseSerialGC",
        description = "JVM options of each node process (default: ${DEFAULT-VALUE}).")
    List<String> nodeJvmOptions = new ArrayList<>();

    @Option(names = "--cluster-tls", negatable = true,
        description = "Artery between the scenario's Regions over mutual TLS with a cluster CA generated under <out>/data "
            + "(the default, kms.cluster.tls.enabled); --no-cluster-tls: plain TCP.")
    Boolean clusterTls;

    @Option(names = "--access-key", defaultValue = "test", description = "SigV4 access key id of the clients (default: ${DEFAULT-VALUE}).")
    String accessKey;

    @Option(names = "--secret-key", defaultValue = "test", description = "SigV4 secret key of the clients (default: ${DEFAULT-VALUE}).")
    String secretKey;

    @Override
    public Integer call() throws Exception {
      Scenario scenario;
      try {
        List<String> known = RegionSpec.load(regionsDir).stream().map(RegionSpec::name).toList();
        scenario = Scenario.read(file, known).faster(speed);
      } catch (IllegalArgumentException e) {
        System.err.println("kms-regions lab: " + e.getMessage());
        return 2;
      }
      Path dir = out != null ? out : Path.of("lab-out", scenario.name() + "-"
          + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
      Files.createDirectories(dir);
      System.out.println("scenario " + scenario.name() + ": " + scenario.description());
      Path history;
      try {
        history = new LabRunner(scenario, new LabRunner.Options(dir, regionsDir, nodeJvmOptions,
            Duration.ofMillis(Math.round(clientTimeout * 1000)), Duration.ofSeconds(120), accessKey, secretKey, System.out, clusterTls)).run();
      } catch (IllegalStateException e) {
        System.err.println("kms-regions lab: " + e.getMessage() + " (node logs in " + dir.resolve("logs") + ")");
        return 1;
      }
      return checkAndReport(history, scenario, dir);
    }
  }

  @Command(name = "check", mixinStandardHelpOptions = true,
      description = "Check a recorded history.jsonl again and write report.html beside it.")
  static final class Check implements Callable<Integer> {
    @Parameters(index = "0", description = "A history.jsonl written by `lab run`.")
    Path history;

    @Override
    public Integer call() throws Exception {
      if (!Files.isRegularFile(history)) {
        System.err.println("kms-regions lab: no file " + history);
        return 2;
      }
      Path dir = history.toAbsolutePath().getParent();
      return checkAndReport(history, null, dir);
    }
  }
}
