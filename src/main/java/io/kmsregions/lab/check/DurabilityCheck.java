package io.kmsregions.lab.check;

import com.fasterxml.jackson.databind.JsonNode;
import io.kmsregions.lab.history.History;
import io.kmsregions.lab.history.Json;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * Durability (DESIGN.md invariants 2 and 4): every acknowledged {@code CreateKey} (in its
 * {@code region}) and {@code ReplicateKey} (in {@code args.replicaRegion}) shows the key existing in
 * the {@code final} records, unless a later acknowledged deletion removed it there; and every
 * {@code verify} of {@code check=describe} succeeded.
 */
public final class DurabilityCheck implements Checker {
  public static final String NAME = "durability";

  /** Control operations after which a key may legitimately be gone from a Region. */
  static final Set<String> DELETIONS = Set.of("ScheduleKeyDeletion", "DeleteKey");

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public CheckResult check(History history, CheckSettings settings) {
    Finals finals = new Finals(history);
    List<Violation> violations = new ArrayList<>();
    List<String> notes = new ArrayList<>();
    List<JsonNode> controls = history.ofType("control");
    int acknowledged = 0;
    for (JsonNode c : controls) {
      if (!"ok".equals(Json.text(c, "outcome"))) continue;
      String op = Json.text(c, "op");
      String where;
      if ("CreateKey".equals(op)) {
        where = Json.text(c, "region");
      } else if ("ReplicateKey".equals(op)) {
        where = Json.nestedText(c, "args", "replicaRegion");
      } else {
        continue;
      }
      String key = Json.text(c, "key");
      Long id = Json.longOrNull(c, "id");
      long t = History.t(c);
      if (key == null || where == null) {
        notes.add("acknowledged " + op + " (op " + id + ", t=" + t + ") names no key or Region; not judged");
        continue;
      }
      acknowledged++;
      JsonNode f = finals.of(key, where);
      if (Finals.exists(f)) continue;
      if (deletedLater(controls, key, where, t)) continue;
      if (f == null && finals.excusedAbsence(where)) {
        notes.add(key + " in " + where + ": not inspected (Region left down at the end)");
        continue;
      }
      violations.add(Violation.of("acknowledged " + op + " lost: "
              + (f == null ? "no final record of the key in " + where : "the key does not exist in " + where))
          .key(key).region(where).time(t).op(id).build());
    }
    int describes = 0;
    for (JsonNode v : history.ofType("verify")) {
      if (!"describe".equals(Json.text(v, "check"))) continue;
      describes++;
      if (Json.bool(v, "ok")) continue;
      String error = Json.text(v, "error");
      // A key that an acknowledged deletion later removed (its window ended: a clock fault, a short
      // window at a fast timeScale) is gone by design, as for the final records above.
      if ("NotFoundException".equals(error)
          && deletedLater(controls, Json.text(v, "key"), Json.text(v, "region"), refTime(controls, Json.longOrNull(v, "ref")))) {
        notes.add(Json.text(v, "key") + " in " + Json.text(v, "region") + ": not found after the settle time, "
            + "deleted by an acknowledged deletion");
        describes--; // noted above, not counted as an ok verification
        continue;
      }
      violations.add(Violation.of("DescribeKey after the settle time failed"
              + (error == null ? "" : " (" + error + ")"))
          .key(Json.text(v, "key")).region(Json.text(v, "region")).time(History.t(v))
          .op(Json.longOrNull(v, "ref")).build());
    }
    boolean ok = violations.isEmpty();
    String summary = ok
        ? acknowledged + " acknowledged create/replicate(s) survived; " + describes + " describe verification(s) ok"
        : violations.size() + " lost or undescribable key(s) of " + acknowledged + " acknowledged";
    return new CheckResult(NAME, ok, summary, violations, notes);
  }

  /** When the control record {@code id} (the one a verification refers to) happened; 0 if unknown. */
  private static long refTime(List<JsonNode> controls, Long id) {
    if (id == null) return 0;
    for (JsonNode c : controls) if (id.equals(Json.longOrNull(c, "id"))) return History.t(c);
    return 0;
  }

  private static boolean deletedLater(List<JsonNode> controls, String key, String region, long after) {
    for (JsonNode c : controls) {
      if (History.t(c) < after || !"ok".equals(Json.text(c, "outcome"))) continue;
      if (DELETIONS.contains(Json.text(c, "op")) && Objects.equals(key, Json.text(c, "key"))
          && Objects.equals(region, Json.text(c, "region"))) {
        return true;
      }
    }
    return false;
  }
}
