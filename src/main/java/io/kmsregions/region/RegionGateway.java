package io.kmsregions.region;

import io.kmsregions.CborSerializable;
import io.kmsregions.api.ApiRequest;
import io.kmsregions.api.ApiResponse;
import io.kmsregions.key.KeyEntity;
import io.kmsregions.key.KeyManager;
import io.kmsregions.security.transit.TransitSealing;
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

  /**
   * A replication message for this Region's member of key {@code keyId}, its key material sealed
   * for this node by {@code fromRegion}'s node ({@link TransitSealing}).
   *
   * @param senderPublicKey the sending node's transit public key
   * @param recipientFingerprint the fingerprint of the transit key pair it was sealed for
   */
  public record ToKey(String keyId, KeyEntity.ReplicationCommand command, String fromRegion, byte[] senderPublicKey,
      String recipientFingerprint) implements Command {}

  /** This node's transit public key: {@link TransitKey}. */
  public record GetTransitKey(ActorRef<TransitKey> replyTo) implements Command {}

  /** A node's transit public key (X.509 DER of an X25519 key). */
  public record TransitKey(String region, byte[] publicKey) implements CborSerializable {}

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
      Function<ApiRequest, CompletionStage<ApiResponse>> api,
      TransitSealing transit) {
    return Behaviors.setup(ctx -> {
      ctx.getSystem().receptionist().tell(Receptionist.register(serviceKey(region), ctx.getSelf()));
      return Behaviors.receive(Command.class)
          .onMessage(ToKey.class, m -> {
            KeyEntity.ReplicationCommand command;
            try {
              if (!transit.fingerprint().equals(m.recipientFingerprint())) {
                throw new java.security.GeneralSecurityException("sealed for transit key " + m.recipientFingerprint()
                    + ", this node holds " + transit.fingerprint());
              }
              command = transit.openFrom(m.fromRegion(), m.senderPublicKey(), m.keyId(), m.command());
            } catch (java.security.GeneralSecurityException | IllegalArgumentException e) {
              // Sealed for a key pair this node no longer holds (it restarted): the sender retries
              // once it has fetched the new public key.
              ctx.getLog().info("Refused a message for key {} from {}: {}", m.keyId(), m.fromRegion(), e.getMessage());
              m.command().replyTo().tell(new KeyEntity.Unreachable(
                  region + " cannot open key material sealed for another transit key pair"));
              return Behaviors.same();
            }
            // Audited in this Region once the key acknowledges it (io.kmsregions.audit).
            keyManager.tell(new KeyManager.Route(m.keyId(),
                io.kmsregions.audit.AuditedDelivery.audited(ctx, m.keyId(), command)));
            return Behaviors.same();
          })
          .onMessage(GetTransitKey.class, m -> {
            m.replyTo().tell(new TransitKey(region, transit.publicKey()));
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
