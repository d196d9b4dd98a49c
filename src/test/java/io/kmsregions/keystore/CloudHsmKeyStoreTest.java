package io.kmsregions.keystore;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.kmsregions.testkit.TestCluster;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.kms.KmsClient;
import software.amazon.awssdk.services.kms.model.CloudHsmClusterInUseException;
import software.amazon.awssdk.services.kms.model.CloudHsmClusterInvalidConfigurationException;
import software.amazon.awssdk.services.kms.model.CloudHsmClusterNotActiveException;
import software.amazon.awssdk.services.kms.model.CloudHsmClusterNotFoundException;
import software.amazon.awssdk.services.kms.model.ConnectionErrorCodeType;
import software.amazon.awssdk.services.kms.model.ConnectionStateType;
import software.amazon.awssdk.services.kms.model.CustomKeyStoreHasCmKsException;
import software.amazon.awssdk.services.kms.model.CustomKeyStoreInvalidStateException;
import software.amazon.awssdk.services.kms.model.CustomKeyStoreNameInUseException;
import software.amazon.awssdk.services.kms.model.CustomKeyStoreNotFoundException;
import software.amazon.awssdk.services.kms.model.CustomKeyStoresListEntry;
import software.amazon.awssdk.services.kms.model.DescribeCustomKeyStoresResponse;
import software.amazon.awssdk.services.kms.model.IncorrectTrustAnchorException;
import software.amazon.awssdk.services.kms.model.KeyMetadata;
import software.amazon.awssdk.services.kms.model.KeySpec;
import software.amazon.awssdk.services.kms.model.KeyState;
import software.amazon.awssdk.services.kms.model.KeyUsageType;
import software.amazon.awssdk.services.kms.model.KmsInvalidStateException;
import software.amazon.awssdk.services.kms.model.OriginType;
import software.amazon.awssdk.services.kms.model.UnsupportedOperationException;
import software.amazon.awssdk.services.kms.model.KmsException;

