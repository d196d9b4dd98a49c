package io.kmsregions.keystore;

import io.kmsregions.CborSerializable;
import io.kmsregions.KmsSettings;
import io.kmsregions.key.KeyManager;
import io.kmsregions.key.KmsError;
import io.kmsregions.keystore.CustomKeyStore.CloudHsmSettings;
import io.kmsregions.keystore.CustomKeyStore.ConnectionErrorCode;
import io.kmsregions.keystore.CustomKeyStore.ConnectionState;
import io.kmsregions.keystore.CustomKeyStore.Type;
import io.kmsregions.keystore.CustomKeyStore.XksProxySettings;
import io.kmsregions.keystore.cloudhsm.SimulatedCloudHsm;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
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
import org.apache.pekko.persistence.typed.javadsl.SignalHandler;

/**
 * The custom key stores of one Region (kms-api.md §2 "Custom key stores"): one event-sourced actor
 * per node, persistence id {@code CustomKeyStores}, on this node's LevelDB journal. Custom key
 * stores belong to a Region and are never replicated (multi-Region keys cannot live in them).
 *
 * <p>This actor decides what must be decided atomically: unique names, one store per CloudHSM
 * cluster and per proxy URI, the quota of stores, the connection state machine, and which KMS keys
 * live in each store. The API validates request fields first (io.kmsregions.api.CustomKeyStoreOperations).
 *
 * <p>Connection states (API reference, ConnectCustomKeyStore and DisconnectCustomKeyStore):
 * DISCONNECTED → CONNECTING (ConnectCustomKeyStore; a connection attempt runs for
 * {@code kms.custom-key-stores.connect-delay} at least) → CONNECTED, or FAILED with a
 * ConnectionErrorCode; any state → DISCONNECTED (DisconnectCustomKeyStore). Connecting a FAILED or
 * DISCONNECTING store is CustomKeyStoreInvalidStateException: disconnect it first, as in AWS. A
 * store left CONNECTING by a crash tries again on recovery.
 *
 * <p>While a store is CONNECTED, the proxy of an external key store is asked for its health every
 * {@code kms.custom-key-stores.xks-health-interval}; the answer is kept in the
 * {@link CustomKeyStoreCache}, not the journal, and makes the store's keys Unavailable while the
 * proxy does not answer (issue 8: "stop the proxy, and watch keys become Unavailable").
 */
