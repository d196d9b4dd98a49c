package io.kmsregions.bench;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintStream;
import java.util.List;
import java.util.Locale;
import org.HdrHistogram.Histogram;

/**
 * Replication figures, one key at a time so that each measures latency, not queueing:
 * <ul>
 *   <li>ReplicateKey: from sending ReplicateKey to the primary's Region until DescribeKey in the
 *       replica's Region answers Enabled;
 *   <li>UpdatePrimaryRegion: from sending it until both Regions answer Enabled, the new primary
 *       PRIMARY and the old one REPLICA;
 *   <li>RotateKeyOnDemand: from sending it to the primary's Region until DescribeKey in the replica's
 *       Region answers the new material as {@code CurrentKeyMaterialId} (the key's only replica
 *       holds it and uses it: the rotation completes only once every replica has acknowledged the
 *       new material, DESIGN.md; skipped while the server does not implement it).
 * </ul>
 * Polls DescribeKey every {@value #POLL_MILLIS} ms (the resolution of the figures). The first
 * {@code warmupKeys} keys go through the same steps unrecorded: the first key of a fresh cluster
 * pays class loading, JIT and the first Artery and journal writes (hundreds of ms), which would
 * otherwise be the p99 of 100 keys. Prints the machine's load average (/proc/loadavg) before and
 * after, since the figures are only comparable under the same load.
 */
public final class ReplicationBench {
  static final long POLL_MILLIS = 1;
  static final long MAX_WAIT_NANOS = 30_000_000_000L;

  private final KmsClient primary;
  private final KmsClient replica;
  private final PrintStream out;

  /** {@code primary} and {@code replica} may be the same server, signed for different Regions. */
  public ReplicationBench(KmsClient primary, KmsClient replica, PrintStream out) {
    this.primary = primary;
    this.replica = replica;
    this.out = out;
  }

  /**
   * The figures (latencies in microseconds) and failures; {@code rotateSkipped} is null when
   * RotateKeyOnDemand was measured, else why not.
   */
  public record Result(Histogram replicate, int replicateFailures, Histogram updatePrimary, int updateFailures,
      Histogram rotate, int rotateFailures, String rotateSkipped) {}

  public Result run(int keys) {
    return run(keys, 0);
  }

  /** Measures {@code keys} keys after {@code warmupKeys} unrecorded ones. */
  public Result run(int keys, int warmupKeys) {
    String from = primary.endpoint().region();
    String to = replica.endpoint().region();
    out.printf(Locale.ROOT, "replication: %d multi-Region key(s) (after %d unrecorded), %s -> %s, one at a time,"
        + " DescribeKey polled every %d ms; load average %s%n", keys, warmupKeys, from, to, POLL_MILLIS, loadAverage());
    Histogram replicate = OpResult.newHistogram();
    Histogram update = OpResult.newHistogram();
    Histogram rotation = OpResult.newHistogram();
    int replicateFailures = 0;
    int updateFailures = 0;
    int rotateFailures = 0;
    String firstFailure = null;
    String rotate = null;
    for (int i = -warmupKeys; i < keys; i++) {
      boolean recorded = i >= 0;
      Reply created = primary.call("CreateKey", KmsClient.json().put("MultiRegion", true).put("Description", "bench"));
      if (!created.ok()) throw new IllegalStateException("CreateKey MultiRegion: " + created.describeError());
      String keyId = created.json().path("KeyMetadata").path("KeyId").asText();

      long t0 = System.nanoTime();
      Reply r = primary.call("ReplicateKey", KmsClient.json().put("KeyId", keyId).put("ReplicaRegion", to));
      boolean ok = r.ok() && awaitState(replica, keyId, "Enabled", null);
      if (ok) {
        if (recorded) Stats.record(replicate, System.nanoTime() - t0);
      } else {
        replicateFailures++;
        if (firstFailure == null) firstFailure = "ReplicateKey " + keyId + ": " + (r.ok() ? "not Enabled in 30 s" : r.describeError());
        continue;
      }

      if (rotate == null) {
        // The material the replica uses now; the rotation has reached it when that changes.
        Reply before = replica.call("DescribeKey", KmsClient.json().put("KeyId", keyId));
        String material = before.ok() ? before.json().path("KeyMetadata").path("CurrentKeyMaterialId").asText(null) : null;
        long t2 = System.nanoTime();
        Reply rot = primary.call("RotateKeyOnDemand", KmsClient.json().put("KeyId", keyId));
        if (!rot.ok() && rot.status() < 500) {
          rotate = rot.describeError(); // refused for a fresh key: not implemented; skip from now on
        } else if (material == null) {
          rotate = "DescribeKey in " + to + " shows no CurrentKeyMaterialId";
        } else if (rot.ok() && awaitMaterialChange(replica, keyId, material)) {
          if (recorded) Stats.record(rotation, System.nanoTime() - t2);
        } else {
          rotateFailures++;
          if (firstFailure == null) firstFailure = "RotateKeyOnDemand " + keyId + ": "
              + (rot.ok() ? "new material not current in " + to + " in 30 s" : rot.describeError());
        }
      }

      long t1 = System.nanoTime();
      Reply u = primary.call("UpdatePrimaryRegion", KmsClient.json().put("KeyId", keyId).put("PrimaryRegion", to));
      ok = u.ok() && awaitState(replica, keyId, "Enabled", "PRIMARY") && awaitState(primary, keyId, "Enabled", "REPLICA");
      if (ok) {
        if (recorded) Stats.record(update, System.nanoTime() - t1);
      } else {
        updateFailures++;
        if (firstFailure == null) firstFailure = "UpdatePrimaryRegion " + keyId + ": " + (u.ok() ? "not both Enabled in 30 s" : u.describeError());
      }
    }
    out.println(Stats.line("ReplicateKey -> replica Enabled", replicate, replicateFailures));
    out.println(Stats.line("UpdatePrimaryRegion -> both Enabled", update, updateFailures));
    out.println(rotate == null ? Stats.line("RotateKeyOnDemand -> every replica", rotation, rotateFailures)
        : "RotateKeyOnDemand -> every replica   skipped: " + rotate);
    out.println("load average " + loadAverage());
    if (firstFailure != null) out.println("first failure: " + firstFailure);
    return new Result(replicate, replicateFailures, update, updateFailures, rotation, rotateFailures, rotate);
  }

