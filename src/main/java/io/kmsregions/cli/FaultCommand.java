package io.kmsregions.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.kmsregions.lab.FaultInjector;
import io.kmsregions.region.RegionSpec;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/**
 * {@code fault}: injects a fault into a running cluster by hand (issue 5). Process faults go to
 * the supervisor ({@code up}) when there is one, else to the node's pid; network faults go to the
 * nodes' admin endpoints (the nodes need fault support: {@code up}, or {@code node --faults}).
 */
@Command(name = "fault", mixinStandardHelpOptions = true,
    description = "Inject a fault into a running cluster (started with `up`, or `node --faults`).",
    subcommands = {FaultCommand.Crash.class, FaultCommand.Restart.class, FaultCommand.Pause.class,
        FaultCommand.Resume.class, FaultCommand.Partition.class, FaultCommand.Heal.class, FaultCommand.Latency.class,
        FaultCommand.Clock.class})
final class FaultCommand implements Callable<Integer> {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Option(names = "--regions", defaultValue = "regions", scope = picocli.CommandLine.ScopeType.INHERIT,
      description = "Folder of Region files, for the admin ports (default: ${DEFAULT-VALUE}).")
  Path regionsDir;

  @Option(names = "--supervisor", defaultValue = "http://127.0.0.1:4565", scope = picocli.CommandLine.ScopeType.INHERIT,
      description = "The supervisor of `up` (default: ${DEFAULT-VALUE}).")
  String supervisor;

  @Override
  public Integer call() {
    new picocli.CommandLine(this).usage(System.out);
    return 2;
  }

  FaultInjector injector() {
    return new FaultInjector(RegionSpec.load(regionsDir), null);
  }

  /** Runs a process fault through the supervisor; false when there is none listening. */
  boolean viaSupervisor(String action, String region) throws IOException, InterruptedException {
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    HttpResponse<String> r;
    try {
      r = http.send(HttpRequest.newBuilder(URI.create(supervisor + "/processes/" + action))
          .timeout(Duration.ofSeconds(30)).POST(HttpRequest.BodyPublishers.ofString(
              JSON.createObjectNode().put("region", region).toString())).build(), HttpResponse.BodyHandlers.ofString());
    } catch (java.net.ConnectException e) {
      return false;
    }
    JsonNode body = JSON.readTree(r.body());
    if (r.statusCode() != 200) throw new IllegalArgumentException(body.path("error").asText(r.body()));
    System.out.println(region + ": " + body.path("condition").asText() + " (pid " + body.path("pid").asLong() + ")");
    return true;
  }

  abstract static class Action implements Callable<Integer> {
    @ParentCommand
    FaultCommand parent;

    @Override
    public Integer call() {
      try {
        run();
        return 0;
      } catch (IllegalArgumentException | IllegalStateException | IOException e) {
        System.err.println("kms-regions fault: " + e.getMessage());
        return 1;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return 1;
      }
    }

    abstract void run() throws IOException, InterruptedException;
  }

  abstract static class ProcessAction extends Action {
    @Parameters(index = "0", description = "The Region.")
    String region;

    abstract String action();

    @Override
    void run() throws IOException, InterruptedException {
      if (parent.viaSupervisor(action(), region)) return;
      FaultInjector f = parent.injector();
      try {
        switch (action()) {
          case "crash" -> f.crash(region);
          case "pause" -> f.pause(region);
          case "resume" -> f.resume(region);
          default -> f.restart(region);
        }
      } catch (IllegalStateException | IllegalArgumentException e) {
        throw new IllegalStateException("no supervisor answers at " + parent.supervisor + " (is `up` running?), and "
            + e.getMessage(), e);
      }
      System.out.println(region + ": " + action() + " done (by pid; no supervisor at " + parent.supervisor + ")");
    }
  }

  @Command(name = "crash", description = "kill -9 the Region's node.")
  static final class Crash extends ProcessAction {
    String action() {
      return "crash";
    }
  }

  @Command(name = "restart", description = "Start a crashed Region's node again (needs the supervisor of `up`).")
  static final class Restart extends ProcessAction {
    String action() {
      return "restart";
    }
  }

