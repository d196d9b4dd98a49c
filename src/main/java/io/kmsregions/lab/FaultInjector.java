package io.kmsregions.lab;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.kmsregions.region.RegionSpec;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;

/**
 * Every fault and operator action of the laboratory, on a running cluster (issue 5): process
 * faults through {@link RegionProcesses} (crash = {@code kill -9}, pause = {@code SIGSTOP}),
 * network faults and the clock fault through each node's admin endpoint (Artery blackhole, link
 * shaper, the node's clock speed), and the forced promotion of DESIGN.md.
 *
 * <p>Without a {@link RegionProcesses} (nodes started by hand), crash, pause and resume signal
 * the pid that the node's admin endpoint reports (same machine only) and restart is refused.
 */
public final class FaultInjector {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final List<RegionSpec> specs;
  private final RegionProcesses processes; // null: nodes started by hand
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();

  public FaultInjector(List<RegionSpec> specs, RegionProcesses processes) {
    this.specs = List.copyOf(specs);
    this.processes = processes;
  }

  public List<RegionSpec> specs() {
    return specs;
  }

  public RegionSpec spec(String region) {
    return RegionSpec.named(specs, region);
  }

  public void crash(String region) {
    spec(region);
    if (processes != null) {
      processes.crash(region);
    } else {
      signal(pidOf(region), "KILL");
    }
  }

  /** SIGTERM: the node leaves the cluster and stops cleanly (a rolling restart's first half). */
  public void stop(String region) {
    spec(region);
    if (processes == null) throw new IllegalArgumentException("stop needs the supervisor that started the nodes (`up` or `lab`)");
    processes.stop(region);
  }

  public void restart(String region) {
    spec(region);
    if (processes == null) {
      throw new IllegalArgumentException("restart needs the supervisor that started the nodes (`up` or `lab`); "
          + "start it again yourself: kms-regions node --region " + region + " --faults");
    }
    processes.restart(region);
  }

  public void pause(String region) {
    spec(region);
    if (processes != null) {
      processes.pause(region);
    } else {
      signal(pidOf(region), "STOP");
    }
  }

  public void resume(String region) {
    spec(region);
    if (processes != null) {
      processes.resume(region);
    } else {
      throw new IllegalArgumentException("resume of a node started by hand: kill -CONT <pid of its process> "
          + "(its admin endpoint cannot answer while it is paused)");
    }
  }

  /**
   * Cuts the cluster traffic between {@code a} and {@code b}; with {@code oneWay}, only what
   * {@code a} sends to {@code b}.
   */
  public void partition(String a, String b, boolean oneWay) throws IOException {
    requireTwo(a, b);
    if (oneWay) {
      admin(a, "/faults/partition", body("peer", b, "direction", "outbound"));
      admin(b, "/faults/partition", body("peer", a, "direction", "inbound"));
    } else {
      admin(a, "/faults/partition", body("peer", b, "direction", "both"));
      admin(b, "/faults/partition", body("peer", a, "direction", "both"));
    }
  }

  /**
   * Ends partitions and link shaping between {@code a} and {@code b}. A side that does not answer
   * (crashed: a restarted node starts healed) is skipped.
   *
   * @return the Regions that did not answer
   * @throws IOException if neither answers
   */
  public List<String> heal(String a, String b) throws IOException {
    requireTwo(a, b);
    List<String> silent = new java.util.ArrayList<>();
    IOException last = null;
    for (String[] pair : new String[][] {{a, b}, {b, a}}) {
      try {
        admin(pair[0], "/faults/heal", body("peer", pair[1]));
      } catch (IOException e) {
        silent.add(pair[0]);
        last = e;
      }
    }
    if (silent.size() == 2) throw last;
    return silent;
  }

  /**
   * Ends every partition and all shaping, and restores every clock's speed, on every node that
   * answers; returns the Regions that did not.
   */
  public List<String> healAll() {
    List<String> failed = new java.util.ArrayList<>();
    for (RegionSpec s : specs) {
      try {
        admin(s.name(), "/faults/heal", JSON.createObjectNode());
      } catch (IOException | IllegalStateException e) {
        failed.add(s.name());
      }
    }
    return failed;
  }