  /** The 1, 5 and 15 minute load averages from /proc/loadavg ("?" where there is none). */
  static String loadAverage() {
    try {
      String[] f = java.nio.file.Files.readString(java.nio.file.Path.of("/proc/loadavg")).trim().split("\\s+");
      return f[0] + " " + f[1] + " " + f[2];
    } catch (java.io.IOException | RuntimeException e) {
      return "?";
    }
  }

  /** Polls DescribeKey until the key's CurrentKeyMaterialId is not {@code old}; false after 30 s. */
  private static boolean awaitMaterialChange(KmsClient client, String keyId, String old) {
    long deadline = System.nanoTime() + MAX_WAIT_NANOS;
    KmsCall describe = client.prepare("DescribeKey", KmsClient.json().put("KeyId", keyId));
    while (System.nanoTime() < deadline) {
      Reply d = client.send(describe);
      if (d.ok()) {
        String current = d.json().path("KeyMetadata").path("CurrentKeyMaterialId").asText(old);
        if (!current.equals(old)) return true;
      }
      if (!pause()) return false;
    }
    return false;
  }

  private static boolean pause() {
    try {
      Thread.sleep(POLL_MILLIS);
      return true;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /** Polls DescribeKey until the key is in {@code state} (and of {@code type} when given); false after 30 s. */
  private static boolean awaitState(KmsClient client, String keyId, String state, String type) {
    long deadline = System.nanoTime() + MAX_WAIT_NANOS;
    KmsCall describe = client.prepare("DescribeKey", KmsClient.json().put("KeyId", keyId));
    while (System.nanoTime() < deadline) {
      Reply d = client.send(describe);
      if (d.ok()) {
        JsonNode m = d.json().path("KeyMetadata");
        if (m.path("KeyState").asText().equals(state)
            && (type == null || m.path("MultiRegionConfiguration").path("MultiRegionKeyType").asText().equals(type))) {
          return true;
        }
      }
      if (!pause()) return false;
    }
    return false;
  }

  static List<String> summary(Result r) {
    return List.of(Stats.line("ReplicateKey", r.replicate(), r.replicateFailures()),
        Stats.line("UpdatePrimaryRegion", r.updatePrimary(), r.updateFailures()),
        Stats.line("RotateKeyOnDemand", r.rotate(), r.rotateFailures()));
  }
}
