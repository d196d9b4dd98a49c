package io.kmsregions.seed;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.kmsregions.testkit.TestCluster;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.kms.KmsClient;
import software.amazon.awssdk.services.kms.model.KeyMetadata;
import software.amazon.awssdk.services.kms.model.KeyState;
import software.amazon.awssdk.services.kms.model.MacAlgorithmSpec;
import software.amazon.awssdk.services.kms.model.MultiRegionKeyType;

/**
 * Seeded keys (issue 8): a YAML seed file creates keys with fixed ids and material at start, on
 * real clusters with the AWS SDK for Java v2. A seeded multi-Region key decrypts across Regions; a
 * restart with the same file changes nothing; a ciphertext from one fresh cluster decrypts in
 * another seeded from the same file; a conflicting entry stops the start with a one-line reason;
 * invalid files are refused before anything starts.
 */
class SeededKeysTest {
  private static final String US = "us-east-1";
  private static final String EU = "eu-west-1";
  private static final String AP = "ap-southeast-2";
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final String MRK = "mrk-0123456789abcdef0123456789abcdef";
  private static final String RSA = "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0";
  private static final String HMAC = "11111111-2222-4333-8444-555555555555";
  private static final String EXTERNAL = "mrk-fedcba9876543210fedcba9876543210";
  private static final String DISABLED = "22222222-3333-4444-8555-666666666666";

  @TempDir Path dir;

