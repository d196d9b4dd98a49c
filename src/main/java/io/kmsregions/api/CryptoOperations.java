package io.kmsregions.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.kmsregions.crypto.SymmetricCiphertext;
import io.kmsregions.key.KeyArns;
import io.kmsregions.key.KeyEntity.Key;
import io.kmsregions.key.KeyMaterial;
import io.kmsregions.key.KeyState;
import io.kmsregions.key.KeyUsage;
import io.kmsregions.key.KmsError;
import io.kmsregions.key.SharedProperties;
import java.security.GeneralSecurityException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;

/** The cryptographic operations (kms-api.md §2 "Cryptographic operations", §7). */
final class CryptoOperations {
  private final ApiContext api;

  CryptoOperations(ApiContext api) {
    this.api = api;
  }

  /** The operations of this group, by name. */
  Map<String, ApiContext.Operation> operations() {
    return Map.of(
        "Encrypt", r -> encrypt(r.body()),
        "Decrypt", r -> decrypt(r.body()),
        "GenerateDataKey", r -> generateDataKey(r.body(), true),
        "GenerateDataKeyWithoutPlaintext", r -> generateDataKey(r.body(), false));
  }

  private CompletionStage<JsonNode> encrypt(byte[] body) {
    Requests.Encrypt r = Json.read(body, Requests.Encrypt.class);
    String keyId = api.resolveKeyId(r.keyId());
    Validate.required(r.plaintext(), "plaintext");
    Validate.blobLength(r.plaintext(), "plaintext", 1, 4096);
    Validate.encryptionContext(r.encryptionContext(), "encryptionContext");
    Validate.grantTokens(r.grantTokens());
    validateEncryptionAlgorithm(r.encryptionAlgorithm(), "encryptionAlgorithm");
    return api.key(keyId).thenApply(k -> {
      KeyMaterial material = symmetricMaterial(k, "Encrypt", r.encryptionAlgorithm());
      if (Boolean.TRUE.equals(r.dryRun())) throw api.dryRun();
      byte[] blob = SymmetricCiphertext.encrypt(k.keyId(), material.keyMaterialId(), material.secret(),
          r.plaintext(), api.context(r.encryptionContext()));
      ObjectNode out = Json.MAPPER.createObjectNode();
      out.put("CiphertextBlob", blob);
      out.put("KeyId", api.arn(k));
      out.put("EncryptionAlgorithm", "SYMMETRIC_DEFAULT");
      return out;
    });
  }

  private CompletionStage<JsonNode> decrypt(byte[] body) {
    Requests.Decrypt r = Json.read(body, Requests.Decrypt.class);
    Validate.required(r.ciphertextBlob(), "ciphertextBlob");
    Validate.blobLength(r.ciphertextBlob(), "ciphertextBlob", 1, 6144);
    Validate.encryptionContext(r.encryptionContext(), "encryptionContext");
    Validate.grantTokens(r.grantTokens());
    validateEncryptionAlgorithm(r.encryptionAlgorithm(), "encryptionAlgorithm");
    String requested = r.keyId() == null ? null : api.resolveKeyId(r.keyId());
    SymmetricCiphertext.Header header;
    try {
      header = SymmetricCiphertext.parse(r.ciphertextBlob());
    } catch (IllegalArgumentException e) {
      throw new KmsException(KmsError.invalidCiphertext());
    }
    if (requested != null && !requested.equals(header.keyId())) {
      throw new KmsException(KmsError.incorrectKey());
    }
    if (!KeyArns.isKeyId(header.keyId())) throw new KmsException(KmsError.invalidCiphertext());
    return api.key(header.keyId()).thenApply(k -> {
      symmetricMaterial(k, "Decrypt", r.encryptionAlgorithm());
      KeyMaterial material = k.shared().material(header.keyMaterialId());
      if (material == null) throw new KmsException(KmsError.invalidCiphertext());
      if (Boolean.TRUE.equals(r.dryRun())) throw api.dryRun();
      byte[] plaintext;
      try {
        plaintext = SymmetricCiphertext.decrypt(header, material.secret(), r.ciphertextBlob(),
            api.context(r.encryptionContext()));
      } catch (GeneralSecurityException e) {
        throw new KmsException(KmsError.invalidCiphertext());
      }
      ObjectNode out = Json.MAPPER.createObjectNode();
      out.put("KeyId", api.arn(k));
      out.put("Plaintext", plaintext);
      out.put("EncryptionAlgorithm", "SYMMETRIC_DEFAULT");
      out.put("KeyMaterialId", material.keyMaterialId());
      return out;
    });
  }

