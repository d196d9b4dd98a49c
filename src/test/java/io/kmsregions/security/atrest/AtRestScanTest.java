package io.kmsregions.security.atrest;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.kmsregions.key.KeyEntity;
import io.kmsregions.key.KeyManager;
import io.kmsregions.key.KeyMaterial;
import io.kmsregions.region.RegionNode;
import io.kmsregions.testkit.TestCluster;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.kms.KmsClient;
import software.amazon.awssdk.services.kms.model.KeyState;

/**
 * Key material at rest, on a real two-Region cluster with real LevelDB: keys of every spec,
 * single- and multi-Region (replicated), symmetric ones rotated, snapshots every 2 events. After a
 * stop, no file of the data folder holds any material in clear, nor its base64 or hex, nor any
 * 16-byte window of it (so no DER or PKCS#8 sub-structure of a private key either). After a
 * restart on the same data, every ciphertext, signature and MAC made before still checks out.
 */
class AtRestScanTest {
  static final String US = "us-east-1";
  static final String EU = "eu-west-1";
  /** Spec and usage of every key spec of kms-api.md §3. */
  static final String[][] SPECS = {
      {"SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT"}, {"RSA_2048", "ENCRYPT_DECRYPT"}, {"RSA_3072", "SIGN_VERIFY"},
      {"RSA_4096", "ENCRYPT_DECRYPT"}, {"ECC_NIST_P256", "SIGN_VERIFY"}, {"ECC_NIST_P384", "SIGN_VERIFY"},
      {"ECC_NIST_P521", "SIGN_VERIFY"}, {"ECC_SECG_P256K1", "SIGN_VERIFY"}, {"ECC_NIST_EDWARDS25519", "SIGN_VERIFY"},
      {"ML_DSA_44", "SIGN_VERIFY"}, {"ML_DSA_65", "SIGN_VERIFY"}, {"ML_DSA_87", "SIGN_VERIFY"},
      {"HMAC_224", "GENERATE_VERIFY_MAC"}, {"HMAC_256", "GENERATE_VERIFY_MAC"}, {"HMAC_384", "GENERATE_VERIFY_MAC"},
      {"HMAC_512", "GENERATE_VERIFY_MAC"}, {"SM2", "SIGN_VERIFY"}};

  @TempDir Path dataDir;

  record Made(String keyId, String usage, String spec, byte[] output) {}

  @Test
  void noMaterialInClearOnDiskAndEverythingOpensAfterARestart() throws Exception {
    var extra = ConfigFactory.parseString("kms.snapshot-every = 2");
    List<Made> made = new ArrayList<>();
    List<byte[]> secrets = new ArrayList<>();
    List<byte[]> publicKeys = new ArrayList<>();
    try (TestCluster cluster = TestCluster.start(dataDir, List.of(US, EU), extra);
        KmsClient us = cluster.client(US)) {
      List<String> multi = new ArrayList<>();
      for (String[] s : SPECS) {
        for (boolean mrk : new boolean[] {false, true}) {
          String keyId = us.createKey(b -> b.keySpec(s[0]).keyUsage(s[1]).multiRegion(mrk)).keyMetadata().keyId();
          if (mrk) {
            us.replicateKey(b -> b.keyId(keyId).replicaRegion(EU));
            multi.add(keyId);
          }
          if (s[0].equals("SYMMETRIC_DEFAULT")) {
            made.add(new Made(keyId, s[1], s[0], encrypt(us, keyId))); // before the rotation
          }
        }
      }
      try (KmsClient eu = cluster.client(EU)) {
        for (String keyId : multi) {
          TestCluster.await(Duration.ofSeconds(60), keyId + " Enabled in " + EU,
              () -> eu.describeKey(b -> b.keyId(keyId)).keyMetadata().keyState() == KeyState.ENABLED);
        }
      }
      // Rotate the symmetric keys (single and multi-Region), twice.
      for (String keyId : keyIds(us, "SYMMETRIC_DEFAULT")) {
        for (int i = 0; i < 2; i++) {
          us.rotateKeyOnDemand(b -> b.keyId(keyId));
          TestCluster.await(Duration.ofSeconds(60), keyId + " rotated",
              () -> us.listKeyRotations(b -> b.keyId(keyId)).rotations().size() >= 1);
        }
      }
      TestCluster.await(Duration.ofSeconds(60), "rotations complete", () -> {
        for (String keyId : keyIds(us, "SYMMETRIC_DEFAULT")) {
          if (us.listKeyRotations(b -> b.keyId(keyId)).rotations().size() < 2) return false;
        }
        return true;
      });
      for (String[] s : SPECS) {
        for (String keyId : keyIds(us, s[0])) made.add(new Made(keyId, s[1], s[0], use(us, keyId, s[0], s[1])));
      }
      for (String region : List.of(US, EU)) {
        for (KeyEntity.Key k : allKeys(cluster.node(region), region.equals(US) ? keyIds(us, null) : multi)) {
          for (KeyMaterial m : k.shared().materials()) {
            secrets.add(m.secret());
            if (m.publicKey() != null) publicKeys.add(m.publicKey());
          }
        }
      }
    }
    assertTrue(secrets.size() >= SPECS.length * 2 + 2 * 2 * 2, "materials collected: " + secrets.size());

    Scanner scanner = new Scanner(secrets, publicKeys);
    // The scanner finds material that is there: a control, so that a pass below means something.
    Path control = Files.createTempFile("control", ".bin");
    Files.write(control, concat(new byte[] {1, 2, 3}, Base64.getEncoder().encode(secrets.get(5)), new byte[] {4}));
    assertTrue(scanner.findIn(control) != null, "the scanner finds base64 material");
    Files.write(control, concat(new byte[] {7}, java.util.Arrays.copyOfRange(secrets.get(7), 10, 40), new byte[] {8}));
    assertTrue(scanner.findIn(control) != null, "the scanner finds a 30-byte piece of material");
    Files.delete(control);

    List<Path> files;
    try (Stream<Path> walk = Files.walk(dataDir)) {
      files = walk.filter(Files::isRegularFile).toList();
    }
    assertTrue(files.stream().anyMatch(p -> p.toString().contains("journal")), files.toString());
    assertTrue(files.stream().anyMatch(p -> p.toString().contains("snapshots")), files.toString());
    for (Path f : files) {
      String found = scanner.findIn(f);
      assertEquals(null, found, f + " holds key material: " + found);
    }

    try (TestCluster cluster = TestCluster.start(dataDir, List.of(US, EU), extra);
        KmsClient us = cluster.client(US);
        KmsClient eu = cluster.client(EU)) {
      for (Made m : made) {
        check(us, m);
        if (m.keyId().startsWith("mrk-")) check(eu, m);
      }
    }
  }

