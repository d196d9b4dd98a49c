package io.kmsregions.bench;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.kmsregions.region.RegionSpec;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Recovery and memory, in this JVM, for each N: a fresh one-Region cluster, N single-Region
 * symmetric keys created through the HTTP API, the node stopped and started again on the same
 * data, and then
 * <ul>
 *   <li>time from {@code RegionNode.start} to Up and bound, to the first successful DescribeKey of
 *       a random key, and to the first successful ListKeys (which waits for the key index);
 *   <li>heap per idle key: used heap after a full GC with every key's actor started (each key
 *       described once), minus used heap after a full GC just after the restart, divided by N.
 * </ul>
 * The journal is written with fsync off to make set-up fast; recovery reads the same journal
 * either way.
 */
public final class RecoveryBench {
  private final Config overrides;
  private final int createConcurrency;
  private final PrintStream out;

  public RecoveryBench(Config overrides, int createConcurrency, PrintStream out) {
    this.overrides = ConfigFactory.parseString(String.join("\n",
        "pekko.persistence.journal.leveldb.fsync = off",
        "pekko.loglevel = WARNING",
        "pekko.cluster.jmx.enabled = off")).withFallback(overrides);
    this.createConcurrency = createConcurrency;
    this.out = out;
  }

  public record Row(int keys, double createSeconds, double upSeconds, double describeSeconds, double listSeconds,
      double loadAllSeconds, long heapBeforeBytes, long heapAfterBytes) {
    public double bytesPerKey() {
      return (heapAfterBytes - heapBeforeBytes) / (double) keys;
    }
  }

  public List<Row> run(List<Integer> counts, String region, SigV4 signer) {
    List<Row> rows = new ArrayList<>();
    out.println("recovery and memory: one Region (" + region + "), single-Region symmetric keys, in this JVM (max heap "
        + Runtime.getRuntime().maxMemory() / (1 << 20) + " MiB)");
    for (int n : counts) {
      rows.add(runOne(n, region, signer));
      Row r = rows.get(rows.size() - 1);
      out.printf(Locale.ROOT, "N=%-7d created in %6.1f s (%,.0f keys/s); restart: Up+bound %5.2f s, first DescribeKey %5.2f s,"
              + " ListKeys %5.2f s; all keys loaded in %5.1f s; heap %,d -> %,d bytes: %,.0f bytes/key%n",
          r.keys(), r.createSeconds(), r.keys() / r.createSeconds(), r.upSeconds(), r.describeSeconds(), r.listSeconds(),
          r.loadAllSeconds(), r.heapBeforeBytes(), r.heapAfterBytes(), r.bytesPerKey());
    }
    out.println();
    out.printf(Locale.ROOT, "%8s %10s %10s %12s %10s %12s %12s%n", "keys", "create s", "up s", "describe s", "list s",
        "load-all s", "bytes/key");
    for (Row r : rows) {
      out.printf(Locale.ROOT, "%8d %10.1f %10.2f %12.2f %10.2f %12.1f %12.0f%n", r.keys(), r.createSeconds(), r.upSeconds(),
          r.describeSeconds(), r.listSeconds(), r.loadAllSeconds(), r.bytesPerKey());
    }
    return rows;
  }

  private Row runOne(int n, String region, SigV4 signer) {
    RegionSpec spec = new RegionSpec(region, "127.0.0.1", freePort(), "127.0.0.1", freePort());
    LocalCluster cluster = LocalCluster.start(List.of(spec), null, overrides, Duration.ofSeconds(120));
    try {
      Endpoint ep = cluster.endpoint("kms-regions", region);
      List<String> ids = new ArrayList<>(n);
      long t0 = System.nanoTime();
      try (KmsClient client = new KmsClient(ep, signer, createConcurrency)) {
        int batch = 5_000;
        for (int done = 0; done < n; done += batch) {
          List<KmsCall> calls = new ArrayList<>();
          for (int i = done; i < Math.min(n, done + batch); i++) calls.add(client.prepare("CreateKey", KmsClient.json()));
          for (Reply r : client.sendAll(calls)) {
            if (!r.ok()) throw new IllegalStateException("CreateKey failed: " + r.describeError());
            ids.add(r.json().path("KeyMetadata").path("KeyId").asText());
          }
          if (n > batch) out.printf(Locale.ROOT, "  created %,d of %,d keys (%.0f s)%n", ids.size(), n, (System.nanoTime() - t0) / 1e9);
        }
      }
      double createSeconds = (System.nanoTime() - t0) / 1e9;
      cluster.stop(region);
      fullGc();

      long start = System.nanoTime();
      cluster.startAgain(region);
      cluster.awaitReady(Duration.ofSeconds(120));
      double up = (System.nanoTime() - start) / 1e9;
      Endpoint again = cluster.endpoint("kms-regions", region);
      double describe;
      double list;
      try (KmsClient client = new KmsClient(again, signer, createConcurrency)) {
        String randomId = ids.get(ThreadLocalRandom.current().nextInt(ids.size()));
        KmsCall d = client.prepare("DescribeKey", KmsClient.json().put("KeyId", randomId));
        while (!client.send(d).ok()) sleep(5);
        describe = (System.nanoTime() - start) / 1e9;
        KmsCall l = client.prepare("ListKeys", KmsClient.json().put("Limit", 1000));
        while (true) {
          Reply r = client.send(l);
          if (r.ok() && r.json().path("Keys").size() > 0) break;
          sleep(5);
        }
        list = (System.nanoTime() - start) / 1e9;
        long before = fullGc();
        long t1 = System.nanoTime();
        List<KmsCall> all = new ArrayList<>(ids.size());
        for (String id : ids) all.add(client.prepare("DescribeKey", KmsClient.json().put("KeyId", id)));
        int failed = 0;
        for (int i = 0; i < all.size(); i += 5_000) {
          for (Reply r : client.sendAll(all.subList(i, Math.min(all.size(), i + 5_000)))) if (!r.ok()) failed++;
        }
        if (failed > 0) out.println("  " + failed + " DescribeKey calls failed while loading every key");
        double loadAll = (System.nanoTime() - t1) / 1e9;
        all = null;
        long after = fullGc();
        return new Row(n, createSeconds, up, describe, list, loadAll, before, after);
      }
    } finally {
      cluster.close();
      fullGc();
    }
  }

  /** Used heap after a full collection (several System.gc() calls, until it settles). */
  static long fullGc() {
    MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
    long used = Long.MAX_VALUE;
    for (int i = 0; i < 5; i++) {
      System.gc();
      sleep(100);
      long now = memory.getHeapMemoryUsage().getUsed();
      if (Math.abs(now - used) < (1 << 20) && i >= 2) return now;
      used = now;
    }
    return used;
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  static int freePort() {
    return io.kmsregions.region.Ports.freePort();
  }

}
