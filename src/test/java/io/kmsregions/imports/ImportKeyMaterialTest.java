package io.kmsregions.imports;

import static io.kmsregions.crypto.CryptoKeys.refused;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.kmsregions.ClusterClock;
import io.kmsregions.testkit.TestCluster;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.MGF1ParameterSpec;
import java.security.spec.PSSParameterSpec;
import java.security.spec.X509EncodedKeySpec;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.function.Consumer;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.kms.KmsClient;
import software.amazon.awssdk.services.kms.model.AlgorithmSpec;
import software.amazon.awssdk.services.kms.model.DescribeKeyResponse;
import software.amazon.awssdk.services.kms.model.ExpirationModelType;
import software.amazon.awssdk.services.kms.model.GetParametersForImportResponse;
import software.amazon.awssdk.services.kms.model.ImportKeyMaterialRequest;
import software.amazon.awssdk.services.kms.model.ImportKeyMaterialResponse;
import software.amazon.awssdk.services.kms.model.ImportType;
import software.amazon.awssdk.services.kms.model.KeyMetadata;
import software.amazon.awssdk.services.kms.model.KeySpec;
import software.amazon.awssdk.services.kms.model.KeyState;
import software.amazon.awssdk.services.kms.model.KeyUsageType;
import software.amazon.awssdk.services.kms.model.MacAlgorithmSpec;
import software.amazon.awssdk.services.kms.model.OriginType;
import software.amazon.awssdk.services.kms.model.SigningAlgorithmSpec;
import software.amazon.awssdk.services.kms.model.WrappingKeySpec;

/**
 * Imported key material end to end (issue 8; kms-api.md §2 "Imported key material", §5, §6, §7
 * "Import"): the AWS SDK for Java v2 against a real three-Region cluster, material wrapped by an
 * independent implementation ({@link ImportWrapping}: the JDK's RSA-OAEP and AES/KWP), the
 * material's use checked with the JDK (HMAC, signatures, public keys), every import error, expiry
 * and re-import on a sped-up cluster clock, and a multi-Region key with imported material across
 * three Regions.
 */
class ImportKeyMaterialTest {
  private static final String US = "us-east-1";
  private static final String EU = "eu-west-1";
  private static final String AP = "ap-southeast-2";
  /** Two simulated hours pass each real second: an import token (24 h) lasts 12 s. */
  private static final double SCALE = 7200;
  private static final long ORIGIN = System.currentTimeMillis();
  private static final ClusterClock CLOCK = new ClusterClock(SCALE, ORIGIN);
  private static final SecureRandom RANDOM = new SecureRandom();

  @TempDir static Path dataDir;
  private static TestCluster cluster;

  @BeforeAll
  static void start() {
    cluster = TestCluster.start(dataDir, TestCluster.DEFAULT_REGIONS, ConfigFactory.parseString(
        "kms.clock.time-scale = " + SCALE + "\nkms.clock.origin = " + ORIGIN));
  }

  @AfterAll
  static void stop() {
    if (cluster != null) cluster.close();
  }

  // ------------------------------------------------------------------ the flow, every wrapping algorithm

  @ParameterizedTest
  @CsvSource({
    "RSAES_OAEP_SHA_1, RSA_2048",
    "RSAES_OAEP_SHA_256, RSA_3072",
    "RSA_AES_KEY_WRAP_SHA_1, RSA_4096",
    "RSA_AES_KEY_WRAP_SHA_256, RSA_2048",
    "SM2PKE, SM2"
  })
  void symmetricMaterialImportsWithEveryWrappingAlgorithm(String algorithm, String wrappingKeySpec) throws Exception {
    KmsClient kms = cluster.client(US);
    String keyId = createExternal(US, KeySpec.SYMMETRIC_DEFAULT, KeyUsageType.ENCRYPT_DECRYPT, false);
    KeyMetadata created = describe(US, keyId);
    assertEquals(KeyState.PENDING_IMPORT, created.keyState());
    assertEquals(OriginType.EXTERNAL, created.origin());
    assertNull(created.expirationModel(), "no ExpirationModel before the first import");
    refused("KMSInvalidStateException", arn(US, keyId) + " is pending import.",
        () -> kms.encrypt(b -> b.keyId(keyId).plaintext(bytes("x"))));

    GetParametersForImportResponse p = kms.getParametersForImport(b -> b.keyId(keyId)
        .wrappingAlgorithm(AlgorithmSpec.fromValue(algorithm)).wrappingKeySpec(WrappingKeySpec.fromValue(wrappingKeySpec)));
    assertEquals(arn(US, keyId), p.keyId());
    Duration validity = Duration.between(clusterNow(), p.parametersValidTo());
    assertTrue(validity.compareTo(Duration.ofHours(23)) > 0 && validity.compareTo(Duration.ofHours(25)) < 0,
        "ParametersValidTo is 24 h ahead on the cluster clock: " + validity);

    byte[] material = random(32);
    ImportKeyMaterialResponse imported = kms.importKeyMaterial(b -> b.keyId(keyId).importToken(p.importToken())
        .encryptedKeyMaterial(SdkBytes.fromByteArray(ImportWrapping.wrap(algorithm, p.publicKey().asByteArray(), material)))
        .expirationModel(ExpirationModelType.KEY_MATERIAL_DOES_NOT_EXPIRE));
    assertEquals(arn(US, keyId), imported.keyId());
    assertTrue(imported.keyMaterialId().matches("[0-9a-f]{64}"));
    KeyMetadata after = describe(US, keyId);
    assertEquals(KeyState.ENABLED, after.keyState());
    assertEquals(ExpirationModelType.KEY_MATERIAL_DOES_NOT_EXPIRE, after.expirationModel());
    assertNull(after.validTo());
    assertEquals(imported.keyMaterialId(), after.currentKeyMaterialId());

    SdkBytes ciphertext = kms.encrypt(b -> b.keyId(keyId).plaintext(bytes("imported"))).ciphertextBlob();
    assertEquals("imported", kms.decrypt(b -> b.ciphertextBlob(ciphertext)).plaintext().asUtf8String());
  }

