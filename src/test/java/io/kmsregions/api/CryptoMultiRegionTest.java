package io.kmsregions.api;

import static io.kmsregions.crypto.CryptoKeys.refused;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kmsregions.crypto.IndependentCrypto;
import io.kmsregions.key.KeySpec;
import io.kmsregions.key.KeyUsage;
import io.kmsregions.testkit.TestCluster;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.MGF1ParameterSpec;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import javax.crypto.Cipher;
import javax.crypto.spec.OAEPParameterSpec;
import javax.crypto.spec.PSource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.kms.KmsClient;
import software.amazon.awssdk.services.kms.model.GenerateDataKeyPairResponse;
import software.amazon.awssdk.services.kms.model.GetPublicKeyResponse;
import software.amazon.awssdk.services.kms.model.KeyState;
import software.amazon.awssdk.services.kms.model.ReEncryptResponse;

/**
 * Every key spec as a multi-Region key (kms-api.md §5 "Cross-Region decrypt"; issue 3): created in
 * us-east-1, replicated to eu-west-1, and then one key in both Regions: byte-identical public keys,
 * signatures and MACs made in one Region verify in the other, ciphertexts made in one decrypt in
 * the other, the same ECDH secret, and ReEncrypt across members.
 */
class CryptoMultiRegionTest {
  private static final String US = "us-east-1";
  private static final String EU = "eu-west-1";
  private static final String ACCOUNT = "111122223333";
  private static final byte[] MESSAGE = "one key in every Region".getBytes(StandardCharsets.UTF_8);

  /** Each spec at least once, with each usage it allows for the interesting ones. */
  private static final List<Object[]> CASES = List.of(
      new Object[] {KeySpec.SYMMETRIC_DEFAULT, KeyUsage.ENCRYPT_DECRYPT},
      new Object[] {KeySpec.RSA_2048, KeyUsage.ENCRYPT_DECRYPT},
      new Object[] {KeySpec.RSA_2048, KeyUsage.SIGN_VERIFY},
      new Object[] {KeySpec.RSA_3072, KeyUsage.SIGN_VERIFY},
      new Object[] {KeySpec.RSA_4096, KeyUsage.ENCRYPT_DECRYPT},
      new Object[] {KeySpec.ECC_NIST_P256, KeyUsage.SIGN_VERIFY},
      new Object[] {KeySpec.ECC_NIST_P256, KeyUsage.KEY_AGREEMENT},
      new Object[] {KeySpec.ECC_NIST_P384, KeyUsage.SIGN_VERIFY},
      new Object[] {KeySpec.ECC_NIST_P521, KeyUsage.KEY_AGREEMENT},
      new Object[] {KeySpec.ECC_SECG_P256K1, KeyUsage.SIGN_VERIFY},
      new Object[] {KeySpec.ECC_NIST_EDWARDS25519, KeyUsage.SIGN_VERIFY},
      new Object[] {KeySpec.ML_DSA_44, KeyUsage.SIGN_VERIFY},
      new Object[] {KeySpec.ML_DSA_65, KeyUsage.SIGN_VERIFY},
      new Object[] {KeySpec.ML_DSA_87, KeyUsage.SIGN_VERIFY},
      new Object[] {KeySpec.HMAC_224, KeyUsage.GENERATE_VERIFY_MAC},
      new Object[] {KeySpec.HMAC_256, KeyUsage.GENERATE_VERIFY_MAC},
      new Object[] {KeySpec.HMAC_384, KeyUsage.GENERATE_VERIFY_MAC},
      new Object[] {KeySpec.HMAC_512, KeyUsage.GENERATE_VERIFY_MAC},
      new Object[] {KeySpec.SM2, KeyUsage.ENCRYPT_DECRYPT},
      new Object[] {KeySpec.SM2, KeyUsage.SIGN_VERIFY},
      new Object[] {KeySpec.SM2, KeyUsage.KEY_AGREEMENT});

  @TempDir static Path dataDir;
  private static TestCluster cluster;
  private static KmsClient us;
  private static KmsClient eu;
  /** "SPEC/USAGE" to the mrk- key id. */
  private static final Map<String, String> KEYS = new LinkedHashMap<>();

  @BeforeAll
  static void replicateEverySpec() {
    cluster = TestCluster.start(dataDir, List.of(US, EU), com.typesafe.config.ConfigFactory.empty());
    us = cluster.client(US);
    eu = cluster.client(EU);
    for (Object[] c : CASES) {
      String keyId = us.createKey(b -> b.keySpec(c[0].toString()).keyUsage(c[1].toString()).multiRegion(true))
          .keyMetadata().keyId();
      KEYS.put(c[0] + "/" + c[1], keyId);
      assertEquals(KeyState.CREATING, us.replicateKey(b -> b.keyId(keyId).replicaRegion(EU))
          .replicaKeyMetadata().keyState());
    }
    TestCluster.await(Duration.ofSeconds(60), "every replica in " + EU + " is Enabled", () -> {
      for (String keyId : KEYS.values()) {
        if (eu.describeKey(b -> b.keyId(keyId)).keyMetadata().keyState() != KeyState.ENABLED) return false;
      }
      return true;
    });
  }

