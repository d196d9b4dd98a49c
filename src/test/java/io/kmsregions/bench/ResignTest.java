package io.kmsregions.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Long bench runs sign their requests again ({@link LoadBench#fresh}): a SigV4 signature is good
 * for 15 minutes around its date, and the README's command against moto runs about 16 minutes
 * (its last operation, GenerateMac, got 236,881 InvalidSignatureException in a new user's run).
 */
class ResignTest {
  private static final Endpoint ENDPOINT = Endpoint.of("kms-regions", "http://127.0.0.1:4566", "us-east-1");
  private static final SigV4 SIGNER = new SigV4("test", "test");
  private static final DateTimeFormatter AMZ_DATE = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'");

  private static KmsCall signedAt(String amzDate) {
    return new KmsCall(ENDPOINT, "TrentService.Encrypt", "{\"KeyId\":\"k\"}".getBytes(StandardCharsets.UTF_8),
        SIGNER, amzDate);
  }

  @Test
  void youngCallsAreKept() {
    Map<String, Workloads.Prepared> byOp = new HashMap<>();
    List<KmsCall> calls = List.of(ENDPOINT.call(SIGNER, "TrentService.Encrypt", new byte[] {'{', '}'}));
    byOp.put("encrypt", new Workloads.Prepared("encrypt", calls, null));
    assertSame(calls, LoadBench.fresh(byOp, "encrypt", LoadBench.RESIGN_AFTER_NANOS));
    assertSame(calls, byOp.get("encrypt").calls());
  }

  @Test
  void oldCallsAreSignedAgainWithTodaysDate() throws InterruptedException {
    String twentyMinutesAgo = LocalDateTime.now(ZoneOffset.UTC).minusMinutes(20).format(AMZ_DATE);
    KmsCall old = signedAt(twentyMinutesAgo);
    Map<String, Workloads.Prepared> byOp = new HashMap<>();
    byOp.put("encrypt", new Workloads.Prepared("encrypt", List.of(old), null));
    Thread.sleep(2);

    List<KmsCall> again = LoadBench.fresh(byOp, "encrypt", 1_000_000); // older than 1 ms
    assertEquals(1, again.size());
    KmsCall call = again.get(0);
    assertNotSame(old, call);
    assertSame(again, byOp.get("encrypt").calls(), "kept for the next run");
    assertEquals(old.target(), call.target());
    assertArrayEquals(old.body(), call.body());
    LocalDateTime signed = LocalDateTime.parse(call.amzDate(), AMZ_DATE);
    assertTrue(Duration.between(signed, LocalDateTime.now(ZoneOffset.UTC)).abs().toMinutes() < 2, call.amzDate());
    String wire = new String(call.wire(), StandardCharsets.US_ASCII);
    assertTrue(wire.contains("X-Amz-Date: " + call.amzDate() + "\r\n"), wire);
    assertTrue(wire.contains("/" + call.amzDate().substring(0, 8) + "/us-east-1/kms/aws4_request"), wire);
    assertNotEquals(new String(old.wire(), StandardCharsets.US_ASCII), wire);
  }
}
