package io.kmsregions.lab.check;

import io.kmsregions.lab.history.History;
import java.util.ArrayList;
import java.util.List;

/** Runs the checkers over a history. */
public final class Checks {
  private Checks() {}

  /** Every checker, in the order they are reported. */
  public static final List<Checker> ALL = List.of(
      new ConvergenceCheck(),
      new SinglePrimaryCheck(),
      new DurabilityCheck(),
      new DecryptabilityCheck(),
      new AvailabilityCheck(),
      new ConflictCheck());

  /** The checkers' names: convergence, single-primary, durability, decryptability, availability, conflicts. */
  public static final List<String> NAMES = List.of(
      ConvergenceCheck.NAME, SinglePrimaryCheck.NAME, DurabilityCheck.NAME,
      DecryptabilityCheck.NAME, AvailabilityCheck.NAME, ConflictCheck.NAME);

  /**
   * Runs every enabled checker. A checker that throws (a bug, never a history problem) yields a
   * failed result naming the exception rather than losing the other verdicts.
   */
  public static List<CheckResult> runAll(History history, CheckSettings settings) {
    List<CheckResult> out = new ArrayList<>();
    for (Checker c : ALL) {
      if (!settings.isEnabled(c.name())) continue;
      try {
        out.add(c.check(history, settings));
      } catch (RuntimeException e) {
        out.add(new CheckResult(c.name(), false, "checker crashed: " + e,
            List.of(Violation.of("checker crashed: " + e).build())));
      }
    }
    return out;
  }

  /** Whether every result passed (and there was at least one). */
  public static boolean allPassed(List<CheckResult> results) {
    return !results.isEmpty() && results.stream().allMatch(CheckResult::ok);
  }
}
