package io.kmsregions.alias;

import io.kmsregions.CborSerializable;
import io.kmsregions.KmsSettings;
import io.kmsregions.key.KeyManager;
import io.kmsregions.key.KmsError;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.eventstream.EventStream;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.RecoveryCompleted;
import org.apache.pekko.persistence.typed.javadsl.CommandHandlerWithReply;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehaviorWithEnforcedReplies;
import org.apache.pekko.persistence.typed.javadsl.ReplyEffect;
import org.apache.pekko.persistence.typed.javadsl.RetentionCriteria;
import org.apache.pekko.persistence.typed.javadsl.SignalHandler;

/**
 * The aliases of one Region (kms-api.md §2 "Aliases"): one event-sourced actor per node, on this
 * node's LevelDB journal, persistence id {@code Aliases}.
 *
 * <p>Aliases belong to a Region, never to a key set: they are not replicated, so a multi-Region
 * key can have an alias {@code alias/x} in one Region, another target for {@code alias/x} in a
 * second, and none in a third (kms-api.md §5, "independent" properties).
 *
 * <p>This actor owns the name space: it alone decides whether a name is taken and whether a key
 * has reached its quota of {@value #ALIASES_PER_KEY} aliases (kms-api.md §8), so two concurrent
 * CreateAlias calls for one name cannot both succeed. It knows nothing of keys: the API checks the
 * target key's existence, state and type before it sends a command (a key's state may change
 * between that check and the write; AWS is no stricter). After each persisted change, and before
 * it replies, it publishes the change to the {@link AliasCache}, from which the API resolves alias
 * names synchronously; a client that saw a change acknowledged therefore resolves with it.
 *
 * <p>The state is immutable and copied on write, O(aliases of the Region) per change; recovery
 * replays at most {@code kms.snapshot-every} events after the newest snapshot.
 */