  static byte[] encrypt(KmsClient kms, String keyId) {
    return kms.encrypt(b -> b.keyId(keyId).plaintext(SdkBytes.fromUtf8String("at rest " + keyId))).ciphertextBlob()
        .asByteArray();
  }

  static byte[] use(KmsClient kms, String keyId, String spec, String usage) {
    return switch (usage) {
      case "ENCRYPT_DECRYPT" -> spec.startsWith("RSA")
          ? kms.encrypt(b -> b.keyId(keyId).encryptionAlgorithm("RSAES_OAEP_SHA_256")
              .plaintext(SdkBytes.fromUtf8String("at rest " + keyId))).ciphertextBlob().asByteArray()
          : encrypt(kms, keyId);
      case "SIGN_VERIFY" -> kms.sign(b -> b.keyId(keyId).signingAlgorithm(signing(spec))
          .message(SdkBytes.fromUtf8String("at rest " + keyId))).signature().asByteArray();
      default -> kms.generateMac(b -> b.keyId(keyId).macAlgorithm(mac(spec))
          .message(SdkBytes.fromUtf8String("at rest " + keyId))).mac().asByteArray();
    };
  }

  static void check(KmsClient kms, Made m) {
    SdkBytes message = SdkBytes.fromUtf8String("at rest " + m.keyId());
    switch (m.usage()) {
      case "ENCRYPT_DECRYPT" -> assertEquals("at rest " + m.keyId(), kms.decrypt(b -> {
        b.ciphertextBlob(SdkBytes.fromByteArray(m.output()));
        if (m.spec().startsWith("RSA")) b.keyId(m.keyId()).encryptionAlgorithm("RSAES_OAEP_SHA_256");
      }).plaintext().asUtf8String());
      case "SIGN_VERIFY" -> assertTrue(kms.verify(b -> b.keyId(m.keyId()).signingAlgorithm(signing(m.spec()))
          .message(message).signature(SdkBytes.fromByteArray(m.output()))).signatureValid());
      default -> assertTrue(kms.verifyMac(b -> b.keyId(m.keyId()).macAlgorithm(mac(m.spec()))
          .message(message).mac(SdkBytes.fromByteArray(m.output()))).macValid());
    }
  }

  static String signing(String spec) {
    return switch (spec) {
      case "RSA_3072" -> "RSASSA_PSS_SHA_256";
      case "ECC_NIST_P256", "ECC_SECG_P256K1" -> "ECDSA_SHA_256";
      case "ECC_NIST_P384" -> "ECDSA_SHA_384";
      case "ECC_NIST_P521" -> "ECDSA_SHA_512";
      case "ECC_NIST_EDWARDS25519" -> "ED25519_SHA_512";
      case "SM2" -> "SM2DSA";
      default -> "ML_DSA_SHAKE_256";
    };
  }

  static String mac(String spec) {
    return "HMAC_SHA_" + spec.substring(5);
  }

  /** The key ids of us-east-1 of {@code spec} (every key when null). */
  static List<String> keyIds(KmsClient us, String spec) {
    List<String> ids = new ArrayList<>();
    for (var k : us.listKeysPaginator(b -> b.limit(100)).keys()) {
      if (spec == null || us.describeKey(b -> b.keyId(k.keyId())).keyMetadata().keySpecAsString().equals(spec)) {
        ids.add(k.keyId());
      }
    }
    return ids;
  }