  @Test
  void hmacMaterialIsTheImportedKey() throws Exception {
    KmsClient kms = cluster.client(US);
    String keyId = createExternal(US, KeySpec.HMAC_256, KeyUsageType.GENERATE_VERIFY_MAC, false);
    byte[] material = random(48);
    importMaterial(US, keyId, material, "RSAES_OAEP_SHA_256", "RSA_2048", b -> {});
    byte[] message = "mac me".getBytes(StandardCharsets.UTF_8);
    byte[] mac = kms.generateMac(b -> b.keyId(keyId).macAlgorithm(MacAlgorithmSpec.HMAC_SHA_256)
        .message(SdkBytes.fromByteArray(message))).mac().asByteArray();
    Mac jdk = Mac.getInstance("HmacSHA256");
    jdk.init(new SecretKeySpec(material, "HmacSHA256"));
    assertArrayEquals(jdk.doFinal(message), mac, "the MAC is made with exactly the imported bytes");
  }

  @Test
  void rsaPrivateKeyImportsWithAesKeyWrapAndSigns() throws Exception {
    KmsClient kms = cluster.client(US);
    String keyId = createExternal(US, KeySpec.RSA_2048, KeyUsageType.SIGN_VERIFY, false);
    KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
    g.initialize(2048);
    KeyPair pair = g.generateKeyPair();
    refused("ValidationException", () -> kms.getParametersForImport(b -> b.keyId(keyId)
        .wrappingAlgorithm(AlgorithmSpec.RSAES_OAEP_SHA_256).wrappingKeySpec(WrappingKeySpec.RSA_4096)));
    importMaterial(US, keyId, pair.getPrivate().getEncoded(), "RSA_AES_KEY_WRAP_SHA_256", "RSA_3072", b -> {});
    assertArrayEquals(pair.getPublic().getEncoded(),
        kms.getPublicKey(b -> b.keyId(keyId)).publicKey().asByteArray(), "GetPublicKey is the imported key pair's");
    byte[] message = "sign me".getBytes(StandardCharsets.UTF_8);
    byte[] signature = kms.sign(b -> b.keyId(keyId).message(SdkBytes.fromByteArray(message))
        .signingAlgorithm(SigningAlgorithmSpec.RSASSA_PSS_SHA_256)).signature().asByteArray();
    Signature v = Signature.getInstance("RSASSA-PSS");
    v.setParameter(new PSSParameterSpec("SHA-256", "MGF1", MGF1ParameterSpec.SHA256, 32, 1));
    v.initVerify(pair.getPublic());
    v.update(message);
    assertTrue(v.verify(signature));
  }

  @ParameterizedTest
  @CsvSource({"secp256r1, ECC_NIST_P256, RSAES_OAEP_SHA_256, SHA256withECDSA, ECDSA_SHA_256",
      "secp521r1, ECC_NIST_P521, RSA_AES_KEY_WRAP_SHA_1, SHA512withECDSA, ECDSA_SHA_512"})
  void eccPrivateKeyImportsAndSigns(String curve, String spec, String algorithm, String jdkAlgorithm, String kmsAlgorithm)
      throws Exception {
    KmsClient kms = cluster.client(US);
    String keyId = createExternal(US, KeySpec.fromValue(spec), KeyUsageType.SIGN_VERIFY, false);
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
    g.initialize(new ECGenParameterSpec(curve));
    KeyPair pair = g.generateKeyPair();
    if (spec.equals("ECC_NIST_P521")) {
      refused("ValidationException", () -> kms.getParametersForImport(b -> b.keyId(keyId)
          .wrappingAlgorithm(AlgorithmSpec.RSAES_OAEP_SHA_1).wrappingKeySpec(WrappingKeySpec.RSA_2048)));
    }
    importMaterial(US, keyId, pair.getPrivate().getEncoded(), algorithm, "RSA_3072", b -> {});
    byte[] kmsPublic = kms.getPublicKey(b -> b.keyId(keyId)).publicKey().asByteArray();
    assertEquals(pair.getPublic(), KeyFactory.getInstance("EC").generatePublic(new X509EncodedKeySpec(kmsPublic)));
    byte[] message = "sign me too".getBytes(StandardCharsets.UTF_8);
    byte[] signature = kms.sign(b -> b.keyId(keyId).message(SdkBytes.fromByteArray(message))
        .signingAlgorithm(SigningAlgorithmSpec.fromValue(kmsAlgorithm))).signature().asByteArray();
    Signature v = Signature.getInstance(jdkAlgorithm);
    v.initVerify(pair.getPublic());
    v.update(message);
    assertTrue(v.verify(signature));
  }

  // ------------------------------------------------------------------ errors

