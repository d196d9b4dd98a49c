package io.kmsregions.bench;

import java.io.PrintStream;
import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

/**
 * The load bench: prepares every operation on endpoint A (and B, the baseline), then for each
 * round runs each operation on A and then on B, so both see the same machine at nearly the same
 * time, and prints each run, the final table per endpoint, the A/B ratios, and A's operations
 * against A's no-op ceiling.
 */
public final class LoadBench {
  private final List<String> ops;
  private final int keys;
  private final int rounds;
  private final LoadRunner.Settings settings;
  private final String transportName;
  private final SigV4 signer;
  private final PrintStream out;
  private boolean halfMax;

  /**
   * After each closed-loop run, run the operation again open loop at half the throughput just
   * measured (the "{@code op@half}" rows): latency at half the maximum, under the same conditions.
   */
  public LoadBench halfMax(boolean on) {
    this.halfMax = on;
    return this;
  }

  public LoadBench(List<String> ops, int keys, int rounds, LoadRunner.Settings settings, String transportName,
      SigV4 signer, PrintStream out) {
    Workloads.checkNames(ops);
    this.ops = List.copyOf(ops);
    this.keys = keys;
    this.rounds = rounds;
    this.settings = settings;
    this.transportName = transportName;
    this.signer = signer;
    this.out = out;
  }

  /** The results of A, then (when there is a baseline) of B, each in operation order. */
  public record Results(List<OpResult> a, List<OpResult> b) {}

