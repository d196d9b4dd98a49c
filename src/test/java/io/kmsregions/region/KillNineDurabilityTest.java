package io.kmsregions.region;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kmsregions.testkit.ClusterProcess;
import io.kmsregions.testkit.TestCluster;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.kms.KmsClient;
import software.amazon.awssdk.services.kms.model.KeyMetadata;
import software.amazon.awssdk.services.kms.model.KeyState;
import software.amazon.awssdk.services.kms.model.KeyListEntry;

/**
 * Invariant 2 of DESIGN.md with real processes: {@code kms-regions up} is killed with SIGKILL
 * right after answering, started again on the same data, and every acknowledged key, replica,
 * primary designation and ciphertext is still there; a handover cut by a kill completes after the
 * restart; SIGTERM stops the cluster cleanly.
 */
class KillNineDurabilityTest {
  private static final List<String> REGIONS = List.of("us-east-1", "eu-west-1", "ap-southeast-2");
  private static final Duration READY = Duration.ofSeconds(90);

  @TempDir Path work;
  private ClusterProcess up;
  private final Map<String, KmsClient> clients = new HashMap<>();
  private List<Integer> ports;

  @AfterEach
  void cleanUp() {
    clients.values().forEach(KmsClient::close);
    if (up != null) up.close();
  }

  private void startUp() throws Exception {
    clients.values().forEach(KmsClient::close);
    clients.clear();
    up = ClusterProcess.start(READY, "up", "--data-dir", work.resolve("data").toString(),
        "--regions", work.resolve("regions").toString(), "--supervisor-port", "-1");
    for (int i = 0; i < REGIONS.size(); i++) {
      clients.put(REGIONS.get(i), KmsClient.builder()
          .endpointOverride(URI.create("http://127.0.0.1:" + ports.get(i)))
          .region(Region.of(REGIONS.get(i)))
          .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("test", "test")))
          .httpClient(UrlConnectionHttpClient.create())
          .build());
    }
  }

  private KmsClient kms(String region) {
    return clients.get(region);
  }

  private Set<String> keyIds(String region) {
    List<KeyListEntry> all = new ArrayList<>();
    kms(region).listKeysPaginator(b -> b.limit(7)).keys().forEach(all::add);
    return all.stream().map(KeyListEntry::keyId).collect(Collectors.toSet());
  }

  private void awaitPrimary(String keyId, String primary) {
    TestCluster.await(Duration.ofSeconds(60), keyId + " has primary " + primary + " everywhere", () -> {
      for (String r : REGIONS) {
        KeyMetadata m = kms(r).describeKey(b -> b.keyId(keyId)).keyMetadata();
        assertEquals(KeyState.ENABLED, m.keyState(), r);
        assertEquals(primary, m.multiRegionConfiguration().primaryKey().region(), r);
        assertEquals(2, m.multiRegionConfiguration().replicaKeys().size(), r);
      }
      return true;
    });
  }

  @Test
  void everyAcknowledgedKeySurvivesSigkillAndAHandoverCutByItCompletes() throws Exception {
    ports = ClusterProcess.writeRegions(work.resolve("regions"), REGIONS);
    startUp();

    Map<String, Set<String>> created = new LinkedHashMap<>();
    Map<byte[], String> ciphertexts = new LinkedHashMap<>();
    for (String r : REGIONS) {
      created.put(r, new java.util.HashSet<>());
      for (int i = 0; i < 4; i++) {
        String id = kms(r).createKey(b -> b.description("durable")).keyMetadata().keyId();
        created.get(r).add(id);
        String text = r + "/" + i;
        ciphertexts.put(kms(r).encrypt(b -> b.keyId(id).plaintext(SdkBytes.fromUtf8String(text)))
            .ciphertextBlob().asByteArray(), r + "|" + text);
      }
    }
    String mrk = kms("us-east-1").createKey(b -> b.multiRegion(true)).keyMetadata().keyId();
    kms("us-east-1").replicateKey(b -> b.keyId(mrk).replicaRegion("eu-west-1"));
    kms("us-east-1").replicateKey(b -> b.keyId(mrk).replicaRegion("ap-southeast-2"));
    awaitPrimary(mrk, "us-east-1");
    kms("us-east-1").updatePrimaryRegion(b -> b.keyId(mrk).primaryRegion("ap-southeast-2"));
    awaitPrimary(mrk, "ap-southeast-2");
    byte[] mrkCiphertext = kms("eu-west-1").encrypt(b -> b.keyId(mrk)
        .plaintext(SdkBytes.fromUtf8String("multi-Region"))).ciphertextBlob().asByteArray();
    // The last answer before the kill must survive it too.
    String last = kms("eu-west-1").createKey(b -> b.description("last")).keyMetadata().keyId();
    created.get("eu-west-1").add(last);
    up.kill();

    startUp();
    for (String r : REGIONS) {
      Set<String> listed = keyIds(r);
      assertTrue(listed.containsAll(created.get(r)), r + " lost keys: " + created.get(r) + " vs " + listed);
      assertTrue(listed.contains(mrk), r + " lost the multi-Region key");
    }
    assertEquals("last", kms("eu-west-1").describeKey(b -> b.keyId(last)).keyMetadata().description());
    for (Map.Entry<byte[], String> c : ciphertexts.entrySet()) {
      String region = c.getValue().substring(0, c.getValue().indexOf('|'));
      assertEquals(c.getValue().substring(region.length() + 1), kms(region)
          .decrypt(b -> b.ciphertextBlob(SdkBytes.fromByteArray(c.getKey()))).plaintext().asUtf8String());
    }
    awaitPrimary(mrk, "ap-southeast-2");
    for (String r : REGIONS) {
      assertEquals("multi-Region", kms(r).decrypt(b -> b.ciphertextBlob(SdkBytes.fromByteArray(mrkCiphertext)))
          .plaintext().asUtf8String(), r);
    }

    // A handover cut by SIGKILL right after it was accepted completes after the restart.
    kms("ap-southeast-2").updatePrimaryRegion(b -> b.keyId(mrk).primaryRegion("us-east-1"));
    up.kill();
    startUp();
    awaitPrimary(mrk, "us-east-1");

    int exit = up.terminate(Duration.ofSeconds(30));
    // The JVM's convention for SIGTERM is 143; what matters is that every node stopped.
    assertTrue(exit == 0 || exit == 143, "exit code after SIGTERM: " + exit);
    assertTrue(up.output().contains("kms-regions stopped"), up.output());
  }
}
