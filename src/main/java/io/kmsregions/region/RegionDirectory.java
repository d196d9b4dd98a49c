package io.kmsregions.region;

import io.kmsregions.CborSerializable;
import io.kmsregions.KmsSettings;
import io.kmsregions.api.ApiRequest;
import io.kmsregions.api.ApiResponse;
import io.kmsregions.api.ErrorBodies;
import io.kmsregions.key.KeyEntity;
import io.kmsregions.key.KmsError;
import io.kmsregions.security.transit.TransitSealing;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.cluster.ClusterEvent;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Subscribe;

/**
 * Knows the gateway of every other Region that is reachable now, and passes messages to it. The
 * gateways come from the Receptionist; reachability from the cluster's data-center reachability
 * events (each Region is its own data center, and the Receptionist's listings only follow
 * reachability inside a data center). A message for a
 * Region that is not reachable is answered at once: a replication message with
 * {@link KeyEntity.Unreachable} (its sender retries), an API call with HTTP 503.
 */
public final class RegionDirectory {

  /** What the directory accepts. */
  public sealed interface Command extends CborSerializable {}

  /** Deliver a replication message to {@code keyId}'s member in {@code region}. */
  public record DeliverToKey(String region, String keyId, KeyEntity.ReplicationCommand command)
      implements Command {}

  /** Forward a KMS API call to {@code region}'s node. */
  public record ForwardApiRequest(String region, ApiRequest request, ActorRef<ApiResponse> replyTo)
      implements Command {}

  /** Answers the Regions reachable from here now (for status and tests). */
  public record GetReachableRegions(ActorRef<ReachableRegions> replyTo) implements Command {}

  public record ReachableRegions(List<String> regions) implements CborSerializable {}

  private record ListingChanged(Receptionist.Listing listing) implements Command {}

  private record DataCenterReachability(String dataCenter, boolean reachable) implements Command {}

  /** A Region's gateway told its transit public key (internal). */
  private record TransitKeyLearned(ActorRef<RegionGateway.Command> gateway, RegionGateway.TransitKey key)
      implements Command {}

  /** Asking a gateway for its transit key failed; ask again (internal). */
  private record TransitKeyUnknown(ActorRef<RegionGateway.Command> gateway, String region) implements Command {}

  private RegionDirectory() {}

