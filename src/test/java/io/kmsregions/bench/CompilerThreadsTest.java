package io.kmsregions.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kmsregions.lab.RegionProcesses;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * How the warm-up sees the JIT of another process ({@link LoadRunner#compilerThreadTicks}): the
 * CPU of its HotSpot compiler threads, read from /proc. A node process of {@code bench --processes}
 * is such a process; before, its compilation was invisible and only the generator's JIT was waited for.
 */
class CompilerThreadsTest {

  @Test
  void readsUserAndSystemTicksAfterTheName() {
    assertArrayEquals(new long[] {70, 5}, LoadRunner.cpuTicks(
        "4242 (C2 CompilerThre) S 1 4242 1 0 -1 4194368 900 0 0 0 70 5 0 0 20 0 30 0 1234 0 0"));
    // A thread may name itself with parentheses and spaces: the last ')' ends the name.
    assertArrayEquals(new long[] {500, 40}, LoadRunner.cpuTicks(
        "4245 (a) b c) S 1 4242 1 0 -1 4194368 900 0 0 0 500 40 0 0 20 0 30 0 1234 0 0"));
  }

  @Test
  void knowsCompilerThreadsByName() {
    assertTrue(LoadRunner.isCompilerThread("4242 (C2 CompilerThre) S 1 4242 1 0 -1 4194368 900 0 0 0 70 5 0"));
    assertTrue(LoadRunner.isCompilerThread("4243 (C1 CompilerThre) S 1 4242 1 0 -1 4194368 900 0 0 0 3 1 0"));
    assertFalse(LoadRunner.isCompilerThread("4244 (kms-regions-pe) S 1 4242 1 0 -1 4194368 900 0 0 0 500 40 0"));
    assertFalse(LoadRunner.isCompilerThread("4246 (C2 CompilerThr) S 1 4242 1 0 -1 4194368 900 0 0 0 500 40 0"));
  }

  @Test
  void aCompilerThreadThatEndedDoesNotMakeTheJitLookQuiet() {
    // HotSpot ends idle compiler threads: one with 300 ticks is gone, the other compiled 40 more.
    Map<String, Long> before = Map.of("10/11", 300L, "10/12", 100L);
    Map<String, Long> after = Map.of("10/12", 140L);
    assertEquals(400, LoadRunner.compilerMillisBetween(before, after), "40 ticks of 10 ms");
    // A thread started during the slice counts from zero.
    assertEquals(250, LoadRunner.compilerMillisBetween(Map.of(), Map.of("10/13", 25L)));
  }

  @Test
  void seesAnotherJvmCompiling() throws Exception {
    assertTrue(Files.isDirectory(Path.of("/proc/self/task")), "this test reads /proc (Linux)");
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    // -Xcomp: every method compiled before its first call, so the child's compiler threads work at once.
    Process jvm = new ProcessBuilder(java, "-Xcomp", "-cp", RegionProcesses.ownClasspath(), Idle.class.getName())
        .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    Process sleep = new ProcessBuilder("sleep", "60").start();
    try {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      long ticks = 0;
      while (ticks == 0 && jvm.isAlive() && System.nanoTime() < deadline) {
        Thread.sleep(200);
        ticks = LoadRunner.compilerThreadTicks(jvm.pid()).values().stream().mapToLong(Long::longValue).sum();
      }
      assertTrue(jvm.isAlive(), () -> "the child JVM exited early: " + jvm.exitValue());
      assertTrue(ticks > 0, "no compiler CPU seen in a JVM run with -Xcomp");
      assertTrue(LoadRunner.compilerThreadTicks(sleep.pid()).isEmpty(), "sleep has no compiler threads");
    } finally {
      jvm.destroyForcibly();
      sleep.destroyForcibly();
    }
    assertTrue(jvm.waitFor(30, TimeUnit.SECONDS), "the child JVM did not end");
    assertTrue(LoadRunner.compilerThreadTicks(jvm.pid()).isEmpty(), "a process that is gone counts nothing");
  }

  /** The child: waits to be killed. */
  static final class Idle {
    public static void main(String[] args) throws InterruptedException {
      Thread.sleep(TimeUnit.MINUTES.toMillis(2));
    }
  }
}
