package io.kmsregions.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.kmsregions.imports.ImportParameters;
import io.kmsregions.imports.ImportRules;
import io.kmsregions.imports.ImportedKeyMaterial;
import io.kmsregions.imports.KeyMaterialImport;
import io.kmsregions.imports.WrappingAlgorithm;
import io.kmsregions.imports.WrappingKeySpec;
import io.kmsregions.key.KeyEntity;
import io.kmsregions.key.KeyEntity.Key;
import io.kmsregions.key.KeyMaterial;
import io.kmsregions.key.KeySpec;
import io.kmsregions.key.KmsError;
import java.math.BigDecimal;
import java.security.GeneralSecurityException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.regex.Pattern;

/**
 * GetParametersForImport, ImportKeyMaterial and DeleteImportedKeyMaterial (kms-api.md §2
 * "Imported key material", §5 "Imported key material", §6, §7 "Import"). Wrapping key pairs are
 * made and wrapped material is unwrapped on the blocking dispatcher; the key actor then checks its
 * state and the import token again and persists ({@link KeyEntity.IssueImportParameters},
 * {@link KeyEntity.ImportKeyMaterial}, {@link KeyEntity.DeleteImportedKeyMaterial}).
 */
final class ImportOperations {
  private static final Pattern KEY_MATERIAL_ID = Pattern.compile("^[a-f0-9]+$");
  private static final List<String> EXPIRATION_MODELS =
      List.of(ImportedKeyMaterial.EXPIRES, ImportedKeyMaterial.DOES_NOT_EXPIRE);
  private static final List<String> IMPORT_TYPES =
      List.of(ImportRules.NEW_KEY_MATERIAL, ImportRules.EXISTING_KEY_MATERIAL);
  /** ImportKeyMaterial: ValidTo at most 365 days ahead (kms-api.md §7). */
  private static final long MAX_VALIDITY_MILLIS = Duration.ofDays(365).toMillis();

  private final ApiContext api;

  ImportOperations(ApiContext api) {
    this.api = api;
  }

  /** The operations of this group, by name. */
  Map<String, ApiContext.Operation> operations() {
    return Map.of(
        "GetParametersForImport", r -> getParametersForImport(r.body()),
        "ImportKeyMaterial", r -> importKeyMaterial(r.body()),
        "DeleteImportedKeyMaterial", r -> deleteImportedKeyMaterial(r.body()));
  }

  private CompletionStage<JsonNode> getParametersForImport(byte[] body) {
    ImportRequests.GetParametersForImport r = Json.read(body, ImportRequests.GetParametersForImport.class);
    String keyId = api.resolveKeyIdNoAlias(r.keyId());
    WrappingAlgorithm algorithm = Validate.enumValue(
        Validate.required(r.wrappingAlgorithm(), "wrappingAlgorithm"), "wrappingAlgorithm", WrappingAlgorithm.class);
    WrappingKeySpec spec = Validate.enumValue(
        Validate.required(r.wrappingKeySpec(), "wrappingKeySpec"), "wrappingKeySpec", WrappingKeySpec.class);
    if (algorithm == WrappingAlgorithm.RSAES_PKCS1_V1_5) {
      throw new KmsException(KmsError.validation("The wrapping algorithm RSAES_PKCS1_V1_5 is no longer supported. "
          + "Use RSAES_OAEP_SHA_256 or RSA_AES_KEY_WRAP_SHA_256."));
    }
    if ((algorithm == WrappingAlgorithm.SM2PKE) != (spec == WrappingKeySpec.SM2)) {
      throw new KmsException(KmsError.validation("The wrapping algorithm " + algorithm
          + " is not compatible with the wrapping key spec " + spec + "."));
    }
    return api.askKey(keyId, KeyEntity.GetKey::new).thenCompose(k -> {
      KmsError e = ImportRules.getParametersError(k, api.arn(k));
      if (e != null) throw new KmsException(e);
      checkCapacity(k.shared().keySpec(), algorithm, spec);
      return CompletableFuture.supplyAsync(
              () -> KeyMaterialImport.newParameters(algorithm, spec, api.settings().clock()::now), api.blocking())
          .thenCompose(p -> api.askKey(keyId, replyTo -> new KeyEntity.IssueImportParameters(p, replyTo))
              .thenApply(issued -> {
                ObjectNode out = Json.MAPPER.createObjectNode();
                out.put("KeyId", api.arn(issued));
                out.put("ImportToken", KeyMaterialImport.token(keyId, p));
                out.put("PublicKey", p.publicKey());
                out.put("ParametersValidTo", KeyMetadataJson.epochSeconds(p.validTo()));
                return out;
              }));
    });
  }