  public Results run(Endpoint a, Endpoint b) throws InterruptedException {
    List<Endpoint> endpoints = b == null ? List.of(a) : List.of(a, b);
    Map<String, Map<String, OpResult>> results = new LinkedHashMap<>();
    Map<String, Map<String, Workloads.Prepared>> prepared = new LinkedHashMap<>();
    List<KmsClient> clients = new ArrayList<>();
    try (Transport transport = Transport.named(transportName, settings.concurrency())) {
      for (Endpoint e : endpoints) {
        KmsClient client = new KmsClient(e, signer, 16);
        clients.add(client);
        Workloads w = new Workloads(client, keys);
        Map<String, Workloads.Prepared> p = new LinkedHashMap<>();
        Map<String, OpResult> r = new LinkedHashMap<>();
        out.printf(Locale.ROOT, "set-up %s (%s, signed for %s): %d key(s) per key kind%n", e.name(), e.uri(), e.region(), keys);
        for (String op : ops) {
          long t0 = System.nanoTime();
          Workloads.Prepared pr = w.prepare(op);
          p.put(op, pr);
          if (pr.skipped() != null) {
            out.printf(Locale.ROOT, "  %-18s skipped: %s%n", op, pr.skipped());
            r.put(op, OpResult.skipped(e.name(), op, pr.skipped()));
          } else {
            out.printf(Locale.ROOT, "  %-18s ready: %d request(s) (%.1f s)%n", op, pr.calls().size(), (System.nanoTime() - t0) / 1e9);
            r.put(op, new OpResult(e.name(), op));
          }
        }
        prepared.put(e.name(), p);
        results.put(e.name(), r);
      }
      out.printf(Locale.ROOT, "load: %s, %d worker(s), %s, %.0f s warm-up + %.0f s measured per run, %d round(s), client %s%n",
          settings.rate() > 0 ? String.format(Locale.ROOT, "open loop at %.0f req/s", settings.rate()) : "closed loop",
          settings.concurrency(), keys == 1 ? "one hot key" : keys + " keys", settings.warmupSeconds(),
          settings.durationSeconds(), rounds, transport.name());
      if (settings.warmupSeconds() > 0) {
        // Untimed passes over every operation first, so the JIT has compiled the server's and
        // the client's paths before round 1 (each run still has its own warm-up too). On 2 cores
        // C2 needs a minute at full load: each operation runs in slices of the warm-up time until
        // two slices in a row agree within WARM_TOLERANCE and the JIT is quiet (JMH's warm-up
        // iterations, with a stopping rule); see isSteady. The first operation on an endpoint
        // compiles the path every call shares (HTTP, SigV4, the dispatcher) and may take up to
        // MAX_WARM_SLICES; later ones, which add little code, up to MAX_LATER_WARM_SLICES.
        // Then a second pass over every operation: the later operations' code changes what the
        // first one's compiled code assumed (new types at shared call sites, deoptimisation), and
        // round 1 of the first operation was measured at 61% of round 2 (BENCHMARKS.md, "Warm-up,
        // and p99 at half the maximum again").
        long t0 = System.nanoTime();
        LoadRunner.Settings slice = new LoadRunner.Settings(0, settings.warmupSeconds(), settings.concurrency(), settings.rate());
        StringBuilder slices = new StringBuilder();
        Set<String> warmed = new HashSet<>();
        long usable = ops.stream()
            .filter(op -> endpoints.stream().anyMatch(e -> prepared.get(e.name()).get(op).skipped() == null)).count();
        int passes = usable > 1 ? WARM_PASSES : 1;
        out.printf(Locale.ROOT, "warm-up: %d pass(es) over every operation, each in slices of %.0f s until two agree within"
            + " %.0f%% and the JIT is quiet (at most %d slices for an endpoint's first operation, %d for the others)%n",
            passes, settings.warmupSeconds(), 100 * WARM_TOLERANCE, MAX_WARM_SLICES, MAX_LATER_WARM_SLICES);
        for (int pass = 1; pass <= passes; pass++) {
          slices.append(pass == 1 ? "" : ";").append(" pass ").append(pass).append(':');
          for (String op : ops) {
            for (Endpoint e : endpoints) {
              Workloads.Prepared pr = prepared.get(e.name()).get(op);
              if (pr.skipped() == null) {
                int max = warmed.add(e.name()) ? MAX_WARM_SLICES : MAX_LATER_WARM_SLICES;
                Map<String, Workloads.Prepared> byOp = prepared.get(e.name());
                int n = warmUntilSteady(transport, e, () -> fresh(byOp, op), slice, op, max);
                slices.append(String.format(Locale.ROOT, " %s/%s %s", e.name(), op, n > 0 ? n : -n + "*"));
                out.printf(Locale.ROOT, "  pass %d %s/%s: %s%n", pass, e.name(), op,
                    n > 0 ? "steady after " + n + " slice(s)" : "not steady after its cap of " + -n + " slices");
              }
            }
          }
        }
        out.printf(Locale.ROOT, "warm-up over every operation: %.0f s (slices until steady, * where its cap came first,%s)%n",
            (System.nanoTime() - t0) / 1e9, slices);
      }
      out.println(Report.HEADER);
      for (int round = 1; round <= rounds; round++) {
        for (String op : ops) {
          for (Endpoint e : endpoints) {
            Workloads.Prepared pr = prepared.get(e.name()).get(op);
            if (pr.skipped() != null) continue;
            OpResult once = new OpResult(e.name(), op);
            LoadRunner.run(transport, e, fresh(prepared.get(e.name()), op), settings, once);
            out.println(Report.row(once) + "   [round " + round + busy(once) + "]");
            merge(results.get(e.name()).get(op), once);
            if (halfMax && once.throughput() > 0) {
              // Right after the closed loop found the maximum, the same operation open loop at half of it.
              double rate = once.throughput() / 2;
              OpResult half = new OpResult(e.name(), op + "@half");
              LoadRunner.run(transport, e, fresh(prepared.get(e.name()), op),
                  new LoadRunner.Settings(settings.warmupSeconds(), settings.durationSeconds(), settings.concurrency(), rate), half);
              out.println(Report.row(half) + "   [round " + round + ", open loop at " + Report.rate(rate) + " req/s" + busy(half) + "]");
              merge(results.get(e.name()).computeIfAbsent(op + "@half", k -> new OpResult(e.name(), k)), half);
            }
          }
        }
      }
    } finally {
      clients.forEach(KmsClient::close);
    }
    List<OpResult> ra = new ArrayList<>(results.get(a.name()).values());
    List<OpResult> rb = b == null ? List.of() : new ArrayList<>(results.get(b.name()).values());
    out.println();
    out.println("== results" + (rounds > 1 ? " (all rounds)" : "") + " ==");
    List<OpResult> all = new ArrayList<>(ra);
    all.addAll(rb);
    out.print(Report.table(all));
    OpResult noop = ra.stream().filter(r -> r.op().equals("noop") && !r.isSkipped()).findFirst().orElse(null);
    if (noop != null && noop.throughput() > 0) {
      out.println();
      out.println("== " + a.name() + " against its own no-op ceiling (" + Report.rate(noop.throughput()) + " req/s) ==");
      for (OpResult r : ra) {
        if (r.isSkipped() || r == noop) continue;
        out.printf(Locale.ROOT, "%-18s %5.1f%% of noop%s%n", r.op(), 100 * r.throughput() / noop.throughput(),
            Report.errorNote(r));
      }
    }
    if (b != null) {
      out.println();
      out.println("== " + a.name() + " (A) / " + b.name() + " (B) ==");
      out.print(Report.ratios(a.name(), ra, b.name(), rb));
    }
    return new Results(ra, rb);
  }

  private static void merge(OpResult into, OpResult once) {
    into.add(once.histogram(), once.requests(), once.seconds(), once.errors(),
        (long) (once.clientCpuMicrosPerRequest() * 1000 * once.requests()), once.busyCores(), once.ownCores());
    if (!Double.isNaN(once.allocatedBytesPerRequest())) {
      into.addAllocated(Math.round(once.allocatedBytesPerRequest() * once.requests()));
    }
  }

