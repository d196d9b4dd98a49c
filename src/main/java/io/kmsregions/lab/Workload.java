package io.kmsregions.lab;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

/**
 * The clients of one scenario's workload: for each client and Region, {@code concurrency} threads
 * that together issue {@code rate} operations per second against the Region's own endpoint,
 * cycling through the client's operations and keys, each call recorded as an {@code invoke} and a
 * {@code complete} (lab/history/FORMAT.md). A thread that falls behind (a slow or absent Region)
 * skips the slots it missed rather than bursting, so a fault does not turn into a flood.
 *
 * <p>Decrypt uses the newest ciphertext this Region's client got for the key (or encrypts first);
 * Verify the newest signature; plaintexts are random 32 bytes whose SHA-256 is recorded, so that
 * the decryptability check can compare.
 */
public final class Workload implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final SecureRandom RANDOM = new SecureRandom();

  private final HistoryWriter history;
  private final List<Thread> threads = new ArrayList<>();
  private volatile boolean stopped;
  private final Map<String, AtomicLong[]> counts = new ConcurrentHashMap<>(); // region -> {ok, fail, info}
  private final Map<String, String> ciphertexts = new ConcurrentHashMap<>(); // region|key -> latest
  private final Map<String, String> signatures = new ConcurrentHashMap<>(); // region|key -> message|signature

  /**
   * @param clientOf the client of a Region's own endpoint
   * @param keyIdOf the KeyId of a scenario key name
   */
  public Workload(HistoryWriter history, List<Scenario.Client> clients, Function<String, LabClient> clientOf,
      Function<String, String> keyIdOf) {
    this.history = history;
    int n = 0;
    for (Scenario.Client c : clients) {
      for (String region : c.regions()) {
        counts.putIfAbsent(region, new AtomicLong[] {new AtomicLong(), new AtomicLong(), new AtomicLong()});
        LabClient client = clientOf.apply(region);
        for (int i = 0; i < c.concurrency(); i++) {
          long periodNanos = Math.round(1e9 * c.concurrency() / c.rate());
          long offset = periodNanos * i / c.concurrency();
          int seed = n++;
          Thread t = new Thread(() -> loop(client, c, keyIdOf, periodNanos, offset, seed), "lab-client-" + region + "-" + i);
          t.setDaemon(true);
          threads.add(t);
        }
      }
    }
  }

  public void start() {
    threads.forEach(Thread::start);
  }

  /** Operations so far per Region: {ok, fail, info}. */
  public Map<String, long[]> counts() {
    Map<String, long[]> m = new java.util.TreeMap<>();
    counts.forEach((r, a) -> m.put(r, new long[] {a[0].get(), a[1].get(), a[2].get()}));
    return m;
  }

  private void loop(LabClient client, Scenario.Client c, Function<String, String> keyIdOf, long period, long offset, int seed) {
    long next = System.nanoTime() + offset;
    int i = seed;
    while (!stopped) {
      long now = System.nanoTime();
      if (now < next) {
        try {
          Thread.sleep((next - now) / 1_000_000L, (int) ((next - now) % 1_000_000L));
        } catch (InterruptedException e) {
          return;
        }
        continue;
      }
      String op = c.ops().get(i % c.ops().size());
      String key = keyIdOf.apply(c.keys().get((i / c.ops().size()) % c.keys().size()));
      i++;
      run(client, op, key);
      next += period;
      long late = System.nanoTime() - next;
      if (late > period) next += (late / period) * period; // skip missed slots
    }
  }

  private void run(LabClient client, String op, String keyId) {
    String region = client.region();
    ObjectNode body = JSON.createObjectNode().put("KeyId", keyId);
    byte[] plaintext = null;
    String slot = region + "|" + keyId;
    switch (op) {
      case "Encrypt" -> {
        plaintext = random(32);
        body.put("Plaintext", Base64.getEncoder().encodeToString(plaintext));
      }
      case "Decrypt" -> {
        String ct = ciphertexts.get(slot);
        if (ct == null) {
          run(client, "Encrypt", keyId);
          return;
        }
        body.put("CiphertextBlob", ct);
      }
      case "ReEncrypt" -> {
        String ct = ciphertexts.get(slot);
        if (ct == null) {
          run(client, "Encrypt", keyId);
          return;
        }
        body.remove("KeyId");
        body.put("CiphertextBlob", ct).put("DestinationKeyId", keyId);
      }
      case "GenerateDataKey" -> body.put("KeySpec", "AES_256");
      case "Sign" -> body.put("Message", Base64.getEncoder().encodeToString(random(32)))
          .put("SigningAlgorithm", "ECDSA_SHA_256");
      case "Verify" -> {
        String s = signatures.get(slot);
        if (s == null) {
          run(client, "Sign", keyId);
          return;
        }
        String[] parts = s.split("\\|");
        body.put("Message", parts[0]).put("Signature", parts[1]).put("SigningAlgorithm", "ECDSA_SHA_256");
      }
      case "GenerateMac" -> body.put("Message", Base64.getEncoder().encodeToString(random(32)))
          .put("MacAlgorithm", "HMAC_SHA_256");
      default -> { }
    }
    long id = history.nextId();
    ObjectNode invoke = history.record("invoke");
    invoke.put("id", id).put("region", region).put("op", op).put("key", keyId);
    history.add(invoke);
    LabClient.Result r = client.call(op, body);
    ObjectNode done = history.record("complete");
    done.put("id", id).put("region", region).put("op", op).put("key", keyId).put("outcome", r.outcome());
    if (r.error() == null) done.putNull("error"); else done.put("error", r.error());
    done.put("latencyMs", Math.round(r.latencyMs() * 1000) / 1000.0);
    if (r.ok()) {
      switch (op) {
        case "Encrypt", "ReEncrypt" -> {
          String ct = r.body().path("CiphertextBlob").asText();
          ciphertexts.put(slot, ct);
          done.put("ciphertext", ct);
          if (plaintext != null) done.put("plaintextDigest", sha256(plaintext));
        }
        case "GenerateDataKey" -> {
          String ct = r.body().path("CiphertextBlob").asText();
          ciphertexts.put(slot, ct);
          done.put("ciphertext", ct);
          done.put("plaintextDigest", sha256(Base64.getDecoder().decode(r.body().path("Plaintext").asText())));
        }
        case "Sign" -> signatures.put(slot, body.path("Message").asText() + "|" + r.body().path("Signature").asText());
        default -> { }
      }
    }
    history.add(done);
    counts.get(region)[r.ok() ? 0 : r.outcome().equals("fail") ? 1 : 2].incrementAndGet();
  }

  private static byte[] random(int n) {
    byte[] b = new byte[n];
    RANDOM.nextBytes(b);
    return b;
  }

  static String sha256(byte[] b) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Stops issuing calls and waits for the ones in flight (at most the client timeout). */
  @Override
  public void close() {
    stopped = true;
    for (Thread t : threads) {
      try {
        t.join(15_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
