package io.kmsregions.lab.check;

import io.kmsregions.lab.history.History;

/** A checker over a laboratory history. */
public interface Checker {
  /** The name used in {@link CheckSettings#enabled()} and in the report. */
  String name();

  /** Checks the history. Must not throw on missing or malformed fields. */
  CheckResult check(History history, CheckSettings settings);
}
