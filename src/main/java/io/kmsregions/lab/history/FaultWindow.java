package io.kmsregions.lab.history;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Set;

/**
 * One fault window: the {@code fault} record that opened it paired, by {@code window}, with the one
 * that closed it.
 *
 * @param id the {@code window} id of the records
 * @param kind the opening action ({@code crash}, {@code pause}, {@code partition}, {@code latency},
 *     {@code clock}, …)
 * @param regions the Regions acted on (for a partition, the two sides)
 * @param direction {@code both}, {@code one-way} or null
 * @param params the opening record's {@code params}, or null
 * @param openT when it opened (ms since the scenario started)
 * @param closeT when it closed; for a window never closed, the end of the workload phase (or of the
 *     history when it opened after the workload)
 * @param closeAction the closing action ({@code restart}, {@code resume}, {@code heal}, …), or null
 *     when it was never closed
 * @param closedByEnd true when no closing record was seen and {@code closeT} is the extension to the
 *     end
 */
public record FaultWindow(
    String id,
    String kind,
    List<String> regions,
    String direction,
    JsonNode params,
    long openT,
    long closeT,
    String closeAction,
    boolean closedByEnd) {

  /** Fault kinds during which the Region acted on does not serve at all (DESIGN.md failure model). */
  public static final Set<String> OUTAGE_KINDS = Set.of("crash", "pause", "kill", "stop");

  public FaultWindow {
    regions = List.copyOf(regions);
  }

  /** Whether {@code t} lies inside the window, {@code [openT, closeT)}. */
  public boolean covers(long t) {
    return t >= openT && t < closeT;
  }

  /** Whether this window takes {@code region} itself down (crashed or paused). */
  public boolean isOutageOf(String region) {
    return OUTAGE_KINDS.contains(kind) && regions.contains(region);
  }

  /** Whether {@code region} is one of the Regions acted on. */
  public boolean involves(String region) {
    return regions.contains(region);
  }

  /** A short label for tables and the timeline: {@code crash us-east-1 [w1]}. */
  public String label() {
    String sep = "partition".equals(kind) ? ("one-way".equals(direction) ? " -> " : " <-> ") : ", ";
    return kind + " " + String.join(sep, regions) + " [" + id + "]";
  }

  /** Duration in milliseconds. */
  public long durationMs() {
    return closeT - openT;
  }
}
