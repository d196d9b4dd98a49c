package io.kmsregions.key;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import io.kmsregions.CborSerializable;
import io.kmsregions.KmsSettings;
import io.kmsregions.region.RegionDirectory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.RecoveryCompleted;
import org.apache.pekko.persistence.typed.javadsl.CommandHandlerWithReply;
import org.apache.pekko.persistence.typed.javadsl.CommandHandlerWithReplyBuilder;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehaviorWithEnforcedReplies;
import org.apache.pekko.persistence.typed.javadsl.ReplyEffect;
import org.apache.pekko.persistence.typed.javadsl.RetentionCriteria;
import org.apache.pekko.persistence.typed.javadsl.SignalHandler;

/**
 * One KMS key in one Region: an event-sourced actor on this node's LevelDB journal (DESIGN.md).
 *
 * <p>Single-Region keys only answer the API. Multi-Region keys also carry the replication state:
 * their {@link MultiRegionConfiguration} and an outbox of {@link Delivery deliveries} to other
 * Regions. Every effect on another Region is persisted here first, then sent with retry and
 * backoff until acknowledged, and re-sent after recovery (invariant 4). The receiving key is
 * idempotent: it applies newer shared properties or configurations and ignores older ones
 * (invariants 3 and 5).
 *
 * <p>ReplicateKey: the primary persists {@link ReplicaAdded} and answers with the replica in
 * {@code Creating}; it delivers {@link CreateReplica} (metadata only), then
 * {@link SynchronizeSharedProperties}, on which the replica becomes {@code Enabled}; then it tells
 * the other members the new member list.
 *
 * <p>UpdatePrimaryRegion, a handover from A to B: A persists {@link HandoverStarted} (A
 * {@code Updating}, B named primary at the next epoch) and delivers {@link Promote}; B persists
 * {@link PromotedToPrimary} ({@code Updating}) and acknowledges; A persists
 * {@link HandoverCompleted} (an {@code Enabled} replica) and delivers {@link CompleteHandover};
 * B persists {@link PrimaryConfirmed} ({@code Enabled}) and tells every other member. If B refuses
 * (its replica is not Enabled), A persists {@link HandoverAborted} and stays primary.
 */