/**
 * AWS_CLOUDHSM custom key stores on a real node with simulated CloudHSM clusters (issue 8): every
 * creation error, connection failures with their ConnectionErrorCode and success, keys created,
 * used and made Unavailable by a disconnect or by the loss of every HSM, and the store surviving a
 * restart. Driven by the AWS SDK for Java v2; HSMs are changed through the node's admin endpoint.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class CloudHsmKeyStoreTest {
  static final String US = "us-east-1";
  static final String PASSWORD = "kmsPassword";

  @TempDir static Path dir;
  static TestCluster cluster;
  static KmsClient kms;
  static String anchor;
  static String storeId;
  static String keyId;

  static String clusterConf(String id, String state, String zones, String hsms) {
    return "{ cluster-id = " + id + ", state = " + state + ", kmsuser-password = " + PASSWORD
        + ", trust-anchor-certificate = \"classpath:cloudhsm/customerCA.crt\", subnet-availability-zones = [" + zones
        + "], hsms = [" + hsms + "] }";
  }

  @BeforeAll
  static void start() throws Exception {
    anchor = new String(CloudHsmKeyStoreTest.class.getClassLoader().getResourceAsStream("cloudhsm/customerCA.crt")
        .readAllBytes(), StandardCharsets.US_ASCII);
    String clusters = String.join(",\n",
        clusterConf("cluster-kmsregionsdemo", "ACTIVE", "a, b, c", "{availability-zone = a}, {availability-zone = b}"),
        clusterConf("cluster-onehsmonlyabc", "ACTIVE", "a, b", "{availability-zone = a}"),
        clusterConf("cluster-samezonetwoab", "ACTIVE", "a, b", "{availability-zone = a}, {availability-zone = a}"),
        clusterConf("cluster-uninitializedx", "UNINITIALIZED", "a, b", ""),
        clusterConf("cluster-onesubnetonly", "ACTIVE", "a", "{availability-zone = a}, {availability-zone = b}"));
    cluster = TestCluster.start(dir, List.of(US), ConfigFactory.parseString(
        "kms.cloudhsm.clusters = [" + clusters + "]\nkms.custom-key-stores.connect-delay = 1500ms"
            // A simulated day a second: a 7-day deletion window ends in 7 s (the last test).
            + "\nkms.clock.time-scale = 86400"));
    kms = cluster.client(US);
  }

  @AfterAll
  static void stop() {
    if (kms != null) kms.close();
    if (cluster != null) cluster.close();
  }

  static CustomKeyStoresListEntry describe(String id) {
    return kms.describeCustomKeyStores(b -> b.customKeyStoreId(id)).customKeyStores().get(0);
  }

  static CustomKeyStoresListEntry awaitSettled(String id) {
    TestCluster.await(Duration.ofSeconds(30), id + " leaves CONNECTING",
        () -> describe(id).connectionState() != ConnectionStateType.CONNECTING);
    return describe(id);
  }

  static String create(String name, String clusterId, String password) {
    return kms.createCustomKeyStore(b -> b.customKeyStoreName(name).cloudHsmClusterId(clusterId)
        .trustAnchorCertificate(anchor).keyStorePassword(password)).customKeyStoreId();
  }

  @Test
  @Order(1)
  void creationChecksTheClusterAndItsTrustAnchor() throws Exception {
    assertThrows(CloudHsmClusterNotFoundException.class, () -> create("s", "cluster-doesnotexistab", PASSWORD));
    assertThrows(CloudHsmClusterNotActiveException.class, () -> create("s", "cluster-uninitializedx", PASSWORD));
    assertThrows(CloudHsmClusterInvalidConfigurationException.class, () -> create("s", "cluster-onesubnetonly", PASSWORD));
    String other = Files.readString(Path.of("src/test/resources/cloudhsm/other-ca.crt"));
    assertThrows(IncorrectTrustAnchorException.class, () -> kms.createCustomKeyStore(b -> b.customKeyStoreName("s")
        .cloudHsmClusterId("cluster-kmsregionsdemo").trustAnchorCertificate(other).keyStorePassword(PASSWORD)));
    assertThrows(IncorrectTrustAnchorException.class, () -> kms.createCustomKeyStore(b -> b.customKeyStoreName("s")
        .cloudHsmClusterId("cluster-kmsregionsdemo").trustAnchorCertificate("not a certificate").keyStorePassword(PASSWORD)));
    // Field constraints: a password of 6 characters, a missing cluster id, XKS settings on a CloudHSM store.
    assertValidation(() -> create("s", "cluster-kmsregionsdemo", "short6"));
    assertValidation(() -> kms.createCustomKeyStore(b -> b.customKeyStoreName("s")
        .trustAnchorCertificate(anchor).keyStorePassword(PASSWORD)));
    assertValidation(() -> kms.createCustomKeyStore(b -> b.customKeyStoreName("s")
        .cloudHsmClusterId("cluster-kmsregionsdemo").trustAnchorCertificate(anchor).keyStorePassword(PASSWORD)
        .xksProxyUriPath("/kms/xks/v1")));
    // None of the refused requests made a store.
    assertTrue(kms.describeCustomKeyStores(b -> {}).customKeyStores().isEmpty());
  }

  @Test
  @Order(2)
  void connectingFailsWithTheMatchingErrorCode() {
    String one = create("one HSM", "cluster-onehsmonlyabc", PASSWORD);
    String sameZone = create("two HSMs, one zone", "cluster-samezonetwoab", PASSWORD);
    kms.connectCustomKeyStore(b -> b.customKeyStoreId(one));
    assertEquals(ConnectionStateType.CONNECTING, describe(one).connectionState());
    kms.connectCustomKeyStore(b -> b.customKeyStoreId(sameZone));
    CustomKeyStoresListEntry e = awaitSettled(one);
    assertEquals(ConnectionStateType.FAILED, e.connectionState());
    assertEquals(ConnectionErrorCodeType.INSUFFICIENT_CLOUDHSM_HSMS, e.connectionErrorCode());
    assertEquals(ConnectionErrorCodeType.INSUFFICIENT_CLOUDHSM_HSMS, awaitSettled(sameZone).connectionErrorCode());
    // A FAILED store must be disconnected before it connects again.
    assertThrows(CustomKeyStoreInvalidStateException.class, () -> kms.connectCustomKeyStore(b -> b.customKeyStoreId(one)));
    kms.disconnectCustomKeyStore(b -> b.customKeyStoreId(one));
    assertEquals(ConnectionStateType.DISCONNECTED, describe(one).connectionState());
    assertNull(describe(one).connectionErrorCode());
    kms.deleteCustomKeyStore(b -> b.customKeyStoreId(one));
    kms.disconnectCustomKeyStore(b -> b.customKeyStoreId(sameZone));
    kms.deleteCustomKeyStore(b -> b.customKeyStoreId(sameZone));
    assertThrows(CustomKeyStoreNotFoundException.class, () -> describe(one));
  }

  @Test
  @Order(3)
  void aWrongPasswordFailsUntilUpdatedThenTheStoreConnects() throws Exception {
    storeId = create("demo", "cluster-kmsregionsdemo", "wrongPassword");
    assertTrue(storeId.matches("cks-[0-9a-f]{17}"), storeId);
    assertThrows(CustomKeyStoreNameInUseException.class, () -> create("demo", "cluster-onehsmonlyabc", PASSWORD));
    assertThrows(CloudHsmClusterInUseException.class, () -> create("demo2", "cluster-kmsregionsdemo", PASSWORD));
    // No key in a store that is not connected.
    assertThrows(CustomKeyStoreInvalidStateException.class, () -> kms.createKey(b -> b.origin(OriginType.AWS_CLOUDHSM)
        .customKeyStoreId(storeId)));
    kms.connectCustomKeyStore(b -> b.customKeyStoreId(storeId));
    assertEquals(ConnectionErrorCodeType.INVALID_CREDENTIALS, awaitSettled(storeId).connectionErrorCode());
    // Settings change only while DISCONNECTED; a new name at any time.
    assertThrows(CustomKeyStoreInvalidStateException.class, () -> kms.updateCustomKeyStore(b -> b
        .customKeyStoreId(storeId).keyStorePassword(PASSWORD)));
    kms.disconnectCustomKeyStore(b -> b.customKeyStoreId(storeId));
    kms.updateCustomKeyStore(b -> b.customKeyStoreId(storeId).keyStorePassword(PASSWORD).newCustomKeyStoreName("demo store"));
    kms.connectCustomKeyStore(b -> b.customKeyStoreId(storeId));
    CustomKeyStoresListEntry e = awaitSettled(storeId);
    assertEquals(ConnectionStateType.CONNECTED, e.connectionState());
    assertEquals("demo store", e.customKeyStoreName());
    assertEquals("cluster-kmsregionsdemo", e.cloudHsmClusterId());
    assertEquals(anchor, e.trustAnchorCertificate());
    assertEquals("AWS_CLOUDHSM", e.customKeyStoreTypeAsString());
    // Connecting a CONNECTED store changes nothing.
    kms.connectCustomKeyStore(b -> b.customKeyStoreId(storeId));
    assertEquals(ConnectionStateType.CONNECTED, describe(storeId).connectionState());
    DescribeCustomKeyStoresResponse byName = kms.describeCustomKeyStores(b -> b.customKeyStoreName("demo store"));
    assertEquals(storeId, byName.customKeyStores().get(0).customKeyStoreId());
    // The audit trail records the stores, never the kmsuser password.
    Path log = dir.resolve(US).resolve(io.kmsregions.audit.AuditLog.FILE_NAME);
    TestCluster.await(Duration.ofSeconds(10), "UpdateCustomKeyStore audited", () -> {
      try {
        return Files.exists(log) && Files.readString(log).contains("\"UpdateCustomKeyStore\"");
      } catch (java.io.IOException x) {
        throw new java.io.UncheckedIOException(x);
      }
    });
    try {
      String audit = Files.readString(log);
      assertTrue(!audit.contains(PASSWORD) && !audit.contains("wrongPassword"), "a kmsuser password is in the audit log");
    } catch (java.io.IOException x) {
      throw new java.io.UncheckedIOException(x);
    }
  }

  @Test
  @Order(4)
  void keysLiveInTheClusterAndWorkWhileTwoZonesServe() throws Exception {
    KeyMetadata m = kms.createKey(b -> b.origin(OriginType.AWS_CLOUDHSM).customKeyStoreId(storeId)
        .description("in CloudHSM")).keyMetadata();
    keyId = m.keyId();
    assertEquals(KeyState.ENABLED, m.keyState());
    assertEquals(storeId, m.customKeyStoreId());
    assertEquals("cluster-kmsregionsdemo", m.cloudHsmClusterId());
    assertEquals(OriginType.AWS_CLOUDHSM, m.origin());
    byte[] blob = kms.encrypt(b -> b.keyId(keyId).plaintext(SdkBytes.fromUtf8String("hsm")).encryptionContext(
        java.util.Map.of("k", "v"))).ciphertextBlob().asByteArray();
    assertEquals("hsm", kms.decrypt(b -> b.ciphertextBlob(SdkBytes.fromByteArray(blob))
        .encryptionContext(java.util.Map.of("k", "v"))).plaintext().asUtf8String());
    var dataKey = kms.generateDataKey(b -> b.keyId(keyId).keySpec("AES_256"));
    assertArrayEquals(dataKey.plaintext().asByteArray(),
        kms.decrypt(b -> b.ciphertextBlob(dataKey.ciphertextBlob())).plaintext().asByteArray());
    assertEquals(32, kms.generateRandom(b -> b.numberOfBytes(32).customKeyStoreId(storeId)).plaintext().asByteArray().length);
    // Only symmetric encryption keys, only single-Region keys, no rotation (kms-api.md §4, §6).
    assertThrows(UnsupportedOperationException.class, () -> kms.createKey(b -> b.origin(OriginType.AWS_CLOUDHSM)
        .customKeyStoreId(storeId).keySpec(KeySpec.RSA_2048).keyUsage(KeyUsageType.SIGN_VERIFY)));
    assertThrows(UnsupportedOperationException.class, () -> kms.createKey(b -> b.origin(OriginType.AWS_CLOUDHSM)
        .customKeyStoreId(storeId).multiRegion(true)));
    assertValidation(() -> kms.createKey(b -> b.customKeyStoreId(storeId)));
    assertThrows(UnsupportedOperationException.class, () -> kms.enableKeyRotation(b -> b.keyId(keyId)));
    assertThrows(UnsupportedOperationException.class, () -> kms.rotateKeyOnDemand(b -> b.keyId(keyId)));

    // One HSM left: existing keys work, new keys need two zones.
    String hsmB = hsmIn("us-east-1b");
    admin("/cloudhsm/hsms/delete", "{\"clusterId\":\"cluster-kmsregionsdemo\",\"hsmId\":\"" + hsmB + "\"}");
    assertThrows(CloudHsmClusterInvalidConfigurationException.class,
        () -> kms.createKey(b -> b.origin(OriginType.AWS_CLOUDHSM).customKeyStoreId(storeId)));
    assertEquals("hsm", kms.decrypt(b -> b.ciphertextBlob(SdkBytes.fromByteArray(blob))
        .encryptionContext(java.util.Map.of("k", "v"))).plaintext().asUtf8String());
    // No HSM: the cluster cannot serve.
    admin("/cloudhsm/hsms/delete", "{\"clusterId\":\"cluster-kmsregionsdemo\",\"hsmId\":\"" + hsmIn("us-east-1a") + "\"}");
    KmsInvalidStateException e = assertThrows(KmsInvalidStateException.class,
        () -> kms.encrypt(b -> b.keyId(keyId).plaintext(SdkBytes.fromUtf8String("x"))));
    assertTrue(e.awsErrorDetails().errorMessage().endsWith("is unavailable."), e.getMessage());
    assertThrows(CustomKeyStoreInvalidStateException.class,
        () -> kms.generateRandom(b -> b.numberOfBytes(8).customKeyStoreId(storeId)));
    admin("/cloudhsm/hsms", "{\"clusterId\":\"cluster-kmsregionsdemo\",\"availabilityZone\":\"a\"}");
    admin("/cloudhsm/hsms", "{\"clusterId\":\"cluster-kmsregionsdemo\",\"availabilityZone\":\"c\"}");
    assertEquals("hsm", kms.decrypt(b -> b.ciphertextBlob(SdkBytes.fromByteArray(blob))
        .encryptionContext(java.util.Map.of("k", "v"))).plaintext().asUtf8String());
  }

  @Test
  @Order(5)
  void disconnectingMakesKeysUnavailableAndEnableDisableStillApply() {
    kms.disconnectCustomKeyStore(b -> b.customKeyStoreId(storeId));
    assertEquals(KeyState.UNAVAILABLE, kms.describeKey(b -> b.keyId(keyId)).keyMetadata().keyState());
    KmsInvalidStateException e = assertThrows(KmsInvalidStateException.class,
        () -> kms.encrypt(b -> b.keyId(keyId).plaintext(SdkBytes.fromUtf8String("x"))));
    assertEquals("arn:aws:kms:us-east-1:111122223333:key/" + keyId + " is unavailable.",
        e.awsErrorDetails().errorMessage());
    // kms-api.md §6 note 12: DisableKey succeeds; the state shows once the store reconnects.
    kms.disableKey(b -> b.keyId(keyId));
    assertEquals(KeyState.UNAVAILABLE, kms.describeKey(b -> b.keyId(keyId)).keyMetadata().keyState());
    // A store with keys cannot be deleted; a connected one neither.
    assertThrows(CustomKeyStoreHasCmKsException.class, () -> kms.deleteCustomKeyStore(b -> b.customKeyStoreId(storeId)));
    kms.connectCustomKeyStore(b -> b.customKeyStoreId(storeId));
    assertEquals(ConnectionStateType.CONNECTED, awaitSettled(storeId).connectionState());
    assertThrows(CustomKeyStoreInvalidStateException.class, () -> kms.deleteCustomKeyStore(b -> b.customKeyStoreId(storeId)));
    assertEquals(KeyState.DISABLED, kms.describeKey(b -> b.keyId(keyId)).keyMetadata().keyState());
    kms.enableKey(b -> b.keyId(keyId));
    assertEquals(KeyState.ENABLED, kms.describeKey(b -> b.keyId(keyId)).keyMetadata().keyState());
  }

  @Test
  @Order(6)
  void theStoreAndItsKeysSurviveARestart() {
    byte[] blob = kms.encrypt(b -> b.keyId(keyId).plaintext(SdkBytes.fromUtf8String("again"))).ciphertextBlob().asByteArray();
    kms.close();
    cluster.stop(US);
    cluster.restart(US);
    kms = cluster.client(US);
    CustomKeyStoresListEntry e = describe(storeId);
    assertEquals(ConnectionStateType.CONNECTED, e.connectionState());
    assertEquals("demo store", e.customKeyStoreName());
    assertEquals("again", kms.decrypt(b -> b.ciphertextBlob(SdkBytes.fromByteArray(blob))).plaintext().asUtf8String());
    // Pagination of DescribeCustomKeyStores: one per page.
    String second = create("second", "cluster-onehsmonlyabc", PASSWORD);
    DescribeCustomKeyStoresResponse page1 = kms.describeCustomKeyStores(b -> b.limit(1));
    assertTrue(page1.truncated());
    DescribeCustomKeyStoresResponse page2 = kms.describeCustomKeyStores(b -> b.limit(1).marker(page1.nextMarker()));
    assertEquals(List.of(storeId, second), List.of(page1.customKeyStores().get(0).customKeyStoreId(),
        page2.customKeyStores().get(0).customKeyStoreId()));
    assertTrue(!page2.truncated());
  }

  /** ValidationException has no class of its own in the SDK. */
  static void assertValidation(org.junit.jupiter.api.function.Executable call) {
    KmsException e = assertThrows(KmsException.class, call);
    assertEquals("ValidationException", e.awsErrorDetails().errorCode(), e.getMessage());
  }

  @Test
  @Order(7)
  void aStoreWhoseKeysAreDeletedCanBeDeleted() {
    kms.scheduleKeyDeletion(b -> b.keyId(keyId).pendingWindowInDays(7));
    kms.disconnectCustomKeyStore(b -> b.customKeyStoreId(storeId));
    // Pending deletion is not deleted: the store still holds the key.
    assertThrows(CustomKeyStoreHasCmKsException.class, () -> kms.deleteCustomKeyStore(b -> b.customKeyStoreId(storeId)));
    TestCluster.await(Duration.ofSeconds(60), "the key deleted after its 7 simulated days", () -> {
      try {
        kms.describeKey(b -> b.keyId(keyId));
        return false;
      } catch (software.amazon.awssdk.services.kms.model.NotFoundException e) {
        return true;
      }
    });
    TestCluster.await(Duration.ofSeconds(10), "the store empty", () -> {
      try {
        kms.deleteCustomKeyStore(b -> b.customKeyStoreId(storeId));
        return true;
      } catch (CustomKeyStoreHasCmKsException e) {
        return false;
      }
    });
    assertThrows(CustomKeyStoreNotFoundException.class, () -> describe(storeId));
  }

  // ------------------------------------------------------------------ admin endpoint

  static String hsmIn(String zone) throws Exception {
    String clusters = adminGet("/cloudhsm");
    var tree = new com.fasterxml.jackson.databind.ObjectMapper().readTree(clusters);
    for (var c : tree.path("clusters")) {
      if (!c.path("clusterId").asText().equals("cluster-kmsregionsdemo")) continue;
      for (var h : c.path("hsms")) if (h.path("availabilityZone").asText().equals(zone)) return h.path("hsmId").asText();
    }
    throw new AssertionError("no HSM in " + zone + ": " + clusters);
  }

  static String adminGet(String path) throws Exception {
    HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(adminUri(path)).GET().build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(200, r.statusCode(), r.body());
    return r.body();
  }

  static String admin(String path, String body) throws Exception {
    HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(adminUri(path))
        .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(200, r.statusCode(), r.body());
    return r.body();
  }

  static URI adminUri(String path) {
    return URI.create("http://127.0.0.1:" + cluster.node(US).spec().adminPort() + path);
  }
}
