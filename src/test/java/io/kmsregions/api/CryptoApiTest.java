package io.kmsregions.api;

import static io.kmsregions.crypto.CryptoKeys.refused;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kmsregions.alias.KeyBackdoor;
import io.kmsregions.crypto.IndependentCrypto;
import io.kmsregions.key.KeySpec;
import io.kmsregions.key.KeyState;
import io.kmsregions.key.KeyUsage;
import io.kmsregions.testkit.TestCluster;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPrivateCrtKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.MGF1ParameterSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.stream.Stream;
import javax.crypto.Cipher;
import javax.crypto.KeyAgreement;
import javax.crypto.spec.OAEPParameterSpec;
import javax.crypto.spec.PSource;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.crypto.digests.SM3Digest;
import org.bouncycastle.crypto.engines.SM2Engine;
import org.bouncycastle.crypto.params.ParametersWithRandom;
import org.bouncycastle.crypto.util.PublicKeyFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.kms.KmsClient;
import software.amazon.awssdk.services.kms.model.DecryptResponse;
import software.amazon.awssdk.services.kms.model.DeriveSharedSecretResponse;
import software.amazon.awssdk.services.kms.model.GenerateDataKeyPairResponse;
import software.amazon.awssdk.services.kms.model.GenerateDataKeyPairWithoutPlaintextResponse;
import software.amazon.awssdk.services.kms.model.GetPublicKeyResponse;
import software.amazon.awssdk.services.kms.model.ReEncryptResponse;
import software.amazon.awssdk.services.kms.model.SignResponse;

/**
 * The cryptographic operations of issue 3 over HTTP with the AWS SDK for Java v2, on one Region
 * of a real cluster, checked against independent implementations ({@link IndependentCrypto}: the
 * JDK, or Bouncy Castle where JDK 17 lacks the algorithm) and against AWS's error texts
 * (kms-api.md §1, §6, §7).
 */
class CryptoApiTest {
  private static final String US = "us-east-1";
  private static final String ACCOUNT = "111122223333";
  private static final String DRY_RUN = "The request would have succeeded, but the DryRun option is set.";
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final byte[] MESSAGE = "kms-regions signs this message".getBytes(StandardCharsets.UTF_8);

  @TempDir static Path dataDir;
  private static TestCluster cluster;
  private static KmsClient kms;
  /** One key per (spec, usage), created on first use. */
  private static final Map<String, String> KEYS = new ConcurrentHashMap<>();

  @BeforeAll
  static void start() {
    cluster = TestCluster.start(dataDir, List.of(US), com.typesafe.config.ConfigFactory.empty());
    kms = cluster.client(US);
  }

  @AfterAll
  static void stop() {
    if (kms != null) kms.close();
    if (cluster != null) cluster.close();
  }

  private static String key(KeySpec spec, KeyUsage usage) {
    return KEYS.computeIfAbsent(spec + "/" + usage, k -> kms.createKey(b -> b.keySpec(spec.name())
        .keyUsage(usage.name()).description("crypto " + k)).keyMetadata().keyId());
  }

  /** A new key in {@code state}: through DisableKey and ScheduleKeyDeletion, else a copy (Creating). */
  private static String inState(KeySpec spec, KeyUsage usage, KeyState state) {
    if (state == KeyState.Creating) return KeyBackdoor.copyInState(cluster.node(US), key(spec, usage), state);
    String keyId = kms.createKey(b -> b.keySpec(spec.name()).keyUsage(usage.name())).keyMetadata().keyId();
    if (state == KeyState.Disabled) kms.disableKey(b -> b.keyId(keyId));
    if (state == KeyState.PendingDeletion) kms.scheduleKeyDeletion(b -> b.keyId(keyId).pendingWindowInDays(7));
    assertEquals(state.name(), kms.describeKey(b -> b.keyId(keyId)).keyMetadata().keyStateAsString());
    return keyId;
  }

  private static String arn(String keyId) {
    return "arn:aws:kms:" + US + ":" + ACCOUNT + ":key/" + keyId;
  }

  private static SdkBytes bytes(byte[] b) {
    return SdkBytes.fromByteArray(b);
  }

  private static byte[] flip(byte[] b) {
    byte[] t = b.clone();
    t[t.length / 2] ^= 0x01;
    return t;
  }

  private static byte[] random(int n) {
    byte[] b = new byte[n];
    RANDOM.nextBytes(b);
    return b;
  }

  static Stream<Arguments> signingPairs() {
    List<Arguments> out = new ArrayList<>();
    for (KeySpec spec : KeySpec.values()) {
      for (String a : spec.algorithms(KeyUsage.SIGN_VERIFY)) out.add(Arguments.of(spec, a));
    }
    return out.stream();
  }

