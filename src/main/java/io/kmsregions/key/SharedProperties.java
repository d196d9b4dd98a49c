package io.kmsregions.key;

import io.kmsregions.CborSerializable;
import java.util.List;

/**
 * The shared properties of a key (kms-api.md §5, "Shared vs independent"): identical in every
 * member of a multi-Region key set, written only by the primary. {@code version} only grows; a
 * replica applies a newer version and ignores older or repeated ones (DESIGN.md, invariant 3).
 *
 * @param version 1 at creation; 0 on a replica that has received the metadata but no material yet
 * @param materials every material version, oldest first; the last one is current
 */
public record SharedProperties(
    long version, KeySpec keySpec, KeyUsage keyUsage, Origin origin, List<KeyMaterial> materials)
    implements CborSerializable {

  public SharedProperties {
    materials = materials == null ? List.of() : List.copyOf(materials);
  }

  /** The material new ciphertexts use, or null while none exists (PendingImport, Creating). */
  public KeyMaterial currentMaterial() {
    return materials.isEmpty() ? null : materials.get(materials.size() - 1);
  }

  /** The material with this id, or null. */
  public KeyMaterial material(String keyMaterialId) {
    for (KeyMaterial m : materials) {
      if (m.keyMaterialId().equals(keyMaterialId)) return m;
    }
    return null;
  }

  /** The same metadata without any material, as a replica in {@code Creating} first holds it. */
  public SharedProperties withoutMaterial() {
    return new SharedProperties(0, keySpec, keyUsage, origin, List.of());
  }
}