  /**
   * @param transit this node's transit key pair: key material in replication messages is sealed
   *     for the receiving Region's node ({@link TransitSealing}); a Region whose public key is not
   *     known yet is treated as unreachable until it is
   */
  public static Behavior<Command> create(KmsSettings settings, TransitSealing transit) {
    return Behaviors.setup(ctx -> {
      ActorRef<Receptionist.Listing> adapter =
          ctx.messageAdapter(Receptionist.Listing.class, ListingChanged::new);
      for (String region : settings.regions()) {
        if (!region.equals(settings.region())) {
          ctx.getSystem().receptionist().tell(Receptionist.subscribe(RegionGateway.serviceKey(region), adapter));
        }
      }
      ActorRef<ClusterEvent.DataCenterReachabilityEvent> reachability = ctx.messageAdapter(
          ClusterEvent.DataCenterReachabilityEvent.class,
          e -> e instanceof ClusterEvent.UnreachableDataCenter u
              ? new DataCenterReachability(u.dataCenter(), false)
              : new DataCenterReachability(((ClusterEvent.ReachableDataCenter) e).dataCenter(), true));
      Cluster.get(ctx.getSystem()).subscriptions()
          .tell(Subscribe.create(reachability, ClusterEvent.DataCenterReachabilityEvent.class));
      Map<String, ActorRef<RegionGateway.Command>> known = new HashMap<>();
      Set<String> unreachable = new HashSet<>();
      Map<String, ActorRef<RegionGateway.Command>> gateways = new HashMap<>();
      // The transit public key of each gateway incarnation (a restarted node has a new one).
      Map<ActorRef<RegionGateway.Command>, byte[]> transitKeys = new HashMap<>();
      java.util.function.Consumer<ActorRef<RegionGateway.Command>> askTransitKey = gateway -> ctx.ask(
          RegionGateway.TransitKey.class, gateway, settings.deliveryTimeout(), RegionGateway.GetTransitKey::new,
          (key, failure) -> key != null ? new TransitKeyLearned(gateway, key)
              : new TransitKeyUnknown(gateway, String.valueOf(failure)));
      Runnable recompute = () -> {
        for (String region : settings.regions()) {
          ActorRef<RegionGateway.Command> ref = unreachable.contains(region) ? null : known.get(region);
          ActorRef<RegionGateway.Command> before = ref == null ? gateways.remove(region) : gateways.put(region, ref);
          if (before == null && ref != null) ctx.getLog().info("Region {} is reachable", region);
          if (before != null && ref == null) ctx.getLog().info("Region {} is unreachable", region);
          if (ref != null && !transitKeys.containsKey(ref)) askTransitKey.accept(ref);
        }
        transitKeys.keySet().retainAll(known.values());
      };
      return Behaviors.receive(Command.class)
          .onMessage(DataCenterReachability.class, m -> {
            if (m.reachable()) unreachable.remove(m.dataCenter());
            else unreachable.add(m.dataCenter());
            recompute.run();
            return Behaviors.same();
          })
          .onMessage(ListingChanged.class, m -> {
            String region = m.listing().getKey().id().substring("region-gateway-".length());
            @SuppressWarnings("unchecked")
            Set<ActorRef<RegionGateway.Command>> refs =
                m.listing().getServiceInstances(RegionGateway.serviceKey(region));
            if (refs.isEmpty()) known.remove(region);
            else known.put(region, refs.iterator().next());
            recompute.run();
            return Behaviors.same();
          })
          .onMessage(TransitKeyLearned.class, m -> {
            if (known.containsValue(m.gateway())) transitKeys.put(m.gateway(), m.key().publicKey());
            return Behaviors.same();
          })
          .onMessage(TransitKeyUnknown.class, m -> {
            if (gateways.containsValue(m.gateway()) && !transitKeys.containsKey(m.gateway())) {
              ctx.getLog().debug("No transit key from {} yet ({}); asking again", m.region(), m.gateway());
              askTransitKey.accept(m.gateway());
            }
            return Behaviors.same();
          })
          .onMessage(DeliverToKey.class, m -> {
            ActorRef<RegionGateway.Command> gateway = gateways.get(m.region());
            byte[] peerKey = gateway == null ? null : transitKeys.get(gateway);
            if (gateway == null) {
              m.command().replyTo().tell(new KeyEntity.Unreachable(m.region() + " is unreachable"));
            } else if (peerKey == null) {
              // Material never leaves unsealed: wait (the sender retries) until the key is known.
              m.command().replyTo().tell(new KeyEntity.Unreachable(m.region() + "'s transit key is not known yet"));
            } else {
              KeyEntity.ReplicationCommand sealed;
              try {
                sealed = transit.sealFor(m.region(), peerKey, m.keyId(), m.command());
              } catch (IllegalArgumentException e) {
                ctx.getLog().error("Not sending an unsealable message for key {} to {}", m.keyId(), m.region(), e);
                m.command().replyTo().tell(new KeyEntity.Refused(e.getMessage()));
                return Behaviors.same();
              }
              gateway.tell(new RegionGateway.ToKey(m.keyId(), sealed, settings.region(), transit.publicKey(),
                  TransitSealing.fingerprint(peerKey)));
            }
            return Behaviors.same();
          })
          .onMessage(ForwardApiRequest.class, m -> {
            ActorRef<RegionGateway.Command> gateway = gateways.get(m.region());
            if (gateway == null) {
              m.replyTo().tell(ErrorBodies.response(KmsError.unavailable(
                  "The Region " + m.region() + " is unreachable from " + settings.region() + ".")));
            } else {
              gateway.tell(new RegionGateway.HandleApiRequest(m.request(), m.replyTo()));
            }
            return Behaviors.same();
          })
          .onMessage(GetReachableRegions.class, m -> {
            m.replyTo().tell(new ReachableRegions(List.copyOf(gateways.keySet())));
            return Behaviors.same();
          })
          .build();
    });
  }
}