  // ------------------------------------------------------------------ Sign / Verify / GetPublicKey

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("signingPairs")
  void signaturesVerifyWithIndependentVerifiers(KeySpec spec, String algorithm) throws Exception {
    String keyId = key(spec, KeyUsage.SIGN_VERIFY);
    byte[] spki = kms.getPublicKey(b -> b.keyId(keyId)).publicKey().asByteArray();

    if (!algorithm.equals("ED25519_PH_SHA_512")) {
      SignResponse raw = kms.sign(b -> b.keyId(keyId).message(bytes(MESSAGE)).messageType("RAW")
          .signingAlgorithm(algorithm));
      assertEquals(arn(keyId), raw.keyId());
      assertEquals(algorithm, raw.signingAlgorithmAsString());
      byte[] signature = raw.signature().asByteArray();
      assertTrue(IndependentCrypto.verify(algorithm, spki, MESSAGE, signature), "independent verifier rejects RAW");
      assertFalse(IndependentCrypto.verify(algorithm, spki, flip(MESSAGE), signature));
      assertTrue(kms.verify(b -> b.keyId(keyId).message(bytes(MESSAGE)).signature(bytes(signature))
          .signingAlgorithm(algorithm)).signatureValid());
      refused("KMSInvalidSignatureException", null, () -> kms.verify(b -> b.keyId(keyId)
          .message(bytes(flip(MESSAGE))).signature(bytes(signature)).signingAlgorithm(algorithm)));
      refused("KMSInvalidSignatureException", null, () -> kms.verify(b -> b.keyId(keyId)
          .message(bytes(MESSAGE)).signature(bytes(flip(signature))).signingAlgorithm(algorithm)));
    }
    switch (algorithm) {
      case "ML_DSA_SHAKE_256" -> {
        byte[] mu = IndependentCrypto.mu(spki, MESSAGE);
        byte[] signature = kms.sign(b -> b.keyId(keyId).message(bytes(mu)).messageType("EXTERNAL_MU")
            .signingAlgorithm(algorithm)).signature().asByteArray();
        assertTrue(IndependentCrypto.verify(algorithm, spki, MESSAGE, signature), "EXTERNAL_MU is not mu of RAW");
        assertTrue(kms.verify(b -> b.keyId(keyId).message(bytes(MESSAGE)).signature(bytes(signature))
            .signingAlgorithm(algorithm)).signatureValid());
        assertTrue(kms.verify(b -> b.keyId(keyId).message(bytes(mu)).messageType("EXTERNAL_MU")
            .signature(bytes(signature)).signingAlgorithm(algorithm)).signatureValid());
      }
      case "ED25519_SHA_512" -> { } // RAW only
      case "ED25519_PH_SHA_512" -> {
        // KMS applies Ed25519ph's SHA-512 prehash to the 64 bytes it is given (kms-api.md §7).
        byte[] digest = MessageDigest.getInstance("SHA-512").digest(MESSAGE);
        byte[] signature = kms.sign(b -> b.keyId(keyId).message(bytes(digest)).messageType("DIGEST")
            .signingAlgorithm(algorithm)).signature().asByteArray();
        assertEquals(64, signature.length);
        assertTrue(IndependentCrypto.verify(algorithm, spki, digest, signature), "the JDK's Ed25519ph rejects it");
        assertTrue(kms.verify(b -> b.keyId(keyId).message(bytes(digest)).messageType("DIGEST")
            .signature(bytes(signature)).signingAlgorithm(algorithm)).signatureValid());
        refused("KMSInvalidSignatureException", null, () -> kms.verify(b -> b.keyId(keyId)
            .message(bytes(flip(digest))).messageType("DIGEST").signature(bytes(signature))
            .signingAlgorithm(algorithm)));
      }
      default -> {
        // A digest signed with DIGEST verifies as RAW of the message (SM2DSA: e = SM3(Z_A || M)).
        byte[] digest = IndependentCrypto.digest(algorithm, spki, MESSAGE);
        byte[] signature = kms.sign(b -> b.keyId(keyId).message(bytes(digest)).messageType("DIGEST")
            .signingAlgorithm(algorithm)).signature().asByteArray();
        assertTrue(IndependentCrypto.verify(algorithm, spki, MESSAGE, signature), "DIGEST signature is not RAW's");
        assertTrue(kms.verify(b -> b.keyId(keyId).message(bytes(MESSAGE)).signature(bytes(signature))
            .signingAlgorithm(algorithm)).signatureValid());
        assertTrue(kms.verify(b -> b.keyId(keyId).message(bytes(digest)).messageType("DIGEST")
            .signature(bytes(signature)).signingAlgorithm(algorithm)).signatureValid());
      }
    }
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(value = KeySpec.class, names = {"RSA_2048", "ECC_NIST_P256", "ECC_NIST_EDWARDS25519", "ML_DSA_44"})
  void digestsOfTheWrongLengthAreRefused(KeySpec spec) {
    String keyId = key(spec, KeyUsage.SIGN_VERIFY);
    String algorithm = spec.algorithms(KeyUsage.SIGN_VERIFY).get(spec == KeySpec.ECC_NIST_EDWARDS25519 ? 1 : 0);
    String type = spec == KeySpec.ML_DSA_44 ? "EXTERNAL_MU" : "DIGEST";
    refused("ValidationException", "Digest is invalid length for algorithm " + algorithm + ".",
        () -> kms.sign(b -> b.keyId(keyId).message(bytes(new byte[31])).messageType(type).signingAlgorithm(algorithm)));
    refused("ValidationException", "Digest is invalid length for algorithm " + algorithm + ".",
        () -> kms.verify(b -> b.keyId(keyId).message(bytes(new byte[31])).messageType(type)
            .signature(bytes(new byte[64])).signingAlgorithm(algorithm)));
  }

  @Test
  void messageTypesAnAlgorithmDoesNotTakeAreRefused() {
    String ed = key(KeySpec.ECC_NIST_EDWARDS25519, KeyUsage.SIGN_VERIFY);
    refused("ValidationException", "Message type DIGEST is incompatible with algorithm ED25519_SHA_512.",
        () -> kms.sign(b -> b.keyId(ed).message(bytes(new byte[64])).messageType("DIGEST")
            .signingAlgorithm("ED25519_SHA_512")));
    refused("ValidationException", "Message type RAW is incompatible with algorithm ED25519_PH_SHA_512.",
        () -> kms.sign(b -> b.keyId(ed).message(bytes(MESSAGE)).signingAlgorithm("ED25519_PH_SHA_512")));
    String p256 = key(KeySpec.ECC_NIST_P256, KeyUsage.SIGN_VERIFY);
    refused("ValidationException", "Message type EXTERNAL_MU is incompatible with algorithm ECDSA_SHA_256.",
        () -> kms.sign(b -> b.keyId(p256).message(bytes(new byte[64])).messageType("EXTERNAL_MU")
            .signingAlgorithm("ECDSA_SHA_256")));
    String mlDsa = key(KeySpec.ML_DSA_65, KeyUsage.SIGN_VERIFY);
    refused("ValidationException", "Message type DIGEST is incompatible with algorithm ML_DSA_SHAKE_256.",
        () -> kms.sign(b -> b.keyId(mlDsa).message(bytes(new byte[64])).messageType("DIGEST")
            .signingAlgorithm("ML_DSA_SHAKE_256")));
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("publicKeyCases")
  void getPublicKeyReturnsTheSpkiAndTheUsagesAlgorithms(KeySpec spec, KeyUsage usage) throws Exception {
    String keyId = key(spec, usage);
    GetPublicKeyResponse r = kms.getPublicKey(b -> b.keyId(keyId));
    assertEquals(arn(keyId), r.keyId());
    assertEquals(spec.name(), r.keySpecAsString());
    assertEquals(usage.name(), r.keyUsageAsString());
    boolean hasCmkSpec = spec.family() != KeySpec.Family.EDWARDS && spec.family() != KeySpec.Family.ML_DSA;
    assertEquals(hasCmkSpec ? spec.name() : null, r.customerMasterKeySpecAsString());
    List<String> expected = spec.algorithms(usage);
    assertEquals(usage == KeyUsage.ENCRYPT_DECRYPT ? expected : List.of(), r.encryptionAlgorithmsAsStrings());
    assertEquals(usage == KeyUsage.SIGN_VERIFY ? expected : List.of(), r.signingAlgorithmsAsStrings());
    assertEquals(usage == KeyUsage.KEY_AGREEMENT ? expected : List.of(), r.keyAgreementAlgorithmsAsStrings());
    assertFalse(r.hasEncryptionAlgorithms() && usage != KeyUsage.ENCRYPT_DECRYPT);
    PublicKey parsed = IndependentCrypto.publicKey(r.publicKey().asByteArray());
    assertArrayEquals(r.publicKey().asByteArray(), parsed.getEncoded());
    if (spec.family() == KeySpec.Family.RSA) assertEquals(spec.size(), ((RSAPublicKey) parsed).getModulus().bitLength());
    if (spec == KeySpec.ECC_NIST_P384) assertEquals(384, ((ECPublicKey) parsed).getParams().getCurve().getField().getFieldSize());
  }

  static Stream<Arguments> publicKeyCases() {
    return Stream.of(
        Arguments.of(KeySpec.RSA_3072, KeyUsage.SIGN_VERIFY), Arguments.of(KeySpec.RSA_2048, KeyUsage.ENCRYPT_DECRYPT),
        Arguments.of(KeySpec.ECC_NIST_P384, KeyUsage.SIGN_VERIFY), Arguments.of(KeySpec.ECC_NIST_P256, KeyUsage.KEY_AGREEMENT),
        Arguments.of(KeySpec.ECC_SECG_P256K1, KeyUsage.SIGN_VERIFY),
        Arguments.of(KeySpec.ECC_NIST_EDWARDS25519, KeyUsage.SIGN_VERIFY), Arguments.of(KeySpec.ML_DSA_87, KeyUsage.SIGN_VERIFY),
        Arguments.of(KeySpec.SM2, KeyUsage.ENCRYPT_DECRYPT), Arguments.of(KeySpec.SM2, KeyUsage.SIGN_VERIFY),
        Arguments.of(KeySpec.SM2, KeyUsage.KEY_AGREEMENT));
  }

  @Test
  void getPublicKeyOfSymmetricAndHmacKeysIsUnsupported() {
    String symmetric = key(KeySpec.SYMMETRIC_DEFAULT, KeyUsage.ENCRYPT_DECRYPT);
    refused("UnsupportedOperationException", () -> kms.getPublicKey(b -> b.keyId(symmetric)));
    String hmac = key(KeySpec.HMAC_256, KeyUsage.GENERATE_VERIFY_MAC);
    refused("UnsupportedOperationException", () -> kms.getPublicKey(b -> b.keyId(hmac)));
  }

  // ------------------------------------------------------------------ asymmetric encryption

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("rsaEncryption")
  void rsaOaepFromTheJdkDecryptsWithKms(KeySpec spec, String algorithm) throws Exception {
    String keyId = key(spec, KeyUsage.ENCRYPT_DECRYPT);
    byte[] spki = kms.getPublicKey(b -> b.keyId(keyId)).publicKey().asByteArray();
    String hash = algorithm.equals("RSAES_OAEP_SHA_1") ? "SHA-1" : "SHA-256";
    int hashLength = hash.equals("SHA-1") ? 20 : 32;
    int max = spec.size() / 8 - 2 * hashLength - 2;
    byte[] plaintext = random(max);

    Cipher jdk = Cipher.getInstance("RSA/ECB/OAEPWith" + hash + "AndMGF1Padding");
    jdk.init(Cipher.ENCRYPT_MODE, IndependentCrypto.publicKey(spki),
        new OAEPParameterSpec(hash, "MGF1", new MGF1ParameterSpec(hash), PSource.PSpecified.DEFAULT));
    byte[] offline = jdk.doFinal(plaintext);
    DecryptResponse d = kms.decrypt(b -> b.keyId(keyId).ciphertextBlob(bytes(offline)).encryptionAlgorithm(algorithm));
    assertArrayEquals(plaintext, d.plaintext().asByteArray());
    assertEquals(arn(keyId), d.keyId());
    assertEquals(algorithm, d.encryptionAlgorithmAsString());
    assertNull(d.keyMaterialId(), "KeyMaterialId is for symmetric keys only");

    byte[] blob = kms.encrypt(b -> b.keyId(keyId).plaintext(bytes(plaintext)).encryptionAlgorithm(algorithm))
        .ciphertextBlob().asByteArray();
    assertEquals(spec.size() / 8, blob.length);
    assertArrayEquals(plaintext, kms.decrypt(b -> b.keyId(arn(keyId)).ciphertextBlob(bytes(blob))
        .encryptionAlgorithm(algorithm)).plaintext().asByteArray());

    String other = algorithm.equals("RSAES_OAEP_SHA_1") ? "RSAES_OAEP_SHA_256" : "RSAES_OAEP_SHA_1";
    refused("InvalidCiphertextException", null,
        () -> kms.decrypt(b -> b.keyId(keyId).ciphertextBlob(bytes(blob)).encryptionAlgorithm(other)));
    refused("InvalidCiphertextException", null,
        () -> kms.decrypt(b -> b.keyId(keyId).ciphertextBlob(bytes(flip(blob))).encryptionAlgorithm(algorithm)));
    refused("ValidationException", "Algorithm " + algorithm + " and key spec " + spec
            + " cannot encrypt data larger than " + max + " bytes.",
        () -> kms.encrypt(b -> b.keyId(keyId).plaintext(bytes(random(max + 1))).encryptionAlgorithm(algorithm)));
  }

  static Stream<Arguments> rsaEncryption() {
    return Stream.of(KeySpec.RSA_2048, KeySpec.RSA_3072, KeySpec.RSA_4096).flatMap(s ->
        Stream.of(Arguments.of(s, "RSAES_OAEP_SHA_1"), Arguments.of(s, "RSAES_OAEP_SHA_256")));
  }

  @Test
  void asymmetricDecryptNeedsKeyIdAndAlgorithm() {
    String keyId = key(KeySpec.RSA_2048, KeyUsage.ENCRYPT_DECRYPT);
    byte[] blob = kms.encrypt(b -> b.keyId(keyId).plaintext(bytes(MESSAGE)).encryptionAlgorithm("RSAES_OAEP_SHA_256"))
        .ciphertextBlob().asByteArray();
    refused("ValidationException", "KeyId is required when EncryptionAlgorithm is RSAES_OAEP_SHA_256.",
        () -> kms.decrypt(b -> b.ciphertextBlob(bytes(blob)).encryptionAlgorithm("RSAES_OAEP_SHA_256")));
    refused("InvalidKeyUsageException", "Algorithm SYMMETRIC_DEFAULT is incompatible with key spec RSA_2048.",
        () -> kms.decrypt(b -> b.keyId(keyId).ciphertextBlob(bytes(blob))));
    refused("InvalidKeyUsageException", "Algorithm SYMMETRIC_DEFAULT is incompatible with key spec RSA_2048.",
        () -> kms.encrypt(b -> b.keyId(keyId).plaintext(bytes(MESSAGE))));
    refused("InvalidKeyUsageException", "Algorithm SM2PKE is incompatible with key spec RSA_2048.",
        () -> kms.encrypt(b -> b.keyId(keyId).plaintext(bytes(MESSAGE)).encryptionAlgorithm("SM2PKE")));
    // Without KeyId, a bare RSA ciphertext is just not a ciphertext of any key.
    refused("InvalidCiphertextException", () -> kms.decrypt(b -> b.ciphertextBlob(bytes(blob))));
    refused("ValidationException",
        () -> kms.encrypt(b -> b.keyId(keyId).plaintext(bytes(MESSAGE)).encryptionAlgorithm("RSAES_OAEP_SHA_256")
            .encryptionContext(Map.of("a", "b"))));
    String symmetric = key(KeySpec.SYMMETRIC_DEFAULT, KeyUsage.ENCRYPT_DECRYPT);
    refused("InvalidKeyUsageException", "Algorithm RSAES_OAEP_SHA_1 is incompatible with key spec SYMMETRIC_DEFAULT.",
        () -> kms.encrypt(b -> b.keyId(symmetric).plaintext(bytes(MESSAGE)).encryptionAlgorithm("RSAES_OAEP_SHA_1")));
  }

  @Test
  void sm2pkeInteroperatesWithBouncyCastlesEngine() throws Exception {
    String keyId = key(KeySpec.SM2, KeyUsage.ENCRYPT_DECRYPT);
    byte[] spki = kms.getPublicKey(b -> b.keyId(keyId)).publicKey().asByteArray();
    byte[] plaintext = random(1024);
    SM2Engine engine = new SM2Engine(new SM3Digest(), SM2Engine.Mode.C1C3C2);
    engine.init(true, new ParametersWithRandom(PublicKeyFactory.createKey(spki), RANDOM));
    byte[] offline = engine.processBlock(plaintext, 0, plaintext.length);
    assertArrayEquals(plaintext, kms.decrypt(b -> b.keyId(keyId).ciphertextBlob(bytes(offline))
        .encryptionAlgorithm("SM2PKE")).plaintext().asByteArray());
    byte[] blob = kms.encrypt(b -> b.keyId(keyId).plaintext(bytes(plaintext)).encryptionAlgorithm("SM2PKE"))
        .ciphertextBlob().asByteArray();
    assertEquals(97 + 1024, blob.length);
    assertArrayEquals(plaintext, kms.decrypt(b -> b.keyId(keyId).ciphertextBlob(bytes(blob))
        .encryptionAlgorithm("SM2PKE")).plaintext().asByteArray());
    refused("ValidationException", "Algorithm SM2PKE and key spec SM2 cannot encrypt data larger than 1024 bytes.",
        () -> kms.encrypt(b -> b.keyId(keyId).plaintext(bytes(random(1025))).encryptionAlgorithm("SM2PKE")));
    refused("InvalidCiphertextException", null,
        () -> kms.decrypt(b -> b.keyId(keyId).ciphertextBlob(bytes(flip(blob))).encryptionAlgorithm("SM2PKE")));
  }

  // ------------------------------------------------------------------ ReEncrypt

  @Test
  void reEncryptBetweenSymmetricAndAsymmetricKeys() {
    String a = key(KeySpec.SYMMETRIC_DEFAULT, KeyUsage.ENCRYPT_DECRYPT);
    String b2 = kms.createKey(b -> b.description("second symmetric")).keyMetadata().keyId();
    String rsa = key(KeySpec.RSA_2048, KeyUsage.ENCRYPT_DECRYPT);
    Map<String, String> source = Map.of("purpose", "source");
    Map<String, String> destination = Map.of("purpose", "destination");
    byte[] blob = kms.encrypt(b -> b.keyId(a).plaintext(bytes(MESSAGE)).encryptionContext(source))
        .ciphertextBlob().asByteArray();

    ReEncryptResponse sym = kms.reEncrypt(b -> b.ciphertextBlob(bytes(blob)).sourceEncryptionContext(source)
        .destinationKeyId(b2).destinationEncryptionContext(destination));
    assertEquals(arn(a), sym.sourceKeyId());
    assertEquals(arn(b2), sym.keyId());
    assertEquals("SYMMETRIC_DEFAULT", sym.sourceEncryptionAlgorithmAsString());
    assertEquals("SYMMETRIC_DEFAULT", sym.destinationEncryptionAlgorithmAsString());
    assertEquals(kms.describeKey(b -> b.keyId(a)).keyMetadata().currentKeyMaterialId(), sym.sourceKeyMaterialId());
    assertEquals(kms.describeKey(b -> b.keyId(b2)).keyMetadata().currentKeyMaterialId(), sym.destinationKeyMaterialId());
    DecryptResponse d = kms.decrypt(b -> b.ciphertextBlob(sym.ciphertextBlob()).encryptionContext(destination));
    assertArrayEquals(MESSAGE, d.plaintext().asByteArray());
    assertEquals(arn(b2), d.keyId());
    refused("InvalidCiphertextException", () -> kms.decrypt(b -> b.ciphertextBlob(sym.ciphertextBlob())
        .encryptionContext(source)));
    refused("InvalidCiphertextException", () -> kms.reEncrypt(b -> b.ciphertextBlob(bytes(blob)).destinationKeyId(b2)));
    refused("IncorrectKeyException", () -> kms.reEncrypt(b -> b.ciphertextBlob(bytes(blob)).sourceKeyId(b2)
        .sourceEncryptionContext(source).destinationKeyId(a)));

    // Symmetric to RSA, then RSA back to symmetric.
    ReEncryptResponse toRsa = kms.reEncrypt(b -> b.ciphertextBlob(bytes(blob)).sourceEncryptionContext(source)
        .destinationKeyId(rsa).destinationEncryptionAlgorithm("RSAES_OAEP_SHA_256"));
    assertEquals(arn(rsa), toRsa.keyId());
    assertEquals("RSAES_OAEP_SHA_256", toRsa.destinationEncryptionAlgorithmAsString());
    assertNull(toRsa.destinationKeyMaterialId());
    assertArrayEquals(MESSAGE, kms.decrypt(b -> b.keyId(rsa).ciphertextBlob(toRsa.ciphertextBlob())
        .encryptionAlgorithm("RSAES_OAEP_SHA_256")).plaintext().asByteArray());
    refused("ValidationException", "KeyId is required when EncryptionAlgorithm is RSAES_OAEP_SHA_256.",
        () -> kms.reEncrypt(b -> b.ciphertextBlob(toRsa.ciphertextBlob())
            .sourceEncryptionAlgorithm("RSAES_OAEP_SHA_256").destinationKeyId(a)));
    ReEncryptResponse back = kms.reEncrypt(b -> b.ciphertextBlob(toRsa.ciphertextBlob()).sourceKeyId(rsa)
        .sourceEncryptionAlgorithm("RSAES_OAEP_SHA_256").destinationKeyId(a));
    assertEquals(arn(rsa), back.sourceKeyId());
    assertNull(back.sourceKeyMaterialId());
    assertEquals("RSAES_OAEP_SHA_256", back.sourceEncryptionAlgorithmAsString());
    assertArrayEquals(MESSAGE, kms.decrypt(b -> b.ciphertextBlob(back.ciphertextBlob())).plaintext().asByteArray());
    // The RSA destination's plaintext limit applies.
    byte[] big = kms.encrypt(b -> b.keyId(a).plaintext(bytes(random(191)))).ciphertextBlob().asByteArray();
    refused("ValidationException", "Algorithm RSAES_OAEP_SHA_256 and key spec RSA_2048 cannot encrypt data larger than 190 bytes.",
        () -> kms.reEncrypt(b -> b.ciphertextBlob(bytes(big)).destinationKeyId(rsa)
            .destinationEncryptionAlgorithm("RSAES_OAEP_SHA_256")));
  }

  // ------------------------------------------------------------------ ECDH

  @ParameterizedTest(name = "{0}")
  @EnumSource(value = KeySpec.class, names = {"ECC_NIST_P256", "ECC_NIST_P384", "ECC_NIST_P521", "SM2"})
  void deriveSharedSecretEqualsTheJdkKeyAgreement(KeySpec spec) throws Exception {
    String keyId = key(spec, KeyUsage.KEY_AGREEMENT);
    byte[] spki = kms.getPublicKey(b -> b.keyId(keyId)).publicKey().asByteArray();
    String curve = switch (spec) {
      case ECC_NIST_P256 -> "secp256r1";
      case ECC_NIST_P384 -> "secp384r1";
      case ECC_NIST_P521 -> "secp521r1";
      default -> "sm2p256v1";
    };
    boolean jdk = spec != KeySpec.SM2;
    KeyPairGenerator g = jdk ? KeyPairGenerator.getInstance("EC") : KeyPairGenerator.getInstance("EC", IndependentCrypto.BC);
    g.initialize(new ECGenParameterSpec(curve));
    KeyPair peer = g.generateKeyPair();
    KeyAgreement agreement = jdk ? KeyAgreement.getInstance("ECDH") : KeyAgreement.getInstance("ECDH", IndependentCrypto.BC);
    agreement.init(peer.getPrivate());
    agreement.doPhase(IndependentCrypto.publicKey(spki), true);
    byte[] expected = agreement.generateSecret();

    DeriveSharedSecretResponse r = kms.deriveSharedSecret(b -> b.keyId(keyId).keyAgreementAlgorithm("ECDH")
        .publicKey(bytes(peer.getPublic().getEncoded())));
    assertArrayEquals(expected, r.sharedSecret().asByteArray());
    assertEquals(arn(keyId), r.keyId());
    assertEquals("ECDH", r.keyAgreementAlgorithmAsString());
    assertEquals("AWS_KMS", r.keyOriginAsString());
  }

  @Test
  void deriveSharedSecretRefusesAPeerOnAnotherCurve() throws Exception {
    String keyId = key(KeySpec.ECC_NIST_P256, KeyUsage.KEY_AGREEMENT);
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
    g.initialize(new ECGenParameterSpec("secp384r1"));
    byte[] p384 = g.generateKeyPair().getPublic().getEncoded();
    refused("ValidationException", null, () -> kms.deriveSharedSecret(b -> b.keyId(keyId)
        .keyAgreementAlgorithm("ECDH").publicKey(bytes(p384))));
    refused("ValidationException", null, () -> kms.deriveSharedSecret(b -> b.keyId(keyId)
        .keyAgreementAlgorithm("ECDH").publicKey(bytes(new byte[] {0x30, 0x03, 0x02, 0x01, 0x01}))));
    String signing = key(KeySpec.ECC_NIST_P256, KeyUsage.SIGN_VERIFY);
    refused("InvalidKeyUsageException", arn(signing) + " key usage is SIGN_VERIFY which is not valid for DeriveSharedSecret.",
        () -> kms.deriveSharedSecret(b -> b.keyId(signing).keyAgreementAlgorithm("ECDH").publicKey(bytes(p384))));
  }

  // ------------------------------------------------------------------ data key pairs

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"RSA_2048", "RSA_3072", "RSA_4096", "ECC_NIST_P256", "ECC_NIST_P384", "ECC_NIST_P521",
      "ECC_SECG_P256K1", "ECC_NIST_EDWARDS25519", "SM2"})
  void generateDataKeyPairGivesAMatchingPkcs8PairEncryptedUnderTheKey(String pairSpec) throws Exception {
    String keyId = key(KeySpec.SYMMETRIC_DEFAULT, KeyUsage.ENCRYPT_DECRYPT);
    Map<String, String> context = Map.of("pair", pairSpec);
    GenerateDataKeyPairResponse r = kms.generateDataKeyPair(b -> b.keyId(keyId).keyPairSpec(pairSpec)
        .encryptionContext(context));
    assertEquals(arn(keyId), r.keyId());
    assertEquals(pairSpec, r.keyPairSpecAsString());
    assertEquals(kms.describeKey(b -> b.keyId(keyId)).keyMetadata().currentKeyMaterialId(), r.keyMaterialId());
    byte[] pkcs8 = r.privateKeyPlaintext().asByteArray();
    byte[] spki = r.publicKey().asByteArray();
    assertKeyPairMatches(KeySpec.valueOf(pairSpec), pkcs8, spki);
    assertArrayEquals(pkcs8, kms.decrypt(b -> b.ciphertextBlob(r.privateKeyCiphertextBlob()).encryptionContext(context))
        .plaintext().asByteArray());
    refused("InvalidCiphertextException", () -> kms.decrypt(b -> b.ciphertextBlob(r.privateKeyCiphertextBlob())));

    GenerateDataKeyPairWithoutPlaintextResponse w = kms.generateDataKeyPairWithoutPlaintext(b -> b.keyId(keyId)
        .keyPairSpec(pairSpec));
    assertEquals(pairSpec, w.keyPairSpecAsString());
    byte[] hidden = kms.decrypt(b -> b.ciphertextBlob(w.privateKeyCiphertextBlob())).plaintext().asByteArray();
    assertKeyPairMatches(KeySpec.valueOf(pairSpec), hidden, w.publicKey().asByteArray());
    assertFalse(java.util.Arrays.equals(spki, w.publicKey().asByteArray()), "two calls, two pairs");
  }

