package io.kmsregions.security.fuzz;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.ConfigFactory;
import io.kmsregions.bench.SigV4;
import io.kmsregions.crypto.SymmetricCiphertext;
import io.kmsregions.testkit.TestCluster;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.stream.Stream;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.ShrinkingMode;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.kms.KmsClient;

/**
 * Hostile input against a real node (sigv4 mode, real HTTP, real LevelDB) and against the
 * symmetric ciphertext parser, as jqwik properties: random bytes, truncated and mutated valid
 * requests, huge fields, deep JSON, wrong types, bad base64, oversized bodies, wrong methods and
 * paths, broken or tampered signatures. Every answer must be an AWS-shaped error or a success
 * (never a 5xx, a stack trace or a hang: each request has a 30 s deadline), and afterwards every
 * key that existed before is unchanged (metadata, policy, tags, and its old ciphertext decrypts);
 * only accepted CreateKey calls may add keys.
 *
 * <p>Size: {@code -Dkms.fuzz.requests=N} HTTP requests in total (default 5,000, the CI pass,
 * well under a minute) and {@code -Dkms.fuzz.ciphertexts=N} parser inputs (default 100,000). The
 * long pass: {@code mvn -o -Dtest=HostileInputFuzzTest -Dkms.fuzz.requests=1000000 test}.
 */
class HostileInputFuzzTest {
  static final int TRIES = 50;
  static final int REQUESTS = Integer.getInteger("kms.fuzz.requests", 5_000);
  static final int CIPHERTEXTS = Integer.getInteger("kms.fuzz.ciphertexts", 100_000);
  static final String REGION = "us-east-1";
  static final ObjectMapper JSON = new ObjectMapper();
  static final SigV4 SIGNER = new SigV4("AKIDTEST", "secret");
  static final AtomicLong SENT = new AtomicLong();
  static final AtomicLong CREATED = new AtomicLong();
  static final AtomicLong PARSED = new AtomicLong();
  static final Map<Integer, AtomicLong> STATUSES = new java.util.concurrent.ConcurrentHashMap<>();

  static Path dataDir;
  static TestCluster cluster;
  static HttpClient http;
  static String host;
  static Map<String, String> victims = new LinkedHashMap<>();
  static Map<String, String> before;
  static Set<String> keysBefore;
  static byte[] victimCiphertext;
  static String symmetricKey;

  @BeforeContainer
  static void start() throws Exception {
    dataDir = Files.createTempDirectory("fuzz");
    cluster = TestCluster.start(dataDir, List.of(REGION), ConfigFactory.parseString(
        "kms.auth.mode = sigv4\nkms.auth.credentials = [ { access-key-id = AKIDTEST, secret-access-key = secret } ]"));
    host = "127.0.0.1:" + cluster.httpPort(REGION);
    http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    try (KmsClient kms = cluster.client(REGION)) {
      symmetricKey = kms.createKey(b -> b.description("victim").tags(t -> t.tagKey("k").tagValue("v"))).keyMetadata().keyId();
      victims.put("symmetric", symmetricKey);
      victims.put("rsa", kms.createKey(b -> b.keySpec("RSA_2048").keyUsage("SIGN_VERIFY")).keyMetadata().keyId());
      victims.put("hmac", kms.createKey(b -> b.keySpec("HMAC_256").keyUsage("GENERATE_VERIFY_MAC")).keyMetadata().keyId());
      victims.put("ecc", kms.createKey(b -> b.keySpec("ECC_NIST_P256").keyUsage("SIGN_VERIFY")).keyMetadata().keyId());
      kms.createAlias(b -> b.aliasName("alias/victim").targetKeyId(symmetricKey));
      victimCiphertext = kms.encrypt(b -> b.keyId(symmetricKey).plaintext(SdkBytes.fromUtf8String("victim")))
          .ciphertextBlob().asByteArray();
      before = state(kms);
      keysBefore = keyIds(kms);
    }
  }

