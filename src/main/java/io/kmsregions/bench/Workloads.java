package io.kmsregions.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.kmsregions.api.KmsHttpServer;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The operations of the load bench and their set-up on one endpoint: the keys they use (created
 * once per kind and shared by the operations of that kind), and one signed request per key.
 * An operation the server does not answer (its probe request, or a request its set-up needs,
 * fails) is skipped with the server's reason.
 */
public final class Workloads {
  /** Every operation name of {@code --ops}, in the order the bench runs them. */
  public static final List<String> ALL = List.of("encrypt", "decrypt", "generate-data-key", "describe-key", "noop",
      "sign-p256", "verify-p256", "sign-rsa2048", "generate-mac");

  /** The requests of one operation on one endpoint, or why it is skipped. */
  public record Prepared(String op, List<KmsCall> calls, String skipped) {
    static Prepared skip(String op, String reason) {
      return new Prepared(op, List.of(), reason);
    }
  }

  private enum Kind {
    SYMMETRIC("{}"),
    ECC_P256("{\"KeySpec\":\"ECC_NIST_P256\",\"KeyUsage\":\"SIGN_VERIFY\"}"),
    RSA_2048("{\"KeySpec\":\"RSA_2048\",\"KeyUsage\":\"SIGN_VERIFY\"}"),
    HMAC_256("{\"KeySpec\":\"HMAC_256\",\"KeyUsage\":\"GENERATE_VERIFY_MAC\"}");

    final String createBody;

    Kind(String createBody) {
      this.createBody = createBody;
    }
  }

  private static final SecureRandom RANDOM = new SecureRandom();

  private final KmsClient client;
  private final int keyCount;
  private final Map<Kind, Object> keys = new HashMap<>(); // List<String> or a String skip reason
  private final Map<String, Prepared> prepared = new HashMap<>();

  public Workloads(KmsClient client, int keyCount) {
    if (keyCount < 1) throw new IllegalArgumentException("--keys must be at least 1");
    this.client = client;
    this.keyCount = keyCount;
  }

  public static void checkNames(List<String> ops) {
    for (String op : ops) {
      if (!ALL.contains(op)) throw new IllegalArgumentException("unknown operation '" + op + "'; known: " + ALL);
    }
  }

  /** The requests of {@code op}, prepared on first use. */
  public Prepared prepare(String op) {
    Prepared p = prepared.get(op);
    if (p == null) {
      p = build(op);
      prepared.put(op, p);
    }
    return p;
  }

  private Prepared build(String op) {
    return switch (op) {
      case "encrypt" -> withKeys(op, Kind.SYMMETRIC, ids -> encryptCalls(ids, "TrentService.Encrypt"));
      case "noop" -> probe(op, encryptCallsNoKey(KmsHttpServer.NOOP_TARGET));
      case "decrypt" -> withKeys(op, Kind.SYMMETRIC, this::decryptCalls);
      case "generate-data-key" -> withKeys(op, Kind.SYMMETRIC, ids -> calls("GenerateDataKey", ids,
          id -> KmsClient.json().put("KeyId", id).put("KeySpec", "AES_256")));
      case "describe-key" -> withKeys(op, Kind.SYMMETRIC, ids -> calls("DescribeKey", ids,
          id -> KmsClient.json().put("KeyId", id)));
      case "sign-p256" -> withKeys(op, Kind.ECC_P256, ids -> calls("Sign", ids, id -> signBody(id, "ECDSA_SHA_256")));
      case "verify-p256" -> withKeys(op, Kind.ECC_P256, this::verifyCalls);
      case "sign-rsa2048" -> withKeys(op, Kind.RSA_2048, ids -> calls("Sign", ids, id -> signBody(id, "RSASSA_PSS_SHA_256")));
      case "generate-mac" -> withKeys(op, Kind.HMAC_256, ids -> calls("GenerateMac", ids,
          id -> KmsClient.json().put("KeyId", id).put("Message", random(64)).put("MacAlgorithm", "HMAC_SHA_256")));
      default -> throw new IllegalArgumentException("unknown operation " + op);
    };
  }

  private interface CallBuilder {
    Object build(List<String> keyIds); // List<KmsCall>, or a String skip reason
  }

  @SuppressWarnings("unchecked")
  private Prepared withKeys(String op, Kind kind, CallBuilder builder) {
    Object k = keys(kind);
    if (k instanceof String reason) return Prepared.skip(op, reason);
    Object calls = builder.build((List<String>) k);
    if (calls instanceof String reason) return Prepared.skip(op, reason);
    return probe(op, (List<KmsCall>) calls);
  }

