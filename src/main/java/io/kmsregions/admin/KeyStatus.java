package io.kmsregions.admin;

import io.kmsregions.key.KeyEntity;
import io.kmsregions.key.KeyMaterial;
import io.kmsregions.key.SharedProperties;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;

/**
 * One key as a Region's node holds it, for {@code kms-regions status} and the laboratory's
 * convergence check (a {@code final} record of the history).
 *
 * @param multiRegionKeyType PRIMARY, REPLICA, or null for a single-Region key
 * @param members every member's Region, primary first; empty for a single-Region key
 * @param epoch the multi-Region configuration's epoch (0 for a single-Region key)
 * @param configurationVersion the member list's version within the epoch
 * @param version the shared properties' version
 * @param generation the shared properties' generation (grows only with a forced promotion)
 * @param sharedDigest hex SHA-256 of every shared property (material ids and digests of the
 *     material, spec, usage, origin, rotation settings and history): equal digests, equal shared state
 */
public record KeyStatus(
    String keyId,
    String region,
    String keyState,
    String multiRegionKeyType,
    String primaryRegion,
    List<String> members,
    long epoch,
    long configurationVersion,
    long version,
    long generation,
    String sharedDigest,
    int pendingDeliveries) {

  public static KeyStatus of(KeyEntity.Key k) {
    var mr = k.multiRegion();
    return new KeyStatus(k.keyId(), k.region(), k.keyState().name(),
        mr == null ? null : (k.isPrimary() ? "PRIMARY" : "REPLICA"),
        mr == null ? null : mr.primaryRegion(),
        mr == null ? List.of() : mr.members(),
        mr == null ? 0 : mr.epoch(),
        mr == null ? 0 : mr.version(),
        k.shared().version(), k.shared().generation(), digest(k.shared()), k.outbox().size());
  }

  /** A digest that never depends on how material is stored, only on what it is. */
  static String digest(SharedProperties s) {
    try {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      StringBuilder b = new StringBuilder();
      b.append(s.version()).append('|').append(s.generation()).append('|').append(s.keySpec()).append('|')
          .append(s.keyUsage()).append('|').append(s.origin()).append('|').append(s.currentKeyMaterialId())
          .append('|').append(s.rotationEnabled()).append('|').append(s.rotationPeriodInDays()).append('|')
          .append(s.nextRotationDate());
      for (SharedProperties.Rotation r : s.rotations()) {
        b.append("|r:").append(r.keyMaterialId()).append(',').append(r.rotationDate()).append(',').append(r.rotationType());
      }
      md.update(b.toString().getBytes(StandardCharsets.UTF_8));
      for (KeyMaterial m : s.materials()) {
        md.update(("|m:" + m.keyMaterialId() + "," + m.createdAt() + ",").getBytes(StandardCharsets.UTF_8));
        md.update(MessageDigest.getInstance("SHA-256").digest(m.secret() == null ? new byte[0] : m.secret()));
        md.update(MessageDigest.getInstance("SHA-256").digest(m.publicKey() == null ? new byte[0] : m.publicKey()));
      }
      return HexFormat.of().formatHex(md.digest());
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
