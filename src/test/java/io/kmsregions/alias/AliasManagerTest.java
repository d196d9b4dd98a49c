package io.kmsregions.alias;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.kmsregions.KmsSettings;
import io.kmsregions.alias.AliasManager.Alias;
import io.kmsregions.alias.AliasManager.CreateAlias;
import io.kmsregions.alias.AliasManager.DeleteAlias;
import io.kmsregions.alias.AliasManager.Done;
import io.kmsregions.alias.AliasManager.Failed;
import io.kmsregions.alias.AliasManager.KeyDeleted;
import io.kmsregions.alias.AliasManager.Moved;
import io.kmsregions.alias.AliasManager.Reply;
import io.kmsregions.alias.AliasManager.UpdateAlias;
import io.kmsregions.key.KeyManager;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.eventstream.EventStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The alias manager on its own, with real persistence (LevelDB journal, local snapshots) and every
 * message round-tripped through Jackson CBOR ({@code serialize-messages = on}). A restart
 * terminates the ActorSystem and starts a new one on the same folders.
 */
class AliasManagerTest {
  private static final String REGION = "us-east-1";
  private static final String ACCOUNT = "111122223333";
  private static final Duration TIMEOUT = Duration.ofSeconds(10);

  @TempDir Path dataDir;
  private Node node;

  private final class Node {
    final ActorTestKit kit;
    final AliasCache cache = new AliasCache();
    final ActorRef<AliasManager.Command> manager;

    Node(int snapshotEvery, int aliasesPerKey) {
      kit = ActorTestKit.create("AliasManagerTest", config(snapshotEvery));
      KmsSettings settings = KmsSettings.from(kit.system().settings().config());
      manager = kit.spawn(AliasManager.create(settings, cache, aliasesPerKey), "aliases");
    }

    Reply ask(Function<ActorRef<Reply>, AliasManager.Command> command) {
      TestProbe<Reply> probe = kit.createTestProbe(Reply.class);
      manager.tell(command.apply(probe.ref()));
      return probe.expectMessageClass(Reply.class, TIMEOUT);
    }

    void stop() {
      kit.shutdownTestKit();
      try {
        kit.system().getWhenTerminated().toCompletableFuture().get(20, TimeUnit.SECONDS);
      } catch (Exception e) {
        throw new AssertionError("the ActorSystem did not terminate", e);
      }
    }
  }

  @AfterEach
  void shutdown() {
    if (node != null) node.stop();
  }

  private Config config(int snapshotEvery) {
    try {
      Files.createDirectories(dataDir.resolve("journal"));
      Files.createDirectories(dataDir.resolve("snapshots"));
    } catch (java.io.IOException e) {
      throw new AssertionError(e);
    }
    Map<String, Object> c = new HashMap<>();
    c.put("pekko.actor.provider", "local");
    c.put("pekko.actor.serialize-messages", "on");
    c.put("pekko.persistence.journal.plugin", "pekko.persistence.journal.leveldb");
    c.put("pekko.persistence.journal.leveldb.dir", dataDir.resolve("journal").toString());
    c.put("pekko.persistence.journal.leveldb.fsync", "off");
    c.put("pekko.persistence.snapshot-store.plugin", "pekko.persistence.snapshot-store.local");
    c.put("pekko.persistence.snapshot-store.local.dir", dataDir.resolve("snapshots").toString());
    c.put("kms.region", REGION);
    c.put("kms.regions", List.of(REGION));
    c.put("kms.snapshot-every", snapshotEvery);
    return ConfigFactory.parseMap(c).withFallback(ConfigFactory.load());
  }

  private Node start(int snapshotEvery, int aliasesPerKey) {
    node = new Node(snapshotEvery, aliasesPerKey);
    awaitLoaded(node);
    return node;
  }

  private Node restart(int snapshotEvery, int aliasesPerKey) {
    node.stop();
    node = null;
    return start(snapshotEvery, aliasesPerKey);
  }

  private static void awaitLoaded(Node n) {
    try {
      n.cache.whenLoaded(TIMEOUT).toCompletableFuture().get();
    } catch (Exception e) {
      throw new AssertionError("the alias cache never loaded", e);
    }
  }

  private static String key() {
    return UUID.randomUUID().toString();
  }

  private static KmsErrorView failed(Reply reply) {
    Failed f = assertInstanceOf(Failed.class, reply, () -> "expected a failure, got " + reply);
    return new KmsErrorView(f.error().type(), f.error().message());
  }

  private record KmsErrorView(String type, String message) {}

  @Test
  void createUpdateDeleteArePublishedToTheCacheBeforeTheReply() {
    Node n = start(100, 50);
    String k1 = key();
    String k2 = key();
    assertInstanceOf(Done.class, n.ask(r -> new CreateAlias("alias/a", k1, 1000, r)));
    assertEquals(new Alias("alias/a", k1, 1000, 1000), n.cache.get("alias/a"));

    KmsErrorView dup = failed(n.ask(r -> new CreateAlias("alias/a", k2, 2000, r)));
    assertEquals("AlreadyExistsException", dup.type());
    assertEquals("An alias with the name arn:aws:kms:" + REGION + ":" + ACCOUNT + ":alias/a already exists", dup.message());

    // UpdateAlias writes only if the alias still points where the API looked.
    Reply moved = n.ask(r -> new UpdateAlias("alias/a", k2, k2, 3000, r));
    assertEquals(new Moved(k1), moved);
    assertEquals(k1, n.cache.get("alias/a").targetKeyId());
    assertInstanceOf(Done.class, n.ask(r -> new UpdateAlias("alias/a", k2, k1, 3000, r)));
    assertEquals(new Alias("alias/a", k2, 1000, 3000), n.cache.get("alias/a"));
    KmsErrorView missing = failed(n.ask(r -> new UpdateAlias("alias/b", k2, k1, 3000, r)));
    assertEquals("NotFoundException", missing.type());
    assertEquals("Alias arn:aws:kms:" + REGION + ":" + ACCOUNT + ":alias/b is not found.", missing.message());

    assertInstanceOf(Done.class, n.ask(r -> new DeleteAlias("alias/a", r)));
    assertNull(n.cache.get("alias/a"));
    assertEquals("NotFoundException", failed(n.ask(r -> new DeleteAlias("alias/a", r))).type());
  }

