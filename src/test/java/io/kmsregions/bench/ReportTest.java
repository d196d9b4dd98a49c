package io.kmsregions.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;

/** The bench's report formatting, from histograms with known values. */
class ReportTest {

  private static OpResult result(String endpoint, String op, long requests, double seconds, Map<String, Long> errors) {
    Histogram h = OpResult.newHistogram();
    // 1,000 samples: 1 µs steps from 1 ms, so p50 ≈ 1.5 ms, p90 ≈ 1.9 ms, p99 ≈ 1.99 ms.
    for (int i = 0; i < 1000; i++) h.recordValue(1000 + i);
    OpResult r = new OpResult(endpoint, op);
    r.add(h, requests, seconds, errors, 2_000L * requests, 1.5, 1.0);
    return r;
  }

  @Test
  void rowShowsThroughputPercentilesInMillisecondsAndErrorsByType() {
    OpResult r = result("kms-regions", "encrypt", 20_000, 2.0, Map.of("ThrottlingException", 3L, "IOException", 1L));
    assertEquals(10_000.0, r.throughput(), 1e-9);
    assertEquals(1.499, r.millisAt(50), 0.002);
    assertEquals(1.899, r.millisAt(90), 0.002);
    assertEquals(1.989, r.millisAt(99), 0.002);
    assertEquals(2.0, r.clientCpuMicrosPerRequest(), 1e-9);
    String row = Report.row(r);
    assertTrue(row.startsWith("kms-regions  encrypt "), row);
    assertTrue(row.contains(" 10,000.0 "), row);
    assertTrue(row.contains(" 1.499 ") || row.contains(" 1.500 "), row);
    assertTrue(row.contains(" 1.999 ") || row.contains(" 2.000 "), row); // p99.9 and max
    assertTrue(row.endsWith("IOException=1, ThrottlingException=3"), row);
    assertEquals(4, r.errorCount());
  }

  @Test
  void skippedOperationsShowTheReason() {
    OpResult s = OpResult.skipped("moto", "noop", "UnknownOperationException: no");
    assertEquals("moto         noop               skipped: UnknownOperationException: no", Report.row(s));
  }

  @Test
  void tableHasAHeaderAndOneRowPerResult() {
    String t = Report.table(List.of(result("a", "decrypt", 100, 1, Map.of()), OpResult.skipped("a", "noop", "x")));
    String[] lines = t.split("\n");
    assertEquals(3, lines.length);
    assertTrue(lines[0].contains("p99.9 ms"), lines[0]);
    assertTrue(lines[1].endsWith("  0"), lines[1]);
  }

  @Test
  void ratiosDivideThroughputPerOperation() {
    String r = Report.ratios("kms-regions", List.of(result("kms-regions", "encrypt", 8_000, 1, Map.of()),
            OpResult.skipped("kms-regions", "noop", "x")),
        "moto", List.of(result("moto", "encrypt", 100, 1, Map.of()), result("moto", "noop", 1, 1, Map.of())));
    assertTrue(r.contains("encrypt") && r.contains("80.0×"), r);
    assertTrue(r.contains("noop               skipped on kms-regions"), r);
  }

  @Test
  void summaryLinesWarnOfErrors() {
    OpResult clean = new OpResult("kms-regions", "encrypt");
    OpResult failing = new OpResult("kms-regions", "generate-mac");
    failing.add(new org.HdrHistogram.Histogram(3), 0, 1.0, java.util.Map.of("InvalidSignatureException", 236_881L), 0,
        Double.NaN, Double.NaN);
    assertEquals("", Report.errorNote(clean));
    assertEquals("   ! kms-regions: 236881 errors (InvalidSignatureException=236881)", Report.errorNote(failing));
  }
}
