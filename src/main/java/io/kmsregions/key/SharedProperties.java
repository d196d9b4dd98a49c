package io.kmsregions.key;

import io.kmsregions.CborSerializable;
import java.util.ArrayList;
import java.util.List;

/**
 * The shared properties of a key (kms-api.md §5, "Shared vs independent"): identical in every
 * member of a multi-Region key set, written only by the primary. {@code version} only grows; a
 * replica applies a newer version and ignores older or repeated ones (DESIGN.md, invariant 3).
 *
 * @param version 1 at creation; 0 on a replica that has received the metadata but no material yet
 * @param materials every material version, oldest first
 * @param currentKeyMaterialId the material new ciphertexts use; null means the last one. A
 *     rotation first adds material without making it current, and makes it current only once
 *     every member holds it, so that no member encrypts with material another cannot decrypt
 * @param rotationEnabled automatic rotation (symmetric AWS_KMS keys only)
 * @param rotationPeriodInDays 90..2560 while enabled
 * @param nextRotationDate epoch milliseconds on the cluster clock; 0 when disabled
 * @param rotations completed rotations, oldest first
 * @param generation 0, or the epoch of the forced promotion (DESIGN.md, failure model) that last
 *     rewrote these properties. Shared properties are ordered by (generation, version): after a
 *     forced promotion the new primary's view wins even over a higher version that the lost old
 *     primary wrote meanwhile (which is then reported as a conflict, not silently merged)
 */
public record SharedProperties(
    long version,
    KeySpec keySpec,
    KeyUsage keyUsage,
    Origin origin,
    List<KeyMaterial> materials,
    String currentKeyMaterialId,
    boolean rotationEnabled,
    int rotationPeriodInDays,
    long nextRotationDate,
    List<Rotation> rotations,
    long generation)
    implements CborSerializable {

  /** One completed rotation (ListKeyRotations); {@code rotationType} AUTOMATIC or ON_DEMAND. */
  public record Rotation(String keyMaterialId, long rotationDate, String rotationType) implements CborSerializable {}

  public SharedProperties {
    materials = materials == null ? List.of() : List.copyOf(materials);
    rotations = rotations == null ? List.of() : List.copyOf(rotations);
  }

  /** New shared properties without rotation history. */
  public SharedProperties(long version, KeySpec keySpec, KeyUsage keyUsage, Origin origin, List<KeyMaterial> materials) {
    this(version, keySpec, keyUsage, origin, materials, null, false, 0, 0, List.of(), 0);
  }

  /** Whether these properties supersede {@code other}: a later generation, or a later version of it. */
  public boolean isNewerThan(SharedProperties other) {
    return other == null || generation > other.generation
        || (generation == other.generation && version > other.version);
  }

  /** The same properties rewritten by a forced promotion at {@code epoch}: a new generation. */
  public SharedProperties regenerated(long epoch) {
    return new SharedProperties(version + 1, keySpec, keyUsage, origin, materials, currentKeyMaterialId,
        rotationEnabled, rotationPeriodInDays, nextRotationDate, rotations, epoch);
  }

  /** The material new ciphertexts use, or null while none exists (PendingImport, Creating). */
  public KeyMaterial currentMaterial() {
    if (materials.isEmpty()) return null;
    if (currentKeyMaterialId != null) {
      KeyMaterial m = material(currentKeyMaterialId);
      if (m != null) return m;
    }
    return materials.get(materials.size() - 1);
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
    return new SharedProperties(0, keySpec, keyUsage, origin, List.of(), null, rotationEnabled,
        rotationPeriodInDays, nextRotationDate, List.of(), generation);
  }

  /** Rotation settings changed, at the next version. */
  public SharedProperties withRotation(boolean enabled, int periodInDays, long next) {
    return new SharedProperties(version + 1, keySpec, keyUsage, origin, materials, currentKeyMaterialId,
        enabled, periodInDays, next, rotations, generation);
  }

  /** {@code added} held by every member but not current yet, at the next version. */
  public SharedProperties withPendingMaterial(KeyMaterial added) {
    List<KeyMaterial> all = new ArrayList<>(materials);
    all.add(added);
    String current = currentMaterial() == null ? null : currentMaterial().keyMaterialId();
    return new SharedProperties(version + 1, keySpec, keyUsage, origin, all, current, rotationEnabled,
        rotationPeriodInDays, nextRotationDate, rotations, generation);
  }

  /** {@code materialId} becomes current: a completed rotation, at the next version. */
  public SharedProperties withRotationCompleted(String materialId, long date, String type, long next) {
    List<Rotation> all = new ArrayList<>(rotations);
    all.add(new Rotation(materialId, date, type));
    return new SharedProperties(version + 1, keySpec, keyUsage, origin, materials, materialId, rotationEnabled,
        rotationPeriodInDays, next, all, generation);
  }

  /** How many rotations were on demand (at most 25 per key, kms-api.md §8). */
  public long onDemandRotations() {
    return rotations.stream().filter(r -> r.rotationType().equals("ON_DEMAND")).count();
  }

  /**
   * ListKeyRotations with ALL_KEY_MATERIAL: the original material (no rotation date or type)
   * followed by the rotations.
   */
  public List<Rotation> allMaterialRows() {
    List<Rotation> rows = new ArrayList<>();
    if (!materials.isEmpty()) rows.add(new Rotation(materials.get(0).keyMaterialId(), 0, null));
    rows.addAll(rotations);
    return rows;
  }
}