public final class KeyEntity
    extends EventSourcedBehaviorWithEnforcedReplies<KeyEntity.Command, KeyEntity.Event, KeyEntity.State> {

  // ---------------------------------------------------------------- protocol

  /** Everything a key actor accepts. Typed in JSON because other messages carry commands. */
  @JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "command")
  @JsonSubTypes({
    @JsonSubTypes.Type(value = CreateKey.class, name = "CreateKey"),
    @JsonSubTypes.Type(value = GetKey.class, name = "GetKey"),
    @JsonSubTypes.Type(value = ReplicateKey.class, name = "ReplicateKey"),
    @JsonSubTypes.Type(value = UpdatePrimaryRegion.class, name = "UpdatePrimaryRegion"),
    @JsonSubTypes.Type(value = CreateReplica.class, name = "CreateReplica"),
    @JsonSubTypes.Type(value = SynchronizeSharedProperties.class, name = "SynchronizeSharedProperties"),
    @JsonSubTypes.Type(value = SynchronizeConfiguration.class, name = "SynchronizeConfiguration"),
    @JsonSubTypes.Type(value = Promote.class, name = "Promote"),
    @JsonSubTypes.Type(value = CompleteHandover.class, name = "CompleteHandover"),
    @JsonSubTypes.Type(value = DeliveryOutcome.class, name = "DeliveryOutcome"),
    @JsonSubTypes.Type(value = RedeliverPending.class, name = "RedeliverPending")
  })
  public sealed interface Command extends CborSerializable {}

  /** Creates the key from its complete initial state (the API generated id and material). */
  public record CreateKey(Key initial, ActorRef<KeyReply> replyTo) implements Command {}

  /** Answers the key's current state (DescribeKey, and the cache of the crypto path). */
  public record GetKey(ActorRef<KeyReply> replyTo) implements Command {}

  /** ReplicateKey on the primary; answers the new replica's state ({@code Creating}). */
  public record ReplicateKey(
      String replicaRegion, Delivery.ReplicaProperties replica, ActorRef<KeyReply> replyTo)
      implements Command {}

  /** UpdatePrimaryRegion on the primary; answers this key's state after the handover started. */
  public record UpdatePrimaryRegion(String primaryRegion, ActorRef<KeyReply> replyTo)
      implements Command {}

  /** A message from another Region's member of the same multi-Region key set. */
  public sealed interface ReplicationCommand extends Command {
    ActorRef<DeliveryReply> replyTo();
  }

  /** Creates this Region's replica, in {@code Creating}, without material. */
  public record CreateReplica(Key replica, ActorRef<DeliveryReply> replyTo)
      implements ReplicationCommand {}

  /** The primary's shared properties; a replica applies them if newer. */
  public record SynchronizeSharedProperties(
      SharedProperties shared, MultiRegionConfiguration configuration, ActorRef<DeliveryReply> replyTo)
      implements ReplicationCommand {}

  /** A member list or primary designation; applied if newer. */
  public record SynchronizeConfiguration(
      MultiRegionConfiguration configuration, ActorRef<DeliveryReply> replyTo)
      implements ReplicationCommand {}

  /** Become primary at {@code configuration.epoch()} (a handover's step 2). */
  public record Promote(
      SharedProperties shared, MultiRegionConfiguration configuration, ActorRef<DeliveryReply> replyTo)
      implements ReplicationCommand {}

  /** The old primary has stepped down: finish the handover (step 4). */
  public record CompleteHandover(
      MultiRegionConfiguration configuration, ActorRef<DeliveryReply> replyTo)
      implements ReplicationCommand {}

  /** The outcome of one delivery attempt (internal). */
  public record DeliveryOutcome(long deliveryId, DeliveryReply reply) implements Command {}

  /** Timer: re-send every pending delivery that is not in flight (internal). */
  public enum RedeliverPending implements Command { INSTANCE }

  /** The answer to an API command. */
  public sealed interface KeyReply extends CborSerializable {}

  public record KeyFound(Key key) implements KeyReply {}

  public record KeyFailed(KmsError error) implements KeyReply {}

  /** The answer to a {@link ReplicationCommand}. */
  @JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "reply")
  @JsonSubTypes({
    @JsonSubTypes.Type(value = Delivered.class, name = "Delivered"),
    @JsonSubTypes.Type(value = Refused.class, name = "Refused"),
    @JsonSubTypes.Type(value = Unreachable.class, name = "Unreachable")
  })
  public sealed interface DeliveryReply extends CborSerializable {}

  /** Persisted (or already applied): the sender may forget the delivery. */
  public record Delivered() implements DeliveryReply {}

  /** Will never be applied (for example a Promote to a replica that is not Enabled). */
  public record Refused(String reason) implements DeliveryReply {}

  /** Not delivered this time: the Region is unreachable or did not answer in time. */
  public record Unreachable(String reason) implements DeliveryReply {}

  // ---------------------------------------------------------------- events

  /** Everything that happened to a key, in its journal. */
  public sealed interface Event extends CborSerializable {}

  public record KeyCreated(Key key) implements Event {}

  public record ReplicaCreated(Key key) implements Event {}

  public record ReplicaAdded(MultiRegionConfiguration configuration, Delivery createReplica)
      implements Event {}

  /** A delivery was acknowledged; {@code followUps} are what comes next. */
  public record DeliveryCompleted(long deliveryId, List<Delivery> followUps) implements Event {}

  /** Shared properties (and the configuration, when newer; else null) from the primary. */
  public record SharedPropertiesSynchronized(
      SharedProperties shared, MultiRegionConfiguration configuration) implements Event {}

  public record ConfigurationSynchronized(MultiRegionConfiguration configuration) implements Event {}

  public record HandoverStarted(String to, MultiRegionConfiguration configuration, Delivery promote)
      implements Event {}

  /** {@code shared} is null when this member already had the newest shared properties. */
  public record PromotedToPrimary(MultiRegionConfiguration configuration, SharedProperties shared)
      implements Event {}

  public record HandoverCompleted(long promoteDeliveryId, Delivery completeHandover)
      implements Event {}

  public record HandoverAborted(long promoteDeliveryId, String reason,
      MultiRegionConfiguration configuration) implements Event {}

  public record PrimaryConfirmed(List<Delivery> announcements) implements Event {}

  // ---------------------------------------------------------------- state

  /** A key actor's state: nothing yet, or a key. */
  public sealed interface State extends CborSerializable {}

  public record EmptyKey() implements State {}

  /**
   * A key as this Region holds it. Immutable: the API reads published instances from
   * {@link KeyCache} on other threads.
   *
   * @param creationDate epoch milliseconds
   * @param multiRegion null for a single-Region key
   * @param outbox deliveries persisted and not yet acknowledged
   */
  public record Key(
      String keyId,
      String region,
      long creationDate,
      String description,
      String policy,
      List<Tag> tags,
      KeyState keyState,
      SharedProperties shared,
      MultiRegionConfiguration multiRegion,
      List<Delivery> outbox,
      long nextDeliveryId)
      implements State {

    public Key {
      tags = tags == null ? List.of() : List.copyOf(tags);
      outbox = outbox == null ? List.of() : List.copyOf(outbox);
    }

    public boolean isMultiRegion() {
      return multiRegion != null;
    }

    public boolean isPrimary() {
      return multiRegion != null && multiRegion.primaryRegion().equals(region);
    }

    public Key withKeyState(KeyState s) {
      return new Key(keyId, region, creationDate, description, policy, tags, s, shared, multiRegion,
          outbox, nextDeliveryId);
    }

    public Key withShared(SharedProperties s) {
      return new Key(keyId, region, creationDate, description, policy, tags, keyState, s, multiRegion,
          outbox, nextDeliveryId);
    }

    public Key withMultiRegion(MultiRegionConfiguration c) {
      return new Key(keyId, region, creationDate, description, policy, tags, keyState, shared, c,
          outbox, nextDeliveryId);
    }

    Key withDeliveries(List<Delivery> added) {
      List<Delivery> all = new ArrayList<>(outbox);
      long next = nextDeliveryId;
      for (Delivery d : added) {
        all.add(d);
        next = Math.max(next, d.id() + 1);
      }
      return new Key(keyId, region, creationDate, description, policy, tags, keyState, shared,
          multiRegion, all, next);
    }

    Key withoutDelivery(long id) {
      List<Delivery> rest = new ArrayList<>(outbox);
      rest.removeIf(d -> d.id() == id);
      return new Key(keyId, region, creationDate, description, policy, tags, keyState, shared,
          multiRegion, rest, nextDeliveryId);
    }

    Delivery delivery(long id) {
      for (Delivery d : outbox) if (d.id() == id) return d;
      return null;
    }
  }

  // ---------------------------------------------------------------- behavior

  /**
   * @param manager told of every key this actor creates (ListKeys)
   * @param directory how deliveries reach other Regions
   */
  public static Behavior<Command> create(
      String keyId,
      KmsSettings settings,
      KeyCache cache,
      ActorRef<KeyManager.Command> manager,
      ActorRef<RegionDirectory.Command> directory) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers ->
        new KeyEntity(keyId, settings, cache, manager, directory, ctx, timers)));
  }

  private final String keyId;
  private final KmsSettings settings;
  private final KeyCache cache;
  private final ActorRef<KeyManager.Command> manager;
  private final ActorRef<RegionDirectory.Command> directory;
  private final ActorContext<Command> ctx;
  private final TimerScheduler<Command> timers;
  // Transient: which deliveries have an attempt under way, and how many attempts failed in a row.
  private final Set<Long> inFlight = new HashSet<>();
  private int failedAttempts = 0;

  private KeyEntity(
      String keyId,
      KmsSettings settings,
      KeyCache cache,
      ActorRef<KeyManager.Command> manager,
      ActorRef<RegionDirectory.Command> directory,
      ActorContext<Command> ctx,
      TimerScheduler<Command> timers) {
    super(PersistenceId.of("Key", keyId),
        SupervisorStrategy.restartWithBackoff(Duration.ofMillis(200), Duration.ofSeconds(5), 0.1));
    this.keyId = keyId;
    this.settings = settings;
    this.cache = cache;
    this.manager = manager;
    this.directory = directory;
    this.ctx = ctx;
    this.timers = timers;
  }

  @Override
  public State emptyState() {
    return new EmptyKey();
  }

  @Override
  public RetentionCriteria retentionCriteria() {
    return RetentionCriteria.snapshotEvery(settings.snapshotEvery(), 2);
  }

  @Override
  public SignalHandler<State> signalHandler() {
    return newSignalHandlerBuilder()
        .onSignal(RecoveryCompleted.class, (state, signal) -> {
          if (state instanceof Key key) {
            cache.publish(key);
            sendPending(key);
          }
        })
        .build();
  }

  @Override
  public CommandHandlerWithReply<Command, Event, State> commandHandler() {
    CommandHandlerWithReplyBuilder<Command, Event, State> builder = newCommandHandlerWithReplyBuilder();
    builder.forStateType(EmptyKey.class)
        .onCommand(CreateKey.class, this::onCreateKey)
        .onCommand(CreateReplica.class, this::onCreateReplica)
        .onCommand(GetKey.class, (s, c) -> Effect().reply(c.replyTo(), notFound()))
        .onCommand(ReplicateKey.class, (s, c) -> Effect().reply(c.replyTo(), notFound()))
        .onCommand(UpdatePrimaryRegion.class, (s, c) -> Effect().reply(c.replyTo(), notFound()))
        .onCommand(ReplicationCommand.class, (s, c) ->
            Effect().reply(c.replyTo(), new Refused("no key " + keyId + " in " + settings.region())))
        .onCommand(DeliveryOutcome.class, (s, c) -> Effect().noReply())
        .onCommand(RedeliverPending.class, (s, c) -> Effect().noReply());
    builder.forStateType(Key.class)
        .onCommand(CreateKey.class, (k, c) ->
            Effect().reply(c.replyTo(), new KeyFailed(KmsError.alreadyExists("Key " + keyId + " exists."))))
        .onCommand(GetKey.class, (k, c) -> Effect().reply(c.replyTo(), new KeyFound(k)))
        .onCommand(ReplicateKey.class, this::onReplicateKey)
        .onCommand(UpdatePrimaryRegion.class, this::onUpdatePrimaryRegion)
        .onCommand(CreateReplica.class, (k, c) -> Effect().reply(c.replyTo(), new Delivered()))
        .onCommand(SynchronizeSharedProperties.class, this::onSynchronizeSharedProperties)
        .onCommand(SynchronizeConfiguration.class, this::onSynchronizeConfiguration)
        .onCommand(Promote.class, this::onPromote)
        .onCommand(CompleteHandover.class, this::onCompleteHandover)
        .onCommand(DeliveryOutcome.class, this::onDeliveryOutcome)
        .onCommand(RedeliverPending.class, this::onRedeliverPending);
    return builder.build();
  }

  // ---- API commands

  private ReplyEffect<Event, State> onCreateKey(EmptyKey empty, CreateKey c) {
    return Effect().persist(new KeyCreated(c.initial()))
        .thenRun(this::afterPersist)
        .thenRun(s -> manager.tell(new KeyManager.Registered(keyId)))
        .thenReply(c.replyTo(), s -> new KeyFound((Key) s));
  }

  private ReplyEffect<Event, State> onReplicateKey(Key k, ReplicateKey c) {
    String arn = arn(k);
    if (!k.isPrimary()) {
      return Effect().reply(c.replyTo(), failed(KmsError.unsupported(arn + " is not a multi-region primary key.")));
    }
    KmsError stateError = requireEnabled(k);
    if (stateError != null) return Effect().reply(c.replyTo(), failed(stateError));
    String target = c.replicaRegion();
    if (target.equals(settings.region())) {
      return Effect().reply(c.replyTo(), failed(KmsError.validation(
          "ReplicaRegion " + target + " is the Region of the primary key " + arn + ".")));
    }
    if (!settings.regions().contains(target)) {
      return Effect().reply(c.replyTo(), failed(KmsError.unsupported(
          "The Region " + target + " is not a Region of this cluster " + settings.regions() + ".")));
    }
    if (k.multiRegion().hasMember(target)) {
      return Effect().reply(c.replyTo(), failed(KmsError.alreadyExists(
          "You can create only one replica of each primary key in each AWS Region.")));
    }
    MultiRegionConfiguration next = k.multiRegion().withReplica(target);
    Delivery create = new Delivery(k.nextDeliveryId(), target, Delivery.Kind.CREATE_REPLICA, c.replica());
    return Effect().persist(new ReplicaAdded(next, create))
        .thenRun(this::afterPersist)
        .thenReply(c.replyTo(), s -> new KeyFound(replicaOf((Key) s, target, c.replica())));
  }

  private ReplyEffect<Event, State> onUpdatePrimaryRegion(Key k, UpdatePrimaryRegion c) {
    String arn = arn(k);
    if (!k.isMultiRegion()) {
      return Effect().reply(c.replyTo(), failed(KmsError.unsupported(arn + " is not a multi-region key.")));
    }
    if (!k.isPrimary()) {
      return Effect().reply(c.replyTo(), failed(KmsError.unsupported(arn + " is not a multi-region primary key.")));
    }
    KmsError stateError = requireEnabled(k);
    if (stateError != null) return Effect().reply(c.replyTo(), failed(stateError));
    String target = c.primaryRegion();
    if (target.equals(settings.region())) {
      return Effect().reply(c.replyTo(), new KeyFound(k)); // already the primary: nothing to do
    }
    if (!k.multiRegion().replicaRegions().contains(target)) {
      return Effect().reply(c.replyTo(), failed(KmsError.notFound(
          "There is no replica of " + arn + " in " + target + ".")));
    }
    MultiRegionConfiguration next = k.multiRegion().handedOverTo(target);
    Delivery promote = new Delivery(k.nextDeliveryId(), target, Delivery.Kind.PROMOTE, null);
    return Effect().persist(new HandoverStarted(target, next, promote))
        .thenRun(this::afterPersist)
        .thenReply(c.replyTo(), s -> new KeyFound((Key) s));
  }

  // ---- replication commands, from other Regions

  private ReplyEffect<Event, State> onCreateReplica(EmptyKey empty, CreateReplica c) {
    return Effect().persist(new ReplicaCreated(c.replica()))
        .thenRun(this::afterPersist)
        .thenRun(s -> manager.tell(new KeyManager.Registered(keyId)))
        .thenReply(c.replyTo(), s -> new Delivered());
  }

  private ReplyEffect<Event, State> onSynchronizeSharedProperties(Key k, SynchronizeSharedProperties c) {
    boolean newerShared = c.shared().version() > k.shared().version();
    MultiRegionConfiguration config =
        c.configuration().isNewerThan(k.multiRegion()) ? c.configuration() : null;
    if (newerShared) {
      return Effect().persist(new SharedPropertiesSynchronized(c.shared(), config))
          .thenRun(this::afterPersist)
          .thenReply(c.replyTo(), s -> new Delivered());
    }
    if (config != null) {
      return Effect().persist(new ConfigurationSynchronized(config))
          .thenRun(this::afterPersist)
          .thenReply(c.replyTo(), s -> new Delivered());
    }
    return Effect().reply(c.replyTo(), new Delivered());
  }

  private ReplyEffect<Event, State> onSynchronizeConfiguration(Key k, SynchronizeConfiguration c) {
    if (!c.configuration().isNewerThan(k.multiRegion())) {
      return Effect().reply(c.replyTo(), new Delivered());
    }
    return Effect().persist(new ConfigurationSynchronized(c.configuration()))
        .thenRun(this::afterPersist)
        .thenReply(c.replyTo(), s -> new Delivered());
  }

  private ReplyEffect<Event, State> onPromote(Key k, Promote c) {
    MultiRegionConfiguration offered = c.configuration();
    if (k.isMultiRegion() && k.multiRegion().epoch() == offered.epoch()
        && offered.primaryRegion().equals(settings.region()) && k.isPrimary()) {
      return Effect().reply(c.replyTo(), new Delivered()); // a retry of the Promote we applied
    }
    // A Promote must raise the epoch: a newer member list at the same epoch names no new primary
    // (invariant 5: at most one primary per epoch).
    if (k.multiRegion() != null && offered.epoch() <= k.multiRegion().epoch()) {
      return Effect().reply(c.replyTo(), new Refused("stale epoch " + offered.epoch()
          + "; " + settings.region() + " knows epoch " + k.multiRegion().epoch()));
    }
    if (k.keyState() != KeyState.Enabled) {
      return Effect().reply(c.replyTo(), new Refused(arn(k) + " " + k.keyState().phrase()));
    }
    SharedProperties shared = c.shared().version() > k.shared().version() ? c.shared() : null;
    return Effect().persist(new PromotedToPrimary(offered, shared))
        .thenRun(this::afterPersist)
        .thenReply(c.replyTo(), s -> new Delivered());
  }

  private ReplyEffect<Event, State> onCompleteHandover(Key k, CompleteHandover c) {
    if (!k.isPrimary() || k.keyState() != KeyState.Updating
        || k.multiRegion().epoch() != c.configuration().epoch()) {
      return Effect().reply(c.replyTo(), new Delivered()); // a retry, or superseded by a newer epoch
    }
    List<Delivery> announcements = new ArrayList<>();
    long id = k.nextDeliveryId();
    for (String member : k.multiRegion().members()) {
      if (!member.equals(settings.region())) {
        announcements.add(new Delivery(id++, member, Delivery.Kind.SYNC_CONFIGURATION, null));
      }
    }
    return Effect().persist(new PrimaryConfirmed(announcements))
        .thenRun(this::afterPersist)
        .thenReply(c.replyTo(), s -> new Delivered());
  }

  // ---- delivery bookkeeping

  private ReplyEffect<Event, State> onDeliveryOutcome(Key k, DeliveryOutcome o) {
    inFlight.remove(o.deliveryId());
    Delivery d = k.delivery(o.deliveryId());
    if (d == null) return Effect().noReply();
    if (o.reply() instanceof Unreachable u) {
      ctx.getLog().debug("Delivery {} of {} to {} not acknowledged: {}", d.kind(), keyId, d.region(), u.reason());
      scheduleRetry();
      return Effect().noReply();
    }
    failedAttempts = 0;
    if (o.reply() instanceof Refused r) {
      ctx.getLog().warn("{} refused {} of {}: {}", d.region(), d.kind(), keyId, r.reason());
      if (d.kind() == Delivery.Kind.PROMOTE) {
        MultiRegionConfiguration back = k.multiRegion().handedOverTo(settings.region());
        return Effect().persist(new HandoverAborted(d.id(), r.reason(), back))
            .thenRun(this::afterPersist)
            .thenNoReply();
      }
      return Effect().persist(new DeliveryCompleted(d.id(), List.of()))
          .thenRun(this::afterPersist)
          .thenNoReply();
    }
    // Delivered: persist that, with what comes next.
    long id = k.nextDeliveryId();
    switch (d.kind()) {
      case CREATE_REPLICA: {
        List<Delivery> next = new ArrayList<>();
        next.add(new Delivery(id++, d.region(), Delivery.Kind.SYNC_SHARED_PROPERTIES, null));
        for (String member : k.multiRegion().replicaRegions()) {
          // Never this Region: after a handover this key is itself one of the replicas.
          if (!member.equals(d.region()) && !member.equals(settings.region())) {
            next.add(new Delivery(id++, member, Delivery.Kind.SYNC_CONFIGURATION, null));
          }
        }
        return Effect().persist(new DeliveryCompleted(d.id(), next))
            .thenRun(this::afterPersist)
            .thenNoReply();
      }
      case PROMOTE:
        return Effect().persist(new HandoverCompleted(d.id(),
                new Delivery(id, d.region(), Delivery.Kind.COMPLETE_HANDOVER, null)))
            .thenRun(this::afterPersist)
            .thenNoReply();
      default:
        return Effect().persist(new DeliveryCompleted(d.id(), List.of()))
            .thenRun(this::afterPersist)
            .thenNoReply();
    }
  }

  private ReplyEffect<Event, State> onRedeliverPending(Key k, RedeliverPending r) {
    sendPending(k);
    return Effect().noReply();
  }

  private void afterPersist(State state) {
    if (state instanceof Key key) {
      cache.publish(key);
      sendPending(key);
    }
  }

  private void sendPending(Key k) {
    // An old primary in the middle of a handover has only proposed its new configuration: the
    // target may still refuse the Promote. Messages are built from the current state, so every
    // other delivery waits until the handover completes or is aborted; otherwise it would announce
    // the proposal as fact (and a replica could take itself for the primary of an aborted epoch).
    boolean handingOver = k.keyState() == KeyState.Updating && !k.isPrimary();
    for (Delivery d : k.outbox()) {
      if (handingOver && d.kind() != Delivery.Kind.PROMOTE) continue;
      if (inFlight.add(d.id())) {
        ctx.ask(DeliveryReply.class, directory, settings.deliveryTimeout(),
            (ActorRef<DeliveryReply> replyTo) ->
                new RegionDirectory.DeliverToKey(d.region(), keyId, message(k, d, replyTo)),
            (reply, failure) -> new DeliveryOutcome(d.id(),
                reply != null ? reply : new Unreachable(String.valueOf(failure))));
      }
    }
  }

  private void scheduleRetry() {
    failedAttempts = Math.min(failedAttempts + 1, 20);
    long min = settings.minBackoff().toMillis();
    long delay = Math.min(settings.maxBackoff().toMillis(), min << Math.min(failedAttempts - 1, 16));
    if (!timers.isTimerActive("redeliver")) {
      timers.startSingleTimer("redeliver", RedeliverPending.INSTANCE, Duration.ofMillis(delay));
    }
  }

  /** The message for {@code d}, built from the current state so that a retry sends the newest. */
  private ReplicationCommand message(Key k, Delivery d, ActorRef<DeliveryReply> replyTo) {
    switch (d.kind()) {
      case CREATE_REPLICA:
        return new CreateReplica(replicaOf(k, d.region(), d.replica()), replyTo);
      case SYNC_SHARED_PROPERTIES:
        return new SynchronizeSharedProperties(k.shared(), k.multiRegion(), replyTo);
      case SYNC_CONFIGURATION:
        return new SynchronizeConfiguration(k.multiRegion(), replyTo);
      case PROMOTE:
        return new Promote(k.shared(), k.multiRegion(), replyTo);
      case COMPLETE_HANDOVER:
        return new CompleteHandover(k.multiRegion(), replyTo);
      default:
        throw new IllegalStateException("unknown delivery kind " + d.kind());
    }
  }

  // ---------------------------------------------------------------- event handler

  @Override
  public EventHandler<State, Event> eventHandler() {
    return newEventHandlerBuilder()
        .forAnyState()
        .onEvent(KeyCreated.class, (s, e) -> e.key())
        .onEvent(ReplicaCreated.class, (s, e) -> e.key())
        .onEvent(ReplicaAdded.class, (s, e) ->
            ((Key) s).withMultiRegion(e.configuration()).withDeliveries(List.of(e.createReplica())))
        .onEvent(DeliveryCompleted.class, (s, e) ->
            ((Key) s).withoutDelivery(e.deliveryId()).withDeliveries(e.followUps()))
        .onEvent(SharedPropertiesSynchronized.class, (s, e) -> {
          Key k = ((Key) s).withShared(e.shared());
          if (e.configuration() != null) k = k.withMultiRegion(e.configuration());
          if (k.keyState() == KeyState.Creating) {
            k = k.withKeyState(e.shared().currentMaterial() == null ? KeyState.PendingImport : KeyState.Enabled);
          }
          return k;
        })
        .onEvent(ConfigurationSynchronized.class, (s, e) -> ((Key) s).withMultiRegion(e.configuration()))
        .onEvent(HandoverStarted.class, (s, e) -> ((Key) s)
            .withKeyState(KeyState.Updating)
            .withMultiRegion(e.configuration())
            .withDeliveries(List.of(e.promote())))
        .onEvent(PromotedToPrimary.class, (s, e) -> {
          Key k = ((Key) s).withKeyState(KeyState.Updating).withMultiRegion(e.configuration());
          return e.shared() == null ? k : k.withShared(e.shared());
        })
        .onEvent(HandoverCompleted.class, (s, e) -> ((Key) s)
            .withoutDelivery(e.promoteDeliveryId())
            .withKeyState(KeyState.Enabled)
            .withDeliveries(List.of(e.completeHandover())))
        .onEvent(HandoverAborted.class, (s, e) -> ((Key) s)
            .withoutDelivery(e.promoteDeliveryId())
            .withKeyState(KeyState.Enabled)
            .withMultiRegion(e.configuration()))
        .onEvent(PrimaryConfirmed.class, (s, e) -> ((Key) s)
            .withKeyState(KeyState.Enabled)
            .withDeliveries(e.announcements()))
        .build();
  }

  // ---------------------------------------------------------------- helpers

  /** The replica of {@code primary} in {@code region} as it starts: {@code Creating}, no material. */
  static Key replicaOf(Key primary, String region, Delivery.ReplicaProperties props) {
    return new Key(primary.keyId(), region, props.creationDate(), props.description(), props.policy(),
        props.tags(), KeyState.Creating, primary.shared().withoutMaterial(), primary.multiRegion(),
        List.of(), 0);
  }

  /** The key-state rule of ReplicateKey and UpdatePrimaryRegion (kms-api.md §6): Enabled only. */
  private KmsError requireEnabled(Key k) {
    switch (k.keyState()) {
      case Enabled:
        return null;
      case Disabled:
        return KmsError.disabled(arn(k));
      default:
        return KmsError.invalidState(arn(k) + " " + k.keyState().phrase());
    }
  }

  private String arn(Key k) {
    return settings.keyArn(k.region(), k.keyId());
  }

  private KeyFailed notFound() {
    return new KeyFailed(KmsError.keyNotFound(settings.keyArn(settings.region(), keyId)));
  }

  private static KeyFailed failed(KmsError e) {
    return new KeyFailed(e);
  }
}
