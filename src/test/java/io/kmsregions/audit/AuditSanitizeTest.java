package io.kmsregions.audit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.kmsregions.api.Json;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * {@link AuditLog#sanitized} (one pass, top-level secrets skipped unread) must record exactly what
 * the tree sanitiser records: {@code sanitize(readTree(body), false)}, or nothing for a body that is
 * not a JSON object.
 */
class AuditSanitizeTest {

  private static JsonNode byTree(String body) {
    try {
      JsonNode tree = Json.MAPPER.readTree(body.getBytes(StandardCharsets.UTF_8));
      return tree != null && tree.isObject() ? AuditLog.sanitize(tree, false) : null;
    } catch (Exception e) {
      return null;
    }
  }

  private static JsonNode byStream(String body) {
    return AuditLog.sanitized(body.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void recordsWhatTheTreeSanitiserRecords() {
    String longText = "x".repeat(700);
    List<String> bodies = List.of(
        "{\"KeyId\":\"alias/a\",\"Plaintext\":\"aGVsbG8=\",\"EncryptionContext\":{\"Plaintext\":\"kept: user key\",\"b\":\"2\"}}",
        "{\"CiphertextBlob\":\"AQID\",\"KeyId\":\"arn:aws:kms:us-east-1:111122223333:key/mrk-1\",\"EncryptionAlgorithm\":\"SYMMETRIC_DEFAULT\"}",
        "{\"KeyMetadata\":{\"Arn\":\"arn:x\",\"Plaintext\":\"nested secret\",\"Tags\":[{\"TagKey\":\"k\",\"Secret\":\"s\"}]}}",
        "{\"GrantTokens\":[\"t1\",\"t2\"],\"Operations\":[\"Encrypt\"],\"Limit\":5,\"Ratio\":1.5,\"Flag\":true,\"Nothing\":null}",
        "{\"Policy\":\"" + longText + "\",\"" + longText + "\":1}",
        "{\"Plaintext\":{\"deep\":[1,2,{\"a\":\"b\"}]},\"KeyId\":\"k\"}",
        "{\"List\":[" + "1,".repeat(150) + "2]}",
        "{}", "[]", "\"text\"", "null", "12", "", "   ", "{\"a\":1}{\"b\":2}", "{\"a\":1} x", "{\"a\":1,\"a\":2}",
        "{\"Plaintext\":\"a\",\"Plaintext\":\"b\"}", "{\"a\":", "{\"Plaintext\":\"unterminated}", "{'a':1}",
        "{\"EncryptionContextSubset\":{\"k\":{\"Plaintext\":\"nested in a user map\"}}}",
        "{\"keystorepassword\":\"p\",\"KeyStorePassword\":\"q\",\"XksProxyAuthenticationCredential\":{\"AccessKeyId\":\"A\",\"RawSecretAccessKey\":\"s\"}}");
    for (String body : bodies) {
      assertEquals(byTree(body), byStream(body), body);
    }
  }

  @Test
  void neverRecordsATopLevelSecret() {
    JsonNode r = byStream("{\"KeyId\":\"k\",\"Plaintext\":\"c2VjcmV0\",\"CiphertextBlob\":\"c2VjcmV0\",\"Message\":\"m\"}");
    assertEquals("k", r.path("keyId").asText());
    assertFalse(r.toString().contains("c2VjcmV0"), r.toString());
    assertFalse(r.has("message"));
    assertNull(byStream("{\"Plaintext\":\"a\"} trailing"));
  }

  @Test
  void agreesOnRandomlyMutatedBodies() {
    String seed = "{\"KeyId\":\"1234abcd-12ab-34cd-56ef-1234567890ab\",\"Plaintext\":\"aGVsbG8gd29ybGQ=\","
        + "\"EncryptionContext\":{\"purpose\":\"test\"},\"GrantTokens\":[\"g\"],\"NumberOfBytes\":32}";
    Random random = new Random(5);
    String alphabet = "{}[]\",:ab1 \\";
    for (int i = 0; i < 20_000; i++) {
      char[] c = seed.toCharArray();
      for (int m = random.nextInt(3); m >= 0; m--) c[random.nextInt(c.length)] = alphabet.charAt(random.nextInt(alphabet.length()));
      String body = new String(c);
      assertEquals(byTree(body), byStream(body), body);
    }
  }

  @Test
  void secretsAreSecretInAnyCaseAndNamesAreLowerCamelOnce() {
    for (String name : new String[] {"Plaintext", "plaintext", "PLAINTEXT", "pLaInTeXt", "CiphertextBlob",
        "KeyStorePassword", "RawSecretAccessKey", "\u017Fecret" /* LATIN SMALL LETTER LONG S: stricter, not looser */}) {
      assertTrue(AuditLog.isSecret(name), name);
      JsonNode r = byStream("{\"KeyId\":\"k\",\"" + name + "\":\"c2VjcmV0\"}");
      assertFalse(r.toString().contains("c2VjcmV0"), name + " " + r);
      assertEquals(byTree("{\"" + name + "\":\"c2VjcmV0\"}"), byStream("{\"" + name + "\":\"c2VjcmV0\"}"), name);
    }
    for (String name : new String[] {"Plaintexts", "Plain", "", "KeyId", "EncryptionContext", "Secrets"}) {
      assertFalse(AuditLog.isSecret(name), name);
    }
    // The same member name twice in a row (the lowerCamel cache), and one already in lowerCamelCase.
    for (int i = 0; i < 2; i++) {
      JsonNode r = byStream("{\"KeyId\":\"k\",\"keySpec\":\"s\",\"X\":\"x\"}");
      assertEquals("k", r.path("keyId").asText());
      assertEquals("s", r.path("keySpec").asText());
      assertEquals("x", r.path("x").asText());
    }
  }
}
