package io.kmsregions.audit;

import io.kmsregions.key.KeyEntity;
import io.kmsregions.key.KeyEntity.CompleteHandover;
import io.kmsregions.key.KeyEntity.CreateReplica;
import io.kmsregions.key.KeyEntity.DeliveryReply;
import io.kmsregions.key.KeyEntity.Promote;
import io.kmsregions.key.KeyEntity.ReplicaDeleted;
import io.kmsregions.key.KeyEntity.ReplicationCommand;
import io.kmsregions.key.KeyEntity.SynchronizeConfiguration;
import io.kmsregions.key.KeyEntity.SynchronizeSharedProperties;
import io.kmsregions.key.MultiRegionConfiguration;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * Records, in the receiving Region's {@link AuditLog}, each replication message from another
 * Region that this Region's key applied: it replaces the message's reply-to with a short-lived
 * actor that writes the record when the key acknowledges ({@code Delivered}), then passes the
 * acknowledgement on. Names as AWS logs them in each Region involved (AWS KMS Developer Guide,
 * "Logging multi-Region key operations"): ReplicateKey in the replica's Region, UpdatePrimaryRegion
 * in the new primary's Region, SynchronizeMultiRegionKey where shared properties or the member
 * list are applied. A delivery retried after a lost acknowledgement is recorded again (the key
 * itself applies it once).
 */
public final class AuditedDelivery {
  private AuditedDelivery() {}

  /** {@code command} for {@code keyId}, with its acknowledgement audited. */
  public static ReplicationCommand audited(ActorContext<?> ctx, String keyId, ReplicationCommand command) {
    String eventName;
    Map<String, String> details = new LinkedHashMap<>();
    if (command instanceof CreateReplica c) {
      eventName = "ReplicateKey";
      describe(details, c.replica().multiRegion());
    } else if (command instanceof Promote p) {
      eventName = "UpdatePrimaryRegion";
      describe(details, p.configuration());
    } else if (command instanceof SynchronizeSharedProperties s) {
      eventName = "SynchronizeMultiRegionKey";
      details.put("sharedPropertiesVersion", Long.toString(s.shared().version()));
      describe(details, s.configuration());
    } else if (command instanceof SynchronizeConfiguration s) {
      eventName = "SynchronizeMultiRegionKey";
      describe(details, s.configuration());
    } else if (command instanceof ReplicaDeleted d) {
      eventName = "SynchronizeMultiRegionKey";
      details.put("replicaDeletedIn", d.region());
    } else {
      return command; // CompleteHandover: the second half of UpdatePrimaryRegion, already recorded
    }
    AuditLog audit = AuditLog.get(ctx.getSystem());
    ActorRef<DeliveryReply> original = command.replyTo();
    ActorRef<DeliveryReply> spy = ctx.spawnAnonymous(acknowledgement(audit, eventName, keyId, details, original));
    if (command instanceof CreateReplica c) return new CreateReplica(c.replica(), spy);
    if (command instanceof Promote p) return new Promote(p.shared(), p.configuration(), spy);
    if (command instanceof SynchronizeSharedProperties s) {
      return new SynchronizeSharedProperties(s.shared(), s.configuration(), spy);
    }
    if (command instanceof SynchronizeConfiguration s) return new SynchronizeConfiguration(s.configuration(), spy);
    ReplicaDeleted d = (ReplicaDeleted) command;
    return new ReplicaDeleted(d.region(), spy);
  }

  private static void describe(Map<String, String> details, MultiRegionConfiguration c) {
    if (c == null) return;
    details.put("primaryRegion", c.primaryRegion());
    details.put("replicaRegions", String.join(",", c.replicaRegions()));
    details.put("epoch", Long.toString(c.epoch()));
  }

  private static Behavior<DeliveryReply> acknowledgement(AuditLog audit, String eventName, String keyId,
      Map<String, String> details, ActorRef<DeliveryReply> original) {
    return Behaviors.setup(ctx -> {
      // The sender gives up on an attempt after its delivery timeout; do not outlive it by much.
      ctx.setReceiveTimeout(Duration.ofSeconds(60), new KeyEntity.Unreachable("audit: no acknowledgement"));
      return Behaviors.receiveMessage(reply -> {
        if (reply instanceof KeyEntity.Unreachable u && "audit: no acknowledgement".equals(u.reason())) {
          return Behaviors.stopped();
        }
        if (reply instanceof KeyEntity.Delivered) audit.serviceEvent(eventName, keyId, details);
        original.tell(reply);
        return Behaviors.stopped();
      });
    });
  }
}
