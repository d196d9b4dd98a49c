package io.kmsregions.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.kmsregions.testkit.TestCluster;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import software.amazon.awssdk.services.kms.KmsClient;
import software.amazon.awssdk.services.kms.model.CreateKeyRequest;
import software.amazon.awssdk.services.kms.model.CustomKeyStoreNotFoundException;
import software.amazon.awssdk.services.kms.model.CustomerMasterKeySpec;
import software.amazon.awssdk.services.kms.model.KeyListEntry;
import software.amazon.awssdk.services.kms.model.KeyManagerType;
import software.amazon.awssdk.services.kms.model.KeyMetadata;
import software.amazon.awssdk.services.kms.model.KeySpec;
import software.amazon.awssdk.services.kms.model.KeyState;
import software.amazon.awssdk.services.kms.model.KeyUsageType;
import software.amazon.awssdk.services.kms.model.KmsException;
import software.amazon.awssdk.services.kms.model.LimitExceededException;
import software.amazon.awssdk.services.kms.model.ListKeysResponse;
import software.amazon.awssdk.services.kms.model.MalformedPolicyDocumentException;
import software.amazon.awssdk.services.kms.model.MultiRegionConfiguration;
import software.amazon.awssdk.services.kms.model.MultiRegionKeyType;
import software.amazon.awssdk.services.kms.model.OriginType;
import software.amazon.awssdk.services.kms.model.Tag;
import software.amazon.awssdk.services.kms.model.TagException;

/**
 * CreateKey against a real three-Region cluster through the AWS SDK for Java v2: every valid
 * KeySpec × KeyUsage pair of the validation matrix (kms-api.md §4) with the KeyMetadata it must
 * produce (§3), and every invalid request, each of which must be refused with AWS's error and
 * leave the Region's key list exactly as it was.
 *
 * <p>Expected algorithm lists are written out here from the spec, not read from the server's
 * {@code KeySpec} enum, so a wrong constant there shows.
 */
@Execution(ExecutionMode.SAME_THREAD) // the before/after key counts need this class to run alone
class CreateKeyMatrixTest {
  private static final String REGION = "us-east-1";
  private static final String ACCOUNT = "111122223333";
  private static final Pattern UUID_ID =
      Pattern.compile("^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$");
  private static final Pattern MRK_ID = Pattern.compile("^mrk-[0-9a-f]{32}$");
  private static final Pattern MATERIAL_ID = Pattern.compile("^[0-9a-f]{64}$");
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir static Path dataDir;
  private static TestCluster cluster;
  private static KmsClient kms;
  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  @BeforeAll
  static void startCluster() {
    cluster = TestCluster.start(dataDir);
    kms = cluster.client(REGION);
  }

  @AfterAll
  static void stopCluster() {
    if (kms != null) kms.close();
    if (cluster != null) cluster.close();
  }

  // ------------------------------------------------------------------ the valid matrix

  private static final List<String> RSA_ENCRYPTION = List.of("RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256");
  private static final List<String> RSA_SIGNING = List.of(
      "RSASSA_PSS_SHA_256", "RSASSA_PSS_SHA_384", "RSASSA_PSS_SHA_512",
      "RSASSA_PKCS1_V1_5_SHA_256", "RSASSA_PKCS1_V1_5_SHA_384", "RSASSA_PKCS1_V1_5_SHA_512");

