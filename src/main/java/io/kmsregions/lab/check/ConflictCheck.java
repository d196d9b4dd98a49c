package io.kmsregions.lab.check;

import com.fasterxml.jackson.databind.JsonNode;
import io.kmsregions.lab.history.History;
import io.kmsregions.lab.history.Json;
import java.util.ArrayList;
import java.util.List;

/**
 * Conflicts reported by a returning old primary after a forced promotion (DESIGN.md failure model).
 * They are expected in a forced-promotion scenario and reported as information; with
 * {@link CheckSettings#conflictsFail()} each one is a violation.
 */
public final class ConflictCheck implements Checker {
  public static final String NAME = "conflicts";

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public CheckResult check(History history, CheckSettings settings) {
    List<Violation> found = new ArrayList<>();
    for (JsonNode c : history.ofType("conflict")) {
      String detail = Json.text(c, "detail");
      found.add(Violation.of("conflict reported" + (detail == null ? "" : ": " + detail))
          .key(Json.text(c, "key")).region(Json.text(c, "region")).time(History.t(c)).build());
    }
    boolean ok = found.isEmpty() || !settings.conflictsFail();
    String summary = found.isEmpty()
        ? "no conflict reported"
        : found.size() + " conflict(s) reported" + (settings.conflictsFail() ? "" : " (information)");
    if (settings.conflictsFail()) return new CheckResult(NAME, ok, summary, found);
    List<String> notes = new ArrayList<>();
    for (Violation v : found) notes.add(v.describe());
    return new CheckResult(NAME, ok, summary, List.of(), notes);
  }
}
