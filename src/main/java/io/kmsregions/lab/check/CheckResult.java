package io.kmsregions.lab.check;

import java.util.List;

/**
 * The verdict of one checker.
 *
 * @param name the checker's name ({@code convergence}, {@code single-primary}, …)
 * @param ok whether it passed
 * @param summary one line for the terminal
 * @param violations what was violated (empty when {@code ok}, unless a checker only reports)
 * @param notes information that is not a violation (expected failures, Regions that could not be
 *     inspected, conflicts reported), shown in the report
 */
public record CheckResult(
    String name, boolean ok, String summary, List<Violation> violations, List<String> notes) {

  public CheckResult {
    violations = List.copyOf(violations);
    notes = List.copyOf(notes);
  }

  /** A result without notes. */
  public CheckResult(String name, boolean ok, String summary, List<Violation> violations) {
    this(name, ok, summary, violations, List.of());
  }

  /** {@code PASS} or {@code FAIL}. */
  public String verdict() {
    return ok ? "PASS" : "FAIL";
  }
}