public final class CustomKeyStores extends EventSourcedBehaviorWithEnforcedReplies<
    CustomKeyStores.Command, CustomKeyStores.Event, CustomKeyStores.State> {

  static final PersistenceId PERSISTENCE_ID = PersistenceId.ofUniqueId("CustomKeyStores");

  /**
   * Checks an external key store proxy: completes with empty when its GetHealthStatus answered, or
   * with the ConnectionErrorCode that says why not. Never completes exceptionally.
   */
  @FunctionalInterface
  public interface ProxyHealthCheck {
    CompletionStage<Optional<ConnectionErrorCode>> check(XksProxySettings proxy);
  }

  // ---------------------------------------------------------------- protocol

  public sealed interface Command extends CborSerializable {}

  /** Creates {@code proposed} (DISCONNECTED, no keys): {@link Done} or {@link Failed}. */
  public record CreateStore(CustomKeyStore proposed, ActorRef<Reply> replyTo) implements Command {}

  /**
   * Renames a store and/or replaces its settings (null: unchanged). Settings may change only while
   * the store is DISCONNECTED; a new name at any time.
   */
  public record UpdateStore(String customKeyStoreId, String newName, CloudHsmSettings cloudHsm,
      XksProxySettings xks, ActorRef<Reply> replyTo) implements Command {}

  public record ConnectStore(String customKeyStoreId, ActorRef<Reply> replyTo) implements Command {}

  public record DisconnectStore(String customKeyStoreId, ActorRef<Reply> replyTo) implements Command {}

  /** Deletes a DISCONNECTED store without keys. */
  public record DeleteStore(String customKeyStoreId, ActorRef<Reply> replyTo) implements Command {}

  /** Every store, in creation order: {@link Stores}. */
  public record GetStores(ActorRef<Reply> replyTo) implements Command {}

  /**
   * Records that CreateKey is creating KMS key {@code keyId} in a CONNECTED store, using external
   * key {@code xksKeyId} (null for CloudHSM), which no other key of the store may use.
   */
  public record AddKey(String customKeyStoreId, String keyId, String xksKeyId, ActorRef<Reply> replyTo)
      implements Command {}

  /**
   * Key {@code keyId} no longer exists (or its creation failed): it leaves its store. Made from
   * each {@link KeyManager.KeyDeleted} of the node's event stream. {@code replyTo} may be null.
   */
  public record RemoveKey(String keyId, ActorRef<Reply> replyTo) implements Command {}

  private record ConnectionChecked(String customKeyStoreId, long attempt, Optional<ConnectionErrorCode> error)
      implements Command {}

  private record CheckProxies() implements Command {}

  private record ProxyChecked(String customKeyStoreId, boolean reachable) implements Command {}

  public sealed interface Reply extends CborSerializable {}

  /** The store as the command left it. */
  public record Done(CustomKeyStore store) implements Reply {}

  public record Stores(List<CustomKeyStore> stores) implements Reply {
    public Stores {
      stores = List.copyOf(stores);
    }
  }

  public record Failed(KmsError error) implements Reply {}

  // ---------------------------------------------------------------- events

  public sealed interface Event extends CborSerializable {}

  public record StoreCreated(CustomKeyStore store) implements Event {}

  public record StoreUpdated(String customKeyStoreId, String name, CloudHsmSettings cloudHsm, XksProxySettings xks)
      implements Event {}

  public record ConnectionStarted(String customKeyStoreId) implements Event {}

  public record StoreConnected(String customKeyStoreId) implements Event {}

  public record ConnectionFailed(String customKeyStoreId, ConnectionErrorCode error) implements Event {}

  public record StoreDisconnected(String customKeyStoreId) implements Event {}

  public record StoreDeleted(String customKeyStoreId) implements Event {}

  public record KeyAdded(String customKeyStoreId, String keyId, String xksKeyId) implements Event {}

  public record KeyRemoved(String customKeyStoreId, String keyId) implements Event {}

  // ---------------------------------------------------------------- state

  /** The stores in creation order. */
  public record State(List<CustomKeyStore> stores) implements CborSerializable {
    public State {
      stores = stores == null ? List.of() : List.copyOf(stores);
    }

    Map<String, CustomKeyStore> byId() {
      Map<String, CustomKeyStore> m = new LinkedHashMap<>();
      for (CustomKeyStore s : stores) m.put(s.customKeyStoreId(), s);
      return m;
    }

    CustomKeyStore get(String id) {
      for (CustomKeyStore s : stores) if (s.customKeyStoreId().equals(id)) return s;
      return null;
    }

    State with(CustomKeyStore changed) {
      Map<String, CustomKeyStore> m = byId();
      m.put(changed.customKeyStoreId(), changed);
      return new State(List.copyOf(m.values()));
    }

    State without(String id) {
      Map<String, CustomKeyStore> m = byId();
      m.remove(id);
      return new State(List.copyOf(m.values()));
    }

    /** The store holding KMS key {@code keyId}, or null. */
    CustomKeyStore holding(String keyId) {
      for (CustomKeyStore s : stores) if (s.keys().containsKey(keyId)) return s;
      return null;
    }
  }

  // ---------------------------------------------------------------- behavior

  /**
   * The actor of this node's Region.
   *
   * @param proxyHealth how to ask an external key store proxy for its health
   */
  public static Behavior<Command> create(KmsSettings settings, CustomKeyStoreCache cache, SimulatedCloudHsm cloudHsm,
      ProxyHealthCheck proxyHealth) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> {
      ActorRef<KeyManager.KeyDeleted> adapter =
          ctx.messageAdapter(KeyManager.KeyDeleted.class, e -> new RemoveKey(e.keyId(), null));
      ctx.getSystem().eventStream().tell(new EventStream.Subscribe<>(KeyManager.KeyDeleted.class, adapter));
      var config = ctx.getSystem().settings().config().getConfig("kms.custom-key-stores");
      timers.startTimerWithFixedDelay(new CheckProxies(), config.getDuration("xks-health-interval"));
      return new CustomKeyStores(ctx, settings, cache, cloudHsm, proxyHealth, config.getInt("max-stores"),
          config.getDuration("connect-delay"));
    }));
  }

  private final ActorContext<Command> ctx;
  private final KmsSettings settings;
  private final CustomKeyStoreCache cache;
  private final SimulatedCloudHsm cloudHsm;
  private final ProxyHealthCheck proxyHealth;
  private final int maxStores;
  private final Duration connectDelay;
  /** The current connection attempt per store: a late answer of an older attempt is ignored. */
  private final Map<String, Long> attempts = new HashMap<>();
  private long nextAttempt = 1;

  private CustomKeyStores(ActorContext<Command> ctx, KmsSettings settings, CustomKeyStoreCache cache,
      SimulatedCloudHsm cloudHsm, ProxyHealthCheck proxyHealth, int maxStores, Duration connectDelay) {
    super(PERSISTENCE_ID, SupervisorStrategy.restartWithBackoff(Duration.ofMillis(200), Duration.ofSeconds(5), 0.1));
    this.ctx = ctx;
    this.settings = settings;
    this.cache = cache;
    this.cloudHsm = cloudHsm;
    this.proxyHealth = proxyHealth;
    this.maxStores = maxStores;
    this.connectDelay = connectDelay;
  }

  @Override
  public State emptyState() {
    return new State(List.of());
  }

  @Override
  public SignalHandler<State> signalHandler() {
    return newSignalHandlerBuilder()
        .onSignal(RecoveryCompleted.instance(), state -> {
          cache.publish(state.byId());
          for (CustomKeyStore s : state.stores()) {
            if (s.connectionState() == ConnectionState.CONNECTING) startConnecting(s);
          }
        })
        .build();
  }

  @Override
  public CommandHandlerWithReply<Command, Event, State> commandHandler() {
    return newCommandHandlerWithReplyBuilder()
        .forAnyState()
        .onCommand(CreateStore.class, this::onCreateStore)
        .onCommand(UpdateStore.class, this::onUpdateStore)
        .onCommand(ConnectStore.class, this::onConnectStore)
        .onCommand(DisconnectStore.class, this::onDisconnectStore)
        .onCommand(DeleteStore.class, this::onDeleteStore)
        .onCommand(GetStores.class, (s, c) -> Effect().reply(c.replyTo(), new Stores(s.stores())))
        .onCommand(AddKey.class, this::onAddKey)
        .onCommand(RemoveKey.class, this::onRemoveKey)
        .onCommand(ConnectionChecked.class, this::onConnectionChecked)
        .onCommand(CheckProxies.class, this::onCheckProxies)
        .onCommand(ProxyChecked.class, (s, c) -> {
          boolean wasUnreachable = cache.isProxyUnreachable(c.customKeyStoreId());
          cache.proxyHealth(c.customKeyStoreId(), c.reachable());
          if (wasUnreachable == c.reachable()) {
            ctx.getLog().warn("External key store {} proxy {}", c.customKeyStoreId(),
                c.reachable() ? "answers again: its keys are available" : "does not answer: its keys are Unavailable");
          }
          return Effect().noReply();
        })
        .build();
  }

  private ReplyEffect<Event, State> onCreateStore(State s, CreateStore c) {
    CustomKeyStore p = c.proposed();
    if (s.stores().size() >= maxStores) {
      return fail(c.replyTo(), new KmsError("LimitExceededException",
          "This account already has " + maxStores + " custom key stores in " + settings.region() + ", the most it can have."));
    }
    KmsError conflict = conflict(s, p.customKeyStoreId(), p.customKeyStoreName(), p.cloudHsm(), p.xks());
    if (conflict != null) return fail(c.replyTo(), conflict);
    return Effect().persist(new StoreCreated(p)).thenRun(this::publish)
        .thenReply(c.replyTo(), st -> new Done(st.get(p.customKeyStoreId())));
  }

  /** A name, cluster or proxy URI that another store than {@code selfId} already uses, or null. */
  private static KmsError conflict(State s, String selfId, String name, CloudHsmSettings hsm, XksProxySettings xks) {
    for (CustomKeyStore o : s.stores()) {
      if (o.customKeyStoreId().equals(selfId)) continue;
      if (name != null && o.customKeyStoreName().equals(name)) {
        return new KmsError("CustomKeyStoreNameInUseException",
            "The custom key store name " + name + " is already used by custom key store " + o.customKeyStoreId() + ".");
      }
      if (hsm != null && o.cloudHsm() != null && o.cloudHsm().cloudHsmClusterId().equals(hsm.cloudHsmClusterId())) {
        return new KmsError("CloudHsmClusterInUseException", "The CloudHSM cluster " + hsm.cloudHsmClusterId()
            + " is already associated with custom key store " + o.customKeyStoreId() + ".");
      }
      if (xks != null && o.xks() != null && o.xks().uriEndpoint().equals(xks.uriEndpoint())) {
        if (o.xks().uriPath().equals(xks.uriPath())) {
          return new KmsError("XksProxyUriInUseException", "The proxy URI " + xks.uriEndpoint() + xks.uriPath()
              + " is already associated with external key store " + o.customKeyStoreId() + ".");
        }
        return new KmsError("XksProxyUriEndpointInUseException", "The proxy URI endpoint " + xks.uriEndpoint()
            + " is already associated with external key store " + o.customKeyStoreId() + ".");
      }
    }
    return null;
  }

  private ReplyEffect<Event, State> onUpdateStore(State s, UpdateStore c) {
    CustomKeyStore store = s.get(c.customKeyStoreId());
    if (store == null) return fail(c.replyTo(), KmsError.customKeyStoreNotFound(c.customKeyStoreId()));
    boolean settingsChange = c.cloudHsm() != null || c.xks() != null;
    if (settingsChange && store.connectionState() != ConnectionState.DISCONNECTED) {
      return fail(c.replyTo(), invalidState(store, "UpdateCustomKeyStore can change its settings only while it is DISCONNECTED"));
    }
    KmsError conflict = conflict(s, store.customKeyStoreId(), c.newName(), c.cloudHsm(), c.xks());
    if (conflict != null) return fail(c.replyTo(), conflict);
    return Effect().persist(new StoreUpdated(store.customKeyStoreId(), c.newName(), c.cloudHsm(), c.xks()))
        .thenRun(this::publish)
        .thenReply(c.replyTo(), st -> new Done(st.get(store.customKeyStoreId())));
  }

  private ReplyEffect<Event, State> onConnectStore(State s, ConnectStore c) {
    CustomKeyStore store = s.get(c.customKeyStoreId());
    if (store == null) return fail(c.replyTo(), KmsError.customKeyStoreNotFound(c.customKeyStoreId()));
    return switch (store.connectionState()) {
      case CONNECTED, CONNECTING -> Effect().reply(c.replyTo(), new Done(store));
      case FAILED, DISCONNECTING -> fail(c.replyTo(), invalidState(store,
          "ConnectCustomKeyStore is not valid while it is " + store.connectionState()
              + (store.connectionState() == ConnectionState.FAILED ? "; disconnect it first" : "")));
      case DISCONNECTED -> Effect().persist(new ConnectionStarted(store.customKeyStoreId()))
          .thenRun(st -> {
            publish(st);
            startConnecting(st.get(store.customKeyStoreId()));
          })
          .thenReply(c.replyTo(), st -> new Done(st.get(store.customKeyStoreId())));
    };
  }

  /** Runs one connection attempt; its outcome comes back as {@link ConnectionChecked}. */
  private void startConnecting(CustomKeyStore store) {
    long attempt = nextAttempt++;
    attempts.put(store.customKeyStoreId(), attempt);
    String id = store.customKeyStoreId();
    CompletionStage<Optional<ConnectionErrorCode>> outcome = store.customKeyStoreType() == Type.AWS_CLOUDHSM
        ? java.util.concurrent.CompletableFuture.completedFuture(
            cloudHsm.connectError(store.cloudHsm().cloudHsmClusterId(), store.cloudHsm().keyStorePassword()))
        : proxyHealth.check(store.xks());
    // The attempt lasts at least connect-delay, so that CONNECTING can be seen.
    java.util.concurrent.CompletableFuture<Optional<ConnectionErrorCode>> delayed = new java.util.concurrent.CompletableFuture<>();
    ctx.getSystem().scheduler().scheduleOnce(connectDelay,
        () -> outcome.whenComplete((r, f) -> delayed.complete(f == null ? r : Optional.of(ConnectionErrorCode.INTERNAL_ERROR))),
        ctx.getExecutionContext());
    ctx.pipeToSelf(delayed, (r, f) -> new ConnectionChecked(id, attempt,
        f == null ? r : Optional.of(ConnectionErrorCode.INTERNAL_ERROR)));
  }

  private ReplyEffect<Event, State> onConnectionChecked(State s, ConnectionChecked c) {
    CustomKeyStore store = s.get(c.customKeyStoreId());
    if (store == null || store.connectionState() != ConnectionState.CONNECTING
        || !Long.valueOf(c.attempt()).equals(attempts.get(c.customKeyStoreId()))) {
      return Effect().noReply();
    }
    Event e = c.error().isPresent()
        ? new ConnectionFailed(store.customKeyStoreId(), c.error().get())
        : new StoreConnected(store.customKeyStoreId());
    if (c.error().isPresent()) {
      ctx.getLog().warn("Custom key store {} failed to connect: {}", store.customKeyStoreId(), c.error().get());
    } else {
      ctx.getLog().info("Custom key store {} connected", store.customKeyStoreId());
    }
    cache.proxyHealth(store.customKeyStoreId(), true);
    return Effect().persist(e).thenRun(this::publish).thenNoReply();
  }

  private ReplyEffect<Event, State> onDisconnectStore(State s, DisconnectStore c) {
    CustomKeyStore store = s.get(c.customKeyStoreId());
    if (store == null) return fail(c.replyTo(), KmsError.customKeyStoreNotFound(c.customKeyStoreId()));
    if (store.connectionState() == ConnectionState.DISCONNECTED) return Effect().reply(c.replyTo(), new Done(store));
    attempts.remove(store.customKeyStoreId());
    return Effect().persist(new StoreDisconnected(store.customKeyStoreId())).thenRun(this::publish)
        .thenReply(c.replyTo(), st -> new Done(st.get(store.customKeyStoreId())));
  }

  private ReplyEffect<Event, State> onDeleteStore(State s, DeleteStore c) {
    CustomKeyStore store = s.get(c.customKeyStoreId());
    if (store == null) return fail(c.replyTo(), KmsError.customKeyStoreNotFound(c.customKeyStoreId()));
    if (store.connectionState() != ConnectionState.DISCONNECTED) {
      return fail(c.replyTo(), invalidState(store, "DeleteCustomKeyStore is valid only while it is DISCONNECTED"));
    }
    if (!store.keys().isEmpty()) {
      return fail(c.replyTo(), new KmsError("CustomKeyStoreHasCMKsException", "Custom key store "
          + store.customKeyStoreId() + " contains " + store.keys().size()
          + " KMS key(s). Schedule their deletion and wait until they are deleted before deleting the custom key store."));
    }
    return Effect().persist(new StoreDeleted(store.customKeyStoreId())).thenRun(this::publish)
        .thenReply(c.replyTo(), st -> new Done(store));
  }

  private ReplyEffect<Event, State> onAddKey(State s, AddKey c) {
    CustomKeyStore store = s.get(c.customKeyStoreId());
    if (store == null) return fail(c.replyTo(), KmsError.customKeyStoreNotFound(c.customKeyStoreId()));
    if (!store.isConnected()) {
      return fail(c.replyTo(), invalidState(store, "CreateKey needs it CONNECTED"));
    }
    if (c.xksKeyId() != null && store.keyUsing(c.xksKeyId()) != null) {
      return fail(c.replyTo(), new KmsError("XksKeyAlreadyInUseException", "The external key " + c.xksKeyId()
          + " is already associated with KMS key " + settings.keyArn(settings.region(), store.keyUsing(c.xksKeyId()))
          + " in external key store " + store.customKeyStoreId() + "."));
    }
    return Effect().persist(new KeyAdded(store.customKeyStoreId(), c.keyId(), c.xksKeyId())).thenRun(this::publish)
        .thenReply(c.replyTo(), st -> new Done(st.get(store.customKeyStoreId())));
  }

  private ReplyEffect<Event, State> onRemoveKey(State s, RemoveKey c) {
    CustomKeyStore store = s.holding(c.keyId());
    if (store == null) {
      return c.replyTo() == null ? Effect().noReply() : Effect().reply(c.replyTo(), new Stores(s.stores()));
    }
    var effect = Effect().persist(new KeyRemoved(store.customKeyStoreId(), c.keyId())).thenRun(this::publish);
    return c.replyTo() == null ? effect.thenNoReply() : effect.thenReply(c.replyTo(), st -> new Stores(st.stores()));
  }

  private ReplyEffect<Event, State> onCheckProxies(State s, CheckProxies c) {
    for (CustomKeyStore store : s.stores()) {
      if (store.customKeyStoreType() != Type.EXTERNAL_KEY_STORE || !store.isConnected()) continue;
      String id = store.customKeyStoreId();
      ctx.pipeToSelf(proxyHealth.check(store.xks()), (r, f) -> new ProxyChecked(id, f == null && r.isEmpty()));
    }
    return Effect().noReply();
  }

  private void publish(State s) {
    cache.publish(s.byId());
  }

  private ReplyEffect<Event, State> fail(ActorRef<Reply> replyTo, KmsError error) {
    return Effect().reply(replyTo, new Failed(error));
  }

  private static KmsError invalidState(CustomKeyStore store, String why) {
    return new KmsError("CustomKeyStoreInvalidStateException", "Custom key store " + store.customKeyStoreId()
        + " is " + store.connectionState() + ": " + why + ".");
  }

  // ---------------------------------------------------------------- event handler

  @Override
  public EventHandler<State, Event> eventHandler() {
    return newEventHandlerBuilder()
        .forAnyState()
        .onEvent(StoreCreated.class, (s, e) -> s.with(e.store()))
        .onEvent(StoreUpdated.class, (s, e) -> {
          CustomKeyStore o = s.get(e.customKeyStoreId());
          return s.with(o.withSettings(e.name() != null ? e.name() : o.customKeyStoreName(),
              e.cloudHsm() != null ? e.cloudHsm() : o.cloudHsm(), e.xks() != null ? e.xks() : o.xks()));
        })
        .onEvent(ConnectionStarted.class, (s, e) ->
            s.with(s.get(e.customKeyStoreId()).withConnection(ConnectionState.CONNECTING, null)))
        .onEvent(StoreConnected.class, (s, e) ->
            s.with(s.get(e.customKeyStoreId()).withConnection(ConnectionState.CONNECTED, null)))
        .onEvent(ConnectionFailed.class, (s, e) ->
            s.with(s.get(e.customKeyStoreId()).withConnection(ConnectionState.FAILED, e.error())))
        .onEvent(StoreDisconnected.class, (s, e) ->
            s.with(s.get(e.customKeyStoreId()).withConnection(ConnectionState.DISCONNECTED, null)))
        .onEvent(StoreDeleted.class, (s, e) -> s.without(e.customKeyStoreId()))
        .onEvent(KeyAdded.class, (s, e) -> s.with(s.get(e.customKeyStoreId()).withKey(e.keyId(), e.xksKeyId())))
        .onEvent(KeyRemoved.class, (s, e) -> s.with(s.get(e.customKeyStoreId()).withoutKey(e.keyId())))
        .build();
  }
}