  /** KeySpec, KeyUsage, the algorithm list KeyMetadata must show, whether CustomerMasterKeySpec shows. */
  static Stream<Arguments> validMatrix() {
    return Stream.of(
        Arguments.of("SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT", List.of("SYMMETRIC_DEFAULT"), true),
        Arguments.of("HMAC_224", "GENERATE_VERIFY_MAC", List.of("HMAC_SHA_224"), true),
        Arguments.of("HMAC_256", "GENERATE_VERIFY_MAC", List.of("HMAC_SHA_256"), true),
        Arguments.of("HMAC_384", "GENERATE_VERIFY_MAC", List.of("HMAC_SHA_384"), true),
        Arguments.of("HMAC_512", "GENERATE_VERIFY_MAC", List.of("HMAC_SHA_512"), true),
        Arguments.of("RSA_2048", "ENCRYPT_DECRYPT", RSA_ENCRYPTION, true),
        Arguments.of("RSA_2048", "SIGN_VERIFY", RSA_SIGNING, true),
        Arguments.of("RSA_3072", "ENCRYPT_DECRYPT", RSA_ENCRYPTION, true),
        Arguments.of("RSA_3072", "SIGN_VERIFY", RSA_SIGNING, true),
        // RSA_4096 is slow to generate: once.
        Arguments.of("RSA_4096", "SIGN_VERIFY", RSA_SIGNING, true),
        Arguments.of("ECC_NIST_P256", "SIGN_VERIFY", List.of("ECDSA_SHA_256"), true),
        Arguments.of("ECC_NIST_P256", "KEY_AGREEMENT", List.of("ECDH"), true),
        Arguments.of("ECC_NIST_P384", "SIGN_VERIFY", List.of("ECDSA_SHA_384"), true),
        Arguments.of("ECC_NIST_P384", "KEY_AGREEMENT", List.of("ECDH"), true),
        Arguments.of("ECC_NIST_P521", "SIGN_VERIFY", List.of("ECDSA_SHA_512"), true),
        Arguments.of("ECC_NIST_P521", "KEY_AGREEMENT", List.of("ECDH"), true),
        Arguments.of("ECC_SECG_P256K1", "SIGN_VERIFY", List.of("ECDSA_SHA_256"), true),
        Arguments.of("ECC_NIST_EDWARDS25519", "SIGN_VERIFY", List.of("ED25519_SHA_512", "ED25519_PH_SHA_512"), false),
        Arguments.of("ML_DSA_44", "SIGN_VERIFY", List.of("ML_DSA_SHAKE_256"), false),
        Arguments.of("ML_DSA_65", "SIGN_VERIFY", List.of("ML_DSA_SHAKE_256"), false),
        Arguments.of("ML_DSA_87", "SIGN_VERIFY", List.of("ML_DSA_SHAKE_256"), false),
        // SM2 is a China-Regions spec in AWS; the matrix lists it and this simulator serves it everywhere.
        Arguments.of("SM2", "ENCRYPT_DECRYPT", List.of("SM2PKE"), true),
        Arguments.of("SM2", "SIGN_VERIFY", List.of("SM2DSA"), true),
        Arguments.of("SM2", "KEY_AGREEMENT", List.of("ECDH"), true));
  }

  @ParameterizedTest(name = "{0} + {1}")
  @MethodSource("validMatrix")
  void validSpecAndUsageCreatesTheKeyTheMatrixDescribes(
      String spec, String usage, List<String> algorithms, boolean hasCustomerMasterKeySpec) {
    Set<String> before = allKeyIds();
    Instant start = Instant.now().minusSeconds(2);

    KeyMetadata m = kms.createKey(b -> b.keySpec(spec).keyUsage(usage)).keyMetadata();

    assertSingleRegionKey(m, start);
    assertEquals(spec, m.keySpecAsString());
    assertEquals(usage, m.keyUsageAsString());
    if (hasCustomerMasterKeySpec) {
      assertEquals(spec, m.customerMasterKeySpecAsString(), "CustomerMasterKeySpec mirrors KeySpec");
    } else {
      assertNull(m.customerMasterKeySpecAsString(), "CustomerMasterKeySpec has no value for " + spec);
    }
    assertAlgorithms(m, usage, algorithms);
    assertEquals(KeyState.ENABLED, m.keyState());
    assertEquals(Boolean.TRUE, m.enabled());
    assertEquals(OriginType.AWS_KMS, m.origin());
    if (spec.equals("SYMMETRIC_DEFAULT")) {
      assertNotNull(m.currentKeyMaterialId(), "symmetric keys show their current key material");
      assertTrue(MATERIAL_ID.matcher(m.currentKeyMaterialId()).matches(), m.currentKeyMaterialId());
    } else {
      assertNull(m.currentKeyMaterialId(), "only symmetric encryption keys show CurrentKeyMaterialId");
    }
    assertDescribedAndListed(m, before);
  }