  @Test
  void getParametersForImportErrors() {
    KmsClient kms = cluster.client(US);
    String aws = kms.createKey(b -> {}).keyMetadata().keyId();
    refused("UnsupportedOperationException", arn(US, aws) + " origin is AWS_KMS which is not valid for this operation.",
        () -> kms.getParametersForImport(b -> b.keyId(aws)
            .wrappingAlgorithm(AlgorithmSpec.RSAES_OAEP_SHA_256).wrappingKeySpec(WrappingKeySpec.RSA_2048)));
    refused("UnsupportedOperationException", arn(US, aws) + " origin is AWS_KMS which is not valid for this operation.",
        () -> kms.deleteImportedKeyMaterial(b -> b.keyId(aws)));
    String keyId = createExternal(US, KeySpec.SYMMETRIC_DEFAULT, KeyUsageType.ENCRYPT_DECRYPT, false);
    refused("ValidationException", () -> kms.getParametersForImport(b -> b.keyId(keyId)
        .wrappingAlgorithm("RSA_PLAIN").wrappingKeySpec(WrappingKeySpec.RSA_2048)));
    refused("ValidationException", () -> kms.getParametersForImport(b -> b.keyId(keyId)
        .wrappingAlgorithm(AlgorithmSpec.RSAES_OAEP_SHA_256).wrappingKeySpec("RSA_1024")));
    refused("ValidationException", () -> kms.getParametersForImport(b -> b.keyId(keyId)
        .wrappingAlgorithm(AlgorithmSpec.RSAES_OAEP_SHA_256)));
    refused("ValidationException", () -> kms.getParametersForImport(b -> b.keyId(keyId)
        .wrappingAlgorithm(AlgorithmSpec.RSAES_PKCS1_V1_5).wrappingKeySpec(WrappingKeySpec.RSA_2048)));
    refused("ValidationException", () -> kms.getParametersForImport(b -> b.keyId(keyId)
        .wrappingAlgorithm(AlgorithmSpec.SM2_PKE).wrappingKeySpec(WrappingKeySpec.RSA_2048)));
    refused("ValidationException", () -> kms.getParametersForImport(b -> b.keyId(keyId)
        .wrappingAlgorithm(AlgorithmSpec.RSAES_OAEP_SHA_256).wrappingKeySpec(WrappingKeySpec.SM2)));
    refused("NotFoundException", () -> kms.getParametersForImport(b -> b.keyId("not-a-key")
        .wrappingAlgorithm(AlgorithmSpec.RSAES_OAEP_SHA_256).wrappingKeySpec(WrappingKeySpec.RSA_2048)));
    kms.scheduleKeyDeletion(b -> b.keyId(keyId).pendingWindowInDays(30));
    refused("KMSInvalidStateException", arn(US, keyId) + " is pending deletion.",
        () -> kms.getParametersForImport(b -> b.keyId(keyId)
            .wrappingAlgorithm(AlgorithmSpec.RSAES_OAEP_SHA_256).wrappingKeySpec(WrappingKeySpec.RSA_2048)));
  }

