package io.kmsregions.admin;

import io.kmsregions.key.KeyEntity;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.eventstream.EventStream;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.ClusterEvent;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Subscribe;

/**
 * Writes the cluster's membership events as this node sees them, and the conflicts that keys
 * report after a forced promotion, to the node's {@link NodeEventLog}.
 */
public final class MembershipRecorder {
  private MembershipRecorder() {}

  public static Behavior<Object> create(NodeEventLog log) {
    return Behaviors.setup(ctx -> {
      var subscriptions = Cluster.get(ctx.getSystem()).subscriptions();
      subscriptions.tell(Subscribe.create(ctx.getSelf().narrow(), ClusterEvent.MemberEvent.class));
      subscriptions.tell(Subscribe.create(ctx.getSelf().narrow(), ClusterEvent.ReachabilityEvent.class));
      subscriptions.tell(Subscribe.create(ctx.getSelf().narrow(), ClusterEvent.DataCenterReachabilityEvent.class));
      ctx.getSystem().eventStream().tell(new EventStream.Subscribe<>(KeyEntity.ConflictsReported.class, ctx.getSelf().narrow()));
      return Behaviors.receive(Object.class)
          .onMessage(ClusterEvent.MemberEvent.class, e -> {
            log.membership(e.getClass().getSimpleName(), e.member().dataCenter());
            return Behaviors.same();
          })
          .onMessage(ClusterEvent.ReachabilityEvent.class, e -> {
            Member m = e.member();
            log.membership(e.getClass().getSimpleName(), m.dataCenter());
            return Behaviors.same();
          })
          .onMessage(ClusterEvent.UnreachableDataCenter.class, e -> {
            log.membership("UnreachableDataCenter", e.dataCenter());
            return Behaviors.same();
          })
          .onMessage(ClusterEvent.ReachableDataCenter.class, e -> {
            log.membership("ReachableDataCenter", e.dataCenter());
            return Behaviors.same();
          })
          .onMessage(KeyEntity.ConflictsReported.class, c -> {
            log.conflicts(c.keyId(), "stepped down for " + c.newPrimaryRegion() + " at epoch " + c.epoch(), c.conflicts());
            return Behaviors.same();
          })
          .build();
    });
  }
}
