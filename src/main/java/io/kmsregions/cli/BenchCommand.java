package io.kmsregions.cli;

import com.typesafe.config.ConfigFactory;
import io.kmsregions.bench.Endpoint;
import io.kmsregions.bench.KmsClient;
import io.kmsregions.bench.LoadBench;
import io.kmsregions.bench.LoadRunner;
import io.kmsregions.bench.LocalCluster;
import io.kmsregions.bench.NodeProcesses;
import io.kmsregions.bench.RecoveryBench;
import io.kmsregions.bench.ReplicationBench;
import io.kmsregions.bench.SigV4;
import io.kmsregions.bench.Workloads;
import io.kmsregions.region.RegionSpec;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code bench}: measures kms-regions (and a baseline such as moto) with a closed-loop (or, with
 * --rate, open-loop) load of SigV4-signed KMS requests; or, with --replication or --recovery, the
 * replication latencies or the recovery time and heap per key. See BENCHMARKS.md.
 */
@Command(name = "bench", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Measure throughput and latency per KMS operation (HdrHistogram), optionally against a baseline",
        "endpoint in alternation; or replication latencies (--replication); or recovery time and heap per key",
        "(--recovery). Without --endpoint it starts the default cluster of regions/ in this JVM (or, with",
        "--processes, as one node process per Region) and measures --region."})
final class BenchCommand implements Callable<Integer> {

  @Option(names = "--endpoint", description = "KMS endpoint to measure, http://HOST:PORT (default: start the default cluster).")
  String endpoint;

  @Option(names = "--region", defaultValue = "us-east-1", description = "Region the requests are signed for (default: ${DEFAULT-VALUE}).")
  String region;

  @Option(names = "--duration", defaultValue = "10", description = "Measured seconds per run (default: ${DEFAULT-VALUE}).")
  double duration;

  @Option(names = "--warmup", defaultValue = "3", description = "Warm-up seconds before each run's measurement (default: ${DEFAULT-VALUE}); also the slice of the"
      + " warm-up passes (two with several operations), which run each operation until its throughput and the JIT (this JVM's,"
      + " and the compiler threads of node processes and --watch-pid) are steady.")
  double warmup;

  @Option(names = "--concurrency", defaultValue = "32", description = "Workers, each with one keep-alive connection (default: ${DEFAULT-VALUE}).")
  int concurrency;

  @Option(names = "--ops", split = ",", description = "Operations, comma-separated (default: all): encrypt, decrypt, generate-data-key,"
      + " describe-key, noop, sign-p256, verify-p256, sign-rsa2048, generate-mac.")
  List<String> ops;

  @Option(names = "--keys", description = "Keys to spread the load over (default 1, one hot key); with --replication the keys"
      + " measured (default 100); with --recovery a comma-separated list of key counts (default 10000,100000).")
  String keys;

  @Option(names = "--baseline", description = "A second endpoint (e.g. moto: http://127.0.0.1:5000) measured in alternation with the first.")
  String baseline;

  @Option(names = "--name", description = "Name of the measured endpoint in the report (default: kms-regions).")
  String name = "kms-regions";

  @Option(names = "--baseline-name", description = "Name of the baseline in the report (default: moto).")
  String baselineName = "moto";

  @Option(names = "--baseline-region", description = "Region signed for at the baseline (default: --region).")
  String baselineRegion;

  @Option(names = "--rounds", description = "Rounds of runs (A, B, A, B, ...) (default: 2 with --baseline, else 1).")
  Integer rounds;

  @Option(names = "--rate", defaultValue = "0", description = "Open loop at this total rate in requests/s, latency counted from each"
      + " request's scheduled time (default: closed loop).")
  double rate;

  @Option(names = "--half-max", description = "After each closed-loop run, run the operation open loop at half the throughput"
      + " it just reached (rows op@half): the latency at half the maximum throughput.")
  boolean halfMax;

  @Option(names = "--client", defaultValue = "raw", description = "Load generator's HTTP client: raw (a blocking keep-alive socket per"
      + " worker, lowest overhead) or jdk (java.net.http.HttpClient) (default: ${DEFAULT-VALUE}).")
  String client;

  @Option(names = "--replication", description = "Measure ReplicateKey, RotateKeyOnDemand and UpdatePrimaryRegion latencies"
      + " instead of load.")
  boolean replication;

  @Option(names = "--replica-region", defaultValue = "eu-west-1", description = "Replica Region of --replication (default: ${DEFAULT-VALUE}).")
  String replicaRegion;

  @Option(names = "--replica-endpoint", description = "Endpoint of --replica-region (default: the replica's own node when the bench"
      + " starts the cluster, else --endpoint, which forwards by credential scope).")
  String replicaEndpoint;

  @Option(names = "--replication-warmup", defaultValue = "5", description = "With --replication: keys taken through every step"
      + " unrecorded before the measured ones (the first key of a fresh cluster is cold) (default: ${DEFAULT-VALUE}).")
  int replicationWarmup;

  @Option(names = "--recovery", description = "Measure restart time and heap per key for --keys N1,N2,... (in this JVM).")
  boolean recovery;

  @Option(names = "--processes", description = "Start the default cluster as one 'node' process per Region instead of in this JVM.")
  boolean processes;

  @Option(names = "--node-jvm-options", split = " ", description = "JVM options of the node processes of --processes (space-separated).")
  List<String> nodeJvmOptions = new ArrayList<>();