  /**
   * RSA-OAEP alone wraps at most k/8 − 2·hLen − 2 bytes (kms-api.md §7): RSA (and ML-DSA) private
   * keys need RSA_AES_KEY_WRAP_*, and an RSA_2048 wrapping key cannot take an ECC_NIST_P521 key.
   */
  private static void checkCapacity(KeySpec keySpec, WrappingAlgorithm algorithm, WrappingKeySpec spec) {
    if (!algorithm.isRsa() || algorithm.aesKeyWrap()) return;
    KeySpec.Family family = keySpec.family();
    if (family == KeySpec.Family.RSA || family == KeySpec.Family.ML_DSA
        || keySpec == KeySpec.ECC_NIST_P521 && spec == WrappingKeySpec.RSA_2048) {
      throw new KmsException(KmsError.validation("The wrapping algorithm " + algorithm + " with wrapping key spec "
          + spec + " cannot wrap " + keySpec + " key material. Use RSA_AES_KEY_WRAP_SHA_1 or RSA_AES_KEY_WRAP_SHA_256."));
    }
  }

  private CompletionStage<JsonNode> importKeyMaterial(byte[] body) {
    ImportRequests.ImportKeyMaterial r = Json.read(body, ImportRequests.ImportKeyMaterial.class);
    String keyId = api.resolveKeyIdNoAlias(r.keyId());
    Validate.required(r.importToken(), "importToken");
    Validate.blobLength(r.importToken(), "importToken", 1, 6144);
    Validate.required(r.encryptedKeyMaterial(), "encryptedKeyMaterial");
    Validate.blobLength(r.encryptedKeyMaterial(), "encryptedKeyMaterial", 1, 6144);
    Validate.oneOf(r.expirationModel(), "expirationModel", EXPIRATION_MODELS);
    Validate.oneOf(r.importType(), "importType", IMPORT_TYPES);
    Validate.length(r.keyMaterialDescription(), "keyMaterialDescription", 0, 256);
    keyMaterialId(r.keyMaterialId());
    Long validTo = validTo(r.validTo());
    String model = r.expirationModel() != null ? r.expirationModel() : ImportedKeyMaterial.EXPIRES;
    if (model.equals(ImportedKeyMaterial.EXPIRES) && validTo == null) {
      throw new KmsException(KmsError.validation("A validTo date must be set if the ExpirationModel is KEY_MATERIAL_EXPIRES"));
    }
    if (model.equals(ImportedKeyMaterial.DOES_NOT_EXPIRE) && validTo != null) {
      throw new KmsException(KmsError.validation(
          "A validTo date must not be set if the ExpirationModel is KEY_MATERIAL_DOES_NOT_EXPIRE"));
    }
    if (ImportRules.NEW_KEY_MATERIAL.equals(r.importType()) && r.keyMaterialId() != null) {
      throw new KmsException(KmsError.validation(
          "A KeyMaterialId cannot be specified when the ImportType is NEW_KEY_MATERIAL"));
    }
    String[] token = KeyMaterialImport.parseToken(r.importToken());
    String tokenId = token != null && token[1].equals(keyId) ? token[0] : null;
    return api.askKey(keyId, KeyEntity.GetKey::new).thenCompose(k -> {
      String arn = api.arn(k);
      long now = api.settings().clock().now();
      KmsError e = ImportRules.importError(k, arn, tokenId, now);
      if (e != null) throw new KmsException(e);
      KeySpec spec = k.shared().keySpec();
      if (!spec.isSymmetricEncryption() && (r.importType() != null || r.keyMaterialId() != null)) {
        throw new KmsException(KmsError.validation(
            "ImportType and KeyMaterialId are valid only for symmetric encryption keys; " + arn + " has key spec " + spec + "."));
      }
      if (validTo != null && validTo <= now) {
        throw new KmsException(KmsError.validation("The ValidTo date must be in the future."));
      }
      if (validTo != null && validTo > now + MAX_VALIDITY_MILLIS) {
        throw new KmsException(KmsError.validation("The ValidTo date must be no more than 365 days in the future."));
      }
      ImportParameters parameters = k.importState().parameters(tokenId);
      return CompletableFuture.supplyAsync(() -> unwrapAndCheck(keyId, spec, parameters, r.encryptedKeyMaterial()),
              api.blocking())
          .thenCompose(checked -> {
            ImportedKeyMaterial entry = new ImportedKeyMaterial(checked.keyMaterialId(), checked.secret(), model,
                validTo == null ? 0 : validTo, r.keyMaterialDescription() == null ? "" : r.keyMaterialDescription(), now);
            return api.askKey(keyId, replyTo -> new KeyEntity.ImportKeyMaterial(tokenId, entry, checked.publicKey(),
                    r.importType(), r.keyMaterialId(), replyTo))
                .thenApply(imported -> {
                  ObjectNode out = Json.MAPPER.createObjectNode();
                  out.put("KeyId", api.arn(imported));
                  out.put("KeyMaterialId", entry.keyMaterialId());
                  return out;
                });
          });
    });
  }

