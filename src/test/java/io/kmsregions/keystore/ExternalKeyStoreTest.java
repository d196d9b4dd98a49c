package io.kmsregions.keystore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.kmsregions.keystore.xks.XksCredential;
import io.kmsregions.keystore.xks.XksProxy;
import io.kmsregions.testkit.TestCluster;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.kms.KmsClient;
import software.amazon.awssdk.services.kms.model.ConnectionStateType;
import software.amazon.awssdk.services.kms.model.CreateCustomKeyStoreRequest;
import software.amazon.awssdk.services.kms.model.CustomKeyStoreHasCmKsException;
import software.amazon.awssdk.services.kms.model.CustomKeyStoresListEntry;
import software.amazon.awssdk.services.kms.model.InvalidCiphertextException;
import software.amazon.awssdk.services.kms.model.KeyMetadata;
import software.amazon.awssdk.services.kms.model.KeyState;
import software.amazon.awssdk.services.kms.model.KmsException;
import software.amazon.awssdk.services.kms.model.KmsInvalidStateException;
import software.amazon.awssdk.services.kms.model.OriginType;
import software.amazon.awssdk.services.kms.model.UnsupportedOperationException;
import software.amazon.awssdk.services.kms.model.XksKeyAlreadyInUseException;
import software.amazon.awssdk.services.kms.model.XksKeyInvalidConfigurationException;
import software.amazon.awssdk.services.kms.model.XksKeyNotFoundException;
import software.amazon.awssdk.services.kms.model.XksProxyIncorrectAuthenticationCredentialException;
import software.amazon.awssdk.services.kms.model.XksProxyInvalidConfigurationException;
import software.amazon.awssdk.services.kms.model.XksProxyUriInUseException;
import software.amazon.awssdk.services.kms.model.XksProxyUriUnreachableException;

