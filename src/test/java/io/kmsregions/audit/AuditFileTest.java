package io.kmsregions.audit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.ConfigFactory;
import io.kmsregions.KmsSettings;
import io.kmsregions.security.auth.Caller;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The audit file itself: batched writes that {@code flush} makes visible, and rotation by size. */
class AuditFileTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Caller CALLER = new Caller("IAMUser", "arn:aws:iam::111122223333:user/test", "111122223333",
      "AKIDTEST", true);

  @TempDir Path dir;

  private static KmsSettings settings() {
    return KmsSettings.from(ConfigFactory.parseString("kms.region = us-east-1, kms.regions = [us-east-1]")
        .withFallback(ConfigFactory.load()));
  }

  private static void call(AuditLog audit, int i) {
    byte[] request = ("{\"KeyId\":\"alias/k\",\"Plaintext\":\"c2VjcmV0\",\"Sequence\":" + i + "}").getBytes(StandardCharsets.UTF_8);
    byte[] response = "{\"CiphertextBlob\":\"AQID\"}".getBytes(StandardCharsets.UTF_8);
    audit.apiCall("Encrypt", "request-" + i, CALLER, request, 200, response);
  }

  private static List<Long> sequences(Path file) throws Exception {
    List<Long> out = new ArrayList<>();
    for (String line : Files.readAllLines(file)) {
      JsonNode r = JSON.readTree(line);
      assertFalse(line.contains("c2VjcmV0"), line);
      out.add(r.path("requestParameters").path("sequence").asLong());
    }
    return out;
  }

  @Test
  void flushMakesEveryRecordVisibleWithoutWaitingForTheInterval() throws Exception {
    Path file = dir.resolve("audit.jsonl");
    AuditLog audit = new AuditLog(settings(), file, Duration.ofMinutes(10), 1L << 30, 2);
    try {
      for (int i = 0; i < 500; i++) call(audit, i);
      long t0 = System.nanoTime();
      assertTrue(audit.flush(10_000));
      assertTrue(System.nanoTime() - t0 < Duration.ofMinutes(1).toNanos());
      List<Long> seen = sequences(file);
      assertEquals(500, seen.size());
      for (int i = 0; i < 500; i++) assertEquals(i, seen.get(i));
    } finally {
      audit.close();
    }
  }

  @Test
  void aFullFileIsRotatedAndOnlyMaxFilesOldOnesAreKept() throws Exception {
    Path file = dir.resolve("audit.jsonl");
    AuditLog audit = new AuditLog(settings(), file, Duration.ofMillis(50), 40_000, 2);
    int n = 1000; // ~700 bytes a record: about 18 files' worth
    try {
      for (int i = 0; i < n; i++) call(audit, i);
      assertTrue(audit.flush(30_000));
    } finally {
      audit.close();
    }
    Path one = dir.resolve("audit.jsonl.1");
    Path two = dir.resolve("audit.jsonl.2");
    assertTrue(Files.exists(one) && Files.exists(two));
    assertFalse(Files.exists(dir.resolve("audit.jsonl.3")));
    assertTrue(Files.size(one) > 40_000 && Files.size(one) < 42_000, "rotated just past the limit: " + Files.size(one));
    // Oldest first across the kept files, contiguous, ending with the last record.
    List<Long> all = new ArrayList<>(sequences(two));
    all.addAll(sequences(one));
    if (Files.exists(file)) all.addAll(sequences(file));
    assertEquals(n - 1, all.get(all.size() - 1));
    for (int i = 1; i < all.size(); i++) assertEquals(all.get(i - 1) + 1, all.get(i));
    assertTrue(all.size() < n, "older files were deleted");
  }

  @Test
  void withoutReadOnlyEventsOnlyCallsThatChangeSomethingAreRecorded() throws Exception {
    Path file = dir.resolve("audit.jsonl");
    AuditLog audit = new AuditLog(settings(), file, Duration.ofMillis(50), 1L << 30, 2, false);
    try {
      call(audit, 1); // Encrypt: read-only
      audit.apiCall("DescribeKey", "r-2", CALLER, "{\"KeyId\":\"alias/k\"}".getBytes(StandardCharsets.UTF_8), 200,
          "{}".getBytes(StandardCharsets.UTF_8));
      audit.apiCall("CreateKey", "r-3", CALLER, "{}".getBytes(StandardCharsets.UTF_8), 200,
          "{\"KeyMetadata\":{\"Arn\":\"arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab\"}}"
              .getBytes(StandardCharsets.UTF_8));
      assertTrue(audit.flush(10_000));
    } finally {
      audit.close();
    }
    List<String> lines = Files.readAllLines(file);
    assertEquals(1, lines.size(), lines.toString());
    JsonNode r = JSON.readTree(lines.get(0));
    assertEquals("CreateKey", r.path("eventName").asText());
    assertFalse(r.path("readOnly").asBoolean(true));
    assertEquals("arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        r.path("resources").path(0).path("ARN").asText());
  }
}