  /** Unwrapping fails: InvalidCiphertextException; material of the wrong form: IncorrectKeyMaterialException. */
  private static KeyMaterial unwrapAndCheck(String keyId, KeySpec spec, ImportParameters parameters, byte[] wrapped) {
    byte[] material;
    try {
      material = KeyMaterialImport.unwrap(parameters, wrapped);
    } catch (GeneralSecurityException | RuntimeException e) {
      throw new KmsException(new KmsError("InvalidCiphertextException",
          "The encrypted key material could not be decrypted with the wrapping key and wrapping algorithm "
              + parameters.wrappingAlgorithm() + " of this import token."));
    }
    byte[] publicKey;
    try {
      publicKey = KeyMaterialImport.check(spec, material);
    } catch (KeyMaterialImport.InvalidMaterialException e) {
      throw new KmsException(new KmsError("IncorrectKeyMaterialException", e.getMessage()));
    }
    String id = KeyMaterialImport.keyMaterialId(keyId, spec, material, publicKey);
    return new KeyMaterial(id, material, publicKey, 0, keyId);
  }

  private CompletionStage<JsonNode> deleteImportedKeyMaterial(byte[] body) {
    ImportRequests.DeleteImportedKeyMaterial r = Json.read(body, ImportRequests.DeleteImportedKeyMaterial.class);
    String keyId = api.resolveKeyIdNoAlias(r.keyId());
    keyMaterialId(r.keyMaterialId());
    return api.askKey(keyId, replyTo -> new KeyEntity.DeleteImportedKeyMaterial(r.keyMaterialId(), replyTo))
        .thenApply(k -> {
          ObjectNode out = Json.MAPPER.createObjectNode();
          out.put("KeyId", api.arn(k));
          KeyMaterial current = k.shared().currentMaterial();
          String id = r.keyMaterialId() != null ? r.keyMaterialId() : current == null ? null : current.keyMaterialId();
          if (id != null) out.put("KeyMaterialId", id);
          return out;
        });
  }