  @Option(names = "--watch-pid", description = "A process on this machine that belongs to the run (a server, the baseline): its"
      + " CPU is reported with this JVM's, so the rest is other load on the machine, and the warm-up waits for its JIT"
      + " compiler threads too. Repeatable.")
  List<Long> watchPids = new ArrayList<>();

  @Option(names = "--regions", defaultValue = "regions", description = "Folder of Region files (default: ${DEFAULT-VALUE}).")
  Path regionsDir;

  @Option(names = "--access-key", defaultValue = "test", description = "SigV4 access key id (default: ${DEFAULT-VALUE}).")
  String accessKey;

  @Option(names = "--secret-key", defaultValue = "test", description = "SigV4 secret key (default: ${DEFAULT-VALUE}).")
  String secretKey;

  @Override
  public Integer call() throws Exception {
    SigV4 signer = new SigV4(accessKey, secretKey);
    try {
      if (recovery) {
        List<Integer> counts;
        try {
          counts = Arrays.stream((keys == null ? "10000,100000" : keys).split(","))
              .map(String::trim).map(Integer::parseInt).toList();
        } catch (NumberFormatException e) {
          System.err.println("kms-regions bench: --keys must be a comma-separated list of numbers with --recovery");
          return 2;
        }
        new RecoveryBench(ConfigFactory.empty(), Math.max(8, concurrency), System.out).run(counts, region, signer);
        return 0;
      }
      if (ops == null) ops = Workloads.ALL;
      Workloads.checkNames(ops);
    } catch (IllegalArgumentException e) {
      System.err.println("kms-regions bench: " + e.getMessage());
      return 2;
    }
    watchPids.forEach(LoadRunner::watch);
    LocalCluster cluster = null;
    NodeProcesses nodes = null;
    try {
      Endpoint a;
      Endpoint replica = null;
      if (endpoint != null) {
        a = Endpoint.of(name, endpoint, region);
        if (replication) {
          replica = replicaEndpoint != null ? Endpoint.of("replica", replicaEndpoint, replicaRegion) : a.forRegion(replicaRegion);
        }
      } else {
        List<RegionSpec> specs = RegionSpec.load(regionsDir);
        long t0 = System.nanoTime();
        if (processes) {
          System.out.println("starting the default cluster (" + specs.size() + " node processes) ...");
          nodes = NodeProcesses.start(regionsDir, specs, nodeJvmOptions, Duration.ofSeconds(180));
          a = nodes.endpoint(name, region);
          for (RegionSpec s : specs) LoadRunner.watch(nodes.pid(s.name()));
          if (replication) replica = nodes.endpoint("replica", replicaRegion);
          System.out.printf("cluster ready in %.1f s; %s is pid %d (logs in %s)%n", (System.nanoTime() - t0) / 1e9, region,
              nodes.pid(region), nodes.dir());
        } else {
          specs = LocalCluster.onFreePorts(specs, System.out);
          System.out.println("starting the default cluster (" + specs.size() + " Regions) in this JVM ...");
          cluster = LocalCluster.start(specs, null, ConfigFactory.empty(), Duration.ofSeconds(180));
          a = cluster.endpoint(name, region);
          if (replication) replica = cluster.endpoint("replica", replicaRegion);
          System.out.printf("cluster ready in %.1f s (data in %s)%n", (System.nanoTime() - t0) / 1e9, cluster.dataDir());
          System.out.println(collectorNote());
        }
      }
      if (replication) {
        int n = keys == null ? 100 : Integer.parseInt(keys.trim());
        try (KmsClient p = new KmsClient(a, signer, 1); KmsClient r = new KmsClient(replica, signer, 1)) {
          new ReplicationBench(p, r, System.out).run(n, replicationWarmup);
        }
        return 0;
      }
      int keyCount = keys == null ? 1 : Integer.parseInt(keys.trim());
      Endpoint b = baseline == null ? null
          : Endpoint.of(baselineName, baseline, baselineRegion == null ? region : baselineRegion);
      int k = rounds != null ? rounds : baseline != null ? 2 : 1;
      new LoadBench(ops, keyCount, k, new LoadRunner.Settings(warmup, duration, concurrency, rate), client, signer, System.out)
          .halfMax(halfMax).run(a, b);
      return 0;
    } catch (NumberFormatException e) {
      System.err.println("kms-regions bench: --keys must be a number here: " + e.getMessage());
      return 2;
    } catch (IllegalArgumentException e) {
      System.err.println("kms-regions bench: " + e.getMessage());
      return 2;
    } finally {
      if (cluster != null) cluster.close();
      if (nodes != null) nodes.close();
    }
  }

  /**
   * The garbage collector the in-process servers run under, and a note when it is G1: this JVM is
   * then the server's too, and G1's barriers and concurrent threads cost the 2-core machine about
   * a fifth of its throughput against a throughput collector (BENCHMARKS.md, "The collector").
   */
  static String collectorNote() {
    List<String> names = new ArrayList<>();
    for (var gc : java.lang.management.ManagementFactory.getGarbageCollectorMXBeans()) names.add(gc.getName());
    boolean g1 = names.stream().anyMatch(n -> n.startsWith("G1"));
    return "servers' JVM: " + String.join(", ", names) + (g1
        ? "  (note: the servers run in this JVM under G1; start it with -XX:+UseParallelGC for a stop-the-world"
            + " collector, as `up` gives its node processes one)"
        : "");
  }
}
