package io.kmsregions.security.atrest;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.JsonSerializer;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.module.SimpleModule;
import io.kmsregions.imports.ImportParameters;
import io.kmsregions.imports.ImportedKeyMaterial;
import io.kmsregions.key.KeyMaterial;
import java.io.IOException;
import java.security.GeneralSecurityException;
import javax.crypto.SecretKey;

/**
 * Seals the secrets of imported key material at rest (issue 7): the imported material a Region
 * holds ({@link ImportedKeyMaterial#secret()}) and the wrapping private key of import parameters
 * ({@link ImportParameters#privateKey()}), with the same AES-256-GCM sealing under the Region's
 * root key as {@link KeyMaterialSealing}, bound to the material id (or the import token's id) and
 * the record's date. Every other field is written as it is.
 */
public final class ImportSealing extends SimpleModule {

  public ImportSealing(SecretKey rootKey) {
    super("ImportSealing");
    addSerializer(ImportedKeyMaterial.class, new JsonSerializer<>() {
      @Override
      public void serialize(ImportedKeyMaterial m, JsonGenerator gen, SerializerProvider provider) throws IOException {
        gen.writeStartObject();
        gen.writeStringField("keyMaterialId", m.keyMaterialId());
        byte[] sealed = KeyMaterialSealing.seal(rootKey, new KeyMaterial(m.keyMaterialId(), m.secret(), null, m.importedAt(), null));
        if (sealed != null) {
          gen.writeFieldName("sealedSecret");
          gen.writeBinary(sealed);
        }
        gen.writeStringField("expirationModel", m.expirationModel());
        gen.writeNumberField("validTo", m.validTo());
        gen.writeStringField("description", m.description());
        gen.writeNumberField("importedAt", m.importedAt());
        gen.writeEndObject();
      }
    });
    addDeserializer(ImportedKeyMaterial.class, new JsonDeserializer<>() {
      @Override
      public ImportedKeyMaterial deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
        JsonNode n = p.readValueAsTree();
        String id = n.path("keyMaterialId").asText(null);
        long importedAt = n.path("importedAt").asLong();
        if (n.has("secret")) throw new IOException("imported key material " + id + " is not sealed");
        byte[] secret = n.hasNonNull("sealedSecret") ? open(rootKey, n.get("sealedSecret").binaryValue(), id, null, importedAt) : null;
        return new ImportedKeyMaterial(id, secret, n.path("expirationModel").asText(null), n.path("validTo").asLong(),
            n.path("description").asText(""), importedAt);
      }
    });
    addSerializer(ImportParameters.class, new JsonSerializer<>() {
      @Override
      public void serialize(ImportParameters m, JsonGenerator gen, SerializerProvider provider) throws IOException {
        gen.writeStartObject();
        gen.writeStringField("tokenId", m.tokenId());
        gen.writeStringField("wrappingAlgorithm", m.wrappingAlgorithm());
        gen.writeStringField("wrappingKeySpec", m.wrappingKeySpec());
        byte[] sealed = KeyMaterialSealing.seal(rootKey,
            new KeyMaterial("import-token:" + m.tokenId(), m.privateKey(), m.publicKey(), m.validTo(), null));
        if (sealed != null) {
          gen.writeFieldName("sealedPrivateKey");
          gen.writeBinary(sealed);
        }
        if (m.publicKey() != null) {
          gen.writeFieldName("publicKey");
          gen.writeBinary(m.publicKey());
        }
        gen.writeNumberField("validTo", m.validTo());
        gen.writeEndObject();
      }
    });
    addDeserializer(ImportParameters.class, new JsonDeserializer<>() {
      @Override
      public ImportParameters deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
        JsonNode n = p.readValueAsTree();
        String token = n.path("tokenId").asText(null);
        byte[] publicKey = n.hasNonNull("publicKey") ? n.get("publicKey").binaryValue() : null;
        long validTo = n.path("validTo").asLong();
        if (n.has("privateKey")) throw new IOException("the wrapping key of import token " + token + " is not sealed");
        byte[] privateKey = n.hasNonNull("sealedPrivateKey")
            ? open(rootKey, n.get("sealedPrivateKey").binaryValue(), "import-token:" + token, publicKey, validTo) : null;
        return new ImportParameters(token, n.path("wrappingAlgorithm").asText(null), n.path("wrappingKeySpec").asText(null),
            privateKey, publicKey, validTo);
      }
    });
  }

  private static byte[] open(SecretKey rootKey, byte[] sealed, String id, byte[] publicKey, long date) throws IOException {
    try {
      return KeyMaterialSealing.open(rootKey, sealed, null, id, publicKey, date);
    } catch (GeneralSecurityException e) {
      throw new IOException(id + " does not open with this Region's root key (wrong root key, or the journal was altered)", e);
    }
  }
}