  @AfterAll
  static void stop() {
    if (us != null) us.close();
    if (eu != null) eu.close();
    if (cluster != null) cluster.close();
  }

  static Stream<Arguments> cases() {
    return CASES.stream().map(c -> Arguments.of(c[0], c[1]));
  }

  private static String arn(String region, String keyId) {
    return "arn:aws:kms:" + region + ":" + ACCOUNT + ":key/" + keyId;
  }

  private static SdkBytes bytes(byte[] b) {
    return SdkBytes.fromByteArray(b);
  }

  private static KmsClient other(KmsClient c) {
    return c == us ? eu : us;
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("cases")
  void everyMemberIsTheSameKey(KeySpec spec, KeyUsage usage) throws Exception {
    String keyId = KEYS.get(spec + "/" + usage);
    byte[] spki = null;
    if (spec.family() != KeySpec.Family.SYMMETRIC && spec.family() != KeySpec.Family.HMAC) {
      GetPublicKeyResponse inUs = us.getPublicKey(b -> b.keyId(keyId));
      GetPublicKeyResponse inEu = eu.getPublicKey(b -> b.keyId(keyId));
      assertArrayEquals(inUs.publicKey().asByteArray(), inEu.publicKey().asByteArray(), "public keys differ");
      assertEquals(arn(US, keyId), inUs.keyId());
      assertEquals(arn(EU, keyId), inEu.keyId());
      spki = inUs.publicKey().asByteArray();
    }
    switch (usage) {
      case SIGN_VERIFY -> {
        for (String algorithm : spec.algorithms(usage)) {
          boolean ph = algorithm.equals("ED25519_PH_SHA_512");
          byte[] message = ph ? MessageDigest.getInstance("SHA-512").digest(MESSAGE) : MESSAGE;
          String type = ph ? "DIGEST" : "RAW";
          for (KmsClient signer : List.of(us, eu)) {
            byte[] signature = signer.sign(b -> b.keyId(keyId).message(bytes(message)).messageType(type)
                .signingAlgorithm(algorithm)).signature().asByteArray();
            assertTrue(other(signer).verify(b -> b.keyId(keyId).message(bytes(message)).messageType(type)
                .signature(bytes(signature)).signingAlgorithm(algorithm)).signatureValid());
            assertTrue(IndependentCrypto.verify(algorithm, spki, message, signature), algorithm);
          }
        }
      }
      case GENERATE_VERIFY_MAC -> {
        String algorithm = spec.algorithms(usage).get(0);
        byte[] inUs = us.generateMac(b -> b.keyId(keyId).message(bytes(MESSAGE)).macAlgorithm(algorithm)).mac().asByteArray();
        byte[] inEu = eu.generateMac(b -> b.keyId(keyId).message(bytes(MESSAGE)).macAlgorithm(algorithm)).mac().asByteArray();
        assertArrayEquals(inUs, inEu, "the same secret in both Regions");
        assertTrue(eu.verifyMac(b -> b.keyId(keyId).message(bytes(MESSAGE)).mac(bytes(inUs)).macAlgorithm(algorithm))
            .macValid());
        assertTrue(us.verifyMac(b -> b.keyId(keyId).message(bytes(MESSAGE)).mac(bytes(inEu)).macAlgorithm(algorithm))
            .macValid());
      }
      case ENCRYPT_DECRYPT -> {
        for (String algorithm : spec.algorithms(usage)) {
          boolean symmetric = algorithm.equals("SYMMETRIC_DEFAULT");
          for (KmsClient encrypter : List.of(us, eu)) {
            byte[] blob = encrypter.encrypt(b -> b.keyId(keyId).plaintext(bytes(MESSAGE)).encryptionAlgorithm(algorithm))
                .ciphertextBlob().asByteArray();
            KmsClient decrypter = other(encrypter);
            String region = decrypter == us ? US : EU;
            var d = symmetric
                ? decrypter.decrypt(b -> b.ciphertextBlob(bytes(blob)))
                : decrypter.decrypt(b -> b.keyId(arn(region, keyId)).ciphertextBlob(bytes(blob)).encryptionAlgorithm(algorithm));
            assertArrayEquals(MESSAGE, d.plaintext().asByteArray());
            assertEquals(arn(region, keyId), d.keyId());
          }
          if (algorithm.startsWith("RSAES_OAEP")) {
            // Offline with the public key from one Region, decrypted in the other.
            String hash = algorithm.endsWith("SHA_1") ? "SHA-1" : "SHA-256";
            Cipher jdk = Cipher.getInstance("RSA/ECB/OAEPWith" + hash + "AndMGF1Padding");
            jdk.init(Cipher.ENCRYPT_MODE, IndependentCrypto.publicKey(spki),
                new OAEPParameterSpec(hash, "MGF1", new MGF1ParameterSpec(hash), PSource.PSpecified.DEFAULT));
            byte[] offline = jdk.doFinal(MESSAGE);
            assertArrayEquals(MESSAGE, eu.decrypt(b -> b.keyId(keyId).ciphertextBlob(bytes(offline))
                .encryptionAlgorithm(algorithm)).plaintext().asByteArray());
          }
        }
      }
      case KEY_AGREEMENT -> {
        KeyPairGenerator g = spec == KeySpec.SM2
            ? KeyPairGenerator.getInstance("EC", IndependentCrypto.BC) : KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec(switch (spec) {
          case ECC_NIST_P256 -> "secp256r1";
          case ECC_NIST_P521 -> "secp521r1";
          default -> "sm2p256v1";
        }));
        KeyPair peer = g.generateKeyPair();
        byte[] inUs = us.deriveSharedSecret(b -> b.keyId(keyId).keyAgreementAlgorithm("ECDH")
            .publicKey(bytes(peer.getPublic().getEncoded()))).sharedSecret().asByteArray();
        byte[] inEu = eu.deriveSharedSecret(b -> b.keyId(keyId).keyAgreementAlgorithm("ECDH")
            .publicKey(bytes(peer.getPublic().getEncoded()))).sharedSecret().asByteArray();
        assertArrayEquals(inUs, inEu);
      }
    }
  }

