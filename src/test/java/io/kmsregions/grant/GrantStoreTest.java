package io.kmsregions.grant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.kmsregions.KmsSettings;
import io.kmsregions.grant.GrantStore.Constraints;
import io.kmsregions.grant.GrantStore.CreateGrant;
import io.kmsregions.grant.GrantStore.Created;
import io.kmsregions.grant.GrantStore.DeleteGrant;
import io.kmsregions.grant.GrantStore.Deleted;
import io.kmsregions.grant.GrantStore.Failed;
import io.kmsregions.grant.GrantStore.Filter;
import io.kmsregions.grant.GrantStore.GetGrant;
import io.kmsregions.grant.GrantStore.Grant;
import io.kmsregions.grant.GrantStore.GrantReply;
import io.kmsregions.grant.GrantStore.KeyDeleted;
import io.kmsregions.grant.GrantStore.ListGrants;
import io.kmsregions.grant.GrantStore.Page;
import io.kmsregions.grant.GrantStore.Reply;
import io.kmsregions.key.KeyManager;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.HashMap;
import java.util.HexFormat;
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
 * The grant store on its own, with real persistence (LevelDB journal, local snapshots) and every
 * message round-tripped through Jackson CBOR ({@code serialize-messages = on}): named retries,
 * the quota per key with a small quota, listings, removal, key deletion, and restarts.
 */
class GrantStoreTest {
  private static final String REGION = "us-east-1";
  private static final Duration TIMEOUT = Duration.ofSeconds(10);
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final Filter ALL = new Filter(null, null, null, null, null, null);

  @TempDir Path dataDir;
  private Node node;

  private final class Node {
    final ActorTestKit kit;
    final ActorRef<GrantStore.Command> store;

    Node(int snapshotEvery, int grantsPerKey) {
      kit = ActorTestKit.create("GrantStoreTest", config(snapshotEvery));
      KmsSettings settings = KmsSettings.from(kit.system().settings().config());
      store = kit.spawn(GrantStore.create(settings, grantsPerKey), "grants");
    }

    Reply ask(Function<ActorRef<Reply>, GrantStore.Command> command) {
      TestProbe<Reply> probe = kit.createTestProbe(Reply.class);
      store.tell(command.apply(probe.ref()));
      return probe.expectMessageClass(Reply.class, TIMEOUT);
    }

    Grant create(Grant g) {
      return assertInstanceOf(Created.class, ask(r -> new CreateGrant(g, r))).grant();
    }