  /** Appends a line to target/fuzz-summary.txt, so a long pass leaves its figures even if its output is lost. */
  static void summary(String line) {
    try {
      Files.writeString(Path.of("target", "fuzz-summary.txt"), java.time.Instant.now() + " " + line + "\n",
          java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
    } catch (IOException e) {
      System.err.println("cannot write target/fuzz-summary.txt: " + e);
    }
  }

  @AfterContainer
  static void stopAndCheckNothingChanged() throws Exception {
    try {
      try (KmsClient kms = cluster.client(REGION)) {
        assertEquals(before, state(kms), "a key that existed before the fuzzing changed");
        Set<String> after = keyIds(kms);
        assertTrue(after.containsAll(keysBefore));
        assertEquals(keysBefore.size() + CREATED.get(), after.size(), "keys appeared without an accepted CreateKey");
        assertEquals("victim", kms.decrypt(b -> b.ciphertextBlob(SdkBytes.fromByteArray(victimCiphertext)))
            .plaintext().asUtf8String());
        // The audit trail survived the hostile input: its last record is the last call above.
        var audit = io.kmsregions.audit.AuditLog.get(cluster.node(REGION).system());
        assertTrue(audit.flush(600_000), "the audit trail did not catch up within 10 minutes");
        String last;
        try (var lines = Files.lines(audit.file())) {
          last = lines.reduce((a, b) -> b).orElseThrow();
        }
        assertEquals("Decrypt", JSON.readTree(last).get("eventName").asText(), last);
      }
      String line = "HostileInputFuzzTest: " + SENT.get() + " HTTP requests, statuses " + STATUSES
          + ", " + CREATED.get() + " keys created by accepted CreateKey calls; keys, aliases, grants, audit trail intact";
      System.out.println(line);
      summary(line);
    } catch (Throwable t) {
      summary("HostileInputFuzzTest FAILED after " + SENT.get() + " HTTP requests: " + t);
      throw t;
    } finally {
      cluster.close();
      try (Stream<Path> walk = Files.walk(dataDir)) {
        walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  /** Everything observable about the keys that existed before, by key. */
  static Map<String, String> state(KmsClient kms) {
    Map<String, String> s = new LinkedHashMap<>();
    for (String keyId : victims.values()) {
      s.put(keyId + "/describe", kms.describeKey(b -> b.keyId(keyId)).keyMetadata().toString());
      s.put(keyId + "/policy", kms.getKeyPolicy(b -> b.keyId(keyId)).policy());
      s.put(keyId + "/tags", kms.listResourceTags(b -> b.keyId(keyId)).tags().toString());
      s.put(keyId + "/grants", kms.listGrants(b -> b.keyId(keyId)).grants().toString());
    }
    s.put("rotation", kms.getKeyRotationStatus(b -> b.keyId(symmetricKey)).toString());
    s.put("aliases", kms.listAliases(b -> b.keyId(symmetricKey)).aliases().toString());
    return s;
  }

  static Set<String> keyIds(KmsClient kms) {
    Set<String> ids = new HashSet<>();
    kms.listKeysPaginator(b -> b.limit(1000)).keys().forEach(k -> ids.add(k.keyId()));
    return ids;
  }

  // ---------------------------------------------------------------- the HTTP front

  /** One generated HTTP request. */
  record Case(String method, String path, String target, byte[] body, Auth auth, String contentType) {
    @Override
    public String toString() {
      String b = new String(body, 0, Math.min(body.length, 300), StandardCharsets.ISO_8859_1);
      return method + " " + path + " " + target + " " + auth + " (" + body.length + " bytes) " + b;
    }
  }

  /** How a case is signed. */
  enum Auth { VALID, NONE, GARBAGE, TAMPERED_SIGNATURE, STALE, OTHER_BODY }

  @Property(tries = TRIES, shrinking = ShrinkingMode.OFF)
  void theHttpFrontAnswersEveryHostileRequestWithAnAwsError(@ForAll("batches") List<Case> batch) throws Exception {
    Semaphore inFlight = new Semaphore(8);
    List<CompletableFuture<Void>> all = new ArrayList<>();
    List<String> failures = java.util.Collections.synchronizedList(new ArrayList<>());
    for (Case c : batch) {
      inFlight.acquire();
      CompletableFuture<Void> f = http.sendAsync(request(c), HttpResponse.BodyHandlers.ofString())
          .orTimeout(30, TimeUnit.SECONDS)
          .handle((r, failure) -> {
            inFlight.release();
            SENT.incrementAndGet();
            String problem = failure != null ? "no answer: " + failure : check(c, r);
            if (problem != null) failures.add(problem + " for " + c);
            return null;
          });
      all.add(f);
    }
    CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).get(5, TimeUnit.MINUTES);
    if (!failures.isEmpty()) {
      summary("HTTP batch FAILED: " + failures.size() + " bad answers; first: " + failures.get(0));
      fail(failures.size() + " bad answers; first: " + failures.get(0));
    }
    if (REQUESTS >= 100_000) summary("HTTP batch of " + batch.size() + " passed; " + SENT.get() + " requests so far");
  }

  static String check(Case c, HttpResponse<String> r) {
    STATUSES.computeIfAbsent(r.statusCode(), k -> new AtomicLong()).incrementAndGet();
    if (r.statusCode() >= 500) return "HTTP " + r.statusCode() + " " + r.body();
    String body = r.body();
    if (body.contains("\tat ") || body.contains("Exception:") || body.contains("java.")) {
      return "stack trace or class name in " + body;
    }
    if (r.statusCode() != 200) {
      try {
        JsonNode e = JSON.readTree(body);
        if (!e.hasNonNull("__type")) return "error without __type: " + body;
      } catch (IOException e) {
        return "error body is not JSON: " + body;
      }
    } else if (c.target().equals("TrentService.CreateKey")) {
      CREATED.incrementAndGet();
    }
    return null;
  }

  static HttpRequest request(Case c) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://" + host + c.path()))
        .timeout(Duration.ofSeconds(30))
        .method(c.method(), HttpRequest.BodyPublishers.ofByteArray(c.body()));
    if (c.contentType() != null) b.header("Content-Type", c.contentType());
    if (!c.target().isEmpty()) b.header("X-Amz-Target", c.target());
    String date = SigV4.amzDateNow();
    switch (c.auth()) {
      case NONE -> { }
      case GARBAGE -> b.header("Authorization", "AWS4-HMAC-SHA256 Credential=" + c.target().hashCode() + "/x, y");
      default -> {
        if (c.auth() == Auth.STALE) date = "20200101T000000Z";
        byte[] signed = c.auth() == Auth.OTHER_BODY ? "{}".getBytes(StandardCharsets.UTF_8) : c.body();
        String auth = authorization(date, c.target(), signed, c.contentType());
        if (c.auth() == Auth.TAMPERED_SIGNATURE) auth = auth.substring(0, auth.length() - 2) + "00";
        b.header("X-Amz-Date", date).header("Authorization", auth);
      }
    }
    return b.build();
  }

  /** Signs exactly the headers sent: content-type (when sent), host, x-amz-date, x-amz-target (when sent). */
  static String authorization(String date, String target, byte[] body, String contentType) {
    Map<String, String> headers = new LinkedHashMap<>();
    if (contentType != null) headers.put("content-type", contentType);
    headers.put("host", host);
    headers.put("x-amz-date", date);
    if (!target.isEmpty()) headers.put("x-amz-target", target);
    return SIGNER.authorization("POST", "/", "", headers, body, REGION, "kms");
  }

  @Provide
  Arbitrary<List<Case>> batches() {
    return fuzzCase().list().ofSize(Math.max(1, REQUESTS / TRIES));
  }

  /** Every operation the service knows, and some it does not. */
  static final List<String> TARGETS = List.of("CreateKey", "DescribeKey", "ListKeys", "Encrypt", "Decrypt", "ReEncrypt",
      "GenerateDataKey", "GenerateDataKeyWithoutPlaintext", "GenerateDataKeyPair", "GenerateDataKeyPairWithoutPlaintext",
      "Sign", "Verify", "GenerateMac", "VerifyMac", "GetPublicKey", "DeriveSharedSecret", "GenerateRandom",
      "EnableKey", "DisableKey", "UpdateKeyDescription", "ScheduleKeyDeletion", "CancelKeyDeletion", "TagResource",
      "UntagResource", "ListResourceTags", "GetKeyPolicy", "PutKeyPolicy", "ListKeyPolicies", "EnableKeyRotation",
      "DisableKeyRotation", "GetKeyRotationStatus", "RotateKeyOnDemand", "ListKeyRotations", "CreateAlias",
      "UpdateAlias", "DeleteAlias", "ListAliases", "CreateGrant", "ListGrants", "ListRetirableGrants", "RetireGrant",
      "RevokeGrant", "ReplicateKey", "UpdatePrimaryRegion", "GetKeyLastUsage", "ImportKeyMaterial", "NoSuchOperation");

  /**
   * Valid requests to mutate. Those that read or use keys name the victims; those that would
   * change a key name one that does not exist, so that even a mutation that stays valid cannot
   * change a victim (and CreateKey's accepted calls are counted).
   */
  static List<String[]> templates() {
    String sym = symmetricKey;
    String ct = Base64.getEncoder().encodeToString(victimCiphertext);
    String nobody = UUID.randomUUID().toString();
    return List.of(
        new String[] {"Encrypt", "{\"KeyId\":\"" + sym + "\",\"Plaintext\":\"aGVsbG8=\",\"EncryptionContext\":{\"a\":\"b\"}}"},
        new String[] {"Encrypt", "{\"KeyId\":\"alias/victim\",\"Plaintext\":\"aGVsbG8=\"}"},
        new String[] {"Decrypt", "{\"CiphertextBlob\":\"" + ct + "\"}"},
        new String[] {"Decrypt", "{\"CiphertextBlob\":\"" + ct + "\",\"KeyId\":\"" + sym + "\",\"EncryptionContext\":{}}"},
        new String[] {"ReEncrypt", "{\"CiphertextBlob\":\"" + ct + "\",\"DestinationKeyId\":\"" + sym + "\"}"},
        new String[] {"GenerateDataKey", "{\"KeyId\":\"" + sym + "\",\"KeySpec\":\"AES_256\"}"},
        new String[] {"GenerateDataKeyPair", "{\"KeyId\":\"" + sym + "\",\"KeyPairSpec\":\"ECC_NIST_P256\"}"},
        new String[] {"Sign", "{\"KeyId\":\"" + victims.get("ecc") + "\",\"Message\":\"aGk=\",\"SigningAlgorithm\":\"ECDSA_SHA_256\"}"},
        new String[] {"Verify", "{\"KeyId\":\"" + victims.get("rsa") + "\",\"Message\":\"aGk=\",\"Signature\":\"AAAA\",\"SigningAlgorithm\":\"RSASSA_PSS_SHA_256\"}"},
        new String[] {"GenerateMac", "{\"KeyId\":\"" + victims.get("hmac") + "\",\"Message\":\"aGk=\",\"MacAlgorithm\":\"HMAC_SHA_256\"}"},
        new String[] {"VerifyMac", "{\"KeyId\":\"" + victims.get("hmac") + "\",\"Message\":\"aGk=\",\"Mac\":\"AAAA\",\"MacAlgorithm\":\"HMAC_SHA_256\"}"},
        new String[] {"GetPublicKey", "{\"KeyId\":\"" + victims.get("rsa") + "\"}"},
        new String[] {"DescribeKey", "{\"KeyId\":\"" + sym + "\"}"},
        new String[] {"ListKeys", "{\"Limit\":10}"},
        new String[] {"ListGrants", "{\"KeyId\":\"" + sym + "\",\"Limit\":5}"},
        new String[] {"GenerateRandom", "{\"NumberOfBytes\":32}"},
        new String[] {"CreateKey", "{\"Description\":\"fuzz\",\"KeySpec\":\"SYMMETRIC_DEFAULT\",\"Tags\":[{\"TagKey\":\"a\",\"TagValue\":\"b\"}]}"},
        new String[] {"DisableKey", "{\"KeyId\":\"" + nobody + "\"}"},
        new String[] {"ScheduleKeyDeletion", "{\"KeyId\":\"" + nobody + "\",\"PendingWindowInDays\":7}"},
        new String[] {"PutKeyPolicy", "{\"KeyId\":\"" + nobody + "\",\"PolicyName\":\"default\",\"Policy\":\"{}\"}"},
        new String[] {"TagResource", "{\"KeyId\":\"" + nobody + "\",\"Tags\":[{\"TagKey\":\"a\",\"TagValue\":\"b\"}]}"},
        new String[] {"CreateAlias", "{\"AliasName\":\"alias/fuzz\",\"TargetKeyId\":\"" + nobody + "\"}"},
        new String[] {"CreateGrant", "{\"KeyId\":\"" + nobody + "\",\"GranteePrincipal\":\"arn:aws:iam::111122223333:user/x\",\"Operations\":[\"Encrypt\"]}"},
        new String[] {"ReplicateKey", "{\"KeyId\":\"mrk-0123456789abcdef0123456789abcdef\",\"ReplicaRegion\":\"eu-west-1\"}"},
        new String[] {"UpdatePrimaryRegion", "{\"KeyId\":\"mrk-0123456789abcdef0123456789abcdef\",\"PrimaryRegion\":\"eu-west-1\"}"});
  }

  Arbitrary<Case> fuzzCase() {
    List<String[]> templates = templates();
    Arbitrary<String[]> template = Arbitraries.of(templates);
    Arbitrary<Auth> auth = Arbitraries.frequencyOf(
        net.jqwik.api.Tuple.of(20, Arbitraries.just(Auth.VALID)), net.jqwik.api.Tuple.of(1, Arbitraries.of(Auth.class)));
    Arbitrary<Case> mutated = Combinators.combine(template, mutation(), auth)
        .as((t, m, a) -> new Case("POST", "/", "TrentService." + t[0], m.apply(t[1].getBytes(StandardCharsets.UTF_8)), a,
            "application/x-amz-json-1.1"));
    Arbitrary<Case> randomBody = Combinators.combine(Arbitraries.of(TARGETS), Arbitraries.bytes().array(byte[].class)
            .ofMaxSize(2000), auth)
        .as((t, b, a) -> new Case("POST", "/", "TrentService." + t, b, a, "application/x-amz-json-1.1"));
    Arbitrary<Case> wrongTypes = Combinators.combine(Arbitraries.of(TARGETS), wrongTypeBody(), auth)
        .as((t, b, a) -> new Case("POST", "/", "TrentService." + t, b.getBytes(StandardCharsets.UTF_8), a,
            "application/x-amz-json-1.1"));
    Arbitrary<Case> protocol = Combinators.combine(
            Arbitraries.of("POST", "GET", "PUT", "DELETE", "PATCH"), Arbitraries.of("/", "/x", "//", "/health/../", "/?a=b"),
            Arbitraries.of("", "TrentService.", "TrentService.Encrypt", "Other.Encrypt", "KmsRegions.Noop",
                "TrentService.../../etc"), Arbitraries.of("application/x-amz-json-1.1", "application/json", "text/plain"),
            auth)
        .as((m, p, t, ct, a) -> new Case(m, p, t, "{}".getBytes(StandardCharsets.UTF_8), a, ct));
    Arbitrary<Case> oversized = Arbitraries.integers().between(1_048_577, 1_200_000)
        .map(n -> new Case("POST", "/", "TrentService.Encrypt", hugeJson(n), Auth.VALID, "application/x-amz-json-1.1"));
    return Arbitraries.frequencyOf(
        net.jqwik.api.Tuple.of(600, mutated), net.jqwik.api.Tuple.of(150, randomBody),
        net.jqwik.api.Tuple.of(150, wrongTypes), net.jqwik.api.Tuple.of(80, protocol),
        // Big bodies cost megabytes each: a few per thousand (oversized ones in the long pass only).
        net.jqwik.api.Tuple.of(REQUESTS >= 100_000 ? 1 : 0, oversized),
        net.jqwik.api.Tuple.of(3, deepJson()), net.jqwik.api.Tuple.of(3, hugeField()));
  }

  static byte[] hugeJson(int n) {
    byte[] b = new byte[n];
    java.util.Arrays.fill(b, (byte) 'A');
    byte[] head = "{\"KeyId\":\"alias/victim\",\"Plaintext\":\"".getBytes(StandardCharsets.UTF_8);
    System.arraycopy(head, 0, b, 0, head.length);
    b[n - 2] = '"';
    b[n - 1] = '}';
    return b;
  }

  Arbitrary<Case> deepJson() {
    return Combinators.combine(Arbitraries.integers().between(60, 200_000), Arbitraries.of("[", "{\"a\":"),
            Arbitraries.of(TARGETS))
        .as((depth, open, t) -> {
          String close = open.equals("[") ? "]" : "}";
          return new Case("POST", "/", "TrentService." + t,
              ("{\"KeyId\":" + open.repeat(depth) + "1" + close.repeat(depth) + "}").getBytes(StandardCharsets.UTF_8),
              Auth.VALID, "application/x-amz-json-1.1");
        });
  }

  Arbitrary<Case> hugeField() {
    return Combinators.combine(Arbitraries.integers().between(4_000, 900_000), Arbitraries.of(templates()),
            Arbitraries.of("KeyId", "Plaintext", "CiphertextBlob", "Description", "Policy", "AliasName", "Message"))
        .as((n, t, field) -> {
          String value = "QUFB".repeat(n / 4);
          String body = t[1].replaceFirst("\\{", "{\"" + field + "\":\"" + value + "\",");
          return new Case("POST", "/", "TrentService." + t[0], body.getBytes(StandardCharsets.UTF_8), Auth.VALID,
              "application/x-amz-json-1.1");
        });
  }

  /** A JSON object whose members have the wrong types, bad base64, nulls, duplicates. */
  Arbitrary<String> wrongTypeBody() {
    Arbitrary<String> field = Arbitraries.of("KeyId", "Plaintext", "CiphertextBlob", "EncryptionContext", "GrantTokens",
        "NumberOfBytes", "KeySpec", "Limit", "Marker", "Tags", "DryRun", "Policy", "Message", "Signature", "Mac",
        "Operations", "Constraints", "PendingWindowInDays", "MultiRegion", "KeyUsage", "BypassPolicyLockoutSafetyCheck");
    Arbitrary<String> value = Arbitraries.of("1", "-1", "1e999", "99999999999999999999999", "true", "null", "[]",
        "{}", "\"\"", "\"%%%not base64%%%\"", "\"YWJj=\"", "\"====\"", "[1,[2,[3]]]", "{\"a\":{\"b\":1}}", "\"\\u0000\"",
        "\"\\ud800\"", "0.5", "\"" + "x".repeat(5000) + "\"", "[\"a\",1,null]", "{\"a\":1}");
    return Combinators.combine(field, value).as((f, v) -> "\"" + f + "\":" + v).list().ofMinSize(1).ofMaxSize(6)
        .map(members -> "{" + String.join(",", members) + (members.size() > 3 ? "," + members.get(0) : "") + "}");
  }

  /** Truncation, byte flips, insertions, deletions, bad base64 in place of base64. */
  static Arbitrary<Function<byte[], byte[]>> mutation() {
    Arbitrary<Function<byte[], byte[]>> truncate = Arbitraries.doubles().between(0, 1)
        .map(f -> b -> java.util.Arrays.copyOf(b, (int) (b.length * f)));
    Arbitrary<Function<byte[], byte[]>> flip = Combinators.combine(Arbitraries.doubles().between(0, 1),
            Arbitraries.bytes())
        .as((f, x) -> b -> {
          byte[] c = b.clone();
          if (c.length > 0) c[(int) (f * (c.length - 1))] ^= (x == 0 ? 1 : x);
          return c;
        });
    Arbitrary<Function<byte[], byte[]>> insert = Combinators.combine(Arbitraries.doubles().between(0, 1),
            Arbitraries.of("\"", "{", "}", "[", "]", ",", ":", "\\", "\u0000", "null", "\"\":\"\"", "\u00ff", "1e400",
                "\ud83d\ude00", "\"KeyId\":1,"))
        .as((f, s) -> b -> {
          String str = new String(b, StandardCharsets.UTF_8);
          int at = (int) (f * str.length());
          return (str.substring(0, at) + s + str.substring(at)).getBytes(StandardCharsets.UTF_8);
        });
    Arbitrary<Function<byte[], byte[]>> badBase64 = Arbitraries.of("!", "=", "====", "A", "AB", "ABC=", "%", " ")
        .map(s -> b -> new String(b, StandardCharsets.UTF_8).replace("aGVsbG8=", "aGVs" + s + "bG8=")
            .replace("aGk=", s).getBytes(StandardCharsets.UTF_8));
    Arbitrary<Function<byte[], byte[]>> one = Arbitraries.oneOf(truncate, flip, insert, badBase64);
    return one.list().ofMinSize(1).ofMaxSize(4).map(list -> b -> {
      byte[] out = b;
      for (Function<byte[], byte[]> m : list) out = m.apply(out);
      return out;
    });
  }

  // ---------------------------------------------------------------- the ciphertext parser

  static final byte[] MATERIAL = new byte[32];
  static final String MATERIAL_ID = "ab".repeat(32);
  static final byte[] VALID = SymmetricCiphertext.encrypt("1234abcd-12ab-34cd-56ef-1234567890ab", MATERIAL_ID, MATERIAL,
      "plaintext".getBytes(StandardCharsets.UTF_8), Map.of("a", "b"));

  /**
   * The symmetric ciphertext parser on random and mutated blobs: it refuses with
   * IllegalArgumentException (the API's InvalidCiphertextException) or decryption fails with a
   * GeneralSecurityException; nothing else is thrown and no altered blob decrypts.
   */
  @Property(tries = TRIES, shrinking = ShrinkingMode.OFF)
  void theCiphertextParserRefusesEveryAlteredBlob(@ForAll("blobBatches") List<byte[]> blobs) {
    for (byte[] blob : blobs) {
      SymmetricCiphertext.Header header;
      try {
        header = SymmetricCiphertext.parse(blob);
      } catch (IllegalArgumentException refused) {
        continue;
      }
      try {
        byte[] plain = SymmetricCiphertext.decrypt(header, MATERIAL, blob, Map.of("a", "b"));
        assertArrayEquals(VALID, blob, "an altered ciphertext decrypted to " + new String(plain, StandardCharsets.UTF_8));
      } catch (GeneralSecurityException expected) {
        // tag mismatch
      }
    }
    if (PARSED.addAndGet(blobs.size()) >= CIPHERTEXTS && CIPHERTEXTS >= 100_000) {
      summary("ciphertext parser: " + PARSED.get() + " inputs passed");
    }
  }

  @Provide
  Arbitrary<List<byte[]>> blobBatches() {
    Arbitrary<byte[]> random = Arbitraries.bytes().array(byte[].class).ofMaxSize(200);
    Arbitrary<byte[]> mutated = mutation().map(m -> m.apply(VALID));
    Arbitrary<byte[]> header = Combinators.combine(Arbitraries.integers().between(0, 255),
            Arbitraries.integers().between(0, 400))
        .as((idLength, total) -> {
          byte[] b = new byte[total];
          if (total > 0) b[0] = 1;
          if (total > 1) b[1] = (byte) (int) idLength;
          return b;
        });
    return Arbitraries.oneOf(random, mutated, header).list().ofSize(Math.max(1, CIPHERTEXTS / TRIES));
  }
}