  @Test
  void reEncryptAcrossMembers() {
    String symmetric = KEYS.get("SYMMETRIC_DEFAULT/ENCRYPT_DECRYPT");
    String rsa = KEYS.get("RSA_4096/ENCRYPT_DECRYPT");
    String sm2 = KEYS.get("SM2/ENCRYPT_DECRYPT");
    Map<String, String> context = Map.of("tenant", "42");
    byte[] fromUs = us.encrypt(b -> b.keyId(symmetric).plaintext(bytes(MESSAGE)).encryptionContext(context))
        .ciphertextBlob().asByteArray();

    // A us-east-1 ciphertext re-encrypted in eu-west-1 to the RSA key's eu-west-1 member ...
    ReEncryptResponse toRsa = eu.reEncrypt(b -> b.ciphertextBlob(bytes(fromUs)).sourceEncryptionContext(context)
        .destinationKeyId(arn(EU, rsa)).destinationEncryptionAlgorithm("RSAES_OAEP_SHA_256"));
    assertEquals(arn(EU, symmetric), toRsa.sourceKeyId());
    assertEquals(arn(EU, rsa), toRsa.keyId());
    // ... decrypts with its us-east-1 member,
    assertArrayEquals(MESSAGE, us.decrypt(b -> b.keyId(rsa).ciphertextBlob(toRsa.ciphertextBlob())
        .encryptionAlgorithm("RSAES_OAEP_SHA_256")).plaintext().asByteArray());
    // and back in us-east-1, from RSA to SM2, then in eu-west-1 from SM2 to symmetric.
    ReEncryptResponse toSm2 = us.reEncrypt(b -> b.ciphertextBlob(toRsa.ciphertextBlob()).sourceKeyId(rsa)
        .sourceEncryptionAlgorithm("RSAES_OAEP_SHA_256").destinationKeyId(sm2).destinationEncryptionAlgorithm("SM2PKE"));
    ReEncryptResponse toSymmetric = eu.reEncrypt(b -> b.ciphertextBlob(toSm2.ciphertextBlob()).sourceKeyId(sm2)
        .sourceEncryptionAlgorithm("SM2PKE").destinationKeyId(symmetric));
    assertEquals(arn(EU, symmetric), toSymmetric.keyId());
    assertEquals(eu.describeKey(b -> b.keyId(symmetric)).keyMetadata().currentKeyMaterialId(),
        toSymmetric.destinationKeyMaterialId());
    assertArrayEquals(MESSAGE, us.decrypt(b -> b.ciphertextBlob(toSymmetric.ciphertextBlob())).plaintext().asByteArray());
    // A KeyId naming the member of another Region is not this Region's key.
    refused("NotFoundException", "Invalid arn " + US, () -> eu.reEncrypt(b -> b.ciphertextBlob(bytes(fromUs))
        .sourceEncryptionContext(context).destinationKeyId(arn(US, symmetric))));
  }

  @Test
  void dataKeyPairsMadeInOneRegionOpenInTheOther() throws Exception {
    String symmetric = KEYS.get("SYMMETRIC_DEFAULT/ENCRYPT_DECRYPT");
    GenerateDataKeyPairResponse pair = eu.generateDataKeyPair(b -> b.keyId(symmetric).keyPairSpec("ECC_NIST_P256"));
    assertEquals(arn(EU, symmetric), pair.keyId());
    byte[] pkcs8 = us.decrypt(b -> b.ciphertextBlob(pair.privateKeyCiphertextBlob())).plaintext().asByteArray();
    assertArrayEquals(pair.privateKeyPlaintext().asByteArray(), pkcs8);
    byte[] spki = pair.publicKey().asByteArray();
    byte[] signature = IndependentCrypto.sign("ECDSA_SHA_256", pkcs8, spki, MESSAGE);
    assertTrue(IndependentCrypto.verify("ECDSA_SHA_256", spki, MESSAGE, signature));
  }
}