  @Test
  void importKeyMaterialErrorsChangeNothing() throws Exception {
    KmsClient kms = cluster.client(US);
    String keyId = createExternal(US, KeySpec.SYMMETRIC_DEFAULT, KeyUsageType.ENCRYPT_DECRYPT, false);
    String other = createExternal(US, KeySpec.SYMMETRIC_DEFAULT, KeyUsageType.ENCRYPT_DECRYPT, false);
    GetParametersForImportResponse p = params(US, keyId, "RSAES_OAEP_SHA_256", "RSA_2048");
    GetParametersForImportResponse otherParams = params(US, other, "RSAES_OAEP_SHA_256", "RSA_2048");
    byte[] material = random(32);
    SdkBytes wrapped = SdkBytes.fromByteArray(ImportWrapping.wrap("RSAES_OAEP_SHA_256", p.publicKey().asByteArray(), material));
    Instant inAnHour = clusterNow().plus(Duration.ofHours(30));

    // ExpirationModel and ValidTo
    refused("ValidationException", "A validTo date must be set if the ExpirationModel is KEY_MATERIAL_EXPIRES",
        () -> kms.importKeyMaterial(b -> b.keyId(keyId).importToken(p.importToken()).encryptedKeyMaterial(wrapped)));
    refused("ValidationException", () -> kms.importKeyMaterial(b -> b.keyId(keyId).importToken(p.importToken())
        .encryptedKeyMaterial(wrapped).expirationModel(ExpirationModelType.KEY_MATERIAL_DOES_NOT_EXPIRE).validTo(inAnHour)));
    refused("ValidationException", "The ValidTo date must be in the future.", () -> kms.importKeyMaterial(b -> b
        .keyId(keyId).importToken(p.importToken()).encryptedKeyMaterial(wrapped).validTo(clusterNow().minus(Duration.ofDays(1)))));
    refused("ValidationException", "The ValidTo date must be no more than 365 days in the future.", () -> kms.importKeyMaterial(b -> b
        .keyId(keyId).importToken(p.importToken()).encryptedKeyMaterial(wrapped).validTo(clusterNow().plus(Duration.ofDays(400)))));
    refused("ValidationException", () -> kms.importKeyMaterial(b -> b.keyId(keyId).importToken(p.importToken())
        .encryptedKeyMaterial(wrapped).expirationModel("SOMETIMES")));
    refused("ValidationException", () -> kms.importKeyMaterial(b -> b.keyId(keyId).importToken(p.importToken())
        .encryptedKeyMaterial(wrapped).expirationModel(ExpirationModelType.KEY_MATERIAL_DOES_NOT_EXPIRE)
        .importType(ImportType.NEW_KEY_MATERIAL).keyMaterialId("a".repeat(64))));
    refused("ValidationException", () -> kms.importKeyMaterial(b -> b.keyId(keyId).importToken(p.importToken())
        .encryptedKeyMaterial(wrapped).expirationModel(ExpirationModelType.KEY_MATERIAL_DOES_NOT_EXPIRE).keyMaterialId("XYZ")));
    refused("ValidationException", () -> kms.importKeyMaterial(b -> b.keyId(keyId).importToken(p.importToken())
        .encryptedKeyMaterial(wrapped).expirationModel(ExpirationModelType.KEY_MATERIAL_DOES_NOT_EXPIRE)
        .keyMaterialDescription("d".repeat(257))));
    refused("ValidationException", () -> kms.importKeyMaterial(b -> b.keyId(keyId).importToken(p.importToken())
        .expirationModel(ExpirationModelType.KEY_MATERIAL_DOES_NOT_EXPIRE)));

    // tokens: garbage, another key's, the right token with material wrapped for another key
    refused("InvalidImportTokenException", () -> kms.importKeyMaterial(b -> b.keyId(keyId)
        .importToken(SdkBytes.fromByteArray(random(40))).encryptedKeyMaterial(wrapped)
        .expirationModel(ExpirationModelType.KEY_MATERIAL_DOES_NOT_EXPIRE)));
    refused("InvalidImportTokenException", () -> kms.importKeyMaterial(b -> b.keyId(keyId)
        .importToken(otherParams.importToken()).encryptedKeyMaterial(wrapped)
        .expirationModel(ExpirationModelType.KEY_MATERIAL_DOES_NOT_EXPIRE)));
    SdkBytes wrappedForOther = SdkBytes.fromByteArray(
        ImportWrapping.wrap("RSAES_OAEP_SHA_256", otherParams.publicKey().asByteArray(), material));
    refused("InvalidCiphertextException", () -> kms.importKeyMaterial(b -> b.keyId(keyId).importToken(p.importToken())
        .encryptedKeyMaterial(wrappedForOther).expirationModel(ExpirationModelType.KEY_MATERIAL_DOES_NOT_EXPIRE)));
    // material of the wrong size for the spec
    SdkBytes short16 = SdkBytes.fromByteArray(ImportWrapping.wrap("RSAES_OAEP_SHA_256", p.publicKey().asByteArray(), random(16)));
    refused("IncorrectKeyMaterialException", () -> kms.importKeyMaterial(b -> b.keyId(keyId).importToken(p.importToken())
        .encryptedKeyMaterial(short16).expirationModel(ExpirationModelType.KEY_MATERIAL_DOES_NOT_EXPIRE)));
    // EXISTING_KEY_MATERIAL before any material
    refused("IncorrectKeyMaterialException", () -> kms.importKeyMaterial(b -> b.keyId(keyId).importToken(p.importToken())
        .encryptedKeyMaterial(wrapped).expirationModel(ExpirationModelType.KEY_MATERIAL_DOES_NOT_EXPIRE)
        .importType(ImportType.EXISTING_KEY_MATERIAL)));
    KeyMetadata unchanged = describe(US, keyId);
    assertEquals(KeyState.PENDING_IMPORT, unchanged.keyState(), "a failed import changes nothing");
    assertNull(unchanged.currentKeyMaterialId());

    // Now import it, then try different material: IncorrectKeyMaterialException, the key keeps its own
    String id = kms.importKeyMaterial(b -> b.keyId(keyId).importToken(p.importToken()).encryptedKeyMaterial(wrapped)
        .validTo(inAnHour).keyMaterialDescription("first")).keyMaterialId();
    KeyMetadata enabled = describe(US, keyId);
    assertEquals(KeyState.ENABLED, enabled.keyState());
    assertEquals(ExpirationModelType.KEY_MATERIAL_EXPIRES, enabled.expirationModel());
    assertTrue(Math.abs(Duration.between(inAnHour, enabled.validTo()).toMillis()) < 1000, "ValidTo shown");
    GetParametersForImportResponse p2 = params(US, keyId, "RSAES_OAEP_SHA_1", "RSA_2048");
    SdkBytes different = SdkBytes.fromByteArray(ImportWrapping.wrap("RSAES_OAEP_SHA_1", p2.publicKey().asByteArray(), random(32)));
    refused("IncorrectKeyMaterialException", () -> kms.importKeyMaterial(b -> b.keyId(keyId).importToken(p2.importToken())
        .encryptedKeyMaterial(different).expirationModel(ExpirationModelType.KEY_MATERIAL_DOES_NOT_EXPIRE)
        .importType(ImportType.EXISTING_KEY_MATERIAL)));
    refused("IncorrectKeyMaterialException", () -> kms.importKeyMaterial(b -> b.keyId(keyId).importToken(p2.importToken())
        .encryptedKeyMaterial(different).expirationModel(ExpirationModelType.KEY_MATERIAL_DOES_NOT_EXPIRE)));
    // the same material with a KeyMaterialId that is not its own
    SdkBytes same = SdkBytes.fromByteArray(ImportWrapping.wrap("RSAES_OAEP_SHA_1", p2.publicKey().asByteArray(), material));
    refused("IncorrectKeyMaterialException", () -> kms.importKeyMaterial(b -> b.keyId(keyId).importToken(p2.importToken())
        .encryptedKeyMaterial(same).expirationModel(ExpirationModelType.KEY_MATERIAL_DOES_NOT_EXPIRE)
        .keyMaterialId("0".repeat(64))));
    assertEquals(id, describe(US, keyId).currentKeyMaterialId());
    // Re-importing the same material changes its expiration model
    assertEquals(id, kms.importKeyMaterial(b -> b.keyId(keyId).importToken(p2.importToken()).encryptedKeyMaterial(same)
        .expirationModel(ExpirationModelType.KEY_MATERIAL_DOES_NOT_EXPIRE).keyMaterialId(id)).keyMaterialId());
    KeyMetadata reimported = describe(US, keyId);
    assertEquals(ExpirationModelType.KEY_MATERIAL_DOES_NOT_EXPIRE, reimported.expirationModel());
    assertNull(reimported.validTo());

    // ImportType and KeyMaterialId are for symmetric keys only
    String hmac = createExternal(US, KeySpec.HMAC_224, KeyUsageType.GENERATE_VERIFY_MAC, false);
    GetParametersForImportResponse hp = params(US, hmac, "RSAES_OAEP_SHA_256", "RSA_2048");
    SdkBytes hmacMaterial = SdkBytes.fromByteArray(ImportWrapping.wrap("RSAES_OAEP_SHA_256", hp.publicKey().asByteArray(), random(28)));
    refused("ValidationException", () -> kms.importKeyMaterial(b -> b.keyId(hmac).importToken(hp.importToken())
        .encryptedKeyMaterial(hmacMaterial).expirationModel(ExpirationModelType.KEY_MATERIAL_DOES_NOT_EXPIRE)
        .importType(ImportType.NEW_KEY_MATERIAL)));
    SdkBytes hmacTooShort = SdkBytes.fromByteArray(ImportWrapping.wrap("RSAES_OAEP_SHA_256", hp.publicKey().asByteArray(), random(27)));
    refused("IncorrectKeyMaterialException", () -> kms.importKeyMaterial(b -> b.keyId(hmac).importToken(hp.importToken())
        .encryptedKeyMaterial(hmacTooShort).expirationModel(ExpirationModelType.KEY_MATERIAL_DOES_NOT_EXPIRE)));
    assertEquals(KeyState.PENDING_IMPORT, describe(US, hmac).keyState());
    // An asymmetric key refuses material that is not of its spec
    String p256 = createExternal(US, KeySpec.ECC_NIST_P256, KeyUsageType.SIGN_VERIFY, false);
    GetParametersForImportResponse ep = params(US, p256, "RSA_AES_KEY_WRAP_SHA_256", "RSA_2048");
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
    g.initialize(new ECGenParameterSpec("secp384r1"));
    byte[] p384 = g.generateKeyPair().getPrivate().getEncoded();
    refused("IncorrectKeyMaterialException", () -> kms.importKeyMaterial(b -> b.keyId(p256).importToken(ep.importToken())
        .encryptedKeyMaterial(SdkBytes.fromByteArray(ImportWrapping.wrap("RSA_AES_KEY_WRAP_SHA_256", ep.publicKey().asByteArray(), p384)))
        .expirationModel(ExpirationModelType.KEY_MATERIAL_DOES_NOT_EXPIRE)));
    assertEquals(KeyState.PENDING_IMPORT, describe(US, p256).keyState());
  }