  /** The PKCS#8 key parses with a KeyFactory and signs what the SPKI key verifies. */
  private static void assertKeyPairMatches(KeySpec spec, byte[] pkcs8, byte[] spki) throws Exception {
    PrivateKey privateKey = IndependentCrypto.privateKey(pkcs8, spki);
    assertArrayEquals(pkcs8, privateKey.getEncoded(), "PKCS#8 round trip through the KeyFactory");
    if (privateKey instanceof RSAPrivateCrtKey rsa) {
      assertEquals(((RSAPublicKey) IndependentCrypto.publicKey(spki)).getModulus(), rsa.getModulus());
      assertEquals(spec.size(), rsa.getModulus().bitLength());
    }
    String algorithm = spec.algorithms(KeyUsage.SIGN_VERIFY).get(0);
    byte[] signature = IndependentCrypto.sign(algorithm, pkcs8, spki, MESSAGE);
    assertTrue(IndependentCrypto.verify(algorithm, spki, MESSAGE, signature), spec + " pair does not match");
  }

  @Test
  void dataKeyPairsNeedASymmetricEncryptionKey() {
    String rsa = key(KeySpec.RSA_2048, KeyUsage.ENCRYPT_DECRYPT);
    refused("InvalidKeyUsageException", arn(rsa) + " key KeySpec is RSA_2048 which is not valid for GenerateDataKeyPair.",
        () -> kms.generateDataKeyPair(b -> b.keyId(rsa).keyPairSpec("ECC_NIST_P256")));
    refused("InvalidKeyUsageException",
        arn(rsa) + " key KeySpec is RSA_2048 which is not valid for GenerateDataKeyPairWithoutPlaintext.",
        () -> kms.generateDataKeyPairWithoutPlaintext(b -> b.keyId(rsa).keyPairSpec("ECC_NIST_P256")));
    String signing = key(KeySpec.ECC_NIST_P256, KeyUsage.SIGN_VERIFY);
    refused("InvalidKeyUsageException", arn(signing) + " key usage is SIGN_VERIFY which is not valid for GenerateDataKeyPair.",
        () -> kms.generateDataKeyPair(b -> b.keyId(signing).keyPairSpec("ECC_NIST_P256")));
    String symmetric = key(KeySpec.SYMMETRIC_DEFAULT, KeyUsage.ENCRYPT_DECRYPT);
    refused("ValidationException", () -> kms.generateDataKeyPair(b -> b.keyId(symmetric).keyPairSpec("RSA_1024")));
    refused("ValidationException", () -> kms.generateDataKeyPair(b -> b.keyId(symmetric)));
  }

