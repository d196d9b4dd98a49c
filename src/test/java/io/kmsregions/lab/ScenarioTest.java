package io.kmsregions.lab;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Scenario files: every shipped one reads; every mistake is named, never a stack trace. */
class ScenarioTest {
  private static final List<String> REGIONS = List.of("ap-southeast-2", "eu-west-1", "us-east-1");
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

  static Stream<Path> shipped() throws Exception {
    return Files.list(Path.of("conf", "scenarios")).filter(p -> p.toString().endsWith(".yaml")).sorted();
  }

  @ParameterizedTest
  @MethodSource("shipped")
  void everyShippedScenarioReads(Path file) {
    Scenario s = Scenario.read(file, REGIONS);
    assertEquals(file.getFileName().toString().replace(".yaml", ""), s.name(), "the file is named after the scenario");
    assertTrue(!s.schedule().isEmpty() && !s.clients().isEmpty() && !s.keys().isEmpty(), s.name());
    assertTrue(!s.description().isBlank(), s.name() + " says what it shows");
  }

  @Test
  void sevenScenariosShip() throws Exception {
    List<String> names = shipped().map(p -> p.getFileName().toString()).toList();
    assertEquals(List.of("clock-skew.yaml", "force-promote.yaml", "handover-partitioned.yaml", "primary-crash.yaml",
        "replicate-crash.yaml", "rolling-restart.yaml", "rotation-partitioned.yaml"), names);
  }

  private static final String VALID = String.join("\n",
      "name: t",
      "keys: [{ name: k, region: us-east-1, multiRegion: true, replicas: [eu-west-1] }]",
      "workload: { duration: 10s, clients: [{ keys: [k], ops: [Encrypt], rate: 5 }] }",
      "schedule: [{ at: 2s, crash: us-east-1 }, { at: 5s, restart: us-east-1 }]");

  private static Scenario parse(String yaml) throws Exception {
    return Scenario.parse(YAML.readTree(yaml), REGIONS);
  }

  @Test
  void aValidScenarioAndItsDefaults() throws Exception {
    Scenario s = parse(VALID);
    assertEquals(REGIONS, s.regions(), "all Regions of regions/ by default");
    assertEquals(Duration.ofSeconds(10), s.duration());
    assertEquals(Scenario.ALL_CHECKS, s.checks());
    assertEquals(2, s.schedule().size());
    assertEquals("us-east-1", s.schedule().get(0).text("region"));
    Scenario fast = s.faster(2);
    assertEquals(Duration.ofSeconds(5), fast.duration());
    assertEquals(Duration.ofMillis(2500), fast.schedule().get(1).at());
  }

  @Test
  void mistakesAreNamed() {
    assertMistake(VALID.replace("name: t", "nam: t"), "unknown scenario field \"nam\"");
    assertMistake(VALID.replace("crash: us-east-1", "crash: mars-1"), "Region mars-1");
    assertMistake(VALID.replace("at: 5s", "at: 50s"), "after the workload's end");
    assertMistake(VALID.replace("crash: us-east-1", "explode: us-east-1"), "unknown step field explode");
    assertMistake(VALID.replace("duration: 10s", "duration: ten"), "is not a duration");
    assertMistake(VALID.replace("ops: [Encrypt]", "ops: [Encrypt, Frobnicate]"), "unknown client op Frobnicate");
    assertMistake(VALID.replace("keys: [k], ops", "keys: [nope], ops"), "unknown key nope");
    assertMistake(VALID.replace("rate: 5", "rate: -1"), "rate must be");
    assertMistake(VALID.replace("{ at: 2s, crash: us-east-1 }", "{ crash: us-east-1 }"), "needs \"at\"");
    assertMistake(VALID + "\nchecks: [convergence, vibes]", "unknown check vibes");
    assertMistake(VALID.replace("multiRegion: true, ", ""), "not multiRegion");
    assertMistake("- just\n- a list", "a YAML mapping");
  }

  @Test
  void clockStepsSetAndRestoreARegionsSpeed() throws Exception {
    Scenario s = parse(VALID.replace("{ at: 5s, restart: us-east-1 }", "{ at: 5s, restart: us-east-1 }, "
        + "{ at: 3s, clock: { region: eu-west-1, scale: 86400 } }, { at: 8s, clock: { region: eu-west-1, scale: 1 } }, "
        + "{ at: 9s, clock: { region: us-east-1, scale: 0.5 } }"));
    List<Scenario.Step> clock = s.schedule().stream().filter(x -> x.action().equals("clock")).toList();
    assertEquals(3, clock.size());
    assertEquals(Duration.ofSeconds(3), clock.get(0).at());
    assertEquals("eu-west-1", clock.get(0).text("region"));
    assertEquals(86400.0, Scenario.clockScale(clock.get(0)));
    assertEquals(1.0, Scenario.clockScale(clock.get(1)));
    assertEquals(0.5, Scenario.clockScale(clock.get(2)));
    assertEquals(List.of("crash", "clock", "restart", "clock", "clock"),
        s.schedule().stream().map(Scenario.Step::action).toList(), "in time order");
  }