  @Command(name = "pause", description = "SIGSTOP the Region's node.")
  static final class Pause extends ProcessAction {
    String action() {
      return "pause";
    }
  }

  @Command(name = "resume", description = "SIGCONT a paused Region's node.")
  static final class Resume extends ProcessAction {
    String action() {
      return "resume";
    }
  }

  @Command(name = "partition", description = "Cut the cluster traffic between two Regions.")
  static final class Partition extends Action {
    @Parameters(index = "0") String a;
    @Parameters(index = "1") String b;

    @Option(names = "--one-way", description = "Cut only what the first Region sends to the second.")
    boolean oneWay;

    @Override
    void run() throws IOException {
      parent.injector().partition(a, b, oneWay);
      System.out.println("partitioned " + a + (oneWay ? " -> " : " <-> ") + b);
    }
  }

  @Command(name = "heal", description = "End partitions and latency between two Regions, or every fault "
      + "(clock speeds included) everywhere without arguments.")
  static final class Heal extends Action {
    @Parameters(arity = "0..2") List<String> regions;

    @Override
    void run() throws IOException {
      if (regions == null || regions.isEmpty()) {
        List<String> failed = parent.injector().healAll();
        System.out.println(failed.isEmpty() ? "healed every Region" : "healed; not answering: " + failed);
      } else if (regions.size() == 2) {
        parent.injector().heal(regions.get(0), regions.get(1));
        System.out.println("healed " + regions.get(0) + " <-> " + regions.get(1));
      } else {
        throw new IllegalArgumentException("name two Regions, or none to heal everything");
      }
    }
  }

  @Command(name = "clock", description = "Run a Region's cluster clock faster (or slower) than configured: "
      + "its deletion windows, rotations and imported material's expiry follow; other Regions keep their speed.")
  static final class Clock extends Action {
    @Parameters(index = "0", description = "The Region.")
    String region;

    @picocli.CommandLine.ArgGroup(exclusive = true, multiplicity = "1")
    Speed speed;

    static final class Speed {
      @Option(names = "--scale", required = true,
          description = "Times the configured speed (kms.clock.time-scale), > 0; 86400 makes a day pass per second.")
      Double scale;

      @Option(names = "--reset", required = true, description = "Back to the configured speed (as `fault heal` does).")
      boolean reset;
    }

    @Override
    void run() throws IOException {
      if (!speed.reset && !io.kmsregions.ClusterClock.validScale(speed.scale)) {
        throw new IllegalArgumentException("--scale must be a number > 0, not " + speed.scale);
      }
      FaultInjector f = parent.injector();
      JsonNode answer = speed.reset ? f.resetClock(region) : f.clock(region, speed.scale);
      JsonNode c = answer.path("clock");
      System.out.println(region + ": clock x" + c.path("scale").asDouble() + " of the configured "
          + c.path("configuredScale").asDouble() + " (simulated ms per wall ms now: " + c.path("effectiveScale").asDouble() + ")");
    }
  }

  @Command(name = "latency", description = "Add latency (and loss) to the cluster traffic between two Regions.")
  static final class Latency extends Action {
    @Parameters(index = "0") String a;
    @Parameters(index = "1") String b;

    @Option(names = "--delay-ms", required = true, description = "One-way delay, milliseconds.")
    long delayMs;

    @Option(names = "--jitter-ms", defaultValue = "0", description = "± milliseconds (default: ${DEFAULT-VALUE}).")
    long jitterMs;

    @Option(names = "--loss-percent", defaultValue = "0",
        description = "Chance, percent, that a chunk waits one TCP retransmission timeout (200 ms) (default: ${DEFAULT-VALUE}).")
    double lossPercent;

    @Option(names = "--one-way", description = "Only what the first Region sends to the second.")
    boolean oneWay;

    @Override
    void run() throws IOException {
      parent.injector().latency(a, b, delayMs, jitterMs, lossPercent, oneWay);
      System.out.println("latency " + a + (oneWay ? " -> " : " <-> ") + b + ": " + delayMs + " ms ± " + jitterMs
          + ", loss " + lossPercent + "%");
    }
  }
}
