package io.kmsregions.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * How the warm-up sees the JIT of another process ({@link LoadRunner#compilerTicks}): the CPU of
 * its HotSpot compiler threads, read from /proc. A node process of {@code bench --processes} is
 * such a process; before, its compilation was invisible and only the generator's JIT was waited for.
 */
class CompilerThreadsTest {

  @Test
  void readsCompilerThreadsByName() {
    assertEquals(70 + 5, LoadRunner.compilerTicksOf(
        "4242 (C2 CompilerThre) S 1 4242 1 0 -1 4194368 900 0 0 0 70 5 0 0 20 0 30 0 1234 0 0"));
    assertEquals(3 + 1, LoadRunner.compilerTicksOf(
        "4243 (C1 CompilerThre) S 1 4242 1 0 -1 4194368 900 0 0 0 3 1 0 0 20 0 30 0 1234 0 0"));
    assertEquals(0, LoadRunner.compilerTicksOf(
        "4244 (kms-regions-pe) S 1 4242 1 0 -1 4194368 900 0 0 0 500 40 0 0 20 0 30 0 1234 0 0"));
    // A thread may name itself with parentheses and spaces; the last ')' ends the name.
    assertEquals(0, LoadRunner.compilerTicksOf(
        "4245 (x) (C2 Compi) S 1 4242 1 0 -1 4194368 900 0 0 0 500 40 0 0 20 0 30 0 1234 0 0"));
  }

  @Test
  void seesAnotherJvmCompiling() throws Exception {
    assertTrue(Files.isDirectory(Path.of("/proc/self/task")), "this test reads /proc (Linux)");
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    // -Xcomp: every method compiled before its first call, so the child's compiler threads work at once.
    Process jvm = new ProcessBuilder(java, "-Xcomp", "-cp", System.getProperty("java.class.path"),
        Idle.class.getName()).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    Process sleep = new ProcessBuilder("sleep", "60").start();
    try {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      long ticks = 0;
      while (ticks == 0 && jvm.isAlive() && System.nanoTime() < deadline) {
        Thread.sleep(200);
        ticks = LoadRunner.compilerTicks(jvm.pid());
      }
      assertTrue(jvm.isAlive(), () -> "the child JVM exited early: " + jvm.exitValue());
      assertTrue(ticks > 0, "no compiler CPU seen in a JVM run with -Xcomp");
      assertEquals(0, LoadRunner.compilerTicks(sleep.pid()), "sleep has no compiler threads");
    } finally {
      jvm.destroyForcibly();
      sleep.destroyForcibly();
      jvm.waitFor(10, TimeUnit.SECONDS);
    }
    assertEquals(0, LoadRunner.compilerTicks(jvm.pid()), "a process that is gone counts nothing");
  }

  /** The child: waits to be killed. */
  static final class Idle {
    public static void main(String[] args) throws InterruptedException {
      Thread.sleep(TimeUnit.MINUTES.toMillis(2));
    }
  }
}
