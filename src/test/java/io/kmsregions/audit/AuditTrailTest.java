package io.kmsregions.audit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.ConfigFactory;
import io.kmsregions.testkit.TestCluster;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.kms.KmsClient;
import software.amazon.awssdk.services.kms.model.KeyState;
import software.amazon.awssdk.services.kms.model.MultiRegionKeyType;
import software.amazon.awssdk.services.kms.model.NotFoundException;

/**
 * The per-Region audit trail on a real three-Region cluster in sigv4 mode: a replicate and a
 * handover leave records in every Region involved, a call forwarded to another Region is recorded
 * there under the verified caller, refusals carry their error, and no plaintext, ciphertext or
 * data key reaches any log.
 */
class AuditTrailTest {
  static final String US = "us-east-1";
  static final String EU = "eu-west-1";
  static final String AP = "ap-southeast-2";
  static final String ALICE = "arn:aws:iam::111122223333:user/alice";
  static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path dataDir;

  @Test
  void replicateAndHandoverAreRecordedInEveryRegionAndNoSecretIs() throws Exception {
    String secret = "TOP-SECRET-PLAINTEXT-0123456789";
    List<String> forbidden = new ArrayList<>(List.of(secret,
        Base64.getEncoder().encodeToString(secret.getBytes(StandardCharsets.UTF_8))));
    try (TestCluster cluster = TestCluster.start(dataDir, List.of(US, EU, AP), ConfigFactory.parseString(
            "kms.auth.mode = sigv4\nkms.auth.credentials = [ { access-key-id = AKIDTEST, secret-access-key = secret, "
                + "principal-arn = \"" + ALICE + "\" } ]"));
        KmsClient us = cluster.client(US);
        KmsClient eu = cluster.client(EU);
        KmsClient euViaUs = cluster.clientVia(EU, US)) {
      String keyId = us.createKey(b -> b.multiRegion(true).description("audited")).keyMetadata().keyId();
      us.replicateKey(b -> b.keyId(keyId).replicaRegion(EU));
      us.replicateKey(b -> b.keyId(keyId).replicaRegion(AP));
      TestCluster.await(Duration.ofSeconds(60), "replicas Enabled", () ->
          eu.describeKey(b -> b.keyId(keyId)).keyMetadata().keyState() == KeyState.ENABLED);
      byte[] blob = us.encrypt(b -> b.keyId(keyId).plaintext(SdkBytes.fromUtf8String(secret))
          .encryptionContext(Map.of("purpose", "audit"))).ciphertextBlob().asByteArray();
      forbidden.add(Base64.getEncoder().encodeToString(blob));
      var dataKey = us.generateDataKey(b -> b.keyId(keyId).keySpec("AES_256"));
      forbidden.add(Base64.getEncoder().encodeToString(dataKey.plaintext().asByteArray()));
      forbidden.add(Base64.getEncoder().encodeToString(dataKey.ciphertextBlob().asByteArray()));
      // Decrypt in eu-west-1 through us-east-1's endpoint: forwarded, recorded in eu-west-1.
      assertEquals(secret, euViaUs.decrypt(b -> b.ciphertextBlob(SdkBytes.fromByteArray(blob))
          .encryptionContext(Map.of("purpose", "audit"))).plaintext().asUtf8String());
      try {
        us.describeKey(b -> b.keyId("0b0e6d2e-8b8f-4c1a-9a63-3a1b1f0e0000"));
      } catch (NotFoundException expected) {
        // recorded with its error
      }
      us.updatePrimaryRegion(b -> b.keyId(keyId).primaryRegion(EU));
      TestCluster.await(Duration.ofSeconds(60), "eu-west-1 primary", () -> {
        var m = eu.describeKey(b -> b.keyId(keyId)).keyMetadata();
        return m.multiRegionConfiguration().multiRegionKeyType() == MultiRegionKeyType.PRIMARY
            && m.keyState() == KeyState.ENABLED;
      });
      // ap-southeast-2 learns the new primary by a synchronisation.
      TestCluster.await(Duration.ofSeconds(60), "ap-southeast-2 sees eu-west-1 primary", () -> cluster.client(AP)
          .describeKey(b -> b.keyId(keyId)).keyMetadata().multiRegionConfiguration().primaryKey().region().equals(EU));

      for (String r : List.of(US, EU, AP)) assertTrue(AuditLog.get(cluster.node(r).system()).flush(10_000));
      String arnSuffix = ":key/" + keyId;
      List<JsonNode> usLog = read(dataDir.resolve(US).resolve(AuditLog.FILE_NAME));
      List<JsonNode> euLog = read(dataDir.resolve(EU).resolve(AuditLog.FILE_NAME));
      List<JsonNode> apLog = read(dataDir.resolve(AP).resolve(AuditLog.FILE_NAME));

      JsonNode create = only(usLog, "CreateKey", "AwsApiCall", arnSuffix);
      assertEquals(ALICE, create.at("/userIdentity/arn").asText());
      assertTrue(create.at("/userIdentity/signatureVerified").asBoolean());
      assertEquals("audited", create.at("/requestParameters/description").asText());
      assertEquals(2, count(usLog, "ReplicateKey", "AwsApiCall", arnSuffix));
      assertEquals(1, count(usLog, "UpdatePrimaryRegion", "AwsApiCall", arnSuffix));
      JsonNode encrypt = only(usLog, "Encrypt", "AwsApiCall", arnSuffix);
      assertEquals("audit", encrypt.at("/requestParameters/encryptionContext/purpose").asText());
      assertFalse(encrypt.at("/requestParameters").has("plaintext"));
      JsonNode missing = usLog.stream().filter(e -> e.path("eventName").asText().equals("DescribeKey")
          && e.has("errorCode")).findFirst().orElseThrow();
      assertEquals("NotFoundException", missing.get("errorCode").asText());

      // The replica's and the new primary's Regions record what happened to them.
      assertTrue(count(euLog, "ReplicateKey", "AwsServiceEvent", arnSuffix) >= 1, euLog.toString());
      assertTrue(count(apLog, "ReplicateKey", "AwsServiceEvent", arnSuffix) >= 1, apLog.toString());
      assertTrue(count(euLog, "UpdatePrimaryRegion", "AwsServiceEvent", arnSuffix) >= 1, euLog.toString());
      assertTrue(count(apLog, "SynchronizeMultiRegionKey", "AwsServiceEvent", arnSuffix) >= 1, apLog.toString());
      JsonNode decrypt = only(euLog, "Decrypt", "AwsApiCall", ":key/" + keyId);
      assertEquals(ALICE, decrypt.at("/userIdentity/arn").asText());
      assertEquals("AKIDTEST", decrypt.at("/userIdentity/accessKeyId").asText());
      assertEquals(EU, decrypt.get("awsRegion").asText());

      for (List<JsonNode> log : List.of(usLog, euLog, apLog)) {
        for (JsonNode e : log) {
          for (String field : new String[] {"eventTime", "eventName", "awsRegion", "userIdentity", "requestID",
              "eventID", "eventSource", "eventType"}) {
            assertTrue(e.has(field), field + " missing in " + e);
          }
        }
      }
      for (String r : List.of(US, EU, AP)) {
        String text = Files.readString(dataDir.resolve(r).resolve(AuditLog.FILE_NAME));
        for (String f : forbidden) assertFalse(text.contains(f), r + "'s audit log holds a secret: " + f);
      }
    }
  }

  static List<JsonNode> read(Path file) throws Exception {
    List<JsonNode> out = new ArrayList<>();
    for (String line : Files.readAllLines(file)) out.add(JSON.readTree(line));
    return out;
  }

  static long count(List<JsonNode> log, String name, String type, String arnSuffix) {
    return log.stream().filter(e -> e.path("eventName").asText().equals(name)
        && e.path("eventType").asText().equals(type) && !e.has("errorCode")
        && e.path("resources").path(0).path("ARN").asText().endsWith(arnSuffix)).count();
  }

  static JsonNode only(List<JsonNode> log, String name, String type, String arnSuffix) {
    List<JsonNode> found = log.stream().filter(e -> e.path("eventName").asText().equals(name)
        && e.path("eventType").asText().equals(type) && !e.has("errorCode")
        && e.path("resources").path(0).path("ARN").asText().endsWith(arnSuffix)).toList();
    assertEquals(1, found.size(), name + " in " + log);
    return found.get(0);
  }
}
