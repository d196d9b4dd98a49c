package io.kmsregions.imports;

import io.kmsregions.key.KeyEntity.Key;
import io.kmsregions.key.KeyMaterial;
import io.kmsregions.key.KeyState;
import io.kmsregions.key.KmsError;
import io.kmsregions.key.Origin;
import io.kmsregions.key.SharedProperties;
import java.util.List;

/**
 * The rules of GetParametersForImport, ImportKeyMaterial and DeleteImportedKeyMaterial that
 * depend on a key's state (kms-api.md §2 "Imported key material", §5 "Imported key material",
 * §6 rows GetParametersForImport / ImportKeyMaterial / DeleteImportedKeyMaterial, §7 "Import").
 * Pure functions of a {@link Key}: the API checks them before unwrapping (so a client learns of a
 * wrong key state before a wrong token), and the key actor checks them again when it persists.
 */
public final class ImportRules {
  public static final String NEW_KEY_MATERIAL = "NEW_KEY_MATERIAL";
  public static final String EXISTING_KEY_MATERIAL = "EXISTING_KEY_MATERIAL";

  private ImportRules() {}

  /** Note 9 of the key-state table: these operations need Origin EXTERNAL. */
  public static KmsError originError(Key k, String arn) {
    Origin origin = k.shared().origin();
    return origin == Origin.EXTERNAL ? null
        : KmsError.unsupported(arn + " origin is " + origin + " which is not valid for this operation.");
  }

  /**
   * GetParametersForImport (§6): Enabled, Disabled and PendingImport keys; not pending deletion
   * (note 8), creating (14) or updating (15).
   */
  public static KmsError getParametersError(Key k, String arn) {
    KmsError origin = originError(k, arn);
    if (origin != null) return origin;
    return switch (k.keyState()) {
      case Enabled, Disabled, PendingImport -> null;
      default -> stateError(k, arn);
    };
  }

  /**
   * ImportKeyMaterial (§6): as GetParametersForImport, but allowed while Updating; then the token
   * must be one this key issued ({@code InvalidImportTokenException}) and unexpired on the cluster
   * clock ({@code ExpiredImportTokenException}).
   */
  public static KmsError importError(Key k, String arn, String tokenId, long now) {
    KmsError origin = originError(k, arn);
    if (origin != null) return origin;
    KmsError state = switch (k.keyState()) {
      case Enabled, Disabled, PendingImport, Updating -> null;
      default -> stateError(k, arn);
    };
    if (state != null) return state;
    ImportParameters p = tokenId == null ? null : k.importState().parameters(tokenId);
    if (p == null) {
      return new KmsError("InvalidImportTokenException",
          "The import token is not valid for " + arn + ". Use the import token and public key of a "
              + "GetParametersForImport request for this KMS key.");
    }
    if (now >= p.validTo()) {
      return new KmsError("ExpiredImportTokenException",
          "The import token has expired. Use GetParametersForImport to get a new import token and public key, "
              + "use the new public key to encrypt the key material, and then try the request again.");
    }
    return null;
  }

  /** DeleteImportedKeyMaterial (§6): every state but Creating and Updating. */
  public static KmsError deleteError(Key k, String arn) {
    KmsError origin = originError(k, arn);
    if (origin != null) return origin;
    return switch (k.keyState()) {
      case Creating, Updating -> stateError(k, arn);
      default -> null;
    };
  }

  private static KmsError stateError(Key k, String arn) {
    return KmsError.invalidState(arn + " " + (k.keyState() == KeyState.PendingReplicaDeletion
        ? KeyState.PendingDeletion.phrase() : k.keyState().phrase()));
  }

  /** What an accepted import changes: the shared properties (null when unchanged), the new key state. */
  public record Accepted(SharedProperties shared, KeyState keyState) {}