  // ------------------------------------------------------------------ HMAC

  @ParameterizedTest(name = "{0}")
  @EnumSource(value = KeySpec.class, names = {"HMAC_224", "HMAC_256", "HMAC_384", "HMAC_512"})
  void macsVerifyAndAreDeterministic(KeySpec spec) {
    String keyId = key(spec, KeyUsage.GENERATE_VERIFY_MAC);
    String algorithm = spec.algorithms(KeyUsage.GENERATE_VERIFY_MAC).get(0);
    byte[] mac = kms.generateMac(b -> b.keyId(keyId).message(bytes(MESSAGE)).macAlgorithm(algorithm)).mac().asByteArray();
    assertEquals(spec.size() / 8, mac.length);
    assertArrayEquals(mac, kms.generateMac(b -> b.keyId(keyId).message(bytes(MESSAGE)).macAlgorithm(algorithm))
        .mac().asByteArray(), "HMAC is deterministic");
    assertNotEquals(java.util.HexFormat.of().formatHex(mac), java.util.HexFormat.of().formatHex(kms.generateMac(b ->
        b.keyId(keyId).message(bytes(flip(MESSAGE))).macAlgorithm(algorithm)).mac().asByteArray()));
    var ok = kms.verifyMac(b -> b.keyId(keyId).message(bytes(MESSAGE)).mac(bytes(mac)).macAlgorithm(algorithm));
    assertTrue(ok.macValid());
    assertEquals(arn(keyId), ok.keyId());
    assertEquals(algorithm, ok.macAlgorithmAsString());
    refused("KMSInvalidMacException", null,
        () -> kms.verifyMac(b -> b.keyId(keyId).message(bytes(MESSAGE)).mac(bytes(flip(mac))).macAlgorithm(algorithm)));
    refused("KMSInvalidMacException", null,
        () -> kms.verifyMac(b -> b.keyId(keyId).message(bytes(flip(MESSAGE))).mac(bytes(mac)).macAlgorithm(algorithm)));
    // Another key of the same spec has another secret.
    String other = kms.createKey(b -> b.keySpec(spec.name()).keyUsage("GENERATE_VERIFY_MAC")).keyMetadata().keyId();
    refused("KMSInvalidMacException", null,
        () -> kms.verifyMac(b -> b.keyId(other).message(bytes(MESSAGE)).mac(bytes(mac)).macAlgorithm(algorithm)));
  }

