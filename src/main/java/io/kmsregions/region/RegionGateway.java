package io.kmsregions.region;

import io.kmsregions.CborSerializable;
import io.kmsregions.api.ApiRequest;
import io.kmsregions.api.ApiResponse;
import io.kmsregions.key.KeyEntity;
import io.kmsregions.key.KeyManager;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;

/**
 * The entry of one Region's node for messages from other Regions: replication messages for its
 * keys, and KMS API calls that clients sent to another node's endpoint. Registered with the
 * Receptionist under {@link #serviceKey(String)} of its Region.
 */
public final class RegionGateway {

  /** What other Regions send to this one. */
  public sealed interface Command extends CborSerializable {}

  /** A replication message for this Region's member of key {@code keyId}. */
  public record ToKey(String keyId, KeyEntity.ReplicationCommand command) implements Command {}

  /** A KMS API call addressed to this Region (by its SigV4 credential scope). */
  public record HandleApiRequest(ApiRequest request, ActorRef<ApiResponse> replyTo) implements Command {}

  private RegionGateway() {}

  /** The Receptionist key under which {@code region}'s gateway is registered. */
  public static ServiceKey<Command> serviceKey(String region) {
    return ServiceKey.create(Command.class, "region-gateway-" + region);
  }

  public static Behavior<Command> create(
      String region,
      ActorRef<KeyManager.Command> keyManager,
      Function<ApiRequest, CompletionStage<ApiResponse>> api) {
    return Behaviors.setup(ctx -> {
      ctx.getSystem().receptionist().tell(Receptionist.register(serviceKey(region), ctx.getSelf()));
      return Behaviors.receive(Command.class)
          .onMessage(ToKey.class, m -> {
            // Audited in this Region once the key acknowledges it (io.kmsregions.audit).
            keyManager.tell(new KeyManager.Route(m.keyId(),
                io.kmsregions.audit.AuditedDelivery.audited(ctx, m.keyId(), m.command())));
            return Behaviors.same();
          })
          .onMessage(HandleApiRequest.class, m -> {
            api.apply(m.request()).thenAccept(m.replyTo()::tell);
            return Behaviors.same();
          })
          .build();
    });
  }
}
