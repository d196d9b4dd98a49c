package io.kmsregions.grant;

import io.kmsregions.CborSerializable;
import io.kmsregions.KmsSettings;
import io.kmsregions.key.KeyManager;
import io.kmsregions.key.KmsError;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SortedMap;
import java.util.TreeMap;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.eventstream.EventStream;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.javadsl.CommandHandlerWithReply;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehaviorWithEnforcedReplies;
import org.apache.pekko.persistence.typed.javadsl.ReplyEffect;
import org.apache.pekko.persistence.typed.javadsl.RetentionCriteria;

/**
 * The grants of one Region (kms-api.md §2 "Grants"): one event-sourced actor per node, on this
 * node's LevelDB journal, persistence id {@code Grants}.
 *
 * <p>Grants belong to a Region's key, never to a key set: they are not replicated (kms-api.md §5,
 * "independent" properties). The API's authorisation (io.kmsregions.api.KeyAuthorization) reads
 * them through {@link ListGrants} to let a grantee use its key when the key policy does not.
 *
 * <p>This actor decides what only it can decide atomically: whether a named CreateGrant is a retry
 * of an existing grant (same key, name and parameters: the same GrantId again), and the quota of
 * {@value #GRANTS_PER_KEY} grants per key (kms-api.md §8). The API validates the request and the
 * key (existence, state, type) before it sends a command. Grants are numbered in creation order;
 * listings follow that order and their markers are those numbers.
 *
 * <p>The state is immutable and copied on write, O(grants of the Region) per change; recovery
 * replays at most {@code kms.snapshot-every} events after the newest snapshot.
 */