  @Test
  void macAlgorithmMustFitTheKeySpec() {
    String keyId = key(KeySpec.HMAC_224, KeyUsage.GENERATE_VERIFY_MAC);
    refused("InvalidKeyUsageException", "Algorithm HMAC_SHA_256 is incompatible with key spec HMAC_224.",
        () -> kms.generateMac(b -> b.keyId(keyId).message(bytes(MESSAGE)).macAlgorithm("HMAC_SHA_256")));
    refused("InvalidKeyUsageException", "Algorithm HMAC_SHA_256 is incompatible with key spec HMAC_224.",
        () -> kms.verifyMac(b -> b.keyId(keyId).message(bytes(MESSAGE)).mac(bytes(new byte[28]))
            .macAlgorithm("HMAC_SHA_256")));
    refused("ValidationException",
        () -> kms.generateMac(b -> b.keyId(keyId).message(bytes(MESSAGE)).macAlgorithm("HMAC_SHA_1")));
    String symmetric = key(KeySpec.SYMMETRIC_DEFAULT, KeyUsage.ENCRYPT_DECRYPT);
    refused("InvalidKeyUsageException", arn(symmetric) + " key usage is ENCRYPT_DECRYPT which is not valid for GenerateMac.",
        () -> kms.generateMac(b -> b.keyId(symmetric).message(bytes(MESSAGE)).macAlgorithm("HMAC_SHA_256")));
  }