public final class AliasManager
    extends EventSourcedBehaviorWithEnforcedReplies<AliasManager.Command, AliasManager.Event, AliasManager.State> {

  /** AWS's quota of aliases per KMS key (kms-api.md §8); AWS-managed aliases do not count. */
  public static final int ALIASES_PER_KEY = 50;

  // ---------------------------------------------------------------- protocol

  /** Everything the alias manager accepts. */
  public sealed interface Command extends CborSerializable {}

  /**
   * Creates {@code aliasName} for {@code targetKeyId} (a bare key id the API has checked).
   *
   * @param now the creation date on the cluster clock, epoch milliseconds
   */
  public record CreateAlias(String aliasName, String targetKeyId, long now, ActorRef<Reply> replyTo)
      implements Command {}

  /**
   * Points {@code aliasName} at {@code targetKeyId}, if it still points at
   * {@code expectedTargetKeyId}: the API compared the key types of both targets (UpdateAlias's
   * same-type rule) and the alias must not have moved meanwhile; if it has, the answer is
   * {@link Moved} and the API checks again.
   */
  public record UpdateAlias(
      String aliasName, String targetKeyId, String expectedTargetKeyId, long now, ActorRef<Reply> replyTo)
      implements Command {}

  public record DeleteAlias(String aliasName, ActorRef<Reply> replyTo) implements Command {}

  /**
   * The key {@code keyId} of this Region no longer exists: deletes every alias that points at it.
   * The manager makes this command itself from each {@link KeyManager.KeyDeleted} published on the
   * node's event stream; it may also be sent directly. Idempotent, so it may come more than once
   * (for instance again whenever a deleted key recovers). {@code replyTo} may be null (fire and
   * forget); when given it receives {@link Done} once the removal is persisted (or there was
   * nothing to remove).
   */
  public record KeyDeleted(String keyId, ActorRef<Reply> replyTo) implements Command {
    public KeyDeleted(String keyId) {
      this(keyId, null);
    }
  }

  /** The answer to a command. */
  public sealed interface Reply extends CborSerializable {}

  public record Done() implements Reply {}

  public record Failed(KmsError error) implements Reply {}

  /** UpdateAlias found the alias pointing at {@code currentTargetKeyId}, not at the expected key. */
  public record Moved(String currentTargetKeyId) implements Reply {}

  // ---------------------------------------------------------------- events

  public sealed interface Event extends CborSerializable {}

  public record AliasCreated(Alias alias) implements Event {}

  public record AliasUpdated(String aliasName, String targetKeyId, long lastUpdatedDate) implements Event {}

  public record AliasDeleted(String aliasName) implements Event {}

  /** Every alias of {@code keyId} was deleted with its key. */
  public record KeyAliasesDeleted(String keyId) implements Event {}

  // ---------------------------------------------------------------- state

  /**
   * One alias of this Region.
   *
   * @param aliasName {@code alias/...}
   * @param targetKeyId a bare key id of this Region
   * @param creationDate epoch milliseconds on the cluster clock
   * @param lastUpdatedDate epoch milliseconds on the cluster clock; the creation date until the
   *     first UpdateAlias
   */
  public record Alias(String aliasName, String targetKeyId, long creationDate, long lastUpdatedDate)
      implements CborSerializable {}

  /** Every alias of the Region by name. Immutable: the event handler returns a new one. */
  public record State(SortedMap<String, Alias> aliases) implements CborSerializable {
    public State {
      aliases = Collections.unmodifiableSortedMap(new TreeMap<>(aliases == null ? Map.of() : aliases));
    }

    int countOf(String keyId) {
      int n = 0;
      for (Alias a : aliases.values()) if (a.targetKeyId().equals(keyId)) n++;
      return n;
    }

    List<String> namesOf(String keyId) {
      List<String> names = new ArrayList<>();
      for (Alias a : aliases.values()) if (a.targetKeyId().equals(keyId)) names.add(a.aliasName());
      return names;
    }

    State with(Alias a) {
      TreeMap<String, Alias> next = new TreeMap<>(aliases);
      next.put(a.aliasName(), a);
      return new State(next);
    }

    State without(String aliasName) {
      TreeMap<String, Alias> next = new TreeMap<>(aliases);
      next.remove(aliasName);
      return new State(next);
    }

    State withoutKey(String keyId) {
      TreeMap<String, Alias> next = new TreeMap<>(aliases);
      next.values().removeIf(a -> a.targetKeyId().equals(keyId));
      return new State(next);
    }
  }

  // ---------------------------------------------------------------- behavior

  public static final PersistenceId PERSISTENCE_ID = PersistenceId.ofUniqueId("Aliases");

  /**
   * The alias manager of this node's Region. It subscribes to {@link KeyManager.KeyDeleted} on the
   * node's event stream, which a key publishes once its deletion is persisted, and handles it as
   * {@link KeyDeleted}.
   */
  public static Behavior<Command> create(KmsSettings settings, AliasCache cache) {
    return create(settings, cache, ALIASES_PER_KEY);
  }

  /** With another quota per key (tests). */
  static Behavior<Command> create(KmsSettings settings, AliasCache cache, int aliasesPerKey) {
    return Behaviors.setup(ctx -> {
      subscribeToKeyDeletions(ctx);
      return new AliasManager(settings, cache, aliasesPerKey);
    });
  }

  private static void subscribeToKeyDeletions(ActorContext<Command> ctx) {
    ActorRef<KeyManager.KeyDeleted> adapter =
        ctx.messageAdapter(KeyManager.KeyDeleted.class, e -> new KeyDeleted(e.keyId()));
    ctx.getSystem().eventStream().tell(new EventStream.Subscribe<>(KeyManager.KeyDeleted.class, adapter));
  }

  private final KmsSettings settings;
  private final AliasCache cache;
  private final int aliasesPerKey;

  private AliasManager(KmsSettings settings, AliasCache cache, int aliasesPerKey) {
    super(PERSISTENCE_ID,
        SupervisorStrategy.restartWithBackoff(Duration.ofMillis(200), Duration.ofSeconds(5), 0.1));
    this.settings = settings;
    this.cache = cache;
    this.aliasesPerKey = aliasesPerKey;
  }

  @Override
  public State emptyState() {
    return new State(null);
  }

  @Override
  public RetentionCriteria retentionCriteria() {
    return RetentionCriteria.snapshotEvery(settings.snapshotEvery(), 2);
  }

  @Override
  public SignalHandler<State> signalHandler() {
    return newSignalHandlerBuilder()
        .onSignal(RecoveryCompleted.class, (state, signal) -> cache.load(state.aliases().values()))
        .build();
  }

  @Override
  public CommandHandlerWithReply<Command, Event, State> commandHandler() {
    return newCommandHandlerWithReplyBuilder()
        .forAnyState()
        .onCommand(CreateAlias.class, this::onCreateAlias)
        .onCommand(UpdateAlias.class, this::onUpdateAlias)
        .onCommand(DeleteAlias.class, this::onDeleteAlias)
        .onCommand(KeyDeleted.class, this::onKeyDeleted)
        .build();
  }

  private ReplyEffect<Event, State> onCreateAlias(State s, CreateAlias c) {
    if (s.aliases().containsKey(c.aliasName())) {
      return Effect().reply(c.replyTo(), new Failed(KmsError.alreadyExists(
          "An alias with the name " + aliasArn(c.aliasName()) + " already exists")));
    }
    if (s.countOf(c.targetKeyId()) >= aliasesPerKey) {
      return Effect().reply(c.replyTo(), new Failed(limitExceeded(c.targetKeyId())));
    }
    Alias alias = new Alias(c.aliasName(), c.targetKeyId(), c.now(), c.now());
    return Effect().persist(new AliasCreated(alias))
        .thenRun(state -> cache.put(alias))
        .thenReply(c.replyTo(), state -> new Done());
  }

  private ReplyEffect<Event, State> onUpdateAlias(State s, UpdateAlias c) {
    Alias current = s.aliases().get(c.aliasName());
    if (current == null) {
      return Effect().reply(c.replyTo(), new Failed(aliasNotFound(c.aliasName())));
    }
    if (!current.targetKeyId().equals(c.expectedTargetKeyId())) {
      return Effect().reply(c.replyTo(), new Moved(current.targetKeyId()));
    }
    if (!current.targetKeyId().equals(c.targetKeyId()) && s.countOf(c.targetKeyId()) >= aliasesPerKey) {
      return Effect().reply(c.replyTo(), new Failed(limitExceeded(c.targetKeyId())));
    }
    Alias updated = new Alias(c.aliasName(), c.targetKeyId(), current.creationDate(), c.now());
    return Effect().persist(new AliasUpdated(c.aliasName(), c.targetKeyId(), c.now()))
        .thenRun(state -> cache.put(updated))
        .thenReply(c.replyTo(), state -> new Done());
  }

  private ReplyEffect<Event, State> onDeleteAlias(State s, DeleteAlias c) {
    if (!s.aliases().containsKey(c.aliasName())) {
      return Effect().reply(c.replyTo(), new Failed(aliasNotFound(c.aliasName())));
    }
    return Effect().persist(new AliasDeleted(c.aliasName()))
        .thenRun(state -> cache.remove(c.aliasName()))
        .thenReply(c.replyTo(), state -> new Done());
  }

  private ReplyEffect<Event, State> onKeyDeleted(State s, KeyDeleted c) {
    List<String> names = s.namesOf(c.keyId());
    if (names.isEmpty()) {
      return c.replyTo() == null ? Effect().noReply() : Effect().reply(c.replyTo(), new Done());
    }
    var effect = Effect().persist(new KeyAliasesDeleted(c.keyId()))
        .thenRun(state -> names.forEach(cache::remove));
    return c.replyTo() == null ? effect.thenNoReply() : effect.thenReply(c.replyTo(), state -> new Done());
  }

  // ---------------------------------------------------------------- event handler

  @Override
  public EventHandler<State, Event> eventHandler() {
    return newEventHandlerBuilder()
        .forAnyState()
        .onEvent(AliasCreated.class, (s, e) -> s.with(e.alias()))
        .onEvent(AliasUpdated.class, (s, e) -> {
          Alias current = s.aliases().get(e.aliasName());
          return s.with(new Alias(e.aliasName(), e.targetKeyId(), current.creationDate(), e.lastUpdatedDate()));
        })
        .onEvent(AliasDeleted.class, (s, e) -> s.without(e.aliasName()))
        .onEvent(KeyAliasesDeleted.class, (s, e) -> s.withoutKey(e.keyId()))
        .build();
  }

  // ---------------------------------------------------------------- helpers

  private String aliasArn(String aliasName) {
    return AliasCache.aliasArn(settings, aliasName);
  }

  private KmsError aliasNotFound(String aliasName) {
    return KmsError.notFound("Alias " + aliasArn(aliasName) + " is not found.");
  }

  /** The message is ours: AWS's wording for this quota is not recorded (kms-api.md §8). */
  private KmsError limitExceeded(String keyId) {
    return new KmsError("LimitExceededException", "The KMS key " + settings.keyArn(settings.region(), keyId)
        + " already has " + aliasesPerKey + " aliases, the most a key can have.");
  }
}