  @Test
  void seededKeysWorkSurviveRestartsAndDecryptInAnotherFreshCluster() throws Exception {
    byte[] v1 = random(32), v2 = random(32), hmac = random(32), imported = random(32);
    KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
    g.initialize(2048);
    KeyPair rsa = g.generateKeyPair();
    Path seed = write("seed.yaml", seedYaml(v1, v2, hmac, imported, rsa));

    SdkBytes ciphertext;
    SdkBytes importedCiphertext;
    try (TestCluster a = TestCluster.start(dir.resolve("a"), TestCluster.DEFAULT_REGIONS, seedConfig(seed))) {
      KmsClient us = a.client(US);
      for (String r : List.of(US, EU, AP)) {
        KeyMetadata m = a.client(r).describeKey(b -> b.keyId(MRK)).keyMetadata();
        assertEquals(KeyState.ENABLED, m.keyState(), r);
        assertEquals("seeded payments key", m.description());
        assertEquals(r.equals(US) ? MultiRegionKeyType.PRIMARY : MultiRegionKeyType.REPLICA,
            m.multiRegionConfiguration().multiRegionKeyType(), r);
        assertEquals(US, m.multiRegionConfiguration().primaryKey().region());
        assertEquals(2, m.multiRegionConfiguration().replicaKeys().size());
        assertEquals("alias/payments", a.client(r).listAliases(b -> b.keyId(MRK)).aliases().get(0).aliasName());
      }
      assertEquals(Map.of("team", "payments"), us.listResourceTags(b -> b.keyId(MRK)).tags().stream()
          .collect(Collectors.toMap(t -> t.tagKey(), t -> t.tagValue())));
      assertEquals(1, us.listKeyRotations(b -> b.keyId(MRK)).rotations().size(), "two versions: one rotation");
      // Encrypt through the alias in us-east-1, decrypt in the other Regions
      ciphertext = us.encrypt(b -> b.keyId("alias/payments").plaintext(SdkBytes.fromUtf8String("seeded secret"))).ciphertextBlob();
      for (String r : List.of(EU, AP)) {
        assertEquals("seeded secret", a.client(r).decrypt(b -> b.ciphertextBlob(ciphertext)).plaintext().asUtf8String());
      }
      // The key pair is the PEM's; the HMAC key is the base64's
      KmsClient eu = a.client(EU);
      assertArrayEquals(rsa.getPublic().getEncoded(), eu.getPublicKey(b -> b.keyId(RSA)).publicKey().asByteArray());
      Mac jdk = Mac.getInstance("HmacSHA256");
      jdk.init(new SecretKeySpec(hmac, "HmacSHA256"));
      assertArrayEquals(jdk.doFinal("m".getBytes(StandardCharsets.UTF_8)), us.generateMac(b -> b.keyId(HMAC)
          .macAlgorithm(MacAlgorithmSpec.HMAC_SHA_256).message(SdkBytes.fromUtf8String("m"))).mac().asByteArray());
      assertEquals("{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"111122223333\"},\"Action\":\"kms:*\",\"Resource\":\"*\"}]}",
          us.getKeyPolicy(b -> b.keyId(HMAC).policyName("default")).policy());
      assertEquals(KeyState.DISABLED, us.describeKey(b -> b.keyId(DISABLED)).keyMetadata().keyState());
      // An EXTERNAL multi-Region key seeded with material: imported everywhere, never expiring
      importedCiphertext = a.client(AP).encrypt(b -> b.keyId(EXTERNAL).plaintext(SdkBytes.fromUtf8String("imported")))
          .ciphertextBlob();
      assertEquals("imported", us.decrypt(b -> b.ciphertextBlob(importedCiphertext)).plaintext().asUtf8String());
      // A change made at run time
      us.updateKeyDescription(b -> b.keyId(MRK).description("changed at run time"));
    }

    // Restart on the same data with the same file: nothing changes
    try (TestCluster again = TestCluster.start(dir.resolve("a"), TestCluster.DEFAULT_REGIONS, seedConfig(seed))) {
      assertEquals("changed at run time", again.client(US).describeKey(b -> b.keyId(MRK)).keyMetadata().description());
      assertEquals(1, again.client(US).listAliases(b -> b.keyId(MRK)).aliases().size());
      assertEquals("seeded secret", again.client(AP).decrypt(b -> b.ciphertextBlob(ciphertext)).plaintext().asUtf8String());
    }

    // Another fresh cluster seeded from the same file decrypts what the first one encrypted
    try (TestCluster b = TestCluster.start(dir.resolve("b"), TestCluster.DEFAULT_REGIONS, seedConfig(seed))) {
      assertEquals("seeded secret", b.client(EU).decrypt(r -> r.ciphertextBlob(ciphertext)).plaintext().asUtf8String());
      assertEquals("imported", b.client(EU).decrypt(r -> r.ciphertextBlob(importedCiphertext)).plaintext().asUtf8String());
    }

    // The same key id with other material: the start stops and names the entry
    Path conflicting = write("conflict.yaml", seedYaml(random(32), random(32), hmac, imported, rsa));
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> TestCluster.start(dir.resolve("b"), List.of(US, EU, AP), seedConfig(conflicting)).close());
    Throwable root = e;
    while (root.getCause() != null) root = root.getCause();
    assertTrue(root instanceof SeedException, "cause: " + root);
    assertTrue(root.getMessage().contains("keys[0] (" + MRK + ") conflicts with the key in"), root.getMessage());
    assertTrue(root.getMessage().contains("different material"), root.getMessage());
    assertEquals(1, root.getMessage().lines().count(), "one line");
  }

  @Test
  void theCommandLineReportsAConflictOnOneLineAndExitsNonZero() throws Exception {
    Path seed = write("seed.yaml", "keys:\n  - keyId: " + RSA.replace('0', 'a') + "\n    regions: [us-east-1]\n"
        + "    material:\n      - base64: " + b64(random(32)) + "\n");
    try (TestCluster a = TestCluster.start(dir.resolve("data"), List.of(US), seedConfig(seed))) {
      assertEquals(KeyState.ENABLED, a.client(US).describeKey(b -> b.keyId(RSA.replace('0', 'a'))).keyMetadata().keyState());
    }
    Path conflicting = write("conflict.yaml", "keys:\n  - keyId: " + RSA.replace('0', 'a') + "\n    regions: [us-east-1]\n"
        + "    keySpec: HMAC_256\n    keyUsage: GENERATE_VERIFY_MAC\n    material:\n      - base64: " + b64(random(32)) + "\n");
    Path regions = dir.resolve("regions");
    Files.createDirectories(regions);
    Files.writeString(regions.resolve("us-east-1.conf"), "name = \"us-east-1\"\nhttp { host = \"127.0.0.1\", port = "
        + TestCluster.freePort() + " }\ncluster { host = \"127.0.0.1\", port = " + TestCluster.freePort() + " }\n");
    String[] out = runCli("up", "--data-dir", dir.resolve("data").toString(), "--regions", regions.toString(),
        "--seed", conflicting.toString(), "--ready-timeout", "60", "--supervisor-port", "-1");
    assertEquals("1", out[0]);
    assertEquals(1, out[1].strip().lines().count(), out[1]);
    assertTrue(out[1].startsWith("kms-regions up: seed file "), out[1]);
    assertTrue(out[1].contains("it has key spec SYMMETRIC_DEFAULT, the seed file HMAC_256"), out[1]);

    // An invalid file is refused before any Region starts
    Path invalid = write("invalid.yaml", "keys:\n  - keyId: " + MRK + "\n    regions: [us-east-1, mars-north-1]\n");
    String[] bad = runCli("up", "--data-dir", dir.resolve("data").toString(), "--regions", regions.toString(),
        "--seed", invalid.toString(), "--supervisor-port", "-1");
    assertEquals("2", bad[0]);
    assertTrue(bad[1].strip().endsWith("mars-north-1 is not a Region of this cluster [us-east-1]"), bad[1]);
  }

  @Test
  void invalidSeedFilesAreRefusedWithTheEntryAndTheReason() throws Exception {
    List<String> cluster = TestCluster.DEFAULT_REGIONS;
    String sym = "    material:\n      - base64: " + b64(random(32)) + "\n";
    Map<String, String> cases = new java.util.LinkedHashMap<>();
    cases.put("keys:\n  - keyId: not-an-id\n    regions: [us-east-1]\n" + sym, "keyId must be a key id");
    cases.put("keys:\n  - keyId: " + RSA + "\n    regions: [us-east-1, eu-west-1]\n" + sym, "a single-Region key has exactly one Region");
    cases.put("keys:\n  - keyId: " + RSA + "\n    regions: [us-east-1]\n", "material is required for an AWS_KMS key");
    cases.put("keys:\n  - keyId: " + RSA + "\n    regions: [us-east-1]\n" + sym + "  - keyId: " + RSA
        + "\n    regions: [us-east-1]\n" + sym, "keys[1] (" + RSA + "): the key id appears more than once");
    cases.put("keys:\n  - keyId: " + RSA + "\n    regions: [us-east-1]\n    material:\n      - base64: " + b64(random(16)) + "\n",
        "must be 32 bytes");
    cases.put("keys:\n  - keyId: " + RSA + "\n    regions: [us-east-1]\n    keySpec: RSA_2048\n    keyUsage: SIGN_VERIFY\n"
        + "    material:\n      - base64: " + b64(random(32)) + "\n", "takes a PEM private key");
    cases.put("keys:\n  - keyId: " + RSA + "\n    regions: [us-east-1]\n    keySpec: RSA_2048\n" + sym, "keyUsage is required");
    cases.put("keys:\n  - keyId: " + RSA + "\n    regions: [us-east-1]\n    origin: AWS_CLOUDHSM\n" + sym, "cannot be seeded");
    cases.put("keys:\n  - keyId: " + RSA + "\n    regions: [us-east-1]\n    aliases: [payments]\n" + sym, "not a valid alias name");
    cases.put("keys:\n  - keyId: " + RSA + "\n    regions: [us-east-1]\n    tags: {\"aws:x\": y}\n" + sym, "reserved");
    cases.put("keys:\n  - keyId: " + RSA + "\n    regions: [us-east-1]\n    colour: blue\n" + sym, "cannot read it");
    cases.put("keys: [", "cannot read it");
    int i = 0;
    for (Map.Entry<String, String> c : cases.entrySet()) {
      Path file = write("bad" + i++ + ".yaml", c.getKey());
      SeedException e = assertThrows(SeedException.class, () -> SeedFile.load(file, cluster), c.getKey());
      assertTrue(e.getMessage().contains(c.getValue()), e.getMessage() + " should say " + c.getValue());
      assertTrue(e.getMessage().startsWith("seed file " + file), e.getMessage());
      assertEquals(1, e.getMessage().lines().count(), e.getMessage());
    }
  }

  @Test
  void whatCountsAsAConflictWithAnExistingKey() throws Exception {
    String material = "    material:\n      - base64: " + b64(random(32)) + "\n";
    SeedFile.SeededKey twoRegions = SeedFile.load(write("two.yaml", "keys:\n  - keyId: " + MRK
        + "\n    regions: [us-east-1, eu-west-1]\n" + material), TestCluster.DEFAULT_REGIONS).keys().get(0);
    SeedFile.SeededKey threeRegions = SeedFile.load(write("three.yaml", "keys:\n  - keyId: " + MRK
        + "\n    regions: [us-east-1, eu-west-1, ap-southeast-2]\n" + material), TestCluster.DEFAULT_REGIONS).keys().get(0);
    io.kmsregions.key.SharedProperties shared = new io.kmsregions.key.SharedProperties(1,
        io.kmsregions.key.KeySpec.SYMMETRIC_DEFAULT, io.kmsregions.key.KeyUsage.ENCRYPT_DECRYPT,
        io.kmsregions.key.Origin.AWS_KMS, SeedFile.materials(twoRegions, 0));
    io.kmsregions.key.KeyEntity.Key existing = new io.kmsregions.key.KeyEntity.Key(MRK, US, 0, "changed", "{}", List.of(),
        io.kmsregions.key.KeyState.Disabled, shared,
        new io.kmsregions.key.MultiRegionConfiguration(2, 3, EU, List.of(US)), List.of(), 0);
    // A changed description, state or primary Region is the user's business, not a conflict
    assertEquals(null, SeedLoader.conflict(existing, twoRegions));
    // A Region the file adds to the key set is
    assertTrue(SeedLoader.conflict(existing, threeRegions).contains("no member in ap-southeast-2"));
    // as are other material and another spec
    SeedFile.SeededKey otherMaterial = SeedFile.load(write("other.yaml", "keys:\n  - keyId: " + MRK
        + "\n    regions: [us-east-1]\n    material:\n      - base64: " + b64(random(32)) + "\n"),
        TestCluster.DEFAULT_REGIONS).keys().get(0);
    assertTrue(SeedLoader.conflict(existing, otherMaterial).contains("different material"));
  }

  // ------------------------------------------------------------------ helpers

  private static String seedYaml(byte[] v1, byte[] v2, byte[] hmac, byte[] imported, KeyPair rsa) {
    String pem = "-----BEGIN PRIVATE KEY-----\n"
        + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(rsa.getPrivate().getEncoded())
        + "\n-----END PRIVATE KEY-----";
    return String.join("\n",
        "keys:",
        "  - keyId: " + MRK,
        "    regions: [us-east-1, eu-west-1, ap-southeast-2]",
        "    description: seeded payments key",
        "    tags: {team: payments}",
        "    aliases: [alias/payments]",
        "    material:",
        "      - base64: " + b64(v1),
        "      - base64: " + b64(v2),
        "  - keyId: " + RSA,
        "    regions: [eu-west-1]",
        "    keySpec: RSA_2048",
        "    keyUsage: SIGN_VERIFY",
        "    material:",
        "      - pem: |",
        pem.lines().map(l -> "          " + l).collect(Collectors.joining("\n")),
        "  - keyId: " + HMAC,
        "    regions: [us-east-1]",
        "    keySpec: HMAC_256",
        "    keyUsage: GENERATE_VERIFY_MAC",
        // Not the default policy, but one that still lets the account use the key (authorisation, issue 7).
        "    policy: '{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"111122223333\"},\"Action\":\"kms:*\",\"Resource\":\"*\"}]}'",
        "    material:",
        "      - base64: " + b64(hmac),
        "  - keyId: " + EXTERNAL,
        "    regions: [ap-southeast-2, us-east-1, eu-west-1]",
        "    origin: EXTERNAL",
        "    material:",
        "      - base64: " + b64(imported),
        "  - keyId: " + DISABLED,
        "    regions: [us-east-1]",
        "    enabled: false",
        "    material:",
        "      - base64: " + b64(imported),
        "");
  }

  private Path write(String name, String text) throws Exception {
    Path p = dir.resolve(name);
    Files.writeString(p, text);
    return p;
  }

  private static com.typesafe.config.Config seedConfig(Path seed) {
    return ConfigFactory.parseMap(Map.of("kms.seed-file", seed.toString()));
  }

  private static String[] runCli(String... args) {
    return io.kmsregions.testkit.Cli.run(args);
  }

  private static String b64(byte[] b) {
    return Base64.getEncoder().encodeToString(b);
  }

  private static byte[] random(int n) {
    byte[] b = new byte[n];
    RANDOM.nextBytes(b);
    return b;
  }
}