  // ------------------------------------------------------------------ GenerateRandom

  @Test
  void generateRandomBounds() {
    assertEquals(1, kms.generateRandom(b -> b.numberOfBytes(1)).plaintext().asByteArray().length);
    byte[] a = kms.generateRandom(b -> b.numberOfBytes(1024)).plaintext().asByteArray();
    byte[] b2 = kms.generateRandom(b -> b.numberOfBytes(1024)).plaintext().asByteArray();
    assertEquals(1024, a.length);
    assertFalse(java.util.Arrays.equals(a, b2));
    refused("ValidationException", "NumberOfBytes is required.", () -> kms.generateRandom(b -> { }));
    refused("ValidationException",
        "1 validation error detected: Value '0' at 'numberOfBytes' failed to satisfy constraint: "
            + "Member must have value greater than or equal to 1",
        () -> kms.generateRandom(b -> b.numberOfBytes(0)));
    refused("ValidationException",
        "1 validation error detected: Value '1025' at 'numberOfBytes' failed to satisfy constraint: "
            + "Member must have value less than or equal to 1024",
        () -> kms.generateRandom(b -> b.numberOfBytes(1025)));
    refused("CustomKeyStoreNotFoundException",
        () -> kms.generateRandom(b -> b.numberOfBytes(16).customKeyStoreId("cks-1234567890abcdef0")));
  }

  // ------------------------------------------------------------------ usage, algorithm and state errors

  @Test
  void wrongUsageIsAnInvalidKeyUsageNamingTheOperation() {
    String symmetric = key(KeySpec.SYMMETRIC_DEFAULT, KeyUsage.ENCRYPT_DECRYPT);
    refused("InvalidKeyUsageException", arn(symmetric) + " key usage is ENCRYPT_DECRYPT which is not valid for Sign.",
        () -> kms.sign(b -> b.keyId(symmetric).message(bytes(MESSAGE)).signingAlgorithm("ECDSA_SHA_256")));
    refused("InvalidKeyUsageException", arn(symmetric) + " key usage is ENCRYPT_DECRYPT which is not valid for Verify.",
        () -> kms.verify(b -> b.keyId(symmetric).message(bytes(MESSAGE)).signature(bytes(new byte[8]))
            .signingAlgorithm("ECDSA_SHA_256")));
    String signing = key(KeySpec.RSA_2048, KeyUsage.SIGN_VERIFY);
    refused("InvalidKeyUsageException", arn(signing) + " key usage is SIGN_VERIFY which is not valid for Encrypt.",
        () -> kms.encrypt(b -> b.keyId(signing).plaintext(bytes(MESSAGE)).encryptionAlgorithm("RSAES_OAEP_SHA_256")));
    refused("InvalidKeyUsageException", arn(signing) + " key usage is SIGN_VERIFY which is not valid for GenerateDataKey.",
        () -> kms.generateDataKey(b -> b.keyId(signing).numberOfBytes(32)));
    String hmac = key(KeySpec.HMAC_256, KeyUsage.GENERATE_VERIFY_MAC);
    refused("InvalidKeyUsageException", arn(hmac) + " key usage is GENERATE_VERIFY_MAC which is not valid for Sign.",
        () -> kms.sign(b -> b.keyId(hmac).message(bytes(MESSAGE)).signingAlgorithm("ECDSA_SHA_256")));
    String agreement = key(KeySpec.ECC_NIST_P256, KeyUsage.KEY_AGREEMENT);
    refused("InvalidKeyUsageException", arn(agreement) + " key usage is KEY_AGREEMENT which is not valid for Sign.",
        () -> kms.sign(b -> b.keyId(agreement).message(bytes(MESSAGE)).signingAlgorithm("ECDSA_SHA_256")));
  }

