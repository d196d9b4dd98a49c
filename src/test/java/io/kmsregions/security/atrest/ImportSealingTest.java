package io.kmsregions.security.atrest;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.cbor.CBORFactory;
import io.kmsregions.imports.ImportParameters;
import io.kmsregions.imports.ImportedKeyMaterial;
import javax.crypto.SecretKey;
import org.junit.jupiter.api.Test;

/** Imported material and the wrapping private key of import parameters are sealed at rest too. */
class ImportSealingTest {

  static ObjectMapper mapper(SecretKey root) {
    return new ObjectMapper(new CBORFactory()).registerModule(new ImportSealing(root));
  }

  @Test
  void importedMaterialIsSealedAndRoundTrips() throws Exception {
    SecretKey root = KeyMaterialSealingTest.key();
    byte[] secret = new byte[32];
    KeyMaterialSealingTest.RANDOM.nextBytes(secret);
    ImportedKeyMaterial m = new ImportedKeyMaterial("cd".repeat(32), secret, ImportedKeyMaterial.EXPIRES, 99, "mine", 7);
    byte[] bytes = mapper(root).writeValueAsBytes(m);
    assertEquals(-1, KeyMaterialSealingTest.indexOf(bytes, secret), "the material is not in the bytes");
    ImportedKeyMaterial back = mapper(root).readValue(bytes, ImportedKeyMaterial.class);
    assertArrayEquals(secret, back.secret());
    assertEquals(m.keyMaterialId(), back.keyMaterialId());
    assertEquals(99, back.validTo());
    assertEquals("mine", back.description());
    assertThrows(Exception.class, () -> mapper(KeyMaterialSealingTest.key()).readValue(bytes, ImportedKeyMaterial.class));
    // A deleted entry has no secret to seal.
    ImportedKeyMaterial deleted = mapper(root).readValue(mapper(root).writeValueAsBytes(m.deleted()), ImportedKeyMaterial.class);
    assertNull(deleted.secret());
  }

  @Test
  void theWrappingPrivateKeyIsSealedAndRoundTrips() throws Exception {
    SecretKey root = KeyMaterialSealingTest.key();
    byte[] privateKey = new byte[300];
    KeyMaterialSealingTest.RANDOM.nextBytes(privateKey);
    byte[] publicKey = {1, 2, 3, 4};
    ImportParameters p = new ImportParameters("tok", "RSAES_OAEP_SHA_256", "RSA_2048", privateKey, publicKey, 1234);
    byte[] bytes = mapper(root).writeValueAsBytes(p);
    assertEquals(-1, KeyMaterialSealingTest.indexOf(bytes, java.util.Arrays.copyOf(privateKey, 16)));
    ImportParameters back = mapper(root).readValue(bytes, ImportParameters.class);
    assertArrayEquals(privateKey, back.privateKey());
    assertArrayEquals(publicKey, back.publicKey());
    assertEquals("tok", back.tokenId());
    assertTrue(back.toString().contains("tok"));
  }
}