  private CompletionStage<JsonNode> generateDataKey(byte[] body, boolean withPlaintext) {
    Requests.GenerateDataKey r = Json.read(body, Requests.GenerateDataKey.class);
    String keyId = api.resolveKeyId(r.keyId());
    Validate.encryptionContext(r.encryptionContext(), "encryptionContext");
    Validate.range(r.numberOfBytes(), "numberOfBytes", 1, 1024);
    Validate.oneOf(r.keySpec(), "keySpec", List.of("AES_256", "AES_128"));
    Validate.grantTokens(r.grantTokens());
    if ((r.numberOfBytes() == null) == (r.keySpec() == null)) {
      throw new KmsException(KmsError.validation("Please specify either number of bytes or key spec."));
    }
    int size = r.numberOfBytes() != null ? r.numberOfBytes() : r.keySpec().equals("AES_128") ? 16 : 32;
    return api.key(keyId).thenApply(k -> {
      KeyMaterial material = symmetricMaterial(k,
          withPlaintext ? "GenerateDataKey" : "GenerateDataKeyWithoutPlaintext", null);
      if (Boolean.TRUE.equals(r.dryRun())) throw api.dryRun();
      byte[] dataKey = new byte[size];
      ApiContext.RANDOM.nextBytes(dataKey);
      byte[] blob = SymmetricCiphertext.encrypt(k.keyId(), material.keyMaterialId(), material.secret(),
          dataKey, api.context(r.encryptionContext()));
      ObjectNode out = Json.MAPPER.createObjectNode();
      out.put("CiphertextBlob", blob);
      if (withPlaintext) out.put("Plaintext", dataKey);
      out.put("KeyId", api.arn(k));
      out.put("KeyMaterialId", material.keyMaterialId());
      return out;
    });
  }

  /**
   * The checks every symmetric cryptographic operation shares: a symmetric ENCRYPT_DECRYPT key, in
   * a state that allows cryptography (kms-api.md §6, first row), with current material.
   */
  private KeyMaterial symmetricMaterial(Key k, String operation, String algorithm) {
    String arn = api.arn(k);
    SharedProperties shared = k.shared();
    if (shared.keyUsage() != KeyUsage.ENCRYPT_DECRYPT) {
      throw new KmsException(KmsError.invalidKeyUsage(
          arn + " key usage is " + shared.keyUsage() + " which is not valid for " + operation + "."));
    }
    if (!shared.keySpec().isSymmetricEncryption()) {
      if (algorithm == null || algorithm.equals("SYMMETRIC_DEFAULT")) {
        throw new KmsException(KmsError.invalidKeyUsage("Algorithm " + (algorithm == null ? "SYMMETRIC_DEFAULT" : algorithm)
            + " is incompatible with key spec " + shared.keySpec() + "."));
      }
      throw new KmsException(KmsError.unsupported(
          "kms-regions does not implement " + operation + " with " + shared.keySpec() + " keys yet."));
    }
    if (algorithm != null && !algorithm.equals("SYMMETRIC_DEFAULT")) {
      throw new KmsException(KmsError.invalidKeyUsage(
          "Algorithm " + algorithm + " is incompatible with key spec " + shared.keySpec() + "."));
    }
    KmsError stateError = cryptoStateError(k, arn);
    if (stateError != null) throw new KmsException(stateError);
    KeyMaterial current = shared.currentMaterial();
    if (current == null) throw new KmsException(KmsError.invalidState(arn + " " + KeyState.PendingImport.phrase()));
    return current;
  }

  /** Cryptographic operations work in Enabled and Updating only (kms-api.md §6). */
  private static KmsError cryptoStateError(Key k, String arn) {
    return switch (k.keyState()) {
      case Enabled, Updating -> null;
      case Disabled -> KmsError.disabled(arn);
      default -> KmsError.invalidState(arn + " " + k.keyState().phrase());
    };
  }

  private static void validateEncryptionAlgorithm(String algorithm, String field) {
    Validate.oneOf(algorithm, field,
        List.of("SYMMETRIC_DEFAULT", "RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256", "SM2PKE"));
  }

}