  @Test
  void algorithmsOutsideTheKeySpecAreInvalidKeyUsage() {
    String p256 = key(KeySpec.ECC_NIST_P256, KeyUsage.SIGN_VERIFY);
    refused("InvalidKeyUsageException", "Algorithm ECDSA_SHA_384 is incompatible with key spec ECC_NIST_P256.",
        () -> kms.sign(b -> b.keyId(p256).message(bytes(MESSAGE)).signingAlgorithm("ECDSA_SHA_384")));
    String rsa = key(KeySpec.RSA_2048, KeyUsage.SIGN_VERIFY);
    refused("InvalidKeyUsageException", "Algorithm ECDSA_SHA_256 is incompatible with key spec RSA_2048.",
        () -> kms.sign(b -> b.keyId(rsa).message(bytes(MESSAGE)).signingAlgorithm("ECDSA_SHA_256")));
    String ml = key(KeySpec.ML_DSA_44, KeyUsage.SIGN_VERIFY);
    refused("InvalidKeyUsageException", "Algorithm ED25519_SHA_512 is incompatible with key spec ML_DSA_44.",
        () -> kms.verify(b -> b.keyId(ml).message(bytes(MESSAGE)).signature(bytes(new byte[8]))
            .signingAlgorithm("ED25519_SHA_512")));
    refused("ValidationException",
        () -> kms.sign(b -> b.keyId(p256).message(bytes(MESSAGE)).signingAlgorithm("ECDSA_SHA_1")));
    refused("ValidationException", () -> kms.sign(b -> b.keyId(p256).message(bytes(MESSAGE))));
  }

  @Test
  void keyStatesApplyToEveryCryptoOperation() throws Exception {
    // PendingImport through the API: an EXTERNAL-origin key has no material yet.
    String external = kms.createKey(b -> b.keySpec("ECC_NIST_P256").keyUsage("SIGN_VERIFY").origin("EXTERNAL"))
        .keyMetadata().keyId();
    refused("KMSInvalidStateException", arn(external) + " is pending import.",
        () -> kms.sign(b -> b.keyId(external).message(bytes(MESSAGE)).signingAlgorithm("ECDSA_SHA_256")));
    refused("KMSInvalidStateException", arn(external) + " is pending import.",
        () -> kms.getPublicKey(b -> b.keyId(external)));
    String externalHmac = kms.createKey(b -> b.keySpec("HMAC_256").keyUsage("GENERATE_VERIFY_MAC").origin("EXTERNAL"))
        .keyMetadata().keyId();
    refused("KMSInvalidStateException", arn(externalHmac) + " is pending import.",
        () -> kms.generateMac(b -> b.keyId(externalHmac).message(bytes(MESSAGE)).macAlgorithm("HMAC_SHA_256")));

    // Disabled and PendingDeletion through the API; Creating (a replica being made) through a copy.
    Map<KeyState, String> expectedTail = Map.of(
        KeyState.Disabled, " is disabled.", KeyState.PendingDeletion, " is pending deletion.",
        KeyState.Creating, " is creating.");
    Map<KeyState, String> expectedType = Map.of(KeyState.Disabled, "DisabledException",
        KeyState.PendingDeletion, "KMSInvalidStateException", KeyState.Creating, "KMSInvalidStateException");
    for (KeyState state : List.of(KeyState.Disabled, KeyState.PendingDeletion, KeyState.Creating)) {
      String s = inState(KeySpec.ECC_NIST_P256, KeyUsage.SIGN_VERIFY, state);
      String h = inState(KeySpec.HMAC_256, KeyUsage.GENERATE_VERIFY_MAC, state);
      String r = inState(KeySpec.RSA_2048, KeyUsage.ENCRYPT_DECRYPT, state);
      String a = inState(KeySpec.ECC_NIST_P256, KeyUsage.KEY_AGREEMENT, state);
      String y = inState(KeySpec.SYMMETRIC_DEFAULT, KeyUsage.ENCRYPT_DECRYPT, state);
      List<Runnable> calls = List.of(
          () -> kms.sign(b -> b.keyId(s).message(bytes(MESSAGE)).signingAlgorithm("ECDSA_SHA_256")),
          () -> kms.verify(b -> b.keyId(s).message(bytes(MESSAGE)).signature(bytes(new byte[8])).signingAlgorithm("ECDSA_SHA_256")),
          () -> kms.getPublicKey(b -> b.keyId(s)),
          () -> kms.generateMac(b -> b.keyId(h).message(bytes(MESSAGE)).macAlgorithm("HMAC_SHA_256")),
          () -> kms.verifyMac(b -> b.keyId(h).message(bytes(MESSAGE)).mac(bytes(new byte[32])).macAlgorithm("HMAC_SHA_256")),
          () -> kms.encrypt(b -> b.keyId(r).plaintext(bytes(MESSAGE)).encryptionAlgorithm("RSAES_OAEP_SHA_1")),
          () -> kms.decrypt(b -> b.keyId(r).ciphertextBlob(bytes(new byte[256])).encryptionAlgorithm("RSAES_OAEP_SHA_1")),
          () -> kms.deriveSharedSecret(b -> b.keyId(a).keyAgreementAlgorithm("ECDH").publicKey(bytes(new byte[8]))),
          () -> kms.generateDataKeyPair(b -> b.keyId(y).keyPairSpec("ECC_NIST_P256")),
          () -> kms.generateDataKey(b -> b.keyId(y).numberOfBytes(32)),
          () -> kms.encrypt(b -> b.keyId(y).plaintext(bytes(MESSAGE))));
      List<String> ids = List.of(s, s, s, h, h, r, r, a, y, y, y);
      for (int i = 0; i < calls.size(); i++) {
        Runnable call = calls.get(i);
        refused(expectedType.get(state), arn(ids.get(i)) + expectedTail.get(state), call::run);
      }
    }
    // A symmetric ciphertext of a key disabled since names that key in the error.
    String later = kms.createKey(b -> b.description("disabled later")).keyMetadata().keyId();
    byte[] blob = kms.encrypt(b -> b.keyId(later).plaintext(bytes(MESSAGE))).ciphertextBlob().asByteArray();
    kms.disableKey(b -> b.keyId(later));
    refused("DisabledException", arn(later) + " is disabled.", () -> kms.decrypt(b -> b.ciphertextBlob(bytes(blob))));
    kms.enableKey(b -> b.keyId(later));
    assertArrayEquals(MESSAGE, kms.decrypt(b -> b.ciphertextBlob(bytes(blob))).plaintext().asByteArray());

    // Updating still allows cryptography (kms-api.md §6).
    String updating = KeyBackdoor.copyInState(cluster.node(US), key(KeySpec.ECC_NIST_P256, KeyUsage.SIGN_VERIFY),
        KeyState.Updating);
    byte[] signature = kms.sign(b -> b.keyId(updating).message(bytes(MESSAGE)).signingAlgorithm("ECDSA_SHA_256"))
        .signature().asByteArray();
    byte[] spki = kms.getPublicKey(b -> b.keyId(updating)).publicKey().asByteArray();
    assertTrue(IndependentCrypto.verify("ECDSA_SHA_256", spki, MESSAGE, signature));
  }

  // ------------------------------------------------------------------ DryRun, GrantTokens