  @Test
  void scheduleKeyDeletionStepsAndTheirWindow() throws Exception {
    Scenario s = parse(VALID.replace("{ at: 5s, restart: us-east-1 }", "{ at: 5s, restart: us-east-1 }, "
        + "{ at: 6s, scheduleKeyDeletion: { key: k, region: eu-west-1, pendingWindowInDays: 7 } }, "
        + "{ at: 7s, scheduleKeyDeletion: { key: k, region: us-east-1 } }"));
    List<Scenario.Step> d = s.schedule().stream().filter(x -> x.action().equals("scheduleKeyDeletion")).toList();
    assertEquals(7, Scenario.pendingWindowInDays(d.get(0)));
    assertEquals(30, Scenario.pendingWindowInDays(d.get(1)), "AWS's default");
    String step = "{ at: 5s, restart: us-east-1 }, { at: 6s, scheduleKeyDeletion: %s }";
    for (String bad : List.of("{ key: k, region: eu-west-1, pendingWindowInDays: 6 }",
        "{ key: k, region: eu-west-1, pendingWindowInDays: 31 }", "{ key: k, region: eu-west-1, pendingWindowInDays: 7.5 }",
        "{ key: k, region: eu-west-1, pendingWindowInDays: seven }")) {
      assertMistake(VALID.replace("{ at: 5s, restart: us-east-1 }", String.format(step, bad)),
          "scheduleKeyDeletion.pendingWindowInDays must be a whole number of days from 7 to 30");
    }
    assertMistake(VALID.replace("{ at: 5s, restart: us-east-1 }", String.format(step, "{ key: nope, region: eu-west-1 }")),
        "unknown key nope");
  }

  @Test
  void badClockStepsAreNamed() {
    String step = "{ at: 5s, restart: us-east-1 }, { at: 6s, clock: %s }";
    for (String bad : List.of("{ region: eu-west-1, scale: 0 }", "{ region: eu-west-1, scale: -86400 }",
        "{ region: eu-west-1, scale: fast }", "{ region: eu-west-1, scale: 1e400 }",
        "{ region: eu-west-1, scale: \"86400\" }", "{ region: eu-west-1, scale: [2] }")) {
      assertMistake(VALID.replace("{ at: 5s, restart: us-east-1 }", String.format(step, bad)), "clock.scale must be a number > 0");
    }
    assertMistake(VALID.replace("{ at: 5s, restart: us-east-1 }", String.format(step, "{ region: eu-west-1 }")),
        "clock needs \"scale\"");
    assertMistake(VALID.replace("{ at: 5s, restart: us-east-1 }", String.format(step, "{ region: mars-1, scale: 2 }")),
        "Region mars-1");
    assertMistake(VALID.replace("{ at: 5s, restart: us-east-1 }", String.format(step, "{ scale: 2 }")),
        "clock needs \"region\"");
    assertMistake(VALID.replace("{ at: 5s, restart: us-east-1 }", String.format(step, "{ region: eu-west-1, speed: 2 }")),
        "unknown clock field \"speed\"");
    assertMistake(VALID.replace("{ at: 5s, restart: us-east-1 }", String.format(step, "eu-west-1")), "clock must be a mapping");
    assertMistake(VALID + "\ntimeScale: 0", "timeScale must be a number > 0");
    assertMistake(VALID + "\ntimeScale: fast", "timeScale must be a number > 0");
  }

  @Test
  void aBadClockValueInAFileIsNamedWithTheFileBeforeAnythingStarts(@org.junit.jupiter.api.io.TempDir Path dir)
      throws Exception {
    Path file = dir.resolve("skew.yaml");
    Files.writeString(file, VALID.replace("{ at: 5s, restart: us-east-1 }",
        "{ at: 5s, restart: us-east-1 }, { at: 6s, clock: { region: eu-west-1, scale: -1 } }"));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Scenario.read(file, REGIONS));
    assertTrue(e.getMessage().startsWith(file + ": ") && e.getMessage().contains("clock.scale"), e.getMessage());
    // YAML's NaN does not even reach the check: the reader refuses it, naming the file.
    Files.writeString(file, VALID.replace("{ at: 5s, restart: us-east-1 }",
        "{ at: 5s, restart: us-east-1 }, { at: 6s, clock: { region: eu-west-1, scale: .nan } }"));
    IllegalArgumentException nan = assertThrows(IllegalArgumentException.class, () -> Scenario.read(file, REGIONS));
    assertTrue(nan.getMessage().startsWith(file + ": "), nan.getMessage());
  }

  private static void assertMistake(String yaml, String expected) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> parse(yaml), yaml);
    assertTrue(e.getMessage().contains(expected), "\"" + e.getMessage() + "\" should say " + expected);
  }
}
