package io.kmsregions.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.Histogram;

/**
 * Runs one operation against one endpoint: {@code concurrency} workers, each with its own
 * keep-alive connection, send the prepared requests in turn (worker i starts at request i, so with
 * many keys the load spreads over them) for the warm-up and then the measured window.
 *
 * <p>Closed loop by default: a worker sends its next request when the previous answer arrives.
 * With a rate (open loop), request k is scheduled at {@code k / rate} and its latency counts from
 * its scheduled time, so a stall is charged to every request that should have been sent during it
 * (no coordinated omission). The raw client runs the open loop on one thread over
 * {@code concurrency} connections ({@link OpenLoopSelector}); the jdk client gives worker i its own
 * fixed schedule of {@code rate / concurrency} requests per second.
 *
 * <p>Only requests that start and end inside the measured window count. The load generator's own
 * CPU time is measured too: each worker's thread CPU time from its first measured request to its
 * last, plus (for {@code jdk}) the HttpClient's threads sampled at the window's start and end; and
 * the machine's busy cores (/proc/stat) and this JVM's, over the window.
 */
public final class LoadRunner {
  /** What a run does. {@code rate} is the total requests per second of the open loop, or 0 for closed loop. */
  public record Settings(double warmupSeconds, double durationSeconds, int concurrency, double rate) {
    public Settings {
      if (concurrency < 1) throw new IllegalArgumentException("concurrency must be at least 1");
      if (durationSeconds <= 0) throw new IllegalArgumentException("duration must be positive");
      if (warmupSeconds < 0) throw new IllegalArgumentException("warm-up cannot be negative");
      if (rate < 0) throw new IllegalArgumentException("rate cannot be negative");
    }
  }

  private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

  private LoadRunner() {}

  /** Runs {@code calls} on {@code endpoint} and adds the measured window to {@code into}. */
  public static void run(Transport transport, Endpoint endpoint, List<KmsCall> calls, Settings s, OpResult into)
      throws InterruptedException {
    if (calls.isEmpty()) throw new IllegalArgumentException("nothing to send");
    int n = s.concurrency();
    long start = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(20);
    long measureStart = start + (long) (s.warmupSeconds() * 1e9);
    long end = measureStart + (long) (s.durationSeconds() * 1e9);
    // The raw client's open loop runs on one thread (OpenLoopSelector: its CPU per request is a
    // fraction of a thread per connection's); the jdk client and every closed loop use workers.
    OpenLoopSelector loop = s.rate() > 0 && transport instanceof RawTransport
        ? new OpenLoopSelector(endpoint, calls, n, s.rate(), start, measureStart, end) : null;
    Worker[] workers = new Worker[loop != null ? 0 : n];
    List<Thread> threads = new ArrayList<>();
    for (int i = 0; i < workers.length; i++) {
      workers[i] = new Worker(i, transport.connect(endpoint), calls, s, n, start, measureStart, end);
      Thread t = new Thread(workers[i], "bench-worker-" + i);
      t.setDaemon(true);
      threads.add(t);
    }
    Thread loopThread = null;
    if (loop != null) {
      loopThread = new Thread(loop, "bench-open-loop");
      loopThread.setDaemon(true);
      loopThread.start();
    }
    threads.forEach(Thread::start);
    sleepUntil(measureStart);
    long cpu0 = httpClientCpu();
    long watched0 = watchedTicks();
    long own0 = processCpu();
    long[] stat0 = procStat();
    long[] self0 = selfTicks();
    long alloc0 = allocatedBytes();
    sleepUntil(end);
    long alloc1 = allocatedBytes();
    long[] self1 = selfTicks();
    long cpu1 = httpClientCpu();
    long watched1 = watchedTicks();
    long own1 = processCpu();
    long[] stat1 = procStat();
    if (loopThread != null) loopThread.join(TimeUnit.SECONDS.toMillis(45)); // it gives up on answers after 30 s
    for (int i = 0; i < workers.length; i++) {
      threads.get(i).join(TimeUnit.SECONDS.toMillis(30));
      if (threads.get(i).isAlive()) {
        workers[i].connection.close(); // unblocks a read the server never answers
        threads.get(i).join(TimeUnit.SECONDS.toMillis(10));
      }
    }
    Histogram h = OpResult.newHistogram();
    Map<String, Long> errors = new HashMap<>();
    long completed = 0;
    long workerCpu = 0;
    for (Worker w : workers) {
      workerCpu += w.cpuNanos;
      h.add(w.histogram);
      completed += w.completed;
      w.errors.forEach((k, v) -> errors.merge(k, v, Long::sum));
    }
    if (loop != null) {
      if (loopThread.isAlive()) errors.merge("open loop did not finish", 1L, Long::sum);
      workerCpu += loop.cpuNanos;
      h.add(loop.histogram);
      completed += loop.completed;
      loop.errors.forEach((k, v) -> errors.merge(k, v, Long::sum));
    }
    double busy = Double.NaN;
    if (stat0 != null && stat1 != null && stat1[0] > stat0[0]) {
      busy = (double) (stat1[1] - stat0[1]) / (stat1[0] - stat0[0]) * Runtime.getRuntime().availableProcessors();
    }
    double own = own0 < 0 || own1 < 0 ? Double.NaN : (own1 - own0) / (s.durationSeconds() * 1e9);
    // Processes under test outside this JVM (node processes, the baseline) count as "own" too, so
    // that busy minus own is the CPU of everything else on the machine.
    own += (watched1 - watched0) / (double) CLOCK_TICKS / s.durationSeconds();
    into.add(h, completed, s.durationSeconds(), errors, workerCpu + Math.max(0, cpu1 - cpu0), busy, own);
    if (self0 != null && self1 != null && self1[0] + self1[1] > self0[0] + self0[1]) {
      into.addKernelShare((double) (self1[1] - self0[1]) / (self1[0] + self1[1] - self0[0] - self0[1]), s.durationSeconds());
    }
    if (alloc0 >= 0 && alloc1 >= alloc0) into.addAllocated(alloc1 - alloc0);
  }