public final class GrantStore
    extends EventSourcedBehaviorWithEnforcedReplies<GrantStore.Command, GrantStore.Event, GrantStore.State> {

  /** AWS's quota of grants per KMS key (kms-api.md §8). */
  public static final int GRANTS_PER_KEY = 50_000;

  // ---------------------------------------------------------------- protocol

  public sealed interface Command extends CborSerializable {}

  /**
   * Creates {@code proposed} (its {@code seq} is ignored), or, when it has a name and a grant of
   * the same key with that name and the same parameters exists, answers that grant instead.
   */
  public record CreateGrant(Grant proposed, ActorRef<Reply> replyTo) implements Command {}

  /**
   * Retires (RetireGrant) or revokes (RevokeGrant) grant {@code grantId}; when {@code keyId} is
   * not null the grant must belong to that key. Answers {@link GrantReply} with the removed grant.
   */
  public record DeleteGrant(String keyId, String grantId, boolean revoke, ActorRef<Reply> replyTo)
      implements Command {}

  /** The grant {@code grantId}: {@link GrantReply} with the grant or with null. */
  public record GetGrant(String grantId, ActorRef<Reply> replyTo) implements Command {}

  /** Up to {@code limit} grants that match {@code filter}, numbered after {@code afterSeq}. */
  public record ListGrants(Filter filter, long afterSeq, int limit, ActorRef<Reply> replyTo)
      implements Command {}

  /**
   * The key {@code keyId} of this Region no longer exists: deletes its grants. The store makes
   * this command itself from each {@link KeyManager.KeyDeleted} published on the node's event
   * stream; it may also be sent directly. Idempotent, so it may come more than once (for instance
   * again whenever a deleted key recovers). {@code replyTo} may be null; when given it receives
   * {@link Deleted}.
   */
  public record KeyDeleted(String keyId, ActorRef<Reply> replyTo) implements Command {
    public KeyDeleted(String keyId) {
      this(keyId, null);
    }
  }

  /** Which grants a listing wants; a null field matches everything. */
  public record Filter(
      String keyId,
      String grantId,
      String granteePrincipal,
      String granteeServicePrincipal,
      String retiringPrincipal,
      String retiringServicePrincipal)
      implements CborSerializable {

    boolean matches(Grant g) {
      return (keyId == null || keyId.equals(g.keyId()))
          && (grantId == null || grantId.equals(g.grantId()))
          && (granteePrincipal == null || granteePrincipal.equals(g.granteePrincipal()))
          && (granteeServicePrincipal == null || granteeServicePrincipal.equals(g.granteeServicePrincipal()))
          && (retiringPrincipal == null || retiringPrincipal.equals(g.retiringPrincipal()))
          && (retiringServicePrincipal == null || retiringServicePrincipal.equals(g.retiringServicePrincipal()));
    }
  }

  public sealed interface Reply extends CborSerializable {}

  /** CreateGrant's answer; {@code existing} when a named retry matched a grant already there. */
  public record Created(Grant grant, boolean existing) implements Reply {}

  /** A grant, or null when there is none. */
  public record GrantReply(Grant grant) implements Reply {}

  /** A page of a listing; {@code truncated} when more matching grants follow the last one. */
  public record Page(List<Grant> grants, boolean truncated) implements Reply {
    public Page {
      grants = List.copyOf(grants);
    }
  }

  /** KeyDeleted's answer: how many grants went with the key. */
  public record Deleted(int count) implements Reply {}

  public record Failed(KmsError error) implements Reply {}

  // ---------------------------------------------------------------- events

  public sealed interface Event extends CborSerializable {}

  public record GrantCreated(Grant grant) implements Event {}

  public record GrantRetired(String grantId) implements Event {}

  public record GrantRevoked(String grantId) implements Event {}

  public record KeyGrantsDeleted(String keyId) implements Event {}

  // ---------------------------------------------------------------- state

  /**
   * A grant as CreateGrant made it (GrantListEntry, kms-api.md §2).
   *
   * @param seq the grant's number in this Region, in creation order (listings and markers)
   * @param keyId the bare key id; listings show the key ARN
   * @param name null when the grant has none
   * @param creationDate epoch milliseconds on the cluster clock
   * @param operations GrantOperation names, without duplicates, in the order given
   * @param constraints null when the grant has none
   */
  public record Grant(
      String grantId,
      long seq,
      String keyId,
      String name,
      long creationDate,
      String granteePrincipal,
      String granteeServicePrincipal,
      String retiringPrincipal,
      String retiringServicePrincipal,
      String issuingAccount,
      List<String> operations,
      Constraints constraints)
      implements CborSerializable {

    public Grant {
      operations = operations == null ? List.of() : List.copyOf(operations);
    }

    Grant numbered(long n) {
      return new Grant(grantId, n, keyId, name, creationDate, granteePrincipal, granteeServicePrincipal,
          retiringPrincipal, retiringServicePrincipal, issuingAccount, operations, constraints);
    }

    /** Whether a named CreateGrant with {@code other}'s parameters is a retry of this grant. */
    public boolean sameRequest(Grant other) {
      return keyId.equals(other.keyId())
          && Objects.equals(name, other.name())
          && Objects.equals(granteePrincipal, other.granteePrincipal())
          && Objects.equals(granteeServicePrincipal, other.granteeServicePrincipal())
          && Objects.equals(retiringPrincipal, other.retiringPrincipal())
          && Objects.equals(retiringServicePrincipal, other.retiringServicePrincipal())
          && new HashSet<>(operations).equals(new HashSet<>(other.operations()))
          && Objects.equals(constraints, other.constraints());
    }
  }

  /**
   * Grant constraints (GrantConstraints). The maps are null when absent.
   *
   * @param sourceArn stored and shown, not interpreted
   */
  public record Constraints(
      Map<String, String> encryptionContextSubset,
      Map<String, String> encryptionContextEquals,
      String sourceArn)
      implements CborSerializable {

    public Constraints {
      encryptionContextSubset = encryptionContextSubset == null ? null : Map.copyOf(encryptionContextSubset);
      encryptionContextEquals = encryptionContextEquals == null ? null : Map.copyOf(encryptionContextEquals);
    }
  }

  /** Every grant of the Region by number, and the next number. Immutable. */
  public record State(SortedMap<Long, Grant> grants, long nextSeq) implements CborSerializable {
    public State {
      grants = Collections.unmodifiableSortedMap(new TreeMap<>(grants == null ? Map.of() : grants));
    }

    Grant byId(String grantId) {
      for (Grant g : grants.values()) if (g.grantId().equals(grantId)) return g;
      return null;
    }

    int countOf(String keyId) {
      int n = 0;
      for (Grant g : grants.values()) if (g.keyId().equals(keyId)) n++;
      return n;
    }

    State with(Grant g) {
      TreeMap<Long, Grant> next = new TreeMap<>(grants);
      next.put(g.seq(), g);
      return new State(next, Math.max(nextSeq, g.seq() + 1));
    }

    State without(String grantId) {
      TreeMap<Long, Grant> next = new TreeMap<>(grants);
      next.values().removeIf(g -> g.grantId().equals(grantId));
      return new State(next, nextSeq);
    }

    State withoutKey(String keyId) {
      TreeMap<Long, Grant> next = new TreeMap<>(grants);
      next.values().removeIf(g -> g.keyId().equals(keyId));
      return new State(next, nextSeq);
    }
  }

  // ---------------------------------------------------------------- behavior

  public static final PersistenceId PERSISTENCE_ID = PersistenceId.ofUniqueId("Grants");

  /**
   * The store of this node's Region. Its quota per key is {@value #GRANTS_PER_KEY}, or
   * {@code kms.quotas.grants-per-key} when configured (so that a test or a study can reach it). It
   * subscribes to {@link KeyManager.KeyDeleted} on the node's event stream, which a key publishes
   * once its deletion is persisted, and handles it as {@link KeyDeleted}.
   */
  public static Behavior<Command> create(KmsSettings settings) {
    return Behaviors.setup(ctx -> {
      var config = ctx.getSystem().settings().config();
      String path = "kms.quotas.grants-per-key";
      subscribeToKeyDeletions(ctx);
      return new GrantStore(settings, config.hasPath(path) ? config.getInt(path) : GRANTS_PER_KEY);
    });
  }

  /** With another quota per key (tests: 50,000 grants take long to create). */
  static Behavior<Command> create(KmsSettings settings, int grantsPerKey) {
    return Behaviors.setup(ctx -> {
      subscribeToKeyDeletions(ctx);
      return new GrantStore(settings, grantsPerKey);
    });
  }

  private static void subscribeToKeyDeletions(ActorContext<Command> ctx) {
    ActorRef<KeyManager.KeyDeleted> adapter =
        ctx.messageAdapter(KeyManager.KeyDeleted.class, e -> new KeyDeleted(e.keyId()));
    ctx.getSystem().eventStream().tell(new EventStream.Subscribe<>(KeyManager.KeyDeleted.class, adapter));
  }

  private final KmsSettings settings;
  private final int grantsPerKey;

  private GrantStore(KmsSettings settings, int grantsPerKey) {
    super(PERSISTENCE_ID,
        SupervisorStrategy.restartWithBackoff(Duration.ofMillis(200), Duration.ofSeconds(5), 0.1));
    this.settings = settings;
    this.grantsPerKey = grantsPerKey;
  }

  @Override
  public State emptyState() {
    return new State(null, 1);
  }

  @Override
  public RetentionCriteria retentionCriteria() {
    return RetentionCriteria.snapshotEvery(settings.snapshotEvery(), 2);
  }

  @Override
  public CommandHandlerWithReply<Command, Event, State> commandHandler() {
    return newCommandHandlerWithReplyBuilder()
        .forAnyState()
        .onCommand(CreateGrant.class, this::onCreateGrant)
        .onCommand(DeleteGrant.class, this::onDeleteGrant)
        .onCommand(GetGrant.class, (s, c) -> Effect().reply(c.replyTo(), new GrantReply(s.byId(c.grantId()))))
        .onCommand(ListGrants.class, this::onListGrants)
        .onCommand(KeyDeleted.class, this::onKeyDeleted)
        .build();
  }

  private ReplyEffect<Event, State> onCreateGrant(State s, CreateGrant c) {
    Grant proposed = c.proposed();
    if (proposed.name() != null) {
      for (Grant g : s.grants().values()) {
        if (g.sameRequest(proposed)) return Effect().reply(c.replyTo(), new Created(g, true));
      }
    }
    if (s.countOf(proposed.keyId()) >= grantsPerKey) {
      return Effect().reply(c.replyTo(), new Failed(new KmsError("LimitExceededException",
          "The KMS key " + settings.keyArn(settings.region(), proposed.keyId()) + " already has "
              + grantsPerKey + " grants, the most a key can have.")));
    }
    Grant grant = proposed.numbered(s.nextSeq());
    return Effect().persist(new GrantCreated(grant))
        .thenReply(c.replyTo(), state -> new Created(grant, false));
  }

  private ReplyEffect<Event, State> onDeleteGrant(State s, DeleteGrant c) {
    Grant g = s.byId(c.grantId());
    if (g == null || (c.keyId() != null && !g.keyId().equals(c.keyId()))) {
      return Effect().reply(c.replyTo(), new Failed(grantNotFound(c.grantId())));
    }
    Event e = c.revoke() ? new GrantRevoked(g.grantId()) : new GrantRetired(g.grantId());
    return Effect().persist(e).thenReply(c.replyTo(), state -> new GrantReply(g));
  }

  private ReplyEffect<Event, State> onListGrants(State s, ListGrants c) {
    List<Grant> page = new ArrayList<>();
    boolean truncated = false;
    for (Grant g : s.grants().tailMap(c.afterSeq() + 1).values()) {
      if (!c.filter().matches(g)) continue;
      if (page.size() == c.limit()) {
        truncated = true;
        break;
      }
      page.add(g);
    }
    return Effect().reply(c.replyTo(), new Page(page, truncated));
  }

  private ReplyEffect<Event, State> onKeyDeleted(State s, KeyDeleted c) {
    int count = s.countOf(c.keyId());
    if (count == 0) {
      return c.replyTo() == null ? Effect().noReply() : Effect().reply(c.replyTo(), new Deleted(0));
    }
    var effect = Effect().persist(new KeyGrantsDeleted(c.keyId()));
    return c.replyTo() == null ? effect.thenNoReply() : effect.thenReply(c.replyTo(), state -> new Deleted(count));
  }

  // ---------------------------------------------------------------- event handler

  @Override
  public EventHandler<State, Event> eventHandler() {
    return newEventHandlerBuilder()
        .forAnyState()
        .onEvent(GrantCreated.class, (s, e) -> s.with(e.grant()))
        .onEvent(GrantRetired.class, (s, e) -> s.without(e.grantId()))
        .onEvent(GrantRevoked.class, (s, e) -> s.without(e.grantId()))
        .onEvent(KeyGrantsDeleted.class, (s, e) -> s.withoutKey(e.keyId()))
        .build();
  }

  /** Our wording: AWS's message for an unknown grant id is not recorded. */
  private static KmsError grantNotFound(String grantId) {
    return KmsError.notFound("Grant ID " + grantId + " not found");
  }
}