    List<Grant> list(Filter f, long after, int limit) {
      return assertInstanceOf(Page.class, ask(r -> new ListGrants(f, after, limit, r))).grants();
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

  private Node start(int snapshotEvery, int grantsPerKey) {
    node = new Node(snapshotEvery, grantsPerKey);
    return node;
  }

  private Node restart(int snapshotEvery, int grantsPerKey) {
    node.stop();
    node = null;
    return start(snapshotEvery, grantsPerKey);
  }

  private static String id() {
    byte[] b = new byte[32];
    RANDOM.nextBytes(b);
    return HexFormat.of().formatHex(b);
  }

  private static Grant grant(String keyId, String name, String grantee, String retiring, List<String> ops,
      Constraints constraints) {
    return new Grant(id(), 0, keyId, name, 1000, grantee, null, retiring, null,
        "arn:aws:iam::111122223333:root", ops, constraints);
  }

  @Test
  void aNamedRetryWithTheSameParametersIsTheSameGrant() {
    Node n = start(100, 50_000);
    String key = UUID.randomUUID().toString();
    Constraints c = new Constraints(Map.of("a", "b"), null, null);
    Grant first = n.create(grant(key, "n", "p", "r", List.of("Encrypt", "Decrypt"), c));
    Created retry = assertInstanceOf(Created.class,
        n.ask(r -> new CreateGrant(grant(key, "n", "p", "r", List.of("Decrypt", "Encrypt"), c), r)));
    assertTrue(retry.existing());
    assertEquals(first, retry.grant());
    assertNotEquals(first.grantId(), n.create(grant(key, "n", "p", "r", List.of("Encrypt"), c)).grantId());
    assertNotEquals(first.grantId(), n.create(grant(key, "n", "p", "r", List.of("Encrypt", "Decrypt"), null)).grantId());
    assertNotEquals(first.grantId(), n.create(grant(UUID.randomUUID().toString(), "n", "p", "r",
        List.of("Encrypt", "Decrypt"), c)).grantId());
    // Without a name, never a retry.
    Grant a = n.create(grant(key, null, "p", "r", List.of("Encrypt"), null));
    Grant b = n.create(grant(key, null, "p", "r", List.of("Encrypt"), null));
    assertNotEquals(a.grantId(), b.grantId());
    assertEquals(5, n.list(new Filter(key, null, null, null, null, null), 0, 100).size());
  }

  @Test
  void aKeyHasAtMostItsQuotaOfGrants() {
    Node n = start(100, 3);
    String key = UUID.randomUUID().toString();
    Grant named = n.create(grant(key, "named", "p", null, List.of("Encrypt"), null));
    n.create(grant(key, null, "p", null, List.of("Encrypt"), null));
    n.create(grant(key, null, "p", null, List.of("Encrypt"), null));
    Failed f = assertInstanceOf(Failed.class,
        n.ask(r -> new CreateGrant(grant(key, null, "p", null, List.of("Encrypt"), null), r)));
    assertEquals("LimitExceededException", f.error().type());
    // A named retry is answered at the quota: it creates nothing.
    assertEquals(named.grantId(), n.create(grant(key, "named", "p", null, List.of("Encrypt"), null)).grantId());
    // Another key has its own quota.
    n.create(grant(UUID.randomUUID().toString(), null, "p", null, List.of("Encrypt"), null));
    assertEquals(3, n.list(new Filter(key, null, null, null, null, null), 0, 100).size());
  }

  @Test
  void listingsFilterAndPageInCreationOrder() {
    Node n = start(100, 50_000);
    String k1 = UUID.randomUUID().toString();
    String k2 = UUID.randomUUID().toString();
    Grant g1 = n.create(grant(k1, null, "alice", "carol", List.of("Encrypt"), null));
    Grant g2 = n.create(grant(k2, null, "bob", "carol", List.of("Encrypt"), null));
    Grant g3 = n.create(grant(k1, null, "bob", "dave", List.of("Encrypt"), null));
    Grant g4 = n.create(grant(k1, null, "alice", null, List.of("Encrypt"), null));
    assertTrue(g1.seq() < g2.seq() && g2.seq() < g3.seq() && g3.seq() < g4.seq());

    Filter ofK1 = new Filter(k1, null, null, null, null, null);
    assertEquals(List.of(g1, g3, g4), n.list(ofK1, 0, 100));
    Page first = assertInstanceOf(Page.class, n.ask(r -> new ListGrants(ofK1, 0, 2, r)));
    assertEquals(List.of(g1, g3), first.grants());
    assertTrue(first.truncated());
    Page second = assertInstanceOf(Page.class, n.ask(r -> new ListGrants(ofK1, g3.seq(), 2, r)));
    assertEquals(List.of(g4), second.grants());
    assertFalse(second.truncated());
    assertEquals(List.of(g1, g4), n.list(new Filter(k1, null, "alice", null, null, null), 0, 100));
    assertEquals(List.of(g3), n.list(new Filter(k1, g3.grantId(), null, null, null, null), 0, 100));
    assertEquals(List.of(g1, g2), n.list(new Filter(null, null, null, null, "carol", null), 0, 100));
    assertEquals(List.of(g1, g2, g3, g4), n.list(ALL, 0, 100));
  }

  @Test
  void retireRevokeAndKeyDeletionRemoveGrants() {
    Node n = start(100, 50_000);
    String k1 = UUID.randomUUID().toString();
    String k2 = UUID.randomUUID().toString();
    Grant a = n.create(grant(k1, null, "p", null, List.of("Encrypt"), null));
    Grant b = n.create(grant(k1, null, "p", null, List.of("Encrypt"), null));
    Grant c = n.create(grant(k2, null, "p", null, List.of("Encrypt"), null));
    Grant d = n.create(grant(k2, null, "p", null, List.of("Encrypt"), null));

    // Of another key: not found, nothing removed.
    Failed wrongKey = assertInstanceOf(Failed.class, n.ask(r -> new DeleteGrant(k2, a.grantId(), true, r)));
    assertEquals("NotFoundException", wrongKey.error().type());
    assertEquals(a, assertInstanceOf(GrantReply.class, n.ask(r -> new DeleteGrant(k1, a.grantId(), true, r))).grant());
    assertEquals(b, assertInstanceOf(GrantReply.class, n.ask(r -> new DeleteGrant(null, b.grantId(), false, r))).grant());
    assertEquals("NotFoundException",
        assertInstanceOf(Failed.class, n.ask(r -> new DeleteGrant(null, b.grantId(), false, r))).error().type());
    assertNull(assertInstanceOf(GrantReply.class, n.ask(r -> new GetGrant(a.grantId(), r))).grant());
    assertEquals(c, assertInstanceOf(GrantReply.class, n.ask(r -> new GetGrant(c.grantId(), r))).grant());

    assertEquals(new Deleted(2), n.ask(r -> new KeyDeleted(k2, r)));
    assertEquals(new Deleted(0), n.ask(r -> new KeyDeleted(k2, r)), "idempotent");
    assertEquals(List.of(), n.list(ALL, 0, 100));

    Node again = restart(100, 50_000);
    assertEquals(List.of(), again.list(ALL, 0, 100));
    assertNull(assertInstanceOf(GrantReply.class, again.ask(r -> new GetGrant(d.grantId(), r))).grant());
  }

  @Test
  void aKeyDeletionPublishedOnTheEventStreamDeletesTheKeysGrants() {
    Node n = start(100, 50_000);
    String gone = UUID.randomUUID().toString();
    String kept = UUID.randomUUID().toString();
    n.create(grant(gone, null, "p", null, List.of("Encrypt"), null));
    Grant k = n.create(grant(kept, null, "p", null, List.of("Encrypt"), null));
    n.kit.system().eventStream().tell(new EventStream.Publish<>(new KeyManager.KeyDeleted(gone)));
    long deadline = System.nanoTime() + TIMEOUT.toNanos();
    while (n.list(ALL, 0, 100).size() > 1 && System.nanoTime() < deadline) {
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    assertEquals(List.of(k), n.list(ALL, 0, 100));
    assertEquals(List.of(k), restart(100, 50_000).list(ALL, 0, 100), "and stays gone");
  }

  @Test
  void grantsSurviveRestartsWithSnapshotsAndNumberingGoesOn() {
    Node n = start(3, 50_000);
    String key = UUID.randomUUID().toString();
    Constraints c = new Constraints(null, Map.of("x", "y"), "arn:aws:s3:::bucket");
    Grant named = n.create(grant(key, "kept", "p", "r", List.of("Encrypt", "DescribeKey"), c));
    Grant last = named;
    for (int i = 0; i < 6; i++) last = n.create(grant(key, null, "p", null, List.of("Decrypt"), null));
    Grant retired = last;
    n.ask(r -> new DeleteGrant(null, retired.grantId(), false, r));
    List<Grant> before = n.list(ALL, 0, 100);
    assertEquals(6, before.size());

    Node again = restart(3, 50_000);
    assertEquals(before, again.list(ALL, 0, 100));
    assertEquals(named.grantId(), again.create(grant(key, "kept", "p", "r", List.of("DescribeKey", "Encrypt"), c))
        .grantId(), "a named retry after the restart finds the grant");
    Grant fresh = again.create(grant(key, null, "p", null, List.of("Decrypt"), null));
    assertTrue(fresh.seq() > retired.seq(), "numbers are never reused, not even a removed grant's");
  }
}