  @Test
  void symmetricKeyIsTheDefaultWhenNothingIsGiven() {
    Set<String> before = allKeyIds();
    KeyMetadata m = kms.createKey(CreateKeyRequest.builder().build()).keyMetadata();
    assertSingleRegionKey(m, Instant.now().minusSeconds(5));
    assertEquals(KeySpec.SYMMETRIC_DEFAULT, m.keySpec());
    assertEquals(CustomerMasterKeySpec.SYMMETRIC_DEFAULT, m.customerMasterKeySpec());
    assertEquals(KeyUsageType.ENCRYPT_DECRYPT, m.keyUsage());
    assertAlgorithms(m, "ENCRYPT_DECRYPT", List.of("SYMMETRIC_DEFAULT"));
    assertEquals(KeyState.ENABLED, m.keyState());
    assertTrue(MATERIAL_ID.matcher(m.currentKeyMaterialId()).matches());
    assertDescribedAndListed(m, before);
  }

  @Test
  void symmetricKeyWithoutKeyUsageDefaultsToEncryptDecrypt() {
    Set<String> before = allKeyIds();
    KeyMetadata m = kms.createKey(b -> b.keySpec(KeySpec.SYMMETRIC_DEFAULT)).keyMetadata();
    assertEquals(KeyUsageType.ENCRYPT_DECRYPT, m.keyUsage());
    assertAlgorithms(m, "ENCRYPT_DECRYPT", List.of("SYMMETRIC_DEFAULT"));
    assertDescribedAndListed(m, before);
  }

  @Test
  void deprecatedCustomerMasterKeySpecStillSelectsTheSpec() {
    Set<String> before = allKeyIds();
    KeyMetadata m = kms.createKey(b -> b.customerMasterKeySpec(CustomerMasterKeySpec.ECC_NIST_P384)
        .keyUsage(KeyUsageType.SIGN_VERIFY)).keyMetadata();
    assertEquals(KeySpec.ECC_NIST_P384, m.keySpec());
    assertEquals(CustomerMasterKeySpec.ECC_NIST_P384, m.customerMasterKeySpec());
    assertAlgorithms(m, "SIGN_VERIFY", List.of("ECDSA_SHA_384"));
    assertDescribedAndListed(m, before);
  }

  @Test
  void descriptionTagsAndPolicyAtTheirLimitsAreAccepted() {
    Set<String> before = allKeyIds();
    String description = "d".repeat(8192);
    List<Tag> tags = new ArrayList<>();
    tags.add(Tag.builder().tagKey("k".repeat(128)).tagValue("v".repeat(256)).build());
    tags.add(Tag.builder().tagKey("awsish").tagValue("").build()); // aws without the colon is fine
    for (int i = tags.size(); i < 50; i++) tags.add(Tag.builder().tagKey("tag-" + i).tagValue("v").build());
    String policy = policyOfBytes(32768);

    KeyMetadata m = kms.createKey(b -> b.description(description).tags(tags).policy(policy)).keyMetadata();

    assertEquals(description, m.description());
    assertEquals(KeyState.ENABLED, m.keyState());
    assertDescribedAndListed(m, before);
  }

  @Test
  void externalOriginCreatesAKeyPendingImportWithoutMaterial() {
    Set<String> before = allKeyIds();
    KeyMetadata m = kms.createKey(b -> b.origin(OriginType.EXTERNAL)).keyMetadata();
    assertTrue(UUID_ID.matcher(m.keyId()).matches(), m.keyId());
    assertEquals(OriginType.EXTERNAL, m.origin());
    assertEquals(KeyState.PENDING_IMPORT, m.keyState());
    assertEquals(Boolean.FALSE, m.enabled(), "Enabled is true only in state Enabled");
    assertNull(m.currentKeyMaterialId(), "no material before the first import");
    assertNull(m.expirationModel(), "ExpirationModel is absent while PendingImport");
    assertNull(m.validTo());
    assertEquals(KeySpec.SYMMETRIC_DEFAULT, m.keySpec());
    assertAlgorithms(m, "ENCRYPT_DECRYPT", List.of("SYMMETRIC_DEFAULT"));
    assertDescribedAndListed(m, before);
  }