  private static final class Worker implements Runnable {
    final Histogram histogram = OpResult.newHistogram();
    final Map<String, Long> errors = new HashMap<>();
    long completed;
    long cpuNanos;
    private final int index;
    final Transport.Connection connection;
    private final List<KmsCall> calls;
    private final Settings settings;
    private final int workers;
    private final long start;
    private final long measureStart;
    private final long end;

    Worker(int index, Transport.Connection connection, List<KmsCall> calls, Settings settings, int workers, long start,
        long measureStart, long end) {
      this.index = index;
      this.connection = connection;
      this.calls = calls;
      this.settings = settings;
      this.workers = workers;
      this.start = start;
      this.measureStart = measureStart;
      this.end = end;
    }

    @Override
    public void run() {
      int size = calls.size();
      int next = index % size;
      boolean open = settings.rate() > 0;
      long interval = open ? (long) (workers * 1e9 / settings.rate()) : 0;
      long scheduled = start + (open ? interval * index / workers : 0);
      long cpuAtMeasureStart = -1;
      try {
        sleepUntil(start);
        while (true) {
          long sendAt;
          if (open) {
            sendAt = scheduled;
            scheduled += interval;
            if (sendAt >= end) break;
            sleepUntil(sendAt);
          } else {
            sendAt = System.nanoTime();
            if (sendAt >= end) break;
          }
          if (cpuAtMeasureStart < 0 && sendAt >= measureStart) cpuAtMeasureStart = THREADS.getCurrentThreadCpuTime();
          KmsCall call = calls.get(next);
          if (++next == size) next = 0;
          String error = null;
          try {
            Reply r = connection.send(call, false);
            if (!r.ok()) error = r.errorType();
          } catch (IOException e) {
            error = e.getClass().getSimpleName();
            LockSupport.parkNanos(1_000_000); // do not spin on a refused connection
          }
          long done = System.nanoTime();
          if (sendAt >= measureStart && done <= end) {
            histogram.recordValue(Math.min(OpResult.HIGHEST_MICROS, Math.max(1, (done - sendAt) / 1000)));
            completed++;
            if (error != null) errors.merge(error, 1L, Long::sum);
          }
        }
      } finally {
        if (cpuAtMeasureStart >= 0) cpuNanos = THREADS.getCurrentThreadCpuTime() - cpuAtMeasureStart;
        connection.close();
      }
    }
  }

  static void sleepUntil(long nanoTime) {
    while (true) {
      long left = nanoTime - System.nanoTime();
      if (left <= 0) return;
      LockSupport.parkNanos(left);
    }
  }

  /**
   * Bytes allocated on the heap by every thread of this JVM so far (HotSpot's per-thread
   * counters: the servers' share when they run in this JVM), or -1 where the JVM has no such
   * counter. What drives the young collections, whose pauses an open loop charges to every
   * request scheduled during them.
   */
  static long allocatedBytes() {
    return THREADS instanceof com.sun.management.ThreadMXBean hotspot && hotspot.isThreadAllocatedMemoryEnabled()
        ? hotspot.getTotalThreadAllocatedBytes() : -1;
  }

  /** CPU time of java.net.http's threads (its selector and the jdk transport's executor), in ns. */
  static long httpClientCpu() {
    long total = 0;
    for (Thread t : Thread.getAllStackTraces().keySet()) {
      String name = t.getName();
      if (name.startsWith("bench-http-") || name.startsWith("HttpClient-")) {
        long c = THREADS.getThreadCpuTime(t.getId());
        if (c > 0) total += c;
      }
    }
    return total;
  }