  @Test
  void anImportTokenExpiresAfter24HoursOnTheClusterClock() throws Exception {
    KmsClient kms = cluster.client(US);
    String keyId = createExternal(US, KeySpec.SYMMETRIC_DEFAULT, KeyUsageType.ENCRYPT_DECRYPT, false);
    GetParametersForImportResponse p = params(US, keyId, "RSAES_OAEP_SHA_256", "RSA_2048");
    SdkBytes wrapped = SdkBytes.fromByteArray(ImportWrapping.wrap("RSAES_OAEP_SHA_256", p.publicKey().asByteArray(), random(32)));
    TestCluster.await(Duration.ofSeconds(30), "the parameters expire", () -> clusterNow().isAfter(p.parametersValidTo().plusSeconds(600)));
    refused("ExpiredImportTokenException", () -> kms.importKeyMaterial(b -> b.keyId(keyId).importToken(p.importToken())
        .encryptedKeyMaterial(wrapped).expirationModel(ExpirationModelType.KEY_MATERIAL_DOES_NOT_EXPIRE)));
    assertEquals(KeyState.PENDING_IMPORT, describe(US, keyId).keyState());
  }

  @Test
  void materialExpiresOnTheClusterClockAndIsReimported() throws Exception {
    KmsClient kms = cluster.client(US);
    String keyId = createExternal(US, KeySpec.SYMMETRIC_DEFAULT, KeyUsageType.ENCRYPT_DECRYPT, false);
    byte[] material = random(32);
    Instant validTo = clusterNow().plus(Duration.ofHours(8)); // 4 s of real time
    String id = importMaterial(US, keyId, material, "RSA_AES_KEY_WRAP_SHA_256", "RSA_2048", b -> b
        .expirationModel(ExpirationModelType.KEY_MATERIAL_EXPIRES).validTo(validTo)).keyMaterialId();
    SdkBytes ciphertext = kms.encrypt(b -> b.keyId(keyId).plaintext(bytes("before expiry"))).ciphertextBlob();
    TestCluster.await(Duration.ofSeconds(30), "the material expires", () ->
        describe(US, keyId).keyState() == KeyState.PENDING_IMPORT);
    assertTrue(!clusterNow().isBefore(validTo), "not before ValidTo");
    KeyMetadata expired = describe(US, keyId);
    assertEquals(id, expired.currentKeyMaterialId(), "CurrentKeyMaterialId is kept after the material is gone");
    assertNull(expired.expirationModel());
    refused("KMSInvalidStateException", arn(US, keyId) + " is pending import.",
        () -> kms.decrypt(b -> b.ciphertextBlob(ciphertext)));
    // Re-import the same material: the old ciphertext decrypts again
    importMaterial(US, keyId, material, "RSAES_OAEP_SHA_1", "RSA_2048", b -> {});
    assertEquals(KeyState.ENABLED, describe(US, keyId).keyState());
    assertEquals("before expiry", kms.decrypt(b -> b.ciphertextBlob(ciphertext)).plaintext().asUtf8String());
  }