  @Test
  void aKeyHasAtMostItsQuotaOfAliases() {
    Node n = start(100, 3);
    String k = key();
    String other = key();
    for (int i = 0; i < 3; i++) {
      int j = i;
      assertInstanceOf(Done.class, n.ask(r -> new CreateAlias("alias/q" + j, k, 1, r)));
    }
    assertEquals("LimitExceededException", failed(n.ask(r -> new CreateAlias("alias/q3", k, 1, r))).type());
    assertNull(n.cache.get("alias/q3"));
    assertInstanceOf(Done.class, n.ask(r -> new CreateAlias("alias/o", other, 1, r)));
    assertEquals("LimitExceededException", failed(n.ask(r -> new UpdateAlias("alias/o", k, other, 2, r))).type());
    // Moving an alias to the key it already has is no new alias of that key.
    assertInstanceOf(Done.class, n.ask(r -> new UpdateAlias("alias/q0", k, k, 2, r)));
  }

  @Test
  void keyDeletedRemovesEveryAliasOfTheKeyAndIsIdempotent() {
    Node n = start(100, 50);
    String gone = key();
    String kept = key();
    n.ask(r -> new CreateAlias("alias/g1", gone, 1, r));
    n.ask(r -> new CreateAlias("alias/g2", gone, 1, r));
    n.ask(r -> new CreateAlias("alias/k1", kept, 1, r));
    assertInstanceOf(Done.class, n.ask(r -> new KeyDeleted(gone, r)));
    assertNull(n.cache.get("alias/g1"));
    assertNull(n.cache.get("alias/g2"));
    assertEquals(kept, n.cache.get("alias/k1").targetKeyId());
    assertInstanceOf(Done.class, n.ask(r -> new KeyDeleted(gone, r)), "again: nothing to do, still Done");
    // Fire and forget, as the key's owner may send it.
    n.manager.tell(new KeyDeleted(kept));
    TestProbe<Reply> probe = n.kit.createTestProbe(Reply.class);
    // Ordered after the KeyDeleted: a create on the freed name shows it was processed.
    n.manager.tell(new CreateAlias("alias/k1", gone, 2, probe.ref()));
    assertInstanceOf(Done.class, probe.expectMessageClass(Reply.class, TIMEOUT));

    Node again = restart(100, 50);
    assertEquals(List.of("alias/k1"), List.copyOf(again.cache.all().keySet()));
    assertEquals(gone, again.cache.get("alias/k1").targetKeyId());
  }

  @Test
  void aKeyDeletionPublishedOnTheEventStreamDeletesTheKeysAliases() {
    Node n = start(100, 50);
    String gone = key();
    String kept = key();
    n.ask(r -> new CreateAlias("alias/e1", gone, 1, r));
    n.ask(r -> new CreateAlias("alias/e2", kept, 1, r));
    n.kit.system().eventStream().tell(new EventStream.Publish<>(new KeyManager.KeyDeleted(gone)));
    long deadline = System.nanoTime() + TIMEOUT.toNanos();
    while (n.cache.get("alias/e1") != null && System.nanoTime() < deadline) sleep(20);
    assertNull(n.cache.get("alias/e1"), "the deleted key's alias is gone");
    assertEquals(kept, n.cache.get("alias/e2").targetKeyId());
    Node again = restart(100, 50);
    assertEquals(List.of("alias/e2"), List.copyOf(again.cache.all().keySet()), "and stays gone");
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Test
  void aliasesSurviveRestartsWithAndWithoutSnapshots() {
    Node n = start(3, 50); // a snapshot every 3 events, so recovery uses snapshot + events
    String k1 = key();
    String k2 = key();
    for (int i = 0; i < 7; i++) {
      int j = i;
      n.ask(r -> new CreateAlias("alias/r" + j, j % 2 == 0 ? k1 : k2, 100 + j, r));
    }
    n.ask(r -> new UpdateAlias("alias/r0", k2, k1, 500, r));
    n.ask(r -> new DeleteAlias("alias/r1", r));
    Map<String, Alias> before = Map.copyOf(n.cache.all());

    Node again = restart(3, 50);
    assertEquals(before, Map.copyOf(again.cache.all()));
    assertEquals(new Alias("alias/r0", k2, 100, 500), again.cache.get("alias/r0"));
    assertFalse(again.cache.all().containsKey("alias/r1"));
    // The restored state still decides: the name is taken, the free one is not.
    assertEquals("AlreadyExistsException", failed(again.ask(r -> new CreateAlias("alias/r0", k1, 1, r))).type());
    assertInstanceOf(Done.class, again.ask(r -> new CreateAlias("alias/r1", k1, 1, r)));

    Node third = restart(1000, 50); // no new snapshot: replay of the events after the last one
    assertEquals(7, third.cache.all().size());
    assertTrue(third.cache.isLoaded());
  }
}