  @Test
  void externalOriginHmacKeyIsPendingImport() {
    Set<String> before = allKeyIds();
    KeyMetadata m = kms.createKey(b -> b.origin(OriginType.EXTERNAL)
        .keySpec(KeySpec.HMAC_256).keyUsage(KeyUsageType.GENERATE_VERIFY_MAC)).keyMetadata();
    assertEquals(KeyState.PENDING_IMPORT, m.keyState());
    assertEquals(Boolean.FALSE, m.enabled());
    assertNull(m.currentKeyMaterialId());
    assertAlgorithms(m, "GENERATE_VERIFY_MAC", List.of("HMAC_SHA_256"));
    assertDescribedAndListed(m, before);
  }

  @Test
  void multiRegionKeyIsAPrimaryOfItsOwn() {
    Set<String> before = allKeyIds();
    KeyMetadata m = kms.createKey(b -> b.multiRegion(true)).keyMetadata();

    assertTrue(MRK_ID.matcher(m.keyId()).matches(), m.keyId());
    String arn = "arn:aws:kms:" + REGION + ":" + ACCOUNT + ":key/" + m.keyId();
    assertEquals(arn, m.arn());
    assertEquals(Boolean.TRUE, m.multiRegion());
    assertEquals(KeyState.ENABLED, m.keyState());
    assertTrue(MATERIAL_ID.matcher(m.currentKeyMaterialId()).matches());
    MultiRegionConfiguration c = m.multiRegionConfiguration();
    assertNotNull(c, "MultiRegionConfiguration is present for multi-Region keys");
    assertEquals(MultiRegionKeyType.PRIMARY, c.multiRegionKeyType());
    assertEquals(arn, c.primaryKey().arn());
    assertEquals(REGION, c.primaryKey().region());
    assertTrue(c.hasReplicaKeys(), "a new primary shows ReplicaKeys: []");
    assertTrue(c.replicaKeys().isEmpty(), c.replicaKeys().toString());
    assertDescribedAndListed(m, before);
  }

  @Test
  void multiRegionExternalKeyIsAPrimaryPendingImport() {
    Set<String> before = allKeyIds();
    KeyMetadata m = kms.createKey(b -> b.multiRegion(true).origin(OriginType.EXTERNAL)).keyMetadata();
    assertTrue(MRK_ID.matcher(m.keyId()).matches(), m.keyId());
    assertEquals(KeyState.PENDING_IMPORT, m.keyState());
    assertEquals(MultiRegionKeyType.PRIMARY, m.multiRegionConfiguration().multiRegionKeyType());
    assertNull(m.currentKeyMaterialId());
    assertDescribedAndListed(m, before);
  }

  // ------------------------------------------------------------------ invalid requests (SDK)

  static Stream<Arguments> specsWithoutDefaultUsage() {
    return Stream.of("RSA_2048", "ECC_NIST_P256", "ECC_SECG_P256K1", "ECC_NIST_EDWARDS25519",
        "ML_DSA_44", "HMAC_256", "SM2").map(Arguments::of);
  }

  @ParameterizedTest(name = "{0} without KeyUsage")
  @MethodSource("specsWithoutDefaultUsage")
  void nonSymmetricSpecWithoutKeyUsageIsRefused(String spec) {
    assertRefused("ValidationException",
        "You must specify a KeyUsage value for all KMS keys except for symmetric encryption keys.",
        b -> b.keySpec(spec));
  }

  static Stream<Arguments> incompatiblePairs() {
    return Stream.of(
        Arguments.of("RSA_2048", "KEY_AGREEMENT"),
        Arguments.of("RSA_4096", "GENERATE_VERIFY_MAC"),
        Arguments.of("SYMMETRIC_DEFAULT", "SIGN_VERIFY"),
        Arguments.of("SYMMETRIC_DEFAULT", "KEY_AGREEMENT"),
        Arguments.of("SYMMETRIC_DEFAULT", "GENERATE_VERIFY_MAC"),
        Arguments.of("HMAC_256", "ENCRYPT_DECRYPT"),
        Arguments.of("HMAC_512", "SIGN_VERIFY"),
        Arguments.of("ECC_NIST_P256", "ENCRYPT_DECRYPT"),
        Arguments.of("ECC_SECG_P256K1", "KEY_AGREEMENT"),
        Arguments.of("ECC_NIST_EDWARDS25519", "KEY_AGREEMENT"),
        Arguments.of("ML_DSA_44", "ENCRYPT_DECRYPT"),
        Arguments.of("ML_DSA_87", "KEY_AGREEMENT"),
        Arguments.of("SM2", "GENERATE_VERIFY_MAC"));
  }