  @Test
  void deleteImportedKeyMaterial() throws Exception {
    KmsClient kms = cluster.client(US);
    String keyId = createExternal(US, KeySpec.SYMMETRIC_DEFAULT, KeyUsageType.ENCRYPT_DECRYPT, false);
    assertNull(kms.deleteImportedKeyMaterial(b -> b.keyId(keyId)).keyMaterialId(), "PendingImport: a no-op");
    byte[] material = random(32);
    String id = importMaterial(US, keyId, material, "RSAES_OAEP_SHA_256", "RSA_4096", b -> {}).keyMaterialId();
    SdkBytes ciphertext = kms.encrypt(b -> b.keyId(keyId).plaintext(bytes("keep me"))).ciphertextBlob();
    refused("NotFoundException", () -> kms.deleteImportedKeyMaterial(b -> b.keyId(keyId).keyMaterialId("1".repeat(64))));
    assertEquals(id, kms.deleteImportedKeyMaterial(b -> b.keyId(keyId)).keyMaterialId());
    assertEquals(KeyState.PENDING_IMPORT, describe(US, keyId).keyState());
    refused("KMSInvalidStateException", () -> kms.decrypt(b -> b.ciphertextBlob(ciphertext)));
    // Disabled, then re-imported: the key is usable again
    importMaterial(US, keyId, material, "RSAES_OAEP_SHA_256", "RSA_2048", b -> {});
    kms.disableKey(b -> b.keyId(keyId));
    kms.deleteImportedKeyMaterial(b -> b.keyId(keyId).keyMaterialId(id));
    assertEquals(KeyState.PENDING_IMPORT, describe(US, keyId).keyState());
    importMaterial(US, keyId, material, "RSAES_OAEP_SHA_256", "RSA_2048", b -> {});
    assertEquals("keep me", kms.decrypt(b -> b.ciphertextBlob(ciphertext)).plaintext().asUtf8String());
    // Pending deletion: the material goes, the state stays
    kms.scheduleKeyDeletion(b -> b.keyId(keyId).pendingWindowInDays(30));
    kms.deleteImportedKeyMaterial(b -> b.keyId(keyId));
    assertEquals(KeyState.PENDING_DELETION, describe(US, keyId).keyState());
  }

  @Test
  void onDemandRotationWithImportedMaterial() throws Exception {
    KmsClient kms = cluster.client(US);
    String keyId = createExternal(US, KeySpec.SYMMETRIC_DEFAULT, KeyUsageType.ENCRYPT_DECRYPT, false);
    String first = importMaterial(US, keyId, random(32), "RSAES_OAEP_SHA_256", "RSA_2048", b -> {}).keyMaterialId();
    SdkBytes old = kms.encrypt(b -> b.keyId(keyId).plaintext(bytes("old material"))).ciphertextBlob();
    refused("KMSInvalidStateException", "No available key material pending rotation for the key: " + arn(US, keyId) + ".",
        () -> kms.rotateKeyOnDemand(b -> b.keyId(keyId)));
    String second = importMaterial(US, keyId, random(32), "RSAES_OAEP_SHA_256", "RSA_2048",
        b -> b.importType(ImportType.NEW_KEY_MATERIAL).keyMaterialDescription("second")).keyMaterialId();
    assertNotEquals(first, second);
    assertEquals(first, describe(US, keyId).currentKeyMaterialId(), "new material is current only after the rotation");
    String message = refused("KMSInvalidStateException", () -> importMaterial(US, keyId, random(32),
        "RSAES_OAEP_SHA_256", "RSA_2048", b -> b.importType(ImportType.NEW_KEY_MATERIAL))).awsErrorDetails().errorMessage();
    assertTrue(message.matches("New key material \\(id: [0-9a-f]{64}\\) cannot be imported into KMS key " + keyId
        + ", because another key material \\(id: " + second + "\\) is pending rotation\\."), message);
    List<software.amazon.awssdk.services.kms.model.RotationsListEntry> rows = kms.listKeyRotations(b -> b.keyId(keyId)
        .includeKeyMaterial("ALL_KEY_MATERIAL")).rotations();
    assertEquals(2, rows.size());
    assertEquals(first, rows.get(0).keyMaterialId());
    assertEquals("CURRENT", rows.get(0).keyMaterialStateAsString());
    assertEquals("IMPORTED", rows.get(0).importStateAsString());
    assertEquals(second, rows.get(1).keyMaterialId());
    assertEquals("PENDING_ROTATION", rows.get(1).keyMaterialStateAsString());
    assertEquals("second", rows.get(1).keyMaterialDescription());
    assertEquals(ExpirationModelType.KEY_MATERIAL_DOES_NOT_EXPIRE, rows.get(1).expirationModel());
    kms.rotateKeyOnDemand(b -> b.keyId(keyId));
    assertEquals(second, describe(US, keyId).currentKeyMaterialId());
    var rotations = kms.listKeyRotations(b -> b.keyId(keyId)).rotations();
    assertEquals(1, rotations.size());
    assertEquals(second, rotations.get(0).keyMaterialId());
    assertEquals("ON_DEMAND", rotations.get(0).rotationTypeAsString());
    SdkBytes fresh = kms.encrypt(b -> b.keyId(keyId).plaintext(bytes("new material"))).ciphertextBlob();
    assertEquals(second, kms.decrypt(b -> b.ciphertextBlob(fresh)).keyMaterialId());
    assertEquals(first, kms.decrypt(b -> b.ciphertextBlob(old)).keyMaterialId(), "old ciphertexts still decrypt");
  }

