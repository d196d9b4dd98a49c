package io.kmsregions.bench;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The bench's warm-up stopping rule ({@link LoadBench#isSteady}): settled throughput and a quiet JIT. */
class WarmUpRuleTest {

  @Test
  void twoAgreeingSlicesOfACompilingJvmAreNotSteady() {
    // The case that measured round 1 cold: 8,100 then 8,300 req/s while the JIT used a core.
    assertFalse(LoadBench.isSteady(8_100, 8_300, 3_900, 4_000));
    assertFalse(LoadBench.isSteady(8_100, 8_300, 401, 4_000));
  }

  @Test
  void agreeingSlicesWithAQuietJitAreSteady() {
    assertTrue(LoadBench.isSteady(20_000, 20_900, 120, 4_000));
    assertTrue(LoadBench.isSteady(20_000, 19_100, 400, 4_000));
  }

  @Test
  void aQuietJitAloneIsNotEnough() {
    assertFalse(LoadBench.isSteady(18_000, 20_000, 0, 4_000));
    assertFalse(LoadBench.isSteady(-1, 20_000, 0, 4_000), "the first slice has nothing to agree with");
  }
}