  @ParameterizedTest(name = "{0} + {1}")
  @MethodSource("incompatiblePairs")
  void incompatibleSpecAndUsageIsRefused(String spec, String usage) {
    assertRefused("ValidationException", "KeyUsage " + usage + " is not compatible with KeySpec " + spec,
        b -> b.keySpec(spec).keyUsage(usage));
  }

  @Test
  void keySpecAndCustomerMasterKeySpecTogetherAreRefused() {
    assertRefused("ValidationException", null,
        b -> b.keySpec(KeySpec.SYMMETRIC_DEFAULT).customerMasterKeySpec(CustomerMasterKeySpec.SYMMETRIC_DEFAULT));
    assertRefused("ValidationException", null,
        b -> b.keySpec(KeySpec.RSA_2048).customerMasterKeySpec(CustomerMasterKeySpec.RSA_3072)
            .keyUsage(KeyUsageType.SIGN_VERIFY));
  }

  @Test
  void cloudHsmOriginWithAnUnknownStoreIsRefused() {
    assertRefused(CustomKeyStoreNotFoundException.class, "CustomKeyStoreNotFoundException",
        b -> b.origin(OriginType.AWS_CLOUDHSM).customKeyStoreId("cks-1234567890abcdef0"));
  }

  @Test
  void externalKeyStoreOriginWithAnUnknownStoreIsRefused() {
    assertRefused(CustomKeyStoreNotFoundException.class, "CustomKeyStoreNotFoundException",
        b -> b.origin(OriginType.EXTERNAL_KEY_STORE).customKeyStoreId("cks-1234567890abcdef0")
            .xksKeyId("xks-key-1"));
  }

  @Test
  void multiRegionKeyInACustomKeyStoreIsUnsupported() {
    assertRefused(software.amazon.awssdk.services.kms.model.UnsupportedOperationException.class,
        "UnsupportedOperationException",
        b -> b.multiRegion(true).customKeyStoreId("cks-1234567890abcdef0"));
    assertRefused(software.amazon.awssdk.services.kms.model.UnsupportedOperationException.class,
        "UnsupportedOperationException",
        b -> b.multiRegion(true).origin(OriginType.AWS_CLOUDHSM).customKeyStoreId("cks-1234567890abcdef0"));
  }

  @Test
  void xksKeyIdWithAwsKmsOriginIsRefused() {
    assertRefused("ValidationException", null, b -> b.origin(OriginType.AWS_KMS).xksKeyId("xks-key-1"));
    assertRefused("ValidationException", null, b -> b.xksKeyId("xks-key-1"));
  }

  @Test
  void descriptionLongerThan8192CharactersIsRefused() {
    KmsException e = assertRefused("ValidationException", null, b -> b.description("d".repeat(8193)));
    assertContains(e.awsErrorDetails().errorMessage(), "at 'description' failed to satisfy constraint");
    assertContains(e.awsErrorDetails().errorMessage(), "Member must have length less than or equal to 8192");
  }

  @ParameterizedTest
  @ValueSource(strings = {"aws:x", "AWS:x", "Aws:CostCenter", "aWs:"})
  void tagKeysWithTheReservedAwsPrefixAreRefused(String tagKey) {
    assertRefused(TagException.class, "TagException", "Tags beginning with aws: are reserved",
        b -> b.tags(tag("ok", "1"), tag(tagKey, "v")));
  }

  @Test
  void duplicateTagKeysAreRefused() {
    assertRefused(TagException.class, "TagException", "Duplicate tag keys",
        b -> b.tags(tag("team", "a"), tag("other", "b"), tag("team", "c")));
  }

  @Test
  void moreThan50TagsAreRefused() {
    List<Tag> tags = IntStream.range(0, 51).mapToObj(i -> tag("tag-" + i, "v")).toList();
    assertRefused(TagException.class, "TagException", "Too many tags", b -> b.tags(tags));
  }