  @Test
  void dryRunOnEveryOperationThatHasIt() throws Exception {
    String symmetric = key(KeySpec.SYMMETRIC_DEFAULT, KeyUsage.ENCRYPT_DECRYPT);
    String signing = key(KeySpec.ECC_NIST_P256, KeyUsage.SIGN_VERIFY);
    String hmac = key(KeySpec.HMAC_256, KeyUsage.GENERATE_VERIFY_MAC);
    String agreement = key(KeySpec.ECC_NIST_P256, KeyUsage.KEY_AGREEMENT);
    byte[] blob = kms.encrypt(b -> b.keyId(symmetric).plaintext(bytes(MESSAGE))).ciphertextBlob().asByteArray();
    byte[] signature = kms.sign(b -> b.keyId(signing).message(bytes(MESSAGE)).signingAlgorithm("ECDSA_SHA_256"))
        .signature().asByteArray();
    byte[] mac = kms.generateMac(b -> b.keyId(hmac).message(bytes(MESSAGE)).macAlgorithm("HMAC_SHA_256")).mac().asByteArray();
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
    g.initialize(new ECGenParameterSpec("secp256r1"));
    byte[] peer = g.generateKeyPair().getPublic().getEncoded();
    List<Runnable> calls = List.of(
        () -> kms.encrypt(b -> b.keyId(symmetric).plaintext(bytes(MESSAGE)).dryRun(true)),
        () -> kms.decrypt(b -> b.ciphertextBlob(bytes(blob)).dryRun(true)),
        () -> kms.decrypt(b -> b.keyId(symmetric).dryRun(true).dryRunModifiersWithStrings("IGNORE_CIPHERTEXT")),
        () -> kms.reEncrypt(b -> b.ciphertextBlob(bytes(blob)).destinationKeyId(symmetric).dryRun(true)),
        () -> kms.generateDataKey(b -> b.keyId(symmetric).numberOfBytes(32).dryRun(true)),
        () -> kms.generateDataKeyWithoutPlaintext(b -> b.keyId(symmetric).numberOfBytes(32).dryRun(true)),
        () -> kms.generateDataKeyPair(b -> b.keyId(symmetric).keyPairSpec("RSA_4096").dryRun(true)),
        () -> kms.generateDataKeyPairWithoutPlaintext(b -> b.keyId(symmetric).keyPairSpec("SM2").dryRun(true)),
        () -> kms.sign(b -> b.keyId(signing).message(bytes(MESSAGE)).signingAlgorithm("ECDSA_SHA_256").dryRun(true)),
        () -> kms.verify(b -> b.keyId(signing).message(bytes(MESSAGE)).signature(bytes(signature))
            .signingAlgorithm("ECDSA_SHA_256").dryRun(true)),
        () -> kms.generateMac(b -> b.keyId(hmac).message(bytes(MESSAGE)).macAlgorithm("HMAC_SHA_256").dryRun(true)),
        () -> kms.verifyMac(b -> b.keyId(hmac).message(bytes(MESSAGE)).mac(bytes(mac)).macAlgorithm("HMAC_SHA_256")
            .dryRun(true)),
        () -> kms.deriveSharedSecret(b -> b.keyId(agreement).keyAgreementAlgorithm("ECDH").publicKey(bytes(peer))
            .dryRun(true)));
    for (Runnable call : calls) refused("DryRunOperationException", DRY_RUN, call::run);
    // DryRun reports the real error of a request that would fail.
    refused("InvalidKeyUsageException", () -> kms.sign(b -> b.keyId(signing).message(bytes(MESSAGE))
        .signingAlgorithm("ECDSA_SHA_512").dryRun(true)));
    refused("InvalidCiphertextException", () -> kms.decrypt(b -> b.ciphertextBlob(bytes(flip(blob))).dryRun(true)));
    refused("ValidationException", () -> kms.sign(b -> b.keyId(signing).message(bytes(new byte[3]))
        .messageType("DIGEST").signingAlgorithm("ECDSA_SHA_256").dryRun(true)));
  }

  @Test
  void grantTokensAreAcceptedAndValidated() {
    String signing = key(KeySpec.ECC_NIST_P256, KeyUsage.SIGN_VERIFY);
    assertEquals(arn(signing), kms.sign(b -> b.keyId(signing).message(bytes(MESSAGE)).signingAlgorithm("ECDSA_SHA_256")
        .grantTokens("token-1", "token-2")).keyId());
    List<String> eleven = new ArrayList<>();
    for (int i = 0; i < 11; i++) eleven.add("t" + i);
    refused("ValidationException", () -> kms.sign(b -> b.keyId(signing).message(bytes(MESSAGE))
        .signingAlgorithm("ECDSA_SHA_256").grantTokens(eleven)));
  }

  @Test
  void keyIdMayBeTheKeyArnAndTheAnswerIsAlwaysTheArn() {
    String signing = key(KeySpec.ECC_NIST_EDWARDS25519, KeyUsage.SIGN_VERIFY);
    SignResponse r = kms.sign(b -> b.keyId(arn(signing)).message(bytes(MESSAGE)).signingAlgorithm("ED25519_SHA_512"));
    assertEquals(arn(signing), r.keyId());
    // Ed25519 is deterministic (RFC 8032): the same message, the same signature.
    assertArrayEquals(r.signature().asByteArray(), kms.sign(b -> b.keyId(signing).message(bytes(MESSAGE))
        .signingAlgorithm("ED25519_SHA_512")).signature().asByteArray());
    refused("NotFoundException", "Invalid arn eu-west-1", () -> kms.sign(b -> b.keyId(
        "arn:aws:kms:eu-west-1:" + ACCOUNT + ":key/" + signing).message(bytes(MESSAGE)).signingAlgorithm("ED25519_SHA_512")));
  }

  @Test
  void aliasNamesAndAliasArnsWorkWhereTheReferenceAllowsThem() throws Exception {
    String signing = key(KeySpec.ECC_NIST_P384, KeyUsage.SIGN_VERIFY);
    kms.createAlias(b -> b.aliasName("alias/crypto-signer").targetKeyId(signing));
    String aliasArn = "arn:aws:kms:" + US + ":" + ACCOUNT + ":alias/crypto-signer";
    byte[] spki = kms.getPublicKey(b -> b.keyId("alias/crypto-signer")).publicKey().asByteArray();
    for (String id : List.of("alias/crypto-signer", aliasArn)) {
      SignResponse r = kms.sign(b -> b.keyId(id).message(bytes(MESSAGE)).signingAlgorithm("ECDSA_SHA_384"));
      assertEquals(arn(signing), r.keyId(), "the answer names the key, not the alias");
      assertTrue(IndependentCrypto.verify("ECDSA_SHA_384", spki, MESSAGE, r.signature().asByteArray()));
      assertTrue(kms.verify(b -> b.keyId(id).message(bytes(MESSAGE)).signature(r.signature())
          .signingAlgorithm("ECDSA_SHA_384")).signatureValid());
    }
    refused("NotFoundException", () -> kms.sign(b -> b.keyId("alias/no-such-alias").message(bytes(MESSAGE))
        .signingAlgorithm("ECDSA_SHA_384")));
  }

  @Test
  void recipientIsRefusedRatherThanIgnored() {
    String symmetric = key(KeySpec.SYMMETRIC_DEFAULT, KeyUsage.ENCRYPT_DECRYPT);
    Consumer<software.amazon.awssdk.services.kms.model.RecipientInfo.Builder> recipient =
        b -> b.keyEncryptionAlgorithm("RSAES_OAEP_SHA_256").attestationDocument(bytes(new byte[16]));
    refused("UnsupportedOperationException",
        () -> kms.generateDataKey(b -> b.keyId(symmetric).numberOfBytes(32).recipient(recipient)));
    refused("UnsupportedOperationException", () -> kms.generateRandom(b -> b.numberOfBytes(32).recipient(recipient)));
  }
}