  // ---- ListKeyRotations rows of keys with imported material (kms-api.md §2 ListKeyRotations, §7)

  /**
   * The rows of ListKeyRotations with ALL_KEY_MATERIAL, plus the material imported for a rotation
   * that has not happened yet.
   */
  static List<io.kmsregions.key.SharedProperties.Rotation> withPendingMaterial(
      Key k, List<io.kmsregions.key.SharedProperties.Rotation> rows) {
    KeyMaterial pending = k.shared().origin() == io.kmsregions.key.Origin.EXTERNAL
        ? ImportRules.pendingMaterial(k.shared()) : null;
    if (pending == null) return rows;
    List<io.kmsregions.key.SharedProperties.Rotation> all = new java.util.ArrayList<>(rows);
    all.add(new io.kmsregions.key.SharedProperties.Rotation(pending.keyMaterialId(), 0, null));
    return all;
  }

  /**
   * KeyMaterialState (kms-api.md §7 "Key material ids"): CURRENT, NON_CURRENT, or for imported
   * material waiting for RotateKeyOnDemand PENDING_ROTATION; on a multi-Region primary with
   * replicas PENDING_MULTI_REGION_IMPORT_AND_ROTATION (the replicas must import it too).
   */
  static String keyMaterialState(Key k, String keyMaterialId) {
    KeyMaterial current = k.shared().currentMaterial();
    if (current != null && current.keyMaterialId().equals(keyMaterialId)) return "CURRENT";
    KeyMaterial pending = k.shared().origin() == io.kmsregions.key.Origin.EXTERNAL
        ? ImportRules.pendingMaterial(k.shared()) : null;
    if (pending != null && pending.keyMaterialId().equals(keyMaterialId)) {
      return k.isPrimary() && !k.multiRegion().replicaRegions().isEmpty()
          ? "PENDING_MULTI_REGION_IMPORT_AND_ROTATION" : "PENDING_ROTATION";
    }
    return "NON_CURRENT";
  }

  /** ImportState, ExpirationModel, ValidTo and KeyMaterialDescription of imported material in this Region. */
  static void describeImport(Key k, String keyMaterialId, ObjectNode row) {
    if (k.shared().origin() != io.kmsregions.key.Origin.EXTERNAL) return;
    ImportedKeyMaterial imported = k.importState().material(keyMaterialId);
    row.put("ImportState", imported != null && imported.isImported() ? "IMPORTED" : "PENDING_IMPORT");
    if (imported == null) return;
    if (!imported.description().isEmpty()) row.put("KeyMaterialDescription", imported.description());
    if (imported.isImported()) {
      row.put("ExpirationModel", imported.expirationModel());
      if (imported.validTo() > 0) row.put("ValidTo", KeyMetadataJson.epochSeconds(imported.validTo()));
    }
  }

  /** KeyMaterialId: 64 lowercase hex characters (kms-api.md §7 "Key material ids"). */
  private static void keyMaterialId(String id) {
    if (id == null) return;
    Validate.length(id, "keyMaterialId", 64, 64);
    if (!KEY_MATERIAL_ID.matcher(id).matches()) {
      throw new KmsException(KmsError.constraint(id, "keyMaterialId",
          "Member must satisfy regular expression pattern: ^[a-f0-9]+$"));
    }
  }

  /** ValidTo: epoch seconds as a JSON number, fractional allowed (kms-api.md §1); epoch ms. */
  private static Long validTo(JsonNode node) {
    if (node == null || node.isNull()) return null;
    if (!node.isNumber()) {
      throw new KmsException(KmsError.serialization("ValidTo must be a timestamp in epoch seconds."));
    }
    BigDecimal seconds = node.decimalValue();
    return seconds.movePointRight(3).setScale(0, java.math.RoundingMode.FLOOR).longValueExact();
  }
}
