package io.kmsregions.api;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.amazonaws.encryptionsdk.AwsCrypto;
import com.amazonaws.encryptionsdk.CommitmentPolicy;
import com.amazonaws.encryptionsdk.CryptoResult;
import com.amazonaws.encryptionsdk.model.KeyBlob;
import io.kmsregions.testkit.TestCluster;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.services.kms.KmsClient;
import software.amazon.awssdk.services.kms.model.KeyState;
import software.amazon.cryptography.materialproviders.IClientSupplier;
import software.amazon.cryptography.materialproviders.IKeyring;
import software.amazon.cryptography.materialproviders.MaterialProviders;
import software.amazon.cryptography.materialproviders.model.AwsCryptographicMaterialProvidersException;
import software.amazon.cryptography.materialproviders.model.CreateAwsKmsKeyringInput;
import software.amazon.cryptography.materialproviders.model.CreateAwsKmsMrkKeyringInput;
import software.amazon.cryptography.materialproviders.model.CreateAwsKmsMrkMultiKeyringInput;
import software.amazon.cryptography.materialproviders.model.MaterialProvidersConfig;

/**
 * The AWS Encryption SDK for Java (v3, with the AWS Cryptographic Material Providers Library) and
 * its multi-Region-aware KMS keyrings against the cluster, with SDK clients pointed at our nodes
 * ({@code endpointOverride}): a message encrypted with the multi-Region key in us-east-1 decrypts
 * with its replica in eu-west-1, which calls eu-west-1's Decrypt and nothing in us-east-1.
 */
class CryptoEncryptionSdkTest {
  private static final String US = "us-east-1";
  private static final String EU = "eu-west-1";
  private static final String ACCOUNT = "111122223333";

  @TempDir static Path dataDir;
  private static TestCluster cluster;
  private static final List<KmsClient> CLIENTS = Collections.synchronizedList(new ArrayList<>());
  /** The Regions the Material Providers Library asked a client for. */
  private static final List<String> SUPPLIED = Collections.synchronizedList(new ArrayList<>());
  private static String keyId;
  private static MaterialProviders mpl;

  @BeforeAll
  static void start() {
    cluster = TestCluster.start(dataDir, List.of(US, EU), com.typesafe.config.ConfigFactory.empty());
    KmsClient us = client(US);
    keyId = us.createKey(b -> b.multiRegion(true).description("encryption sdk")).keyMetadata().keyId();
    us.replicateKey(b -> b.keyId(keyId).replicaRegion(EU));
    KmsClient eu = client(EU);
    TestCluster.await(Duration.ofSeconds(30), "the replica is Enabled",
        () -> eu.describeKey(b -> b.keyId(keyId)).keyMetadata().keyState() == KeyState.ENABLED);
    mpl = MaterialProviders.builder().MaterialProvidersConfig(MaterialProvidersConfig.builder().build()).build();
  }

  @AfterAll
  static void stop() {
    CLIENTS.forEach(KmsClient::close);
    if (cluster != null) cluster.close();
  }

  private static KmsClient client(String region) {
    KmsClient c = cluster.client(region);
    CLIENTS.add(c);
    return c;
  }

  private static String arn(String region) {
    return "arn:aws:kms:" + region + ":" + ACCOUNT + ":key/" + keyId;
  }

  @Test
  void encryptInUsEastDecryptWithTheReplicaInEuWest() {
    byte[] plaintext = "hello from the AWS Encryption SDK".getBytes(StandardCharsets.UTF_8);
    Map<String, String> context = Map.of("purpose", "issue-3", "tenant", "42");
    AwsCrypto crypto = AwsCrypto.builder().withCommitmentPolicy(CommitmentPolicy.RequireEncryptRequireDecrypt).build();

    IKeyring usKeyring = mpl.CreateAwsKmsMrkKeyring(CreateAwsKmsMrkKeyringInput.builder()
        .kmsKeyId(arn(US)).kmsClient(client(US)).build());
    CryptoResult<byte[], ?> encrypted = crypto.encryptData(usKeyring, plaintext, context);
    List<KeyBlob> keys = encrypted.getHeaders().getEncryptedKeyBlobs();
    assertEquals(1, keys.size());
    assertEquals("aws-kms", keys.get(0).getProviderId());
    assertEquals(arn(US), new String(keys.get(0).getProviderInformation(), StandardCharsets.UTF_8));

    // The MRK-aware multi-keyring names only the eu-west-1 replica and gets its client by Region.
    IClientSupplier supplier = input -> {
      SUPPLIED.add(input.region());
      return client(input.region());
    };
    IKeyring euKeyring = mpl.CreateAwsKmsMrkMultiKeyring(CreateAwsKmsMrkMultiKeyringInput.builder()
        .kmsKeyIds(List.of(arn(EU))).clientSupplier(supplier).build());
    CryptoResult<byte[], ?> decrypted = crypto.decryptData(euKeyring, encrypted.getResult());
    assertArrayEquals(plaintext, decrypted.getResult());
    assertTrue(decrypted.getEncryptionContext().entrySet().containsAll(context.entrySet()));
    assertEquals(List.of(EU), List.copyOf(SUPPLIED), "only eu-west-1 was asked");

    // The single MRK keyring with an eu-west-1 client decrypts it too ...
    IKeyring euMrk = mpl.CreateAwsKmsMrkKeyring(CreateAwsKmsMrkKeyringInput.builder()
        .kmsKeyId(arn(EU)).kmsClient(client(EU)).build());
    assertArrayEquals(plaintext, crypto.decryptData(euMrk, encrypted.getResult()).getResult());
    // ... and the keyring that is not MRK-aware does not take the replica for the same key.
    IKeyring strict = mpl.CreateAwsKmsKeyring(CreateAwsKmsKeyringInput.builder()
        .kmsKeyId(arn(EU)).kmsClient(client(EU)).build());
    AwsCryptographicMaterialProvidersException refused = assertThrows(AwsCryptographicMaterialProvidersException.class,
        () -> crypto.decryptData(strict, encrypted.getResult()));
    assertTrue(refused.getMessage().contains("No Encrypted Data Keys found to match"), refused.getMessage());

    // And the other way round: eu-west-1 encrypts, us-east-1 decrypts.
    CryptoResult<byte[], ?> fromEu = crypto.encryptData(euMrk, plaintext, context);
    assertArrayEquals(plaintext, crypto.decryptData(usKeyring, fromEu.getResult()).getResult());
  }
}