  @Test
  void tagKeyLongerThan128CharactersIsRefused() {
    KmsException e = assertRefused("ValidationException", null, b -> b.tags(tag("k".repeat(129), "v")));
    assertContains(e.awsErrorDetails().errorMessage(), "tagKey");
    assertContains(e.awsErrorDetails().errorMessage(), "Member must have length less than or equal to 128");
  }

  @Test
  void tagValueLongerThan256CharactersIsRefused() {
    KmsException e = assertRefused("ValidationException", null, b -> b.tags(tag("k", "v".repeat(257))));
    assertContains(e.awsErrorDetails().errorMessage(), "tagValue");
  }

  @ParameterizedTest
  @ValueSource(strings = {"this is not JSON", "{\"Version\":\"2012-10-17\",\"Statement\":[", "[]"})
  void policyThatIsNotAJsonPolicyIsRefused(String policy) {
    assertRefused(MalformedPolicyDocumentException.class, "MalformedPolicyDocumentException",
        b -> b.policy(policy));
  }

  @Test
  void policyLargerThan32KilobytesIsRefused() {
    String policy = policyOfBytes(32769);
    assertRefused(LimitExceededException.class, "LimitExceededException", b -> b.policy(policy));
  }

  // ------------------------------------------------------------------ invalid enum values (raw HTTP)

  @ParameterizedTest(name = "{0} = {1}")
  @MethodSource("unknownEnums")
  void unknownEnumValueIsACoralValidationError(String member, String value, String path) throws Exception {
    Set<String> before = allKeyIds();
    ObjectNode body = JSON.createObjectNode();
    // A valid rest, so only the bad member can be the reason.
    if (!member.equals("KeySpec") && !member.equals("CustomerMasterKeySpec")) body.put("KeySpec", "RSA_2048");
    if (!member.equals("KeyUsage")) body.put("KeyUsage", "SIGN_VERIFY");
    body.put(member, value);
    HttpResponse<String> r = post("TrentService.CreateKey", JSON.writeValueAsString(body));
    assertEquals(400, r.statusCode(), r.body());
    JsonNode error = JSON.readTree(r.body());
    assertEquals("ValidationException", error.path("__type").asText(), r.body());
    String message = error.path("message").asText();
    assertTrue(message.startsWith("1 validation error detected: Value '" + value + "' at '" + path + "'"), message);
    assertContains(message, "at '" + path + "' failed to satisfy constraint: Member must satisfy enum value set");
    assertEquals(before, allKeyIds(), "a refused request must not create a key");
  }

  static Stream<Arguments> unknownEnums() {
    return Stream.of(
        Arguments.of("KeySpec", "RSA_1024", "keySpec"),
        Arguments.of("KeySpec", "symmetric_default", "keySpec"),
        Arguments.of("CustomerMasterKeySpec", "AES_256", "customerMasterKeySpec"),
        // The deprecated enum never got the specs added after it (kms-api.md §3).
        Arguments.of("CustomerMasterKeySpec", "ML_DSA_44", "customerMasterKeySpec"),
        Arguments.of("CustomerMasterKeySpec", "ECC_NIST_EDWARDS25519", "customerMasterKeySpec"),
        Arguments.of("KeyUsage", "ENCRYPT_AND_SIGN", "keyUsage"),
        Arguments.of("Origin", "ON_PREMISES", "origin"));
  }

  @Test
  void rawHttpCreateKeyWorksSoTheEnumRefusalsAboveAreMeaningful() throws Exception {
    Set<String> before = allKeyIds();
    HttpResponse<String> r = post("TrentService.CreateKey",
        "{\"KeySpec\":\"RSA_2048\",\"KeyUsage\":\"SIGN_VERIFY\",\"Origin\":\"AWS_KMS\"}");
    assertEquals(200, r.statusCode(), r.body());
    String keyId = JSON.readTree(r.body()).path("KeyMetadata").path("KeyId").asText();
    Set<String> after = allKeyIds();
    assertTrue(after.contains(keyId));
    assertEquals(before.size() + 1, after.size());
  }

  // ------------------------------------------------------------------ helpers

  private static Tag tag(String key, String value) {
    return Tag.builder().tagKey(key).tagValue(value).build();
  }

