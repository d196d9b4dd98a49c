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
 *   <li>RotateKeyOnDemand until every replica holds the new material (skipped while the server
 *       does not implement it).
 * </ul>
 * Polls DescribeKey every {@value #POLL_MILLIS} ms (the resolution of the figures).
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

  public record Result(Histogram replicate, int replicateFailures, Histogram updatePrimary, int updateFailures,
      String rotateSkipped) {}

  public Result run(int keys) {
    String from = primary.endpoint().region();
    String to = replica.endpoint().region();
    out.printf(Locale.ROOT, "replication: %d multi-Region key(s), %s -> %s, one at a time, DescribeKey polled every %d ms%n",
        keys, from, to, POLL_MILLIS);
    Histogram replicate = OpResult.newHistogram();
    Histogram update = OpResult.newHistogram();
    int replicateFailures = 0;
    int updateFailures = 0;
    String firstFailure = null;
    String rotate = null;
    for (int i = 0; i < keys; i++) {
      Reply created = primary.call("CreateKey", KmsClient.json().put("MultiRegion", true).put("Description", "bench"));
      if (!created.ok()) throw new IllegalStateException("CreateKey MultiRegion: " + created.describeError());
      String keyId = created.json().path("KeyMetadata").path("KeyId").asText();

      long t0 = System.nanoTime();
      Reply r = primary.call("ReplicateKey", KmsClient.json().put("KeyId", keyId).put("ReplicaRegion", to));
      boolean ok = r.ok() && awaitState(replica, keyId, "Enabled", null);
      if (ok) Stats.record(replicate, System.nanoTime() - t0);
      else {
        replicateFailures++;
        if (firstFailure == null) firstFailure = "ReplicateKey " + keyId + ": " + (r.ok() ? "not Enabled in 30 s" : r.describeError());
        continue;
      }

      if (rotate == null) {
        Reply rot = primary.call("RotateKeyOnDemand", KmsClient.json().put("KeyId", keyId));
        rotate = rot.ok() ? "" : rot.describeError();
        if (rot.ok()) rotate = "measured only as implemented: RotateKeyOnDemand answered, per-replica material check not written yet";
      }

      long t1 = System.nanoTime();
      Reply u = primary.call("UpdatePrimaryRegion", KmsClient.json().put("KeyId", keyId).put("PrimaryRegion", to));
      ok = u.ok() && awaitState(replica, keyId, "Enabled", "PRIMARY") && awaitState(primary, keyId, "Enabled", "REPLICA");
      if (ok) Stats.record(update, System.nanoTime() - t1);
      else {
        updateFailures++;
        if (firstFailure == null) firstFailure = "UpdatePrimaryRegion " + keyId + ": " + (u.ok() ? "not both Enabled in 30 s" : u.describeError());
      }
    }
    out.println(Stats.line("ReplicateKey -> replica Enabled", replicate, replicateFailures));
    out.println(Stats.line("UpdatePrimaryRegion -> both Enabled", update, updateFailures));
    out.println("RotateKeyOnDemand -> every replica   skipped: " + (rotate == null ? "no key replicated" : rotate));
    if (firstFailure != null) out.println("first failure: " + firstFailure);
    return new Result(replicate, replicateFailures, update, updateFailures, rotate);
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
      try {
        Thread.sleep(POLL_MILLIS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return false;
      }
    }
    return false;
  }

  static List<String> summary(Result r) {
    return List.of(Stats.line("ReplicateKey", r.replicate(), r.replicateFailures()),
        Stats.line("UpdatePrimaryRegion", r.updatePrimary(), r.updateFailures()));
  }
}