/**
 * The whole external key store chain (issue 8): a node, the shipped XKS proxy on its own port with
 * its own external keys, SigV4 between them. The store is created (after the proxy is checked),
 * connected; a key made on an external key encrypts and decrypts through the proxy; stopping the
 * proxy makes the key Unavailable and starting it again brings the key back; a disabled external
 * key fails decryption although the proxy answers, which shows the proxy takes part.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ExternalKeyStoreTest {
  static final String US = "us-east-1";

  @TempDir static Path dir;
  static TestCluster cluster;
  static KmsClient kms;
  static XksProxy proxy;
  static int proxyPort;
  static String storeId;
  static String keyId;
  static byte[] blob;

  @BeforeAll
  static void start() throws Exception {
    proxyPort = TestCluster.freePort();
    proxy = startProxy();
    proxy.keys().create("external-1");
    proxy.keys().create("external-2");
    proxy.keys().create("external-off");
    proxy.keys().setEnabled("external-off", false);
    cluster = TestCluster.start(dir.resolve("cluster"), List.of(US), ConfigFactory.parseString(
        "kms.custom-key-stores { xks-health-interval = 300ms, connect-delay = 200ms }\nkms.xks.request-timeout = 1s"));
    kms = cluster.client(US);
  }

  static XksProxy startProxy() throws java.io.IOException {
    return XksProxy.start(new XksProxy.Settings("127.0.0.1", proxyPort, "/xks", dir.resolve("proxy"),
        List.of(XksCredential.DEVELOPMENT)));
  }

  @AfterAll
  static void stop() {
    if (kms != null) kms.close();
    if (cluster != null) cluster.close();
    if (proxy != null) proxy.close();
  }

  static CreateCustomKeyStoreRequest.Builder xks(CreateCustomKeyStoreRequest.Builder b, String name, int port,
      String path, String secret) {
    return b.customKeyStoreName(name).customKeyStoreType("EXTERNAL_KEY_STORE")
        .xksProxyConnectivity("PUBLIC_ENDPOINT").xksProxyUriEndpoint("http://127.0.0.1:" + port).xksProxyUriPath(path)
        .xksProxyAuthenticationCredential(c -> c.accessKeyId(XksCredential.DEVELOPMENT.accessKeyId())
            .rawSecretAccessKey(secret));
  }

  static CustomKeyStoresListEntry describe(String id) {
    return kms.describeCustomKeyStores(b -> b.customKeyStoreId(id)).customKeyStores().get(0);
  }

  static KeyState state(String keyId) {
    return kms.describeKey(b -> b.keyId(keyId)).keyMetadata().keyState();
  }

  @Test
  @Order(1)
  void creatingAStoreChecksTheProxy() {
    String secret = XksCredential.DEVELOPMENT.secretAccessKey();
    String wrongSecret = "A" + secret.substring(1).replace('A', 'B');
    assertThrows(XksProxyIncorrectAuthenticationCredentialException.class,
        () -> kms.createCustomKeyStore(b -> xks(b, "x", proxyPort, "/xks/kms/xks/v1", wrongSecret)));
    assertThrows(XksProxyInvalidConfigurationException.class,
        () -> kms.createCustomKeyStore(b -> xks(b, "x", proxyPort, "/other/kms/xks/v1", secret)));
    int nobody = TestCluster.freePort();
    assertThrows(XksProxyUriUnreachableException.class,
        () -> kms.createCustomKeyStore(b -> xks(b, "x", nobody, "/xks/kms/xks/v1", secret)));
    assertThrows(UnsupportedOperationException.class, () -> kms.createCustomKeyStore(b ->
        xks(b, "x", proxyPort, "/xks/kms/xks/v1", secret).xksProxyConnectivity("VPC_ENDPOINT_SERVICE")));
    // Field constraints of the API reference: a path without /kms/xks/v1, a short access key id.
    assertValidation(() -> kms.createCustomKeyStore(b -> xks(b, "x", proxyPort, "/xks/nothing", secret)));
    assertValidation(() -> kms.createCustomKeyStore(b -> xks(b, "x", proxyPort, "/xks/kms/xks/v1", secret)
        .xksProxyAuthenticationCredential(c -> c.accessKeyId("SHORT").rawSecretAccessKey(secret))));
    assertTrue(kms.describeCustomKeyStores(b -> {}).customKeyStores().isEmpty(), "no store was made");

    storeId = kms.createCustomKeyStore(b -> xks(b, "external", proxyPort, "/xks/kms/xks/v1", secret)).customKeyStoreId();
    assertThrows(XksProxyUriInUseException.class,
        () -> kms.createCustomKeyStore(b -> xks(b, "again", proxyPort, "/xks/kms/xks/v1", secret)));
    CustomKeyStoresListEntry e = describe(storeId);
    assertEquals("EXTERNAL_KEY_STORE", e.customKeyStoreTypeAsString());
    assertEquals("http://127.0.0.1:" + proxyPort, e.xksProxyConfiguration().uriEndpoint());
    assertEquals("/xks/kms/xks/v1", e.xksProxyConfiguration().uriPath());
    assertEquals(XksCredential.DEVELOPMENT.accessKeyId(), e.xksProxyConfiguration().accessKeyId());
    kms.connectCustomKeyStore(b -> b.customKeyStoreId(storeId));
    TestCluster.await(Duration.ofSeconds(20), "the store CONNECTED",
        () -> describe(storeId).connectionState() == ConnectionStateType.CONNECTED);
  }

  @Test
  @Order(2)
  void aKeyOnAnExternalKeyEncryptsThroughTheProxy() throws Exception {
    assertValidation(() -> kms.createKey(b -> b.origin(OriginType.EXTERNAL_KEY_STORE).customKeyStoreId(storeId)));
    assertThrows(XksKeyNotFoundException.class, () -> kms.createKey(b -> b.origin(OriginType.EXTERNAL_KEY_STORE)
        .customKeyStoreId(storeId).xksKeyId("no-such-key")));
    assertThrows(XksKeyInvalidConfigurationException.class, () -> kms.createKey(b -> b
        .origin(OriginType.EXTERNAL_KEY_STORE).customKeyStoreId(storeId).xksKeyId("external-off")));
    KeyMetadata m = kms.createKey(b -> b.origin(OriginType.EXTERNAL_KEY_STORE).customKeyStoreId(storeId)
        .xksKeyId("external-1")).keyMetadata();
    keyId = m.keyId();
    assertEquals(KeyState.ENABLED, m.keyState());
    assertEquals(OriginType.EXTERNAL_KEY_STORE, m.origin());
    assertEquals(storeId, m.customKeyStoreId());
    assertEquals("external-1", m.xksKeyConfiguration().id());
    assertThrows(XksKeyAlreadyInUseException.class, () -> kms.createKey(b -> b.origin(OriginType.EXTERNAL_KEY_STORE)
        .customKeyStoreId(storeId).xksKeyId("external-1")));

    blob = kms.encrypt(b -> b.keyId(keyId).plaintext(SdkBytes.fromUtf8String("outside"))
        .encryptionContext(Map.of("purpose", "test"))).ciphertextBlob().asByteArray();
    assertEquals("outside", kms.decrypt(b -> b.ciphertextBlob(SdkBytes.fromByteArray(blob))
        .encryptionContext(Map.of("purpose", "test"))).plaintext().asUtf8String());
    assertThrows(InvalidCiphertextException.class, () -> kms.decrypt(b -> b.ciphertextBlob(SdkBytes.fromByteArray(blob))
        .encryptionContext(Map.of("purpose", "other"))));
    var dataKey = kms.generateDataKey(b -> b.keyId(keyId).numberOfBytes(16));
    assertEquals(dataKey.plaintext(), kms.decrypt(b -> b.ciphertextBlob(dataKey.ciphertextBlob())).plaintext());
    // GenerateRandom draws from CloudHSM clusters only.
    assertThrows(UnsupportedOperationException.class,
        () -> kms.generateRandom(b -> b.numberOfBytes(8).customKeyStoreId(storeId)));

    // The external key takes part in every decryption: disabled in the proxy, nothing decrypts.
    proxy.keys().setEnabled("external-1", false);
    KmsInvalidStateException e = assertThrows(KmsInvalidStateException.class,
        () -> kms.decrypt(b -> b.ciphertextBlob(SdkBytes.fromByteArray(blob)).encryptionContext(Map.of("purpose", "test"))));
    assertTrue(e.getMessage().contains("external-1"), e.getMessage());
    proxy.keys().setEnabled("external-1", true);
  }

  @Test
  @Order(3)
  void stoppingTheProxyMakesTheKeyUnavailableUntilItIsBack() throws Exception {
    proxy.close();
    TestCluster.await(Duration.ofSeconds(20), "the key Unavailable", () -> state(keyId) == KeyState.UNAVAILABLE);
    KmsInvalidStateException e = assertThrows(KmsInvalidStateException.class,
        () -> kms.encrypt(b -> b.keyId(keyId).plaintext(SdkBytes.fromUtf8String("x"))));
    assertEquals("arn:aws:kms:us-east-1:111122223333:key/" + keyId + " is unavailable.", e.awsErrorDetails().errorMessage());
    assertThrows(KmsInvalidStateException.class, () -> kms.decrypt(b -> b.ciphertextBlob(SdkBytes.fromByteArray(blob))
        .encryptionContext(Map.of("purpose", "test"))));
    // The store itself stays CONNECTED, as in AWS: the proxy is what is missing.
    assertEquals(ConnectionStateType.CONNECTED, describe(storeId).connectionState());

    proxy = startProxy();
    TestCluster.await(Duration.ofSeconds(20), "the key Enabled again", () -> state(keyId) == KeyState.ENABLED);
    assertEquals("outside", kms.decrypt(b -> b.ciphertextBlob(SdkBytes.fromByteArray(blob))
        .encryptionContext(Map.of("purpose", "test"))).plaintext().asUtf8String());
  }

  @Test
  @Order(4)
  void disconnectingMakesTheKeyUnavailableAndAStoreWithKeysStays() {
    kms.disconnectCustomKeyStore(b -> b.customKeyStoreId(storeId));
    assertEquals(KeyState.UNAVAILABLE, state(keyId));
    assertThrows(CustomKeyStoreHasCmKsException.class, () -> kms.deleteCustomKeyStore(b -> b.customKeyStoreId(storeId)));
    // A new credential while disconnected: checked against the proxy first.
    String secret = XksCredential.DEVELOPMENT.secretAccessKey();
    assertThrows(XksProxyIncorrectAuthenticationCredentialException.class, () -> kms.updateCustomKeyStore(b -> b
        .customKeyStoreId(storeId).xksProxyAuthenticationCredential(c -> c
            .accessKeyId(XksCredential.DEVELOPMENT.accessKeyId()).rawSecretAccessKey("B" + secret.substring(1)))));
    kms.updateCustomKeyStore(b -> b.customKeyStoreId(storeId).newCustomKeyStoreName("renamed"));
    kms.connectCustomKeyStore(b -> b.customKeyStoreId(storeId));
    TestCluster.await(Duration.ofSeconds(20), "the key Enabled", () -> state(keyId) == KeyState.ENABLED);
    assertEquals("renamed", describe(storeId).customKeyStoreName());
  }

  @Test
  @Order(5)
  void theAuditTrailRecordsTheStoreButNeverTheProxySecret() throws Exception {
    Path log = dir.resolve("cluster").resolve(US).resolve(io.kmsregions.audit.AuditLog.FILE_NAME);
    TestCluster.await(Duration.ofSeconds(10), "CreateCustomKeyStore in the audit log",
        () -> read(log).contains("\"CreateCustomKeyStore\"") && read(log).contains("\"UpdateCustomKeyStore\""));
    String text = read(log);
    assertTrue(text.contains(XksCredential.DEVELOPMENT.accessKeyId()), "the access key id is shown, as AWS does");
    assertTrue(!text.contains(XksCredential.DEVELOPMENT.secretAccessKey())
        && !text.contains(XksCredential.DEVELOPMENT.secretAccessKey().substring(1)), "the proxy's secret is in the audit log");
  }

  static String read(Path file) {
    try {
      return java.nio.file.Files.exists(file) ? java.nio.file.Files.readString(file) : "";
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  static void assertValidation(org.junit.jupiter.api.function.Executable call) {
    KmsException e = assertThrows(KmsException.class, call);
    assertEquals("ValidationException", e.awsErrorDetails().errorCode(), e.getMessage());
  }
}