  /**
   * The material rules of ImportKeyMaterial (§5, §7): the first import is new material; later
   * imports re-import material the key already knows (the same material, else
   * IncorrectKeyMaterialException), except that a symmetric key's owner (a single-Region key or
   * a multi-Region primary) may import new material for an on-demand rotation, one at a time.
   *
   * @param imported the unwrapped, checked material with its derived id
   * @param publicKey of asymmetric material; null otherwise
   * @param importType NEW_KEY_MATERIAL, EXISTING_KEY_MATERIAL or null (the default: new for the
   *     first material, existing afterwards)
   * @param requestedKeyMaterialId the request's KeyMaterialId, or null
   * @return an error, or the {@link Accepted} change
   */
  public static Object accept(Key k, String arn, ImportedKeyMaterial imported, byte[] publicKey,
      String importType, String requestedKeyMaterialId, long now, String primaryArn) {
    SharedProperties shared = k.shared();
    String id = imported.keyMaterialId();
    String type = importType != null ? importType : shared.materials().isEmpty() ? NEW_KEY_MATERIAL : EXISTING_KEY_MATERIAL;
    if (requestedKeyMaterialId != null && !requestedKeyMaterialId.equals(id)) {
      return incorrect("The key material being imported is not the key material " + requestedKeyMaterialId
          + " of " + arn + ".");
    }
    SharedProperties changed = null;
    if (shared.material(id) == null) {
      if (type.equals(EXISTING_KEY_MATERIAL) || !shared.materials().isEmpty() && !shared.keySpec().isSymmetricEncryption()) {
        return incorrect(shared.materials().isEmpty()
            ? "No key material was imported into " + arn + " before; import it with ImportType NEW_KEY_MATERIAL."
            : "The key material being imported is not the key material that was previously imported into "
                + arn + ".");
      }
      if (!k.ownsSharedProperties()) {
        return KmsError.unsupported("New key material cannot be imported into the multi-Region replica key " + arn
            + ". Import it into the primary key " + primaryArn
            + " with ImportType NEW_KEY_MATERIAL, then into this key with EXISTING_KEY_MATERIAL.");
      }
      KeyMaterial pending = pendingMaterial(shared);
      if (pending != null) {
        return KmsError.invalidState("New key material (id: " + id + ") cannot be imported into KMS key "
            + k.keyId() + ", because another key material (id: " + pending.keyMaterialId() + ") is pending rotation.");
      }
      changed = shared.withPendingMaterial(new KeyMaterial(id, null, publicKey, now));
    }
    SharedProperties after = changed != null ? changed : shared;
    KeyMaterial current = after.currentMaterial();
    boolean holdsCurrent = current != null && (current.keyMaterialId().equals(id) || k.importState().holds(current.keyMaterialId()));
    KeyState state = k.keyState() == KeyState.PendingImport && holdsCurrent ? KeyState.Enabled : k.keyState();
    return new Accepted(changed, state);
  }

  private static KmsError incorrect(String message) {
    return new KmsError("IncorrectKeyMaterialException", message);
  }

  /**
   * Material imported for a rotation that has not happened yet: known after the current
   * material. Null when none (or when the key has no material).
   */
  public static KeyMaterial pendingMaterial(SharedProperties shared) {
    KeyMaterial current = shared.currentMaterial();
    if (current == null) return null;
    List<KeyMaterial> all = shared.materials();
    int at = all.indexOf(current);
    return at >= 0 && at < all.size() - 1 ? all.get(at + 1) : null;
  }

  /**
   * The key state once {@code deleted} materials are gone from this Region (deletion or expiry):
   * PendingImport when the current material is among them, unless the key is pending deletion
   * (kms-api.md §6: "DeleteImportedKeyMaterial on PendingDeletion key: state stays").
   */
  public static KeyState stateAfterDeletion(Key k, List<String> deleted) {
    KeyMaterial current = k.shared().currentMaterial();
    boolean currentGone = current != null && deleted.contains(current.keyMaterialId());
    return currentGone && (k.keyState() == KeyState.Enabled || k.keyState() == KeyState.Disabled)
        ? KeyState.PendingImport : k.keyState();
  }

  /**
   * A replica's answer to newer shared properties of a key with imported material: the id of
   * material it must import before it acknowledges them, or null to apply them now. New material
   * reaches the replicas twice: first announced by its import on the primary (the replica does
   * not know it yet, and learns its id), then as the rotation that will make it current. The
   * second time, a replica that holds its current material but not the new one waits, so that no
   * member encrypts with material another member lacks (DESIGN.md, rotations). A replica that
   * holds no material at all (PendingImport) applies everything.
   */
  public static String awaitedImport(Key replica, SharedProperties incoming) {
    if (replica.shared().origin() != Origin.EXTERNAL || replica.ownsSharedProperties()) return null;
    KeyMaterial pending = pendingMaterial(incoming);
    KeyMaterial local = replica.shared().currentMaterial();
    if (pending == null || local == null) return null;
    boolean known = replica.shared().material(pending.keyMaterialId()) != null;
    ImportState imports = replica.importState();
    return known && imports.holds(local.keyMaterialId()) && !imports.holds(pending.keyMaterialId())
        ? pending.keyMaterialId() : null;
  }
}
