package io.kmsregions.lab.check;

import io.kmsregions.lab.history.History;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Availability against the failure model of DESIGN.md: a Region that is not itself crashed or paused
 * keeps serving its own keys, replicas included, whatever happens to the others. So in every window
 * (and the fault-free time) in which a Region is up, the judged success rate of the operations sent
 * to it must reach {@link CheckSettings#availabilityThreshold()}. Operations against a Region during
 * its own crash or pause are reported, not judged. See {@link Availability} for what is judged.
 */
public final class AvailabilityCheck implements Checker {
  public static final String NAME = "availability";

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public CheckResult check(History history, CheckSettings settings) {
    List<WindowStats> rows = Availability.compute(history, settings);
    List<Violation> violations = new ArrayList<>();
    List<String> notes = new ArrayList<>();
    int judged = 0;
    for (WindowStats s : rows) {
      if (s.ownOutage()) {
        if (s.ops() > 0) {
          notes.add(String.format(Locale.ROOT, "%s during its own %s: %d of %d operations failed (expected)",
              s.region(), s.label(), s.ops() - s.ok(), s.ops()));
        }
        continue;
      }
      if (s.judged() == 0) continue;
      if (s.judged() < settings.minOps()) {
        notes.add(String.format(Locale.ROOT, "%s in %s: only %d operation(s), not judged", s.region(), s.label(), s.judged()));
        continue;
      }
      judged++;
      if (s.excusedByState() > 0) {
        notes.add(String.format(Locale.ROOT, "%s in %s: %d refusal(s) explained by the key's state",
            s.region(), s.label(), s.excusedByState()));
      }
      if (Availability.belowThreshold(s, settings)) {
        Violation.Builder b = Violation.of(String.format(Locale.ROOT,
                "%s served %.2f%% (%d of %d) in %s, below %.2f%%; errors %s", s.region(), 100 * s.judgedRate(),
                s.judgedOk(), s.judged(), s.label(), 100 * settings.availabilityThreshold(), s.errors()))
            .region(s.region()).time(s.fromT()).time(s.toT());
        s.failureKeys().forEach(b::key);
        s.firstFailures().forEach(b::op);
        violations.add(b.build());
      }
    }
    boolean ok = violations.isEmpty();
    String summary = ok
        ? String.format(Locale.ROOT, "%d Region-window(s) at or above %.2f%%", judged, 100 * settings.availabilityThreshold())
        : violations.size() + " Region-window(s) below " + String.format(Locale.ROOT, "%.2f%%",
            100 * settings.availabilityThreshold());
    return new CheckResult(NAME, ok, summary, violations, notes);
  }
}