  @Test
  void importsTokensAndExpirySurviveARestartOfTheRegion() throws Exception {
    String keyId = createExternal(EU, KeySpec.SYMMETRIC_DEFAULT, KeyUsageType.ENCRYPT_DECRYPT, false);
    byte[] material = random(32);
    Instant validTo = clusterNow().plus(Duration.ofHours(20)); // 10 s of real time
    importMaterial(EU, keyId, material, "RSAES_OAEP_SHA_256", "RSA_2048", b -> b
        .expirationModel(ExpirationModelType.KEY_MATERIAL_EXPIRES).validTo(validTo));
    SdkBytes ciphertext = cluster.client(EU).encrypt(b -> b.keyId(keyId).plaintext(bytes("durable"))).ciphertextBlob();
    GetParametersForImportResponse before = params(EU, keyId, "RSAES_OAEP_SHA_1", "RSA_2048");
    cluster.crash(EU);
    cluster.restart(EU);
    KmsClient eu = cluster.client(EU);
    assertEquals(KeyState.ENABLED, describe(EU, keyId).keyState(), "the import was persisted before it was answered");
    assertEquals("durable", eu.decrypt(b -> b.ciphertextBlob(ciphertext)).plaintext().asUtf8String());
    // A token issued before the restart still imports (re-importing the same material, same expiry)
    eu.importKeyMaterial(b -> b.keyId(keyId).importToken(before.importToken())
        .encryptedKeyMaterial(SdkBytes.fromByteArray(ImportWrapping.wrap("RSAES_OAEP_SHA_1", before.publicKey().asByteArray(), material)))
        .expirationModel(ExpirationModelType.KEY_MATERIAL_EXPIRES).validTo(validTo));
    // The expiry timer is armed again by the recovered key
    TestCluster.await(Duration.ofSeconds(40), "the material expires after the restart",
        () -> describe(EU, keyId).keyState() == KeyState.PENDING_IMPORT);
    refused("KMSInvalidStateException", () -> eu.decrypt(b -> b.ciphertextBlob(ciphertext)));
  }

  // ------------------------------------------------------------------ a multi-Region key across three Regions

