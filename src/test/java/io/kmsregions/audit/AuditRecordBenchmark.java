package io.kmsregions.audit;

import com.typesafe.config.ConfigFactory;
import io.kmsregions.KmsSettings;
import io.kmsregions.security.auth.Caller;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The audit writer's cost per record ({@link AuditLog}): the CloudTrail-shaped line of one Encrypt
 * and one Decrypt call as `bench` makes them (256-byte plaintext, kms-regions ciphertext), secrets
 * dropped. The writer runs on its own thread, but on a 2-core machine its CPU is the request
 * path's: a JFR profile of `bench --ops decrypt` put a third of all Java samples in it.
 *
 * <p>{@code mvn -Pbench -Djmh.include=AuditRecordBenchmark -Djmh.args="-wi 2 -i 3 -f 1 -prof gc"}
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 3)
@Fork(1)
public class AuditRecordBenchmark {
  private static final Caller CALLER = new Caller("Root", "arn:aws:iam::111122223333:root", "111122223333",
      "AKIAIOSFODNN7EXAMPLE", true);
  private static final String ARN = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";

  private AuditLog audit;
  private Path dir;
  private byte[] encryptRequest;
  private byte[] encryptResponse;
  private byte[] decryptRequest;
  private byte[] decryptResponse;

  @Setup
  public void setUp() throws IOException {
    dir = Files.createTempDirectory("audit-bench");
    KmsSettings settings = KmsSettings.from(ConfigFactory.parseString("kms.region = us-east-1, kms.regions = [us-east-1]")
        .withFallback(ConfigFactory.load()));
    audit = new AuditLog(settings, dir.resolve("audit.jsonl"), Duration.ofSeconds(1), 1L << 30, 1);
    String plaintext = Base64.getEncoder().encodeToString(new byte[256]);
    String ciphertext = Base64.getEncoder().encodeToString(new byte[341]);
    encryptRequest = ("{\"KeyId\":\"1234abcd-12ab-34cd-56ef-1234567890ab\",\"Plaintext\":\"" + plaintext + "\"}")
        .getBytes(StandardCharsets.UTF_8);
    encryptResponse = ("{\"CiphertextBlob\":\"" + ciphertext + "\",\"KeyId\":\"" + ARN
        + "\",\"EncryptionAlgorithm\":\"SYMMETRIC_DEFAULT\"}").getBytes(StandardCharsets.UTF_8);
    decryptRequest = ("{\"CiphertextBlob\":\"" + ciphertext + "\"}").getBytes(StandardCharsets.UTF_8);
    decryptResponse = ("{\"KeyId\":\"" + ARN + "\",\"Plaintext\":\"" + plaintext
        + "\",\"EncryptionAlgorithm\":\"SYMMETRIC_DEFAULT\",\"KeyMaterialId\":\"" + "ab".repeat(32) + "\"}")
        .getBytes(StandardCharsets.UTF_8);
  }

  @TearDown
  public void tearDown() throws IOException {
    audit.close();
    try (var files = Files.walk(dir)) {
      files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }

  @Benchmark
  public byte[] encrypt() throws IOException {
    return audit.encodeApiCall(1_764_460_800_000L, "Encrypt", "7d1c8f2e-2f7a-4c55-9a3e-0c6a3b1d9e21", CALLER,
        encryptRequest, 200, encryptResponse);
  }

  @Benchmark
  public byte[] decrypt() throws IOException {
    return audit.encodeApiCall(1_764_460_800_000L, "Decrypt", "7d1c8f2e-2f7a-4c55-9a3e-0c6a3b1d9e21", CALLER,
        decryptRequest, 200, decryptResponse);
  }
}