  /**
   * Adds latency and loss between {@code a} and {@code b} (both ways, or only from a to b).
   *
   * @param delayMs one-way delay in milliseconds; jitterMs ± milliseconds; lossPercent 0..100
   */
  public void latency(String a, String b, long delayMs, long jitterMs, double lossPercent, boolean oneWay) throws IOException {
    requireTwo(a, b);
    ObjectNode toB = body("peer", a);
    toB.put("delayMs", delayMs).put("jitterMs", jitterMs).put("lossPercent", lossPercent);
    admin(b, "/faults/latency", toB);
    if (!oneWay) {
      ObjectNode toA = body("peer", b);
      toA.put("delayMs", delayMs).put("jitterMs", jitterMs).put("lossPercent", lossPercent);
      admin(a, "/faults/latency", toA);
    }
  }

  /**
   * The clock fault: {@code region}'s clock runs {@code scale} times its configured speed from now
   * on (simulated time stays continuous); 1 restores the configured speed.
   *
   * @return the node's faults in force afterwards
   * @throws IllegalStateException when the node refuses (a scale that is not a number &gt; 0, a
   *     node without fault support)
   */
  public JsonNode clock(String region, double scale) throws IOException {
    spec(region);
    ObjectNode b = JSON.createObjectNode();
    b.put("scale", scale);
    return admin(region, "/faults/clock", b);
  }

  /** Restores {@code region}'s clock to its configured speed. */
  public JsonNode resetClock(String region) throws IOException {
    spec(region);
    return admin(region, "/faults/clock", JSON.createObjectNode().put("reset", true));
  }

  /** Forces {@code region}'s replica of {@code keyId} to become primary; answers its new status. */
  public JsonNode forcePromote(String region, String keyId) throws IOException {
    return admin(region, "/keys/force-promote", body("keyId", keyId));
  }

  /** {@code region}'s node's view (GET /status), or null when it does not answer in time. */
  public JsonNode status(String region, Duration timeout) {
    RegionSpec s = spec(region);
    try {
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(s.adminUrl() + "/status"))
          .timeout(timeout).GET().build(), HttpResponse.BodyHandlers.ofString());
      return r.statusCode() == 200 ? JSON.readTree(r.body()) : null;
    } catch (IOException e) {
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    }
  }

  /** What a supervisor knows of the process of {@code region}, or null without one. */
  public RegionProcesses.Condition condition(String region) {
    return processes == null ? null : processes.condition(region);
  }

  private long pidOf(String region) {
    JsonNode s = status(region, Duration.ofSeconds(3));
    if (s == null) throw new IllegalStateException(region + "'s admin endpoint " + spec(region).adminUrl() + " does not answer");
    return s.path("pid").asLong();
  }

  private void requireTwo(String a, String b) {
    spec(a);
    spec(b);
    if (a.equals(b)) throw new IllegalArgumentException("name two different Regions");
  }

  private static ObjectNode body(String... kv) {
    ObjectNode n = JSON.createObjectNode();
    for (int i = 0; i < kv.length; i += 2) n.put(kv[i], kv[i + 1]);
    return n;
  }

  private JsonNode admin(String region, String path, JsonNode body) throws IOException {
    RegionSpec s = spec(region);
    try {
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(s.adminUrl() + path))
          .timeout(Duration.ofSeconds(10)).header("Content-Type", "application/json")
          .POST(HttpRequest.BodyPublishers.ofString(body.toString())).build(), HttpResponse.BodyHandlers.ofString());
      JsonNode answer = r.body().isBlank() ? JSON.createObjectNode() : JSON.readTree(r.body());
      if (r.statusCode() != 200) {
        throw new IllegalStateException(region + ": " + answer.path("error").asText(r.body()));
      }
      return answer;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    } catch (java.net.ConnectException | java.net.http.HttpTimeoutException e) {
      throw new IOException(region + "'s admin endpoint " + s.adminUrl() + " does not answer (is the node down or paused?)", e);
    }
  }

  private static void signal(long pid, String signal) {
    try {
      Process k = new ProcessBuilder("kill", "-" + signal, Long.toString(pid)).redirectErrorStream(true).start();
      if (k.waitFor() != 0) throw new IllegalStateException("kill -" + signal + " " + pid + " failed");
    } catch (IOException e) {
      throw new IllegalStateException("cannot run kill: " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
