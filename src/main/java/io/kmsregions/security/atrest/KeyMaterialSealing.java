package io.kmsregions.security.atrest;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.JsonSerializer;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.module.SimpleModule;
import io.kmsregions.key.KeyMaterial;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import javax.crypto.Cipher;
import javax.crypto.SecretKey;
import javax.crypto.spec.GCMParameterSpec;

/**
 * Key material at rest: a Jackson module, registered only in the ObjectMapper of the
 * {@code jackson-cbor-atrest} binding (conf/serialization.conf), which the key's events and
 * snapshot states use. Wherever a {@link KeyMaterial} appears in them (directly, in shared
 * properties, in a persisted replication delivery, in any event added later), its secret (AES key,
 * HMAC key or PKCS#8 private key) is written sealed: AES-256-GCM (NIST SP 800-38D) under the
 * Region's {@link RootKey}, a random 96-bit nonce, and as associated data the key id, the key
 * material id, the public key and the creation date, so a sealed secret moved to another key or
 * material, or a public key swapped beside it, fails to open. Messages between Regions use the
 * plain {@code jackson-cbor} binding and are not affected.
 *
 * <p>Sealed form: {@code 0x01 ‖ nonce(12) ‖ ciphertext ‖ tag(16)}.
 */
public final class KeyMaterialSealing extends SimpleModule {
  private static final byte VERSION = 1;
  private static final byte[] PURPOSE = "kms-regions/key-material/v1".getBytes(StandardCharsets.US_ASCII);
  private static final SecureRandom RANDOM = new SecureRandom();

  public KeyMaterialSealing(SecretKey rootKey) {
    super("KeyMaterialSealing");
    addSerializer(KeyMaterial.class, new Sealer(rootKey));
    addDeserializer(KeyMaterial.class, new Opener(rootKey));
  }

  /** Seals {@code m}'s secret under {@code rootKey}; null stays null. */
  public static byte[] seal(SecretKey rootKey, KeyMaterial m) {
    if (m.secret() == null) return null;
    try {
      byte[] nonce = new byte[12];
      RANDOM.nextBytes(nonce);
      Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
      c.init(Cipher.ENCRYPT_MODE, rootKey, new GCMParameterSpec(128, nonce));
      c.updateAAD(associatedData(m.keyId(), m.keyMaterialId(), m.publicKey(), m.createdAt()));
      byte[] sealed = c.doFinal(m.secret());
      return ByteBuffer.allocate(1 + 12 + sealed.length).put(VERSION).put(nonce).put(sealed).array();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot seal key material", e);
    }
  }

  /** Opens a sealed secret; fails if anything it is bound to changed. */
  public static byte[] open(SecretKey rootKey, byte[] sealed, String keyId, String keyMaterialId, byte[] publicKey,
      long createdAt) throws GeneralSecurityException {
    if (sealed.length < 1 + 12 + 16 || sealed[0] != VERSION) {
      throw new GeneralSecurityException("not a sealed key material (version " + (sealed.length > 0 ? sealed[0] : -1) + ")");
    }
    Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
    c.init(Cipher.DECRYPT_MODE, rootKey, new GCMParameterSpec(128, sealed, 1, 12));
    c.updateAAD(associatedData(keyId, keyMaterialId, publicKey, createdAt));
    return c.doFinal(sealed, 13, sealed.length - 13);
  }

  /** Length-prefixed, so that no two different tuples give the same bytes. */
  static byte[] associatedData(String keyId, String keyMaterialId, byte[] publicKey, long createdAt) {
    byte[] k = keyId == null ? new byte[0] : keyId.getBytes(StandardCharsets.UTF_8);
    byte[] m = keyMaterialId == null ? new byte[0] : keyMaterialId.getBytes(StandardCharsets.UTF_8);
    byte[] p = publicKey == null ? new byte[0] : publicKey;
    return ByteBuffer.allocate(4 + PURPOSE.length + 4 + k.length + 4 + m.length + 4 + p.length + 8)
        .putInt(PURPOSE.length).put(PURPOSE).putInt(k.length).put(k).putInt(m.length).put(m)
        .putInt(p.length).put(p).putLong(createdAt).array();
  }

  private static final class Sealer extends JsonSerializer<KeyMaterial> {
    private final SecretKey rootKey;

    Sealer(SecretKey rootKey) {
      this.rootKey = rootKey;
    }

    @Override
    public void serialize(KeyMaterial m, JsonGenerator gen, SerializerProvider provider) throws IOException {
      gen.writeStartObject();
      gen.writeStringField("keyMaterialId", m.keyMaterialId());
      if (m.keyId() != null) gen.writeStringField("keyId", m.keyId());
      if (m.publicKey() != null) {
        gen.writeFieldName("publicKey");
        gen.writeBinary(m.publicKey());
      }
      gen.writeNumberField("createdAt", m.createdAt());
      byte[] sealed = seal(rootKey, m);
      if (sealed != null) {
        gen.writeFieldName("sealedSecret");
        gen.writeBinary(sealed);
      }
      gen.writeEndObject();
    }
  }

  private static final class Opener extends JsonDeserializer<KeyMaterial> {
    private final SecretKey rootKey;

    Opener(SecretKey rootKey) {
      this.rootKey = rootKey;
    }

    @Override
    public KeyMaterial deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
      JsonNode n = p.readValueAsTree();
      String materialId = n.path("keyMaterialId").asText(null);
      String keyId = n.hasNonNull("keyId") ? n.get("keyId").asText() : null;
      byte[] publicKey = n.hasNonNull("publicKey") ? n.get("publicKey").binaryValue() : null;
      long createdAt = n.path("createdAt").asLong();
      if (n.has("secret")) {
        // A clear secret in the sealed binding would mean a bug wrote material in clear: refuse.
        throw new IOException("key material " + materialId + " is not sealed");
      }
      byte[] secret = null;
      if (n.hasNonNull("sealedSecret")) {
        try {
          secret = open(rootKey, n.get("sealedSecret").binaryValue(), keyId, materialId, publicKey, createdAt);
        } catch (GeneralSecurityException e) {
          throw new IOException("key material " + materialId + " of " + keyId
              + " does not open with this Region's root key (wrong root key, or the journal was altered)", e);
        }
      }
      return new KeyMaterial(materialId, secret, publicKey, createdAt, keyId);
    }
  }
}