  /** Sends the first request once: the server must answer it with 200, or the operation is skipped. */
  private Prepared probe(String op, List<KmsCall> calls) {
    Reply r = client.send(calls.get(0));
    if (!r.ok()) return Prepared.skip(op, r.describeError());
    return new Prepared(op, List.copyOf(calls), null);
  }

  /** The key ids of {@code kind}: one is created and checked first, then the rest in parallel. */
  private Object keys(Kind kind) {
    Object k = keys.get(kind);
    if (k != null) return k;
    ObjectNode body;
    try {
      body = (ObjectNode) Reply.JSON.readTree(kind.createBody);
    } catch (java.io.IOException e) {
      throw new IllegalStateException(e);
    }
    Reply first = client.call("CreateKey", body);
    if (!first.ok()) {
      k = "CreateKey " + kind + ": " + first.describeError();
    } else {
      List<String> ids = new ArrayList<>(keyCount);
      ids.add(first.json().path("KeyMetadata").path("KeyId").asText());
      List<KmsCall> more = new ArrayList<>();
      for (int i = 1; i < keyCount; i++) more.add(client.prepare("CreateKey", body));
      String failure = null;
      for (Reply r : client.sendAll(more)) {
        if (r.ok()) ids.add(r.json().path("KeyMetadata").path("KeyId").asText());
        else failure = r.describeError();
      }
      k = failure == null ? List.copyOf(ids) : "CreateKey " + kind + " (" + (ids.size()) + " of " + keyCount + " made): " + failure;
    }
    keys.put(kind, k);
    return k;
  }

  private List<KmsCall> calls(String operation, List<String> ids, java.util.function.Function<String, ObjectNode> body) {
    List<KmsCall> out = new ArrayList<>(ids.size());
    for (String id : ids) out.add(client.prepare(operation, body.apply(id)));
    return out;
  }

  private final Map<String, byte[]> plaintexts = new HashMap<>();

  private byte[] plaintext(String keyId) {
    return plaintexts.computeIfAbsent(keyId, k -> randomBytes(256));
  }

  private ObjectNode encryptBody(String keyId) {
    return KmsClient.json().put("KeyId", keyId).put("Plaintext", plaintext(keyId));
  }

  private List<KmsCall> encryptCalls(List<String> ids, String target) {
    return calls(target, ids, this::encryptBody);
  }

  /** The no-op carries an Encrypt-sized body (the same JSON shape), so it costs the server the same HTTP work. */
  private List<KmsCall> encryptCallsNoKey(String target) {
    List<KmsCall> out = new ArrayList<>();
    int n = Math.min(keyCount, 1000);
    for (int i = 0; i < n; i++) {
      out.add(client.prepare(target, KmsClient.json().put("KeyId", java.util.UUID.randomUUID().toString())
          .put("Plaintext", randomBytes(256))));
    }
    return out;
  }

  private Object decryptCalls(List<String> ids) {
    List<Reply> encrypted = client.sendAll(encryptCalls(ids, "Encrypt"));
    List<KmsCall> out = new ArrayList<>(ids.size());
    for (Reply r : encrypted) {
      if (!r.ok()) return "Encrypt (to make a ciphertext): " + r.describeError();
      out.add(client.prepare("Decrypt", KmsClient.json().put("CiphertextBlob",
          java.util.Base64.getDecoder().decode(r.json().path("CiphertextBlob").asText()))));
    }
    return out;
  }

  private final Map<String, byte[]> messages = new HashMap<>();

  private ObjectNode signBody(String keyId, String algorithm) {
    return KmsClient.json().put("KeyId", keyId).put("Message", messages.computeIfAbsent(keyId, k -> randomBytes(64)))
        .put("MessageType", "RAW").put("SigningAlgorithm", algorithm);
  }

  private Object verifyCalls(List<String> ids) {
    List<Reply> signed = client.sendAll(calls("Sign", ids, id -> signBody(id, "ECDSA_SHA_256")));
    List<KmsCall> out = new ArrayList<>(ids.size());
    for (int i = 0; i < ids.size(); i++) {
      Reply r = signed.get(i);
      if (!r.ok()) return "Sign (to make a signature): " + r.describeError();
      ObjectNode body = signBody(ids.get(i), "ECDSA_SHA_256");
      body.put("Signature", java.util.Base64.getDecoder().decode(r.json().path("Signature").asText()));
      out.add(client.prepare("Verify", body));
    }
    return out;
  }

  static byte[] randomBytes(int n) {
    byte[] b = new byte[n];
    RANDOM.nextBytes(b);
    return b;
  }

  private static byte[] random(int n) {
    return randomBytes(n);
  }
}
