package io.kmsregions.key;

import io.kmsregions.CborSerializable;
import io.kmsregions.KmsSettings;
import io.kmsregions.region.RegionDirectory;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableSet;
import java.util.TreeSet;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.StashBuffer;
import org.apache.pekko.persistence.query.PersistenceQuery;
import org.apache.pekko.persistence.query.journal.leveldb.javadsl.LeveldbReadJournal;
import org.apache.pekko.stream.javadsl.Sink;

/**
 * The parent of every key actor of one node: spawns a {@link KeyEntity} per key id on demand and
 * keeps the index of existing keys for ListKeys.
 *
 * <p>Keys are plain children, not sharded entities, because a key's journal lives on this node
 * forever (DESIGN.md, invariant 1). At start the index is read from the journal's persistence ids
 * (LevelDB read journal); multi-Region keys are then started eagerly so that their pending
 * deliveries are re-driven after a crash, while single-Region keys recover on first use.
 */
public final class KeyManager extends AbstractBehavior<KeyManager.Command> {

  /** What the key manager accepts. */
  public sealed interface Command extends CborSerializable {}

  /** Hands {@code command} to the key actor of {@code keyId}, starting it if needed. */
  public record Route(String keyId, KeyEntity.Command command) implements Command {}

  /** A page of key ids in id order, starting after {@code afterKeyId} (null for the first). */
  public record ListKeys(String afterKeyId, int limit, ActorRef<KeyPage> replyTo) implements Command {}

  /** The answer to {@link ListKeys}; {@code truncated} when more ids follow the last one. */
  public record KeyPage(List<String> keyIds, boolean truncated) implements CborSerializable {}

  /** A key actor persisted the creation of its key (internal). */
  public record Registered(String keyId) implements Command {}

  /** A key's deletion window ended: it leaves ListKeys (internal). */
  public record Unregistered(String keyId) implements Command {}

  /**
   * Published on the node's event stream when a key is deleted, for what depends on it (its
   * aliases and grants).
   */
  public record KeyDeleted(String keyId) {}

  private record IndexLoaded(List<String> keyIds) implements Command {}

  private record IndexFailed(String reason) implements Command {}

  private record KeyStopped(String keyId) implements Command {}

  private static final String PERSISTENCE_PREFIX = "Key|";

  public static Behavior<Command> create(
      KmsSettings settings, KeyCache cache, ActorRef<RegionDirectory.Command> directory) {
    return Behaviors.setup(ctx -> Behaviors.withStash(10_000, stash -> {
      ctx.pipeToSelf(
          PersistenceQuery.get(ctx.getSystem())
              .getReadJournalFor(LeveldbReadJournal.class, LeveldbReadJournal.Identifier())
              .currentPersistenceIds()
              .filter(id -> id.startsWith(PERSISTENCE_PREFIX))
              .map(id -> id.substring(PERSISTENCE_PREFIX.length()))
              .runWith(Sink.seq(), ctx.getSystem()),
          (ids, failure) -> ids != null ? new IndexLoaded(ids) : new IndexFailed(String.valueOf(failure)));
      return new KeyManager(ctx, stash, settings, cache, directory).loading();
    }));
  }

  private final StashBuffer<Command> stash;
  private final KmsSettings settings;
  private final KeyCache cache;
  private final ActorRef<RegionDirectory.Command> directory;
  private final Map<String, ActorRef<KeyEntity.Command>> keys = new HashMap<>();
  private final NavigableSet<String> index = new TreeSet<>();

  private KeyManager(
      ActorContext<Command> ctx,
      StashBuffer<Command> stash,
      KmsSettings settings,
      KeyCache cache,
      ActorRef<RegionDirectory.Command> directory) {
    super(ctx);
    this.stash = stash;
    this.settings = settings;
    this.cache = cache;
    this.directory = directory;
  }

  /** Until the index is read: route to keys (they need no index), stash the rest. */
  private Behavior<Command> loading() {
    return Behaviors.receive(Command.class)
        .onMessage(Route.class, this::onRoute)
        .onMessage(KeyStopped.class, this::onKeyStopped)
        .onMessage(IndexLoaded.class, this::onIndexLoaded)
        .onMessage(IndexFailed.class, f -> {
          getContext().getLog().error("Cannot read the key index from the journal: {}", f.reason());
          throw new IllegalStateException("key index unreadable: " + f.reason());
        })
        .onAnyMessage(m -> {
          stash.stash(m);
          return Behaviors.same();
        })
        .build();
  }

  private Behavior<Command> onIndexLoaded(IndexLoaded loaded) {
    index.addAll(loaded.keyIds());
    for (String id : loaded.keyIds()) {
      if (KeyArns.isMultiRegionId(id)) keyRef(id); // re-drive pending deliveries
    }
    getContext().getLog().info("{} keys in {}", index.size(), settings.region());
    return stash.unstashAll(this);
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Route.class, this::onRoute)
        .onMessage(ListKeys.class, this::onListKeys)
        .onMessage(Registered.class, r -> {
          index.add(r.keyId());
          return this;
        })
        .onMessage(Unregistered.class, r -> {
          index.remove(r.keyId());
          return this;
        })
        .onMessage(KeyStopped.class, this::onKeyStopped)
        .build();
  }

  private Behavior<Command> onRoute(Route r) {
    keyRef(r.keyId()).tell(r.command());
    return Behaviors.same();
  }

  private Behavior<Command> onListKeys(ListKeys l) {
    NavigableSet<String> rest = l.afterKeyId() == null ? index : index.tailSet(l.afterKeyId(), false);
    List<String> page = new ArrayList<>(Math.min(l.limit(), rest.size()));
    for (String id : rest) {
      if (page.size() == l.limit()) break;
      page.add(id);
    }
    l.replyTo().tell(new KeyPage(page, rest.size() > page.size()));
    return this;
  }

  private Behavior<Command> onKeyStopped(KeyStopped s) {
    keys.remove(s.keyId());
    cache.evict(s.keyId());
    return Behaviors.same();
  }

  private ActorRef<KeyEntity.Command> keyRef(String keyId) {
    ActorRef<KeyEntity.Command> ref = keys.get(keyId);
    if (ref == null) {
      ref = getContext().spawn(
          KeyEntity.create(keyId, settings, cache, getContext().getSelf(), directory), keyId);
      getContext().watchWith(ref, new KeyStopped(keyId));
      keys.put(keyId, ref);
    }
    return ref;
  }
}
