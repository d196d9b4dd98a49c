package io.kmsregions.security.atrest;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.cbor.CBORFactory;
import io.kmsregions.key.KeyMaterial;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Arrays;
import javax.crypto.SecretKey;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The sealed form of key material: round trip, binding to key id, material id and public key; the root key file. */
class KeyMaterialSealingTest {
  static final SecureRandom RANDOM = new SecureRandom();

  static SecretKey key() {
    byte[] k = new byte[32];
    RANDOM.nextBytes(k);
    return new SecretKeySpec(k, "AES");
  }

  static ObjectMapper mapper(SecretKey root) {
    return new ObjectMapper(new CBORFactory()).registerModule(new KeyMaterialSealing(root));
  }

  @Test
  void roundTripsAndNeverWritesTheSecret() throws Exception {
    SecretKey root = key();
    byte[] secret = new byte[32];
    RANDOM.nextBytes(secret);
    KeyMaterial m = new KeyMaterial("ab".repeat(32), secret, new byte[] {1, 2, 3}, 42, "mrk-0123");
    byte[] bytes = mapper(root).writeValueAsBytes(m);
    assertEquals(-1, indexOf(bytes, secret));
    KeyMaterial back = mapper(root).readValue(bytes, KeyMaterial.class);
    assertArrayEquals(secret, back.secret());
    assertEquals(m.keyId(), back.keyId());
    assertEquals(m.keyMaterialId(), back.keyMaterialId());
    assertArrayEquals(m.publicKey(), back.publicKey());
    assertEquals(42, back.createdAt());
    // Another root key does not open it.
    assertThrows(Exception.class, () -> mapper(key()).readValue(bytes, KeyMaterial.class));
  }

  @Test
  void aSealedSecretMovedToAnotherKeyOrMaterialOrBesideAnotherPublicKeyDoesNotOpen() throws Exception {
    SecretKey root = key();
    KeyMaterial m = new KeyMaterial("ab".repeat(32), new byte[] {9, 9, 9}, new byte[] {1}, 42, "key-a");
    byte[] sealed = KeyMaterialSealing.seal(root, m);
    assertArrayEquals(m.secret(), KeyMaterialSealing.open(root, sealed, "key-a", m.keyMaterialId(), new byte[] {1}, 42));
    assertThrows(GeneralSecurityException.class,
        () -> KeyMaterialSealing.open(root, sealed, "key-b", m.keyMaterialId(), new byte[] {1}, 42));
    assertThrows(GeneralSecurityException.class,
        () -> KeyMaterialSealing.open(root, sealed, "key-a", "cd".repeat(32), new byte[] {1}, 42));
    assertThrows(GeneralSecurityException.class,
        () -> KeyMaterialSealing.open(root, sealed, "key-a", m.keyMaterialId(), new byte[] {2}, 42));
    byte[] flipped = sealed.clone();
    flipped[flipped.length - 1] ^= 1;
    assertThrows(GeneralSecurityException.class,
        () -> KeyMaterialSealing.open(root, flipped, "key-a", m.keyMaterialId(), new byte[] {1}, 42));
  }

  @Test
  void aClearSecretIsRefusedByTheSealedBinding() throws Exception {
    KeyMaterial m = new KeyMaterial("ab".repeat(32), new byte[] {9}, null, 1, "k");
    byte[] clear = new ObjectMapper(new CBORFactory()).writeValueAsBytes(m);
    assertThrows(Exception.class, () -> mapper(key()).readValue(clear, KeyMaterial.class));
  }

  @Test
  void rootKeyFileIsCreatedOnceOwnerOnly(@TempDir Path dir) throws Exception {
    SecretKey a = RootKey.loadOrCreate(dir.resolve("us-east-1"), "us-east-1");
    SecretKey b = RootKey.loadOrCreate(dir.resolve("us-east-1"), "us-east-1");
    assertArrayEquals(a.getEncoded(), b.getEncoded());
    Path file = dir.resolve("us-east-1").resolve(RootKey.FILE_NAME);
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
    assertEquals(32, Files.size(file));
    assertTrue(!Arrays.equals(a.getEncoded(), RootKey.loadOrCreate(dir.resolve("eu-west-1"), "eu-west-1").getEncoded()));
  }

  static int indexOf(byte[] haystack, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= haystack.length; i++) {
      for (int j = 0; j < needle.length; j++) if (haystack[i + j] != needle[j]) continue outer;
      return i;
    }
    return -1;
  }
}