  /** A syntactically valid key policy of exactly {@code bytes} UTF-8 bytes (ASCII only). */
  private static String policyOfBytes(int bytes) {
    String head = "{\"Version\":\"2012-10-17\",\"Id\":\"";
    String tail = "\",\"Statement\":[{\"Sid\":\"Enable IAM User Permissions\",\"Effect\":\"Allow\","
        + "\"Principal\":{\"AWS\":\"arn:aws:iam::" + ACCOUNT + ":root\"},\"Action\":\"kms:*\",\"Resource\":\"*\"}]}";
    String policy = head + "p".repeat(bytes - head.length() - tail.length()) + tail;
    assertEquals(bytes, policy.getBytes(java.nio.charset.StandardCharsets.UTF_8).length);
    return policy;
  }

  /** The fields every newly created, single-Region, AWS_KMS key shares. */
  private static void assertSingleRegionKey(KeyMetadata m, Instant notBefore) {
    assertNotNull(m);
    assertTrue(UUID_ID.matcher(m.keyId()).matches(), "single-Region key ids are UUIDs: " + m.keyId());
    assertEquals("arn:aws:kms:" + REGION + ":" + ACCOUNT + ":key/" + m.keyId(), m.arn());
    assertEquals(ACCOUNT, m.awsAccountId());
    assertEquals(KeyManagerType.CUSTOMER, m.keyManager());
    assertEquals("", m.description(), "Description is \"\" when not given");
    assertEquals(Boolean.FALSE, m.multiRegion(), "MultiRegion is sent as false for single-Region keys");
    assertNull(m.multiRegionConfiguration());
    assertNotNull(m.creationDate());
    assertFalse(m.creationDate().isBefore(notBefore), m.creationDate() + " before " + notBefore);
    assertFalse(m.creationDate().isAfter(Instant.now().plusSeconds(2)), m.creationDate().toString());
    assertNull(m.deletionDate());
    assertNull(m.validTo());
    assertNull(m.customKeyStoreId());
    assertNull(m.cloudHsmClusterId());
    assertNull(m.xksKeyConfiguration());
    assertNull(m.pendingDeletionWindowInDays());
    assertNull(m.expirationModel());
  }

  /** Exactly the algorithm list of {@code usage} is present, holding {@code expected}; the others are absent. */
  private static void assertAlgorithms(KeyMetadata m, String usage, List<String> expected) {
    assertEquals(usage.equals("ENCRYPT_DECRYPT"), m.hasEncryptionAlgorithms(), "EncryptionAlgorithms presence");
    assertEquals(usage.equals("SIGN_VERIFY"), m.hasSigningAlgorithms(), "SigningAlgorithms presence");
    assertEquals(usage.equals("GENERATE_VERIFY_MAC"), m.hasMacAlgorithms(), "MacAlgorithms presence");
    assertEquals(usage.equals("KEY_AGREEMENT"), m.hasKeyAgreementAlgorithms(), "KeyAgreementAlgorithms presence");
    assertFalse(m.hasEncapsulationAlgorithms(), "EncapsulationAlgorithms absent");
    List<String> actual = switch (usage) {
      case "ENCRYPT_DECRYPT" -> m.encryptionAlgorithmsAsStrings();
      case "SIGN_VERIFY" -> m.signingAlgorithmsAsStrings();
      case "GENERATE_VERIFY_MAC" -> m.macAlgorithmsAsStrings();
      case "KEY_AGREEMENT" -> m.keyAgreementAlgorithmsAsStrings();
      default -> throw new AssertionError("unknown usage " + usage);
    };
    assertEquals(Set.copyOf(expected), Set.copyOf(actual), "algorithms of " + m.keySpecAsString() + "/" + usage);
    assertEquals(expected.size(), actual.size(), "no duplicates in " + actual);
  }

