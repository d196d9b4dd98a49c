package io.kmsregions.key;

import io.kmsregions.CborSerializable;
import java.util.ArrayList;
import java.util.List;

/**
 * Who is primary and who are the replicas of a multi-Region key set, as this member knows it.
 * Ordered by ({@code epoch}, {@code version}): the epoch grows with every change of primary
 * (DESIGN.md, invariant 5), the version with every change of the member list. A member adopts a
 * configuration only if it is newer than the one it has.
 *
 * @param replicaRegions every replica's Region, in the order they were added
 */
public record MultiRegionConfiguration(
    long epoch, long version, String primaryRegion, List<String> replicaRegions)
    implements CborSerializable {

  public MultiRegionConfiguration {
    replicaRegions = List.copyOf(replicaRegions);
  }

  public static MultiRegionConfiguration initial(String primaryRegion) {
    return new MultiRegionConfiguration(1, 1, primaryRegion, List.of());
  }

  public boolean isNewerThan(MultiRegionConfiguration other) {
    return other == null
        || epoch > other.epoch
        || (epoch == other.epoch && version > other.version);
  }

  public boolean hasMember(String region) {
    return primaryRegion.equals(region) || replicaRegions.contains(region);
  }

  /** Every member's Region, primary first. */
  public List<String> members() {
    List<String> all = new ArrayList<>();
    all.add(primaryRegion);
    all.addAll(replicaRegions);
    return all;
  }

  public MultiRegionConfiguration withReplica(String region) {
    List<String> replicas = new ArrayList<>(replicaRegions);
    replicas.add(region);
    return new MultiRegionConfiguration(epoch, version + 1, primaryRegion, replicas);
  }

  /** Without the replica in {@code region} (deleted), at the next version. */
  public MultiRegionConfiguration withoutReplica(String region) {
    List<String> replicas = new ArrayList<>(replicaRegions);
    replicas.remove(region);
    return new MultiRegionConfiguration(epoch, version + 1, primaryRegion, replicas);
  }

  /** The configuration after a handover to {@code newPrimary}: next epoch, old primary a replica. */
  public MultiRegionConfiguration handedOverTo(String newPrimary) {
    List<String> replicas = new ArrayList<>(replicaRegions);
    int at = replicas.indexOf(newPrimary);
    if (at >= 0) {
      replicas.set(at, primaryRegion);
    } else if (!newPrimary.equals(primaryRegion)) {
      replicas.add(primaryRegion); // a member this configuration had lost: it comes back as primary
    }
    return new MultiRegionConfiguration(epoch + 1, version + 1, newPrimary, replicas);
  }

  /**
   * The configuration after {@code newPrimary} forced itself primary at {@code forcedEpoch}
   * (DESIGN.md, failure model: beyond AWS, for study). The lost primary stays a member, as a
   * replica, so that it learns the new epoch and steps down when it returns.
   */
  public MultiRegionConfiguration forcedTo(String newPrimary, long forcedEpoch) {
    if (forcedEpoch <= epoch) throw new IllegalArgumentException("a forced epoch must grow: " + forcedEpoch);
    MultiRegionConfiguration next = handedOverTo(newPrimary);
    return new MultiRegionConfiguration(forcedEpoch, next.version, next.primaryRegion, next.replicaRegions);
  }
}
