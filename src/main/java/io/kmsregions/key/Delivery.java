package io.kmsregions.key;

import io.kmsregions.CborSerializable;
import java.util.List;

/**
 * An effect on another Region that a key has persisted as intent and not yet seen acknowledged
 * (DESIGN.md, invariant 4). The message itself is built from the key's state at each send, so a
 * retry always carries the newest shared properties and configuration.
 *
 * @param id unique within the key, grows
 * @param region the Region to deliver to
 * @param replica the new replica's independent properties; only for {@link Kind#CREATE_REPLICA}
 */
public record Delivery(long id, String region, Kind kind, ReplicaProperties replica)
    implements CborSerializable {

  /** What to deliver. */
  public enum Kind {
    /** ReplicateKey step 3: create the replica (metadata only; it stays Creating). */
    CREATE_REPLICA,
    /** The primary's shared properties (material, spec, usage, origin) at their newest version. */
    SYNC_SHARED_PROPERTIES,
    /** The newest {@link MultiRegionConfiguration}. */
    SYNC_CONFIGURATION,
    /** UpdatePrimaryRegion step 2: make the target the primary at the next epoch. */
    PROMOTE,
    /** UpdatePrimaryRegion step 4: the old primary has stepped down; the new one may finish. */
    COMPLETE_HANDOVER,
    /** A replica's deletion window ended: its primary drops it from the member list. */
    REPLICA_DELETED
  }

  /**
   * The independent properties a new replica starts with (ReplicateKey's Description, Policy, Tags).
   *
   * @param creationDate epoch milliseconds of the ReplicateKey call
   */
  public record ReplicaProperties(String description, String policy, List<Tag> tags, long creationDate)
      implements CborSerializable {
    public ReplicaProperties {
      tags = tags == null ? List.of() : List.copyOf(tags);
    }
  }
}
