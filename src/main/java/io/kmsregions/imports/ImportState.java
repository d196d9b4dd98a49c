package io.kmsregions.imports;

import io.kmsregions.CborSerializable;
import java.util.ArrayList;
import java.util.List;

/**
 * What one Region's key of Origin EXTERNAL knows of imports: the materials it imported (with
 * their expiry) and the import parameters it issued that may still be used. An independent
 * property (kms-api.md §5): every Region imports, expires and deletes material on its own; only
 * the material's identity and public key are shared properties.
 *
 * @param materials one entry per material ever imported here, in import order
 * @param parameters issued by GetParametersForImport, newest last, at most {@link #MAX_PARAMETERS}
 */
public record ImportState(List<ImportedKeyMaterial> materials, List<ImportParameters> parameters)
    implements CborSerializable {

  /**
   * How many issued parameters a key keeps. Older ones are dropped (their tokens become invalid)
   * so that a client calling GetParametersForImport in a loop cannot grow the key's state.
   */
  public static final int MAX_PARAMETERS = 10;

  public static final ImportState EMPTY = new ImportState(List.of(), List.of());

  public ImportState {
    materials = materials == null ? List.of() : List.copyOf(materials);
    parameters = parameters == null ? List.of() : List.copyOf(parameters);
  }

  /** The entry of this material, or null when it was never imported here. */
  public ImportedKeyMaterial material(String keyMaterialId) {
    for (ImportedKeyMaterial m : materials) if (m.keyMaterialId().equals(keyMaterialId)) return m;
    return null;
  }

  /** Whether this Region holds this material now. */
  public boolean holds(String keyMaterialId) {
    ImportedKeyMaterial m = material(keyMaterialId);
    return m != null && m.isImported();
  }

  /** The parameters of this token id, or null. */
  public ImportParameters parameters(String tokenId) {
    for (ImportParameters p : parameters) if (p.tokenId().equals(tokenId)) return p;
    return null;
  }

  /** With {@code issued} added (the oldest dropped beyond {@link #MAX_PARAMETERS}). */
  public ImportState withParameters(ImportParameters issued) {
    List<ImportParameters> all = new ArrayList<>(parameters);
    all.add(issued);
    while (all.size() > MAX_PARAMETERS) all.remove(0);
    return new ImportState(materials, all);
  }

  /** With {@code imported} replacing the entry of the same material, or added. */
  public ImportState withMaterial(ImportedKeyMaterial imported) {
    List<ImportedKeyMaterial> all = new ArrayList<>(materials);
    all.removeIf(m -> m.keyMaterialId().equals(imported.keyMaterialId()));
    all.add(imported);
    return new ImportState(all, parameters);
  }

  /** With these materials deleted (their secrets dropped, their entries kept). */
  public ImportState withDeleted(List<String> keyMaterialIds) {
    List<ImportedKeyMaterial> all = new ArrayList<>();
    for (ImportedKeyMaterial m : materials) all.add(keyMaterialIds.contains(m.keyMaterialId()) ? m.deleted() : m);
    return new ImportState(all, parameters);
  }

  /** The earliest ValidTo of the materials held here that expire; 0 when none does. */
  public long earliestExpiry() {
    long earliest = 0;
    for (ImportedKeyMaterial m : materials) {
      if (m.isImported() && m.validTo() > 0 && (earliest == 0 || m.validTo() < earliest)) earliest = m.validTo();
    }
    return earliest;
  }

  /** The materials held here whose ValidTo is not after {@code now}. */
  public List<String> expiredAt(long now) {
    List<String> ids = new ArrayList<>();
    for (ImportedKeyMaterial m : materials) {
      if (m.isImported() && m.validTo() > 0 && m.validTo() <= now) ids.add(m.keyMaterialId());
    }
    return ids;
  }
}