  /** Each key's state as its actor holds it (with the material in memory). */
  static List<KeyEntity.Key> allKeys(RegionNode node, List<String> keyIds) throws Exception {
    Duration timeout = Duration.ofSeconds(10);
    ActorRef<KeyManager.Command> keys = Adapter.toTyped(Adapter.toClassic(node.system()).actorSelection("/user/keys")
        .resolveOne(timeout).toCompletableFuture().get(10, TimeUnit.SECONDS));
    List<KeyEntity.Key> out = new ArrayList<>();
    for (String keyId : keyIds) {
      KeyEntity.KeyReply reply = AskPattern.<KeyManager.Command, KeyEntity.KeyReply>ask(keys,
          replyTo -> new KeyManager.Route(keyId, new KeyEntity.GetKey(replyTo)), timeout, node.system().scheduler())
          .toCompletableFuture().get(10, TimeUnit.SECONDS);
      out.add(((KeyEntity.KeyFound) reply).key());
    }
    return out;
  }

  static byte[] concat(byte[]... parts) {
    int n = 0;
    for (byte[] p : parts) n += p.length;
    byte[] out = new byte[n];
    int at = 0;
    for (byte[] p : parts) {
      System.arraycopy(p, 0, out, at, p.length);
      at += p.length;
    }
    return out;
  }

  /**
   * Finds any 16-byte window (stride 8) of any secret, or of its base64 (standard and URL-safe) or
   * hex (either case) text, anywhere in a file: an index of the windows' first 8 bytes makes one
   * pass over each file enough. Windows that are structure rather than secret are left out: those
   * that two different secrets share (the PKCS#8 header of a key spec, with its algorithm OID) and
   * those that also occur in a public key (the SubjectPublicKeyInfo repeats the OIDs; an Ed25519 or
   * ML-DSA PKCS#8 may embed the public key), which is not secret and stored as it is.
   */
  static final class Scanner {
    private final Map<Long, List<byte[]>> windows = new HashMap<>();

    Scanner(List<byte[]> secrets, List<byte[]> publicKeys) {
      Map<String, Integer> seenIn = new HashMap<>();
      Map<String, byte[]> all = new HashMap<>();
      for (int n = 0; n < secrets.size(); n++) {
        byte[] s = secrets.get(n);
        if (s == null) continue;
        for (byte[] w : windowsOf(s)) {
          String key = HexFormat.of().formatHex(w);
          Integer first = seenIn.putIfAbsent(key, n);
          if (first != null && first != n) seenIn.put(key, -1); // shared by two secrets: structure
          all.put(key, w);
        }
      }
      java.util.Set<String> inPublic = new java.util.HashSet<>();
      for (byte[] p : publicKeys) {
        for (byte[] form : forms(p)) {
          for (int i = 0; i + 16 <= form.length; i++) {
            inPublic.add(HexFormat.of().formatHex(java.util.Arrays.copyOfRange(form, i, i + 16)));
          }
        }
      }
      for (Map.Entry<String, byte[]> e : all.entrySet()) {
        if (seenIn.get(e.getKey()) == -1 || inPublic.contains(e.getKey())) continue;
        windows.computeIfAbsent(prefix(e.getValue(), 0), k -> new ArrayList<>()).add(e.getValue());
      }
    }

    private static List<byte[]> forms(byte[] s) {
      return List.of(s, Base64.getEncoder().encode(s), Base64.getUrlEncoder().encode(s),
          HexFormat.of().formatHex(s).getBytes(StandardCharsets.US_ASCII),
          HexFormat.of().withUpperCase().formatHex(s).getBytes(StandardCharsets.US_ASCII));
    }

    private static List<byte[]> windowsOf(byte[] s) {
      List<byte[]> out = new ArrayList<>();
      for (byte[] form : forms(s)) {
        for (int i = 0; i + 16 <= form.length; i += 8) out.add(java.util.Arrays.copyOfRange(form, i, i + 16));
        if (form.length >= 16) out.add(java.util.Arrays.copyOfRange(form, form.length - 16, form.length));
      }
      return out;
    }

    private static long prefix(byte[] b, int at) {
      long v = 0;
      for (int i = 0; i < 8; i++) v = (v << 8) | (b[at + i] & 0xff);
      return v;
    }

    /** A description of the first window found in {@code file}, or null. */
    String findIn(Path file) throws java.io.IOException {
      byte[] data = Files.readAllBytes(file);
      for (int i = 0; i + 16 <= data.length; i++) {
        List<byte[]> candidates = windows.get(prefix(data, i));
        if (candidates == null) continue;
        for (byte[] w : candidates) {
          if (java.util.Arrays.equals(data, i, i + 16, w, 0, 16)) {
            return "window " + HexFormat.of().formatHex(w) + " at offset " + i;
          }
        }
      }
      return null;
    }
  }
}
