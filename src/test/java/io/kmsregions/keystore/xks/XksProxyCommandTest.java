package io.kmsregions.keystore.xks;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kmsregions.lab.RegionProcesses;
import io.kmsregions.region.Ports;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code kms-regions xks-proxy}: as a child JVM (started, used with the default development
 * credential, stopped with SIGTERM as Ctrl-C would), and its refusals in this JVM.
 */
class XksProxyCommandTest {
  @TempDir
  Path dir;

  @Test
  void servesUntilStoppedWithTheDefaultCredential() throws Exception {
    int port = Ports.freePort();
    Path data = dir.resolve("xks-data");
    Process p = new ProcessBuilder("java", "-Xmx256m", "-cp", RegionProcesses.ownClasspath(), "io.kmsregions.cli.Main",
        "xks-proxy", "--port", String.valueOf(port), "--data", data.toString(), "--create-key", "alpha",
        "--create-key", "beta").redirectErrorStream(true).start();
    BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    Thread reader = new Thread(() -> {
      try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
        for (String line; (line = r.readLine()) != null; ) lines.add(line);
      } catch (Exception e) {
        // the process ended
      }
    });
    reader.setDaemon(true);
    reader.start();
    try {
      String ready = awaitLine(lines, "kms-regions xks-proxy ready", 90, "");
      assertTrue(ready.contains("endpoint http://127.0.0.1:" + port), ready);
      assertTrue(ready.contains("path /xks/kms/xks/v1"), ready);
      assertTrue(ready.contains("access key id KMSREGIONSXKSPROXYDEV234"), ready);
      assertTrue(ready.contains("keys [alpha, beta]"), ready);

      XksClient client = new XksClient(URI.create("http://127.0.0.1:" + port), "/xks/kms/xks/v1",
          XksCredential.DEVELOPMENT.accessKeyId(), XksCredential.DEVELOPMENT.secretAccessKey(), "us-east-1",
          Duration.ofSeconds(5));
      assertEquals("ACTIVE", client.health().toCompletableFuture().get(20, TimeUnit.SECONDS)
          .ekmFleetDetails().get(0).healthStatus());
      XksRequestMetadata meta = new XksRequestMetadata("arn:aws:iam::111122223333:user/alice",
          "arn:aws:kms:us-east-1:111122223333:key/k", "Encrypt", "r", null);
      byte[] aad = {1, 2, 3};
      XksClient.Ciphertext c = client.encrypt("beta", new byte[] {42}, aad, meta).toCompletableFuture()
          .get(20, TimeUnit.SECONDS);
      assertArrayEquals(new byte[] {42}, client.decrypt("beta", c, aad, meta).toCompletableFuture()
          .get(20, TimeUnit.SECONDS));
    } finally {
      p.toHandle().destroy(); // SIGTERM, as Ctrl-C (Process.destroy() would also close our end of its output)
      assertTrue(p.waitFor(60, TimeUnit.SECONDS), "xks-proxy did not stop on SIGTERM");
    }
    awaitLine(lines, "kms-regions xks-proxy stopped", 10, "exit code " + p.exitValue());
    Path file = data.resolve("keys.json");
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
    assertTrue(Files.readString(file).contains("\"beta\""));
  }

  @Test
  void badOptionsAndUnknownKeysExitWithTwo() {
    String data = dir.resolve("d").toString();
    String[] r = runCli("xks-proxy", "--data", data, "--access-key-id", "SHORT");
    assertEquals("2", r[0]);
    assertTrue(r[1].contains("access key id must be 20-30 characters"), r[1]);
    r = runCli("xks-proxy", "--data", data, "--secret-access-key", "not-a-secret");
    assertEquals("2", r[0]);
    assertTrue(r[1].contains("secret access key must be 43-64 characters"), r[1]);
    assertTrue(!r[1].contains("not-a-secret"), "the secret is never echoed");
    r = runCli("xks-proxy", "--data", data, "--path-prefix", "no-slash");
    assertEquals("2", r[0]);
    assertTrue(r[1].contains("path prefix"), r[1]);
    r = runCli("xks-proxy", "--data", data, "--create-key", "bad/id");
    assertEquals("2", r[0]);
    assertTrue(r[1].contains("XksKeyId"), r[1]);
    r = runCli("xks-proxy", "--data", data, "--disable-key", "nope");
    assertEquals("2", r[0]);
    assertTrue(r[1].contains("no key 'nope'"), r[1]);
  }

  @Test
  void portInUseExitsWithOne() throws Exception {
    try (var taken = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      String[] r = runCli("xks-proxy", "--data", dir.resolve("d").toString(), "--port",
          String.valueOf(taken.getLocalPort()));
      assertEquals("1", r[0], r[1]);
      assertTrue(r[1].contains("cannot bind 127.0.0.1:" + taken.getLocalPort()), r[1]);
    }
  }

  private static String awaitLine(BlockingQueue<String> lines, String prefix, int seconds, String context)
      throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    StringBuilder seen = new StringBuilder();
    while (System.nanoTime() < deadline) {
      String line = lines.poll(200, TimeUnit.MILLISECONDS);
      if (line == null) continue;
      seen.append(line).append('\n');
      if (line.startsWith(prefix)) return line;
    }
    throw new AssertionError("no line '" + prefix + "' within " + seconds + " s (" + context + "); output:\n" + seen);
  }

  private static String[] runCli(String... args) {
    return io.kmsregions.testkit.Cli.run(args);
  }
}
