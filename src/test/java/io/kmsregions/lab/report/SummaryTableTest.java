package io.kmsregions.lab.report;

import static io.kmsregions.lab.HistoryBuilder.AP;
import static io.kmsregions.lab.HistoryBuilder.EU;
import static io.kmsregions.lab.HistoryBuilder.KEY;
import static io.kmsregions.lab.HistoryBuilder.US;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kmsregions.lab.HistoryBuilder;
import io.kmsregions.lab.check.CheckResult;
import io.kmsregions.lab.check.CheckSettings;
import io.kmsregions.lab.check.Checks;
import io.kmsregions.lab.history.History;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class SummaryTableTest {

  @Test
  void summarisesWindowsFaultsAndChecksInAlignedColumns() {
    History h = HistoryBuilder.clean().build();
    String text = SummaryTable.render(h, Checks.runAll(h, CheckSettings.defaults()));
    List<String> lines = Arrays.asList(text.split("\n"));
    assertTrue(lines.get(0).startsWith("Scenario clean-crash: PASS"), lines.get(0));

    // The availability table: a header, a rule, and per Region its fault-free row and the crash row.
    int header = indexOfPrefix(lines, "  REGION");
    String head = lines.get(header);
    int windowCol = head.indexOf("WINDOW");
    int expectCol = head.indexOf("EXPECT");
    int rows = 0;
    for (int i = header + 2; i < lines.size() && !lines.get(i).isEmpty(); i++, rows++) {
      String row = lines.get(i);
      assertEquals(' ', row.charAt(windowCol - 1), row);
      assertTrue(row.substring(expectCol).startsWith("serve") || row.substring(expectCol).startsWith("down"), row);
    }
    assertEquals(6, rows, "3 Regions x (fault-free + w1)");
    String apCrash = lines.stream().filter(l -> l.startsWith("  " + AP) && l.contains("[w1]")).findFirst().orElseThrow();
    assertTrue(apCrash.contains("down") && apCrash.contains("0.00%") && apCrash.contains("ConnectionRefused 40"), apCrash);
    String euCrash = lines.stream().filter(l -> l.startsWith("  " + EU) && l.contains("[w1]")).findFirst().orElseThrow();
    assertTrue(euCrash.contains("serve") && euCrash.contains("100.00%"), euCrash);

    assertTrue(text.contains("800 ms (us-east-1 saw ap-southeast-2)"), text);
    for (String check : Checks.NAMES) {
      assertTrue(lines.stream().anyMatch(l -> l.startsWith("  PASS  " + check)), check + " in\n" + text);
    }
    assertTrue(text.endsWith("Verdict: PASS\n"));
  }

  @Test
  void listsTheFirstViolationsAndCountsTheRest() {
    HistoryBuilder b = HistoryBuilder.clean();
    b.remove(n -> "verify".equals(n.path("type").asText()) && "decrypt".equals(n.path("check").asText()));
    History h = b.build();
    List<CheckResult> results = Checks.runAll(h, CheckSettings.defaults());
    String text = SummaryTable.render(h, results, CheckSettings.defaults(), 3);
    int expected = b.ciphertextOps.size() * 3;
    assertTrue(text.contains("  FAIL  decryptability"), text);
    assertTrue(text.contains(expected + " failed or missing decryption(s)"), text);
    assertEquals(3, text.lines().filter(l -> l.startsWith("      - ciphertext never verified")).count());
    assertTrue(text.contains("      - ... and " + (expected - 3) + " more"), text);
    assertTrue(text.contains("op " + b.ciphertextOps.get(0)), text);
    assertTrue(text.endsWith("Verdict: FAIL\n"));
    assertTrue(text.contains("  PASS  durability"));
  }

  @Test
  void controlCharactersFromTheHistoryCannotReachTheTerminal() {
    HistoryBuilder b = new HistoryBuilder().scenario("evil\u001b[2J", US);
    b.op(10, US, "Encrypt", KEY, "fail", "Boom\u001b[31m\nInjected", 1, null);
    String text = SummaryTable.render(b.build(), Checks.runAll(b.build(), CheckSettings.defaults()));
    assertFalse(text.contains("\u001b"));
    assertFalse(text.contains("\nInjected"));
  }

  private static int indexOfPrefix(List<String> lines, String prefix) {
    for (int i = 0; i < lines.size(); i++) if (lines.get(i).startsWith(prefix)) return i;
    throw new AssertionError("no line starting " + prefix);
  }
}
