package io.kmsregions;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The cluster clock's speed changes at run time without a jump or a step back (issue 5, clock fault). */
class ClusterClockTest {

  @Test
  void aScaleChangeKeepsSimulatedTimeContinuousAndChangesOnlyItsRate() throws Exception {
    long origin = System.currentTimeMillis();
    ClusterClock clock = new ClusterClock(1.0, origin);
    Thread.sleep(20);
    long before = clock.now();
    clock.setFactor(86_400);
    long after = clock.now();
    // No jump: what passed between the two reads is a few wall ms at most times the new scale.
    assertTrue(after >= before, "never backwards: " + before + " then " + after);
    assertTrue(after - before < 86_400L * 50, "no jump at the change: " + (after - before) + " ms");
    Thread.sleep(100);
    long fast = clock.now();
    // 100 ms of wall time at 86400x is ~2.4 hours of simulated time.
    assertTrue(fast - after >= 86_400L * 90, "runs fast after the change: " + (fast - after) + " ms");
    assertEquals(86_400.0, clock.scale());
    assertEquals(86_400.0, clock.factor());

    clock.setFactor(1.0);
    long slowStart = clock.now();
    assertTrue(slowStart >= fast, "slowing down does not step back: " + fast + " then " + slowStart);
    Thread.sleep(100);
    long slow = clock.now();
    assertTrue(slow - slowStart >= 90 && slow - slowStart < 5_000, "wall speed again: " + (slow - slowStart) + " ms");
    // The simulated time gained while fast is kept: the clock is now ahead of the wall clock.
    assertTrue(slow - System.currentTimeMillis() > 86_400L * 90, "the skew stays");
    assertEquals(1.0, clock.scale());
  }

  @Test
  void manyChangesNeverRunTimeBackwards() {
    ClusterClock clock = new ClusterClock(10.0, System.currentTimeMillis());
    long last = clock.now();
    for (int i = 0; i < 10_000; i++) {
      clock.setFactor(i % 2 == 0 ? 1000.0 : 0.001);
      long now = clock.now();
      assertTrue(now >= last, "step " + i + ": " + last + " then " + now);
      last = now;
    }
  }

  @Test
  void theFactorMultipliesTheConfiguredScale() {
    ClusterClock clock = new ClusterClock(100.0, System.currentTimeMillis());
    clock.setFactor(3);
    assertEquals(300.0, clock.scale());
    assertEquals(100.0, clock.configuredScale());
    clock.setFactor(1);
    assertEquals(100.0, clock.scale());
  }

  @Test
  void realDelaysFollowTheCurrentScale() {
    long origin = System.currentTimeMillis();
    ClusterClock clock = new ClusterClock(1.0, origin);
    long sevenDays = clock.now() + Duration.ofDays(7).toMillis();
    assertTrue(clock.realDelayUntil(sevenDays).toDays() >= 6, "a week at wall speed");
    clock.setFactor(86_400);
    Duration d = clock.realDelayUntil(sevenDays);
    assertTrue(d.toMillis() <= 7_000 && d.toMillis() > 6_000, "a week at 86400x is 7 s: " + d);
    assertEquals(Duration.ZERO, clock.realDelayUntil(clock.now() - 1));
  }

  @Test
  void badFactorsAreRefusedAndChangeNothing() {
    ClusterClock clock = new ClusterClock(2.0, System.currentTimeMillis());
    for (double bad : new double[] {0, -1, Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY}) {
      assertThrows(IllegalArgumentException.class, () -> clock.setFactor(bad), "factor " + bad);
      assertEquals(2.0, clock.scale(), "unchanged after " + bad);
      assertEquals(1.0, clock.factor());
    }
    // A factor whose product with the configured scale overflows is refused too.
    ClusterClock huge = new ClusterClock(1e300, System.currentTimeMillis());
    assertThrows(IllegalArgumentException.class, () -> huge.setFactor(1e10));
    assertThrows(IllegalArgumentException.class, () -> new ClusterClock(Double.NaN, 0));
  }

  @Test
  void theTimerCapComesFromConfigurationAndIsShortWithFaultSupport() {
    var base = ConfigFactory.load();
    assertEquals(Duration.ofDays(1), ClusterClock.from(base).maxTimerDelay());
    var faulty = ConfigFactory.parseString("kms.faults.enabled = on").withFallback(base);
    assertEquals(Duration.ofSeconds(1), ClusterClock.from(faulty).maxTimerDelay());
    var custom = ConfigFactory.parseString("kms.faults.enabled = on\nkms.clock.max-timer-delay-with-faults = 250ms")
        .withFallback(base);
    assertEquals(Duration.ofMillis(250), ClusterClock.from(custom).maxTimerDelay());
  }
}
