package io.kmsregions.lab;

import io.kmsregions.lab.check.CheckResult;
import io.kmsregions.lab.check.CheckSettings;
import io.kmsregions.lab.check.Checks;
import io.kmsregions.lab.history.History;
import java.util.ArrayList;
import java.util.List;

/**
 * The checks a scenario asked for, over its recorded history: the settings come from the
 * scenario (or, for a history checked again later, from its {@code scenario} record).
 */
public final class LabChecks {
  private LabChecks() {}

  /** What the checks found, with the settings they ran with (the report must use the same). */
  public record Verdict(List<CheckResult> results, CheckSettings settings) {
    public boolean passed() {
      return Checks.allPassed(results);
    }
  }

  /** @param scenario the scenario that made {@code history}, or null to read it from the history */
  public static Verdict run(History history, Scenario scenario) {
    var recorded = history.scenarioSettings();
    double threshold = scenario != null ? scenario.availabilityThreshold()
        : recorded.path("availabilityThreshold").asDouble(0.99);
    long grace = scenario != null ? scenario.availabilityGrace().toMillis()
        : recorded.path("availabilityGraceMs").asLong(10_000);
    List<String> checks = new ArrayList<>();
    if (scenario != null) {
      checks.addAll(scenario.checks());
    } else {
      recorded.path("checks").forEach(c -> checks.add(c.asText()));
    }
    CheckSettings settings = CheckSettings.defaults().withAvailabilityThreshold(threshold).withGraceMs(grace);
    if (!checks.isEmpty()) {
      // The scenario names checks in YAML's camelCase; conflicts are always reported (as notes).
      List<String> names = new ArrayList<>(checks.stream().map(c -> c.equals("singlePrimary") ? "single-primary" : c).toList());
      names.add("conflicts");
      settings = settings.withEnabled(names);
    }
    return new Verdict(Checks.runAll(history, settings), settings);
  }
}