  private static String busy(OpResult r) {
    double b = r.busyCores();
    double own = r.ownCores();
    String jvm = Double.isNaN(r.kernelShare()) ? ""
        : String.format(Locale.ROOT, "; this JVM %.0f%% in the kernel", 100 * r.kernelShare());
    if (!Double.isNaN(r.allocatedBytesPerRequest())) {
      jvm += String.format(Locale.ROOT, ", allocated %.1f KB/request", r.allocatedBytesPerRequest() / 1024);
    }
    return Double.isNaN(b) ? "" : String.format(Locale.ROOT, ", cores busy: %.2f, of which under test %.2f, others %.2f%s",
        b, own, Math.max(0, b - own), jvm);
  }

  /**
   * Calls signed longer ago than this are signed again before a run or warm-up slice: a signature
   * is accepted for 15 minutes around its date, and the README's command against moto, all nine
   * operations, takes about 16 minutes (its last operation got only InvalidSignatureException).
   */
  static final long RESIGN_AFTER_NANOS = java.util.concurrent.TimeUnit.MINUTES.toNanos(5);

  /**
   * {@code op}'s calls in {@code byOp}, replaced there by calls signed again now when the first
   * was signed more than {@code maxAgeNanos} ago (all of an operation's calls are signed together).
   */
  static List<KmsCall> fresh(Map<String, Workloads.Prepared> byOp, String op, long maxAgeNanos) {
    Workloads.Prepared pr = byOp.get(op);
    if (pr.calls().isEmpty() || pr.calls().get(0).ageNanos() <= maxAgeNanos) return pr.calls();
    List<KmsCall> again = pr.calls().stream().map(KmsCall::signedAgain).toList();
    byOp.put(op, new Workloads.Prepared(op, again, pr.skipped()));
    return again;
  }

  /** {@link #fresh(Map, String, long)} with {@link #RESIGN_AFTER_NANOS}: what every run and warm-up slice sends. */
  private static List<KmsCall> fresh(Map<String, Workloads.Prepared> byOp, String op) {
    return fresh(byOp, op, RESIGN_AFTER_NANOS);
  }

  /** Two warm-up slices in a row within this fraction of each other: throughput has settled. */
  static final double WARM_TOLERANCE = 0.05;
  /**
   * The JIT is quiet when compilation took at most this share of a slice's wall time. Without it
   * two slices of a still-compiling JVM could agree by chance and round 1 was measured cold:
   * 7,645-14,021 against 17,454-21,107 Encrypt req/s in round 2 (BENCHMARKS.md, "Stalls at half
   * the maximum"). Counted: this JVM's compile time (CompilationMXBean: the in-process
   * cluster's and the load generator's) plus the CPU time of the compiler threads of the watched
   * processes (the node processes of {@code --processes}, and every {@code --watch-pid}); a server
   * elsewhere is not seen.
   */
  static final double JIT_QUIET = 0.10;
  /** 80 s at the documented 4-s slices: the in-process cluster compiles for about a minute. */
  static final int MAX_WARM_SLICES = 20;
  /** For an endpoint's later operations: Decrypt after Encrypt was steady after 6 slices. */
  static final int MAX_LATER_WARM_SLICES = 8;
  /** Passes over every operation when there are several; a steady operation costs 2 slices in the second. */
  static final int WARM_PASSES = 2;

  /**
   * Whether a warm-up slice shows a steady state: its throughput (req/s) within
   * {@link #WARM_TOLERANCE} of the previous slice's ({@code previous} <= 0: no previous slice),
   * and compilation during it ({@code compileMillis}, see {@link #JIT_QUIET}) at most that share of its
   * length ({@code sliceMillis}).
   */
  static boolean isSteady(double previous, double throughput, long compileMillis, long sliceMillis) {
    return previous > 0 && Math.abs(throughput - previous) <= WARM_TOLERANCE * previous
        && compileMillis <= JIT_QUIET * sliceMillis;
  }

  /**
   * Runs {@code slice} until {@link #isSteady}, at most {@code maxSlices} times; returns the number
   * of slices run, negated when the last one was still not steady.
   */
  private static int warmUntilSteady(Transport transport, Endpoint e, Supplier<List<KmsCall>> calls,
      LoadRunner.Settings slice, String op, int maxSlices) throws InterruptedException {
    CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
    boolean jitTimed = jit != null && jit.isCompilationTimeMonitoringSupported();
    double previous = -1;
    for (int n = 1; n <= maxSlices; n++) {
      OpResult r = new OpResult(e.name(), op);
      long compiled = jitTimed ? jit.getTotalCompilationTime() : 0;
      Map<String, Long> watchedBefore = LoadRunner.watchedCompilerTicks();
      long t0 = System.nanoTime();
      LoadRunner.run(transport, e, calls.get(), slice, r);
      long sliceMillis = (System.nanoTime() - t0) / 1_000_000;
      long compileMillis = (jitTimed ? jit.getTotalCompilationTime() - compiled : 0)
          + LoadRunner.compilerMillisBetween(watchedBefore, LoadRunner.watchedCompilerTicks());
      double t = r.throughput();
      if (isSteady(previous, t, compileMillis, sliceMillis)) return n;
      previous = t;
    }
    return -maxSlices;
  }
}