  private static final int CLOCK_TICKS = 100;
  private static final java.util.Set<Long> WATCHED = java.util.concurrent.ConcurrentHashMap.newKeySet();

  /** Counts {@code pid}'s CPU time as the system under test's (a server process on this machine). */
  public static void watch(long pid) {
    WATCHED.add(pid);
  }

  /** utime + stime of the watched processes, in clock ticks. */
  static long watchedTicks() {
    long total = 0;
    for (long pid : WATCHED) {
      try {
        long[] t = cpuTicks(Files.readString(Path.of("/proc/" + pid + "/stat")));
        total += t[0] + t[1];
      } catch (IOException | RuntimeException e) {
        // gone
      }
    }
    return total;
  }

  /**
   * The {utime, stime} of a /proc/PID/stat or /proc/PID/task/TID/stat line, in clock ticks
   * (fields 14 and 15 of proc(5); the name before them, in parentheses, may hold spaces).
   *
   * @throws RuntimeException when the line is not of that shape
   */
  static long[] cpuTicks(String stat) {
    String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    return new long[] {Long.parseLong(f[11]), Long.parseLong(f[12])};
  }

  /**
   * The JIT compiler threads ({@code C1 CompilerThre}, {@code C2 CompilerThre}: HotSpot's names,
   * which the kernel cuts to 15 characters) of every watched process, as "pid/tid" to their
   * utime + stime in clock ticks, from /proc/PID/task/TID/stat: how the warm-up sees a node
   * process's JIT, whose CompilationMXBean is in another JVM. Empty for a process that is gone, a
   * JVM whose compiler threads are named otherwise (Graal's, OpenJ9's), a process that is not a
   * JVM, and where there is no /proc. Compare two snapshots with {@link #compilerMillisBetween}.
   */
  static Map<String, Long> watchedCompilerTicks() {
    Map<String, Long> ticks = new HashMap<>();
    for (long pid : WATCHED) {
      compilerThreadTicks(pid).forEach((tid, t) -> ticks.put(pid + "/" + tid, t));
    }
    return ticks;
  }

  /**
   * The compile CPU, in ms, between two snapshots of {@link #watchedCompilerTicks}, thread by
   * thread: HotSpot ends idle compiler threads (UseDynamicNumberOfCompilerThreads), and a sum over
   * the threads alive at each moment would then shrink and read as a quiet JIT.
   */
  static long compilerMillisBetween(Map<String, Long> before, Map<String, Long> after) {
    long ticks = 0;
    for (Map.Entry<String, Long> t : after.entrySet()) {
      ticks += Math.max(0, t.getValue() - before.getOrDefault(t.getKey(), 0L));
    }
    return ticks * 1000 / CLOCK_TICKS;
  }

  /** {@code pid}'s compiler threads: thread id to utime + stime in clock ticks (empty when unknown). */
  static Map<Long, Long> compilerThreadTicks(long pid) {
    Map<Long, Long> ticks = new HashMap<>();
    try (var tasks = Files.list(Path.of("/proc/" + pid + "/task"))) {
      for (Path task : (Iterable<Path>) tasks::iterator) {
        try {
          String stat = Files.readString(task.resolve("stat"));
          if (isCompilerThread(stat)) {
            long[] t = cpuTicks(stat);
            ticks.put(Long.parseLong(task.getFileName().toString()), t[0] + t[1]);
          }
        } catch (IOException | RuntimeException e) {
          // the thread ended between the listing and the read
        }
      }
    } catch (IOException | RuntimeException e) {
      return Map.of();
    }
    return ticks;
  }

  /** Whether a /proc stat line is a HotSpot JIT compiler thread's. */
  static boolean isCompilerThread(String stat) {
    int open = stat.indexOf('(');
    int close = stat.lastIndexOf(')');
    if (open < 0 || close < open) return false;
    String name = stat.substring(open + 1, close);
    return name.equals("C1 CompilerThre") || name.equals("C2 CompilerThre");
  }

  /** This JVM's {user, system} CPU time in clock ticks, from /proc/self/stat (null where there is none). */
  static long[] selfTicks() {
    try {
      return cpuTicks(Files.readString(Path.of("/proc/self/stat")));
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }

  /** CPU time of this whole JVM in ns (-1 when unknown). */
  static long processCpu() {
    if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
      return os.getProcessCpuTime();
    }
    return -1;
  }

  /** {total, busy} jiffies of all CPUs from /proc/stat, or null where there is none. */
  static long[] procStat() {
    try {
      String line = Files.readAllLines(Path.of("/proc/stat")).get(0);
      String[] f = line.trim().split("\\s+");
      long total = 0;
      for (int i = 1; i < f.length && i <= 8; i++) total += Long.parseLong(f[i]);
      long idle = Long.parseLong(f[4]) + Long.parseLong(f[5]);
      return new long[] {total, total - idle};
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }
}