  @Test
  void multiRegionKeyWithImportedMaterialAcrossThreeRegions() throws Exception {
    KmsClient us = cluster.client(US);
    String keyId = createExternal(US, KeySpec.SYMMETRIC_DEFAULT, KeyUsageType.ENCRYPT_DECRYPT, true);
    refused("KMSInvalidStateException", arn(US, keyId) + " is pending import.",
        () -> us.replicateKey(b -> b.keyId(keyId).replicaRegion(EU)));
    byte[] material = random(32);
    String id = importMaterial(US, keyId, material, "RSAES_OAEP_SHA_256", "RSA_2048", b -> {}).keyMaterialId();
    us.replicateKey(b -> b.keyId(keyId).replicaRegion(EU));
    us.replicateKey(b -> b.keyId(keyId).replicaRegion(AP));
    for (String r : List.of(EU, AP)) {
      TestCluster.await(Duration.ofSeconds(30), "the replica in " + r + " waits for its import",
          () -> describe(r, keyId).keyState() == KeyState.PENDING_IMPORT);
      assertEquals(id, describe(r, keyId).currentKeyMaterialId());
    }
    SdkBytes ciphertext = us.encrypt(b -> b.keyId(keyId).plaintext(bytes("from us-east-1"))).ciphertextBlob();
    refused("KMSInvalidStateException", arn(EU, keyId) + " is pending import.",
        () -> cluster.client(EU).decrypt(b -> b.ciphertextBlob(ciphertext)));

    // eu-west-1 imports the same material itself
    assertEquals(id, importMaterial(EU, keyId, material, "RSA_AES_KEY_WRAP_SHA_1", "RSA_3072", b -> {}).keyMaterialId());
    assertEquals(KeyState.ENABLED, describe(EU, keyId).keyState());
    assertEquals("from us-east-1", cluster.client(EU).decrypt(b -> b.ciphertextBlob(ciphertext)).plaintext().asUtf8String());

    // ap-southeast-2 tries different material: refused, still PendingImport
    refused("IncorrectKeyMaterialException",
        () -> importMaterial(AP, keyId, random(32), "RSAES_OAEP_SHA_256", "RSA_2048", b -> {}));
    assertEquals(KeyState.PENDING_IMPORT, describe(AP, keyId).keyState());
    // then the same material, expiring soon: only ap-southeast-2's copy expires
    Instant validTo = clusterNow().plus(Duration.ofHours(8));
    importMaterial(AP, keyId, material, "RSAES_OAEP_SHA_1", "RSA_2048", b -> b
        .expirationModel(ExpirationModelType.KEY_MATERIAL_EXPIRES).validTo(validTo));
    assertEquals(KeyState.ENABLED, describe(AP, keyId).keyState());
    assertEquals("from us-east-1", cluster.client(AP).decrypt(b -> b.ciphertextBlob(ciphertext)).plaintext().asUtf8String());
    assertEquals(ExpirationModelType.KEY_MATERIAL_DOES_NOT_EXPIRE, describe(US, keyId).expirationModel());
    TestCluster.await(Duration.ofSeconds(30), "ap-southeast-2's material expires",
        () -> describe(AP, keyId).keyState() == KeyState.PENDING_IMPORT);
    assertEquals(KeyState.ENABLED, describe(US, keyId).keyState(), "expiry is independent per Region");
    assertEquals(KeyState.ENABLED, describe(EU, keyId).keyState(), "expiry is independent per Region");
    assertEquals("from us-east-1", cluster.client(EU).decrypt(b -> b.ciphertextBlob(ciphertext)).plaintext().asUtf8String());

    // New material for a rotation: into the primary (NEW), then every replica (EXISTING); a replica cannot take NEW
    byte[] next = random(32);
    refused("UnsupportedOperationException", () -> importMaterial(EU, keyId, next, "RSAES_OAEP_SHA_256", "RSA_2048",
        b -> b.importType(ImportType.NEW_KEY_MATERIAL)));
    String nextId = importMaterial(US, keyId, next, "RSAES_OAEP_SHA_256", "RSA_2048",
        b -> b.importType(ImportType.NEW_KEY_MATERIAL)).keyMaterialId();
    TestCluster.await(Duration.ofSeconds(30), "eu-west-1 learns of the new material", () -> {
      importMaterial(EU, keyId, next, "RSAES_OAEP_SHA_256", "RSA_2048", b -> b.importType(ImportType.EXISTING_KEY_MATERIAL));
      return true;
    });
    // ap-southeast-2 imports the old material again but not the new one yet: the rotation waits for it
    importMaterial(AP, keyId, material, "RSAES_OAEP_SHA_256", "RSA_2048", b -> {});
    assertEquals(KeyState.ENABLED, describe(AP, keyId).keyState());
    us.rotateKeyOnDemand(b -> b.keyId(keyId));
    Thread.sleep(2000); // several delivery attempts
    assertEquals(id, describe(US, keyId).currentKeyMaterialId(),
        "no member encrypts with the new material before every member holds it");
    SdkBytes stillOld = cluster.client(AP).encrypt(b -> b.keyId(keyId).plaintext(bytes("still old"))).ciphertextBlob();
    assertEquals(id, us.decrypt(b -> b.ciphertextBlob(stillOld)).keyMaterialId());
    importMaterial(AP, keyId, next, "RSAES_OAEP_SHA_256", "RSA_2048", b -> b.importType(ImportType.EXISTING_KEY_MATERIAL));
    for (String r : List.of(US, EU, AP)) {
      TestCluster.await(Duration.ofSeconds(30), "the rotation completes in " + r,
          () -> nextId.equals(describe(r, keyId).currentKeyMaterialId()));
    }
    SdkBytes rotated = cluster.client(AP).encrypt(b -> b.keyId(keyId).plaintext(bytes("rotated"))).ciphertextBlob();
    assertEquals("rotated", us.decrypt(b -> b.ciphertextBlob(rotated)).plaintext().asUtf8String());
    assertEquals("from us-east-1", cluster.client(AP).decrypt(b -> b.ciphertextBlob(ciphertext)).plaintext().asUtf8String());
  }

  // ------------------------------------------------------------------ helpers

  private static String createExternal(String region, KeySpec spec, KeyUsageType usage, boolean multiRegion) {
    return cluster.client(region).createKey(b -> b.keySpec(spec).keyUsage(usage).origin(OriginType.EXTERNAL)
        .multiRegion(multiRegion)).keyMetadata().keyId();
  }

  private static GetParametersForImportResponse params(String region, String keyId, String algorithm, String spec) {
    return cluster.client(region).getParametersForImport(b -> b.keyId(keyId)
        .wrappingAlgorithm(AlgorithmSpec.fromValue(algorithm)).wrappingKeySpec(WrappingKeySpec.fromValue(spec)));
  }

  /** Imports {@code material} (never expiring unless {@code extra} says otherwise). */
  private static ImportKeyMaterialResponse importMaterial(String region, String keyId, byte[] material, String algorithm,
      String spec, Consumer<ImportKeyMaterialRequest.Builder> extra) {
    GetParametersForImportResponse p = params(region, keyId, algorithm, spec);
    byte[] wrapped = ImportWrapping.wrap(algorithm, p.publicKey().asByteArray(), material);
    ImportKeyMaterialRequest.Builder b = ImportKeyMaterialRequest.builder().keyId(keyId).importToken(p.importToken())
        .encryptedKeyMaterial(SdkBytes.fromByteArray(wrapped))
        .expirationModel(ExpirationModelType.KEY_MATERIAL_DOES_NOT_EXPIRE);
    extra.accept(b);
    return cluster.client(region).importKeyMaterial(b.build());
  }

  private static KeyMetadata describe(String region, String keyId) {
    DescribeKeyResponse r = cluster.client(region).describeKey(b -> b.keyId(keyId));
    return r.keyMetadata();
  }

  private static Instant clusterNow() {
    return Instant.ofEpochMilli(CLOCK.now());
  }

  private static String arn(String region, String keyId) {
    return "arn:aws:kms:" + region + ":111122223333:key/" + keyId;
  }

  private static byte[] random(int n) {
    byte[] b = new byte[n];
    RANDOM.nextBytes(b);
    return b;
  }

  private static SdkBytes bytes(String s) {
    return SdkBytes.fromString(s, StandardCharsets.UTF_8);
  }
}