  /** DescribeKey by id and by ARN return the same metadata as CreateKey; ListKeys has exactly one more key. */
  private static void assertDescribedAndListed(KeyMetadata created, Set<String> before) {
    KeyMetadata byId = kms.describeKey(b -> b.keyId(created.keyId())).keyMetadata();
    KeyMetadata byArn = kms.describeKey(b -> b.keyId(created.arn())).keyMetadata();
    assertEquals(created, byId, "DescribeKey by id");
    assertEquals(created, byArn, "DescribeKey by ARN");

    List<KeyListEntry> entries = allKeys();
    KeyListEntry entry = entries.stream().filter(e -> e.keyId().equals(created.keyId())).findFirst()
        .orElseThrow(() -> new AssertionError("ListKeys does not list " + created.keyId()));
    assertEquals(created.arn(), entry.keyArn());
    Set<String> after = entries.stream().map(KeyListEntry::keyId).collect(Collectors.toSet());
    assertFalse(before.contains(created.keyId()));
    Set<String> expected = new LinkedHashSet<>(before);
    expected.add(created.keyId());
    assertEquals(expected, after, "CreateKey adds exactly its key");
  }

  private static KmsException assertRefused(String errorCode, String message, Consumer<CreateKeyRequest.Builder> request) {
    return assertRefused(KmsException.class, errorCode, message, request);
  }

  private static <E extends KmsException> E assertRefused(
      Class<E> type, String errorCode, Consumer<CreateKeyRequest.Builder> request) {
    return assertRefused(type, errorCode, null, request);
  }

  /**
   * CreateKey fails with exactly {@code type} (the SDK's class for modeled errors, KmsException
   * for ValidationException), HTTP 400, {@code errorCode} and, if given, exactly {@code message};
   * and the Region's key list is unchanged.
   */
  private static <E extends KmsException> E assertRefused(
      Class<E> type, String errorCode, String message, Consumer<CreateKeyRequest.Builder> request) {
    Set<String> before = allKeyIds();
    KmsException e = assertThrows(KmsException.class, () -> kms.createKey(request));
    assertSame(type, e.getClass(), "exception class for " + e.awsErrorDetails());
    assertEquals(errorCode, e.awsErrorDetails().errorCode(), String.valueOf(e.awsErrorDetails()));
    assertEquals(400, e.statusCode());
    String actual = e.awsErrorDetails().errorMessage();
    if (message != null) {
      assertEquals(message, actual);
    } else {
      assertNotNull(actual, "an explanation for " + errorCode);
      assertFalse(actual.isBlank(), "an explanation for " + errorCode);
    }
    Set<String> after = allKeyIds();
    assertEquals(before.size(), after.size(), "a refused CreateKey must not change the key count");
    assertEquals(before, after, "a refused CreateKey must not change the key list");
    return type.cast(e);
  }

  /** Every key id of the Region, paging through ListKeys in small pages. */
  private static Set<String> allKeyIds() {
    return allKeys().stream().map(KeyListEntry::keyId).collect(Collectors.toCollection(LinkedHashSet::new));
  }

  private static List<KeyListEntry> allKeys() {
    List<KeyListEntry> all = new ArrayList<>();
    String marker = null;
    for (int page = 0; page < 10_000; page++) {
      final String m = marker;
      ListKeysResponse r = kms.listKeys(b -> b.limit(7).marker(m));
      assertTrue(r.keys().size() <= 7, "at most Limit keys per page");
      all.addAll(r.keys());
      if (!Boolean.TRUE.equals(r.truncated())) {
        assertNull(r.nextMarker(), "no NextMarker when not truncated");
        assertEquals(all.size(), all.stream().map(KeyListEntry::keyId).distinct().count(), "no key listed twice");
        return all;
      }
      assertNotNull(r.nextMarker(), "Truncated:true carries a NextMarker");
      marker = r.nextMarker();
    }
    return fail("ListKeys never ended");
  }

  private static HttpResponse<String> post(String target, String body) throws IOException, InterruptedException {
    HttpRequest request = HttpRequest.newBuilder(URI.create(cluster.endpoint(REGION) + "/"))
        .timeout(Duration.ofSeconds(30))
        .header("X-Amz-Target", target)
        .header("Content-Type", "application/x-amz-json-1.1")
        .POST(HttpRequest.BodyPublishers.ofString(body))
        .build();
    return HTTP.send(request, HttpResponse.BodyHandlers.ofString());
  }

  private static void assertContains(String actual, String expected) {
    assertNotNull(actual);
    assertTrue(actual.contains(expected), "expected <" + actual + "> to contain <" + expected + ">");
  }
}
