package io.kmsregions.lab.check;

import com.fasterxml.jackson.databind.JsonNode;
import io.kmsregions.lab.history.History;
import io.kmsregions.lab.history.Json;
import io.kmsregions.lab.history.Operation;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Decryptability (DESIGN.md invariant 6): every ciphertext handed to a client (an {@code ok}
 * {@code complete} with a {@code ciphertext}) decrypts after the settle time in every Region whose
 * {@code final} record holds the key in a state that allows Decrypt, shown by a {@code verify}
 * {@code check=decrypt ok=true} record whose {@code ref} is the operation's id. A missing
 * verification is a violation too: the laboratory promised to try every one.
 *
 * <p>A Region whose key exists but is Disabled, PendingDeletion and so on refuses Decrypt as AWS
 * does; its verification is reported, not judged.
 */
public final class DecryptabilityCheck implements Checker {
  public static final String NAME = "decryptability";

  /** Key states in which AWS serves Decrypt. */
  static final Set<String> DECRYPTS = Set.of("Enabled", "Updating");

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public CheckResult check(History history, CheckSettings settings) {
    Finals finals = new Finals(history);
    // ref -> region -> verify records (several attempts possible; one success suffices)
    Map<Long, Map<String, List<JsonNode>>> verifies = new HashMap<>();
    for (JsonNode v : history.ofType("verify")) {
      if (!"decrypt".equals(Json.text(v, "check"))) continue;
      Long ref = Json.longOrNull(v, "ref");
      String region = Json.text(v, "region");
      if (ref == null || region == null) continue;
      verifies.computeIfAbsent(ref, r -> new HashMap<>()).computeIfAbsent(region, r -> new ArrayList<>()).add(v);
    }
    List<Violation> violations = new ArrayList<>();
    List<String> notes = new ArrayList<>();
    int ciphertexts = 0;
    int checks = 0;
    for (Operation o : history.operations()) {
      if (!o.ok() || o.ciphertext() == null || o.ciphertext().isEmpty() || o.key() == null) continue;
      ciphertexts++;
      Map<String, List<JsonNode>> byRegion = verifies.getOrDefault(o.id(), Map.of());
      for (Map.Entry<String, JsonNode> e : finals.of(o.key()).entrySet()) {
        String region = e.getKey();
        JsonNode f = e.getValue();
        if (!Finals.exists(f)) continue;
        String state = Json.text(f, "state");
        boolean required = state == null || DECRYPTS.contains(state);
        List<JsonNode> vs = byRegion.getOrDefault(region, List.of());
        boolean success = vs.stream().anyMatch(v -> Json.bool(v, "ok"));
        if (!required) {
          if (!success && !vs.isEmpty()) {
            notes.add("op " + o.id() + " not decrypted in " + region + " where " + o.key() + " is " + state);
          }
          continue;
        }
        checks++;
        if (success) continue;
        Violation.Builder b;
        if (vs.isEmpty()) {
          b = Violation.of("ciphertext never verified in " + region);
        } else {
          JsonNode last = vs.get(vs.size() - 1);
          String error = Json.text(last, "error");
          b = Violation.of("ciphertext does not decrypt in " + region + (error == null ? "" : " (" + error + ")"));
          b.time(History.t(last));
        }
        violations.add(b.key(o.key()).region(region).region(o.region()).op(o.id())
            .time(o.completeT() >= 0 ? o.completeT() : o.invokeT()).build());
      }
    }
    boolean ok = violations.isEmpty();
    String summary = ok
        ? ciphertexts + " ciphertext(s) decrypted in every Region holding the key (" + checks + " decryptions)"
        : violations.size() + " failed or missing decryption(s) of " + checks + " expected";
    return new CheckResult(NAME, ok, summary, violations, notes);
  }
}
