package io.kmsregions.key;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.kmsregions.KmsSettings;
import io.kmsregions.key.KeyEntity.CompleteHandover;
import io.kmsregions.key.KeyEntity.Superseded;
import io.kmsregions.key.KeyEntity.CreateKey;
import io.kmsregions.key.KeyEntity.CreateReplica;
import io.kmsregions.key.KeyEntity.Delivered;
import io.kmsregions.key.KeyEntity.DeliveryOutcome;
import io.kmsregions.key.KeyEntity.DeliveryReply;
import io.kmsregions.key.KeyEntity.GetKey;
import io.kmsregions.key.KeyEntity.Key;
import io.kmsregions.key.KeyEntity.KeyFailed;
import io.kmsregions.key.KeyEntity.KeyFound;
import io.kmsregions.key.KeyEntity.KeyReply;
import io.kmsregions.key.KeyEntity.Promote;
import io.kmsregions.key.KeyEntity.Refused;
import io.kmsregions.key.KeyEntity.ReplicateKey;
import io.kmsregions.key.KeyEntity.ReplicationCommand;
import io.kmsregions.key.KeyEntity.SynchronizeConfiguration;
import io.kmsregions.key.KeyEntity.SynchronizeSharedProperties;
import io.kmsregions.key.KeyEntity.Unreachable;
import io.kmsregions.key.KeyEntity.UpdatePrimaryRegion;
import io.kmsregions.region.RegionDirectory;
import io.kmsregions.region.RegionDirectory.DeliverToKey;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.persistence.query.EventEnvelope;
import org.apache.pekko.persistence.query.PersistenceQuery;
import org.apache.pekko.persistence.query.journal.leveldb.javadsl.LeveldbReadJournal;
import org.apache.pekko.stream.javadsl.Sink;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The key actor on its own, with real persistence: a LevelDB journal and local snapshots in a
 * temporary folder, and every command, reply and event round-tripped through Jackson CBOR
 * ({@code serialize-messages = on}). The network is the only test double: a probe stands in for
 * the {@link RegionDirectory}, and the test plays the remote Region by answering each
 * {@link DeliverToKey} with {@link Delivered}, {@link Refused} or {@link Unreachable}, or by not
 * answering at all. A "restart" terminates the whole ActorSystem (LevelDB allows one open per
 * folder) and starts a new one on the same folders.
 */
class KeyEntityTest {

  private static final String US = "us-east-1";
  private static final String EU = "eu-west-1";
  private static final String AP = "ap-southeast-2";
  private static final String ACCOUNT = "111122223333";
  private static final Duration TIMEOUT = Duration.ofSeconds(5);
  private static final SecureRandom RANDOM = new SecureRandom();

  @TempDir Path dataDir;

  /** One running node: its test kit, cache and the probes that stand in for its neighbours. */
  private final class Node {
    final ActorTestKit kit;
    final KmsSettings settings;
    final KeyCache cache = new KeyCache();
    final TestProbe<KeyManager.Command> manager;
    final TestProbe<RegionDirectory.Command> directory;
    final Map<String, ActorRef<KeyEntity.Command>> entities = new HashMap<>();

    Node(ActorTestKit kit) {
      this.kit = kit;
      this.settings = KmsSettings.from(kit.system().settings().config());
      this.manager = kit.createTestProbe(KeyManager.Command.class);
      this.directory = kit.createTestProbe(RegionDirectory.Command.class);
    }

    ActorRef<KeyEntity.Command> entity(String keyId) {
      return entities.computeIfAbsent(keyId, id -> kit.spawn(
          KeyEntity.create(id, settings, cache, manager.ref(), directory.ref()), "key-" + id));
    }

    KeyReply ask(String keyId, Function<ActorRef<KeyReply>, KeyEntity.Command> command) {
      TestProbe<KeyReply> probe = kit.createTestProbe(KeyReply.class);
      entity(keyId).tell(command.apply(probe.ref()));
      return probe.expectMessageClass(KeyReply.class, TIMEOUT);
    }

    DeliveryReply deliver(String keyId, Function<ActorRef<DeliveryReply>, ReplicationCommand> command) {
      TestProbe<DeliveryReply> probe = kit.createTestProbe(DeliveryReply.class);
      entity(keyId).tell(command.apply(probe.ref()));
      return probe.expectMessageClass(DeliveryReply.class, TIMEOUT);
    }

    Key get(String keyId) {
      return found(ask(keyId, GetKey::new));
    }

    KmsError error(String keyId, Function<ActorRef<KeyReply>, KeyEntity.Command> command) {
      KeyReply reply = ask(keyId, command);
      return assertInstanceOf(KeyFailed.class, reply, () -> "expected an error, got " + reply).error();
    }

    /** Polls GetKey until {@code condition} holds (outcomes of deliveries arrive asynchronously). */
    Key awaitKey(String keyId, Predicate<Key> condition, String what) {
      long deadline = System.nanoTime() + TIMEOUT.toNanos();
      Key last = null;
      while (System.nanoTime() < deadline) {
        last = get(keyId);
        if (condition.test(last)) return last;
        sleep(25);
      }
      return fail("key " + keyId + " never became " + what + "; last state " + last);
    }

    /**
     * {@link #awaitKey}, acknowledging every delivery sent meanwhile: on a loaded machine an
     * acknowledgement may come after its attempt's 1 s timeout, and the key then sends again.
     */
    Key awaitKeyAcking(String keyId, Predicate<Key> condition, String what) {
      long deadline = System.nanoTime() + TIMEOUT.toNanos();
      Key last = null;
      while (System.nanoTime() < deadline) {
        last = get(keyId);
        if (condition.test(last)) return last;
        try {
          ack(directory.receiveMessage(Duration.ofMillis(50)) instanceof DeliverToKey d ? d.command() : null,
              new Delivered());
        } catch (AssertionError | NullPointerException noneSent) {
          // nothing was sent again
        }
      }
      return fail("key " + keyId + " never became " + what + "; last state " + last);
    }

    /** The next message the key sends to another Region. */
    DeliverToKey nextDelivery() {
      return directory.expectMessageClass(DeliverToKey.class, TIMEOUT);
    }

    <T extends ReplicationCommand> T nextDelivery(Class<T> type, String region, String keyId) {
      DeliverToKey d = nextDelivery();
      assertEquals(region, d.region(), () -> "delivery to the wrong Region: " + d);
      assertEquals(keyId, d.keyId(), () -> "delivery for the wrong key: " + d);
      return assertInstanceOf(type, d.command(), () -> "unexpected delivery " + d);
    }

    void noDelivery(Duration within) {
      directory.expectNoMessage(within);
    }

    /** Every event in the key's journal, as read back from LevelDB. */
    List<Object> events(String keyId) {
      try {
        LeveldbReadJournal journal = PersistenceQuery.get(kit.system())
            .getReadJournalFor(LeveldbReadJournal.class, LeveldbReadJournal.Identifier());
        return journal.currentEventsByPersistenceId("Key|" + keyId, 0L, Long.MAX_VALUE)
            .map(EventEnvelope::event)
            .runWith(Sink.seq(), kit.system())
            .toCompletableFuture()
            .get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
      } catch (Exception e) {
        throw new AssertionError("cannot read the journal of " + keyId, e);
      }
    }

    String arn(String keyId) {
      return "arn:aws:kms:" + settings.region() + ":" + ACCOUNT + ":key/" + keyId;
    }
  }

  private final List<Node> running = new ArrayList<>();

  @AfterEach
  void shutdownAll() {
    for (Node n : running) stop(n);
    running.clear();
  }

  // ------------------------------------------------------------------------------------- config

  private Config config(String region, String folder, int snapshotEvery) {
    Path dir = dataDir.resolve(folder);
    try {
      Files.createDirectories(dir.resolve("journal"));
      Files.createDirectories(dir.resolve("snapshots"));
    } catch (IOException e) {
      throw new AssertionError(e);
    }
    Map<String, Object> c = new HashMap<>();
    c.put("pekko.actor.provider", "local");
    c.put("pekko.actor.serialize-messages", "on");
    c.put("pekko.persistence.journal.plugin", "pekko.persistence.journal.leveldb");
    c.put("pekko.persistence.journal.leveldb.dir", dir.resolve("journal").toString());
    c.put("pekko.persistence.journal.leveldb.fsync", "off");
    c.put("pekko.persistence.snapshot-store.plugin", "pekko.persistence.snapshot-store.local");
    c.put("pekko.persistence.snapshot-store.local.dir", dir.resolve("snapshots").toString());
    c.put("kms.region", region);
    c.put("kms.regions", List.of(US, EU, AP));
    c.put("kms.replication.min-backoff", "100ms");
    c.put("kms.replication.max-backoff", "500ms");
    c.put("kms.replication.delivery-timeout", "1s");
    c.put("kms.snapshot-every", snapshotEvery);
    return ConfigFactory.parseMap(c).withFallback(ConfigFactory.load());
  }

  private Node start(String region) {
    return start(region, region, 100);
  }

  private Node start(String region, String folder, int snapshotEvery) {
    Node n = new Node(ActorTestKit.create("KeyEntityTest", config(region, folder, snapshotEvery)));
    running.add(n);
    return n;
  }

  private void stop(Node n) {
    n.kit.shutdownTestKit();
    try {
      n.kit.system().getWhenTerminated().toCompletableFuture().get(20, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new AssertionError("the ActorSystem did not terminate", e);
    }
  }

  /** Terminates {@code n}'s ActorSystem and starts a new one on the same folders. */
  private Node restart(Node n, String folder, int snapshotEvery) {
    stop(n);
    running.remove(n);
    return start(n.settings.region(), folder, snapshotEvery);
  }

  private Node restart(Node n) {
    return restart(n, n.settings.region(), n.settings.snapshotEvery());
  }

  // ------------------------------------------------------------------------------------- keys

  private static String hex(int bytes) {
    byte[] b = new byte[bytes];
    RANDOM.nextBytes(b);
    return HexFormat.of().formatHex(b);
  }

  private static String singleRegionId() {
    return UUID.randomUUID().toString();
  }

  private static String multiRegionId() {
    return "mrk-" + hex(16);
  }

  private static KeyMaterial material() {
    byte[] secret = new byte[32];
    RANDOM.nextBytes(secret);
    return new KeyMaterial(hex(32), secret, null, System.currentTimeMillis());
  }

  private static SharedProperties shared(long version, KeyMaterial... materials) {
    return new SharedProperties(version, KeySpec.SYMMETRIC_DEFAULT, KeyUsage.ENCRYPT_DECRYPT,
        Origin.AWS_KMS, List.of(materials));
  }

  private static Key newKey(String keyId, String region, MultiRegionConfiguration multiRegion) {
    return new Key(keyId, region, System.currentTimeMillis(), "the key " + keyId, "{\"Version\":\"2012-10-17\"}",
        List.of(new Tag("team", "crypto")), KeyState.Enabled, shared(1, material()), multiRegion, List.of(), 0);
  }

  private static Delivery.ReplicaProperties replicaProps(String description) {
    return new Delivery.ReplicaProperties(description, "{\"replica\":true}",
        List.of(new Tag("replica", "yes")), 1_700_000_000_000L);
  }

  /**
   * A value view of a key whose equality compares key material by content, not by array identity:
   * the record's text (every field; {@link KeyMaterial#toString} shows only the material id) plus
   * the bytes of every material.
   */
  private static List<Object> view(Key k) {
    if (k == null) return null;
    return Arrays.asList(k.toString(), materialBytes(k.shared()));
  }

  private static List<Object> view(SharedProperties s) {
    if (s == null) return null;
    return Arrays.asList(s.toString(), materialBytes(s));
  }

  private static List<Object> materialBytes(SharedProperties s) {
    if (s == null) return null;
    List<Object> materials = new ArrayList<>();
    for (KeyMaterial m : s.materials()) {
      materials.add(Arrays.asList(m.keyMaterialId(), m.secret() == null ? null : HexFormat.of().formatHex(m.secret()),
          m.publicKey() == null ? null : HexFormat.of().formatHex(m.publicKey()), m.createdAt()));
    }
    return materials;
  }

  private static void assertSameKey(Key expected, Key actual) {
    assertNotNull(actual, "no key");
    assertEquals(view(expected), view(actual));
  }

  private static void assertSameShared(SharedProperties expected, SharedProperties actual) {
    assertEquals(view(expected), view(actual));
    for (int i = 0; i < expected.materials().size(); i++) {
      assertArrayEquals(expected.materials().get(i).secret(), actual.materials().get(i).secret());
    }
  }

  private static Key found(KeyReply reply) {
    return assertInstanceOf(KeyFound.class, reply, () -> "expected a key, got " + reply).key();
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  private static void ack(ReplicationCommand c, DeliveryReply reply) {
    c.replyTo().tell(reply);
  }

  /** Creates a multi-Region primary in {@code node}'s Region. */
  private Key createPrimary(Node node, String keyId) {
    Key initial = newKey(keyId, node.settings.region(), MultiRegionConfiguration.initial(node.settings.region()));
    assertSameKey(initial, found(node.ask(keyId, r -> new CreateKey(initial, r))));
    node.manager.expectMessage(TIMEOUT, new KeyManager.Registered(keyId));
    return initial;
  }

  /** ReplicateKey to {@code region}, with the remote Region acknowledging everything; returns the primary. */
  private Key replicateFully(Node node, String keyId, String region) {
    found(node.ask(keyId, r -> new ReplicateKey(region, replicaProps("replica in " + region), r)));
    // Then the material to the new replica, and the new member list to each earlier replica.
    int followUps = node.get(keyId).multiRegion().replicaRegions().size();
    ack(node.nextDelivery(CreateReplica.class, region, keyId), new Delivered());
    for (int i = 0; i < followUps; i++) ack(node.nextDelivery().command(), new Delivered());
    Key primary = node.awaitKey(keyId, k -> k.outbox().isEmpty(), "without pending deliveries");
    node.noDelivery(Duration.ofMillis(300));
    return primary;
  }

  // ------------------------------------------------------------------------------------- tests

  @Test
  void createsASingleRegionKeyAndRecoversIt() {
    Node node = start(US);
    String keyId = singleRegionId();
    Key initial = newKey(keyId, US, null);

    Key created = found(node.ask(keyId, r -> new CreateKey(initial, r)));
    assertSameKey(initial, created);
    node.manager.expectMessage(TIMEOUT, new KeyManager.Registered(keyId));
    assertSameKey(initial, node.get(keyId));
    assertSameKey(initial, node.cache.get(keyId));
    assertFalse(node.get(keyId).isMultiRegion());
    node.noDelivery(Duration.ofMillis(300));

    // A second CreateKey on the same id fails and changes nothing.
    KmsError again = node.error(keyId, r -> new CreateKey(newKey(keyId, US, null), r));
    assertEquals("AlreadyExistsException", again.type());
    assertSameKey(initial, node.get(keyId));
    assertEquals(1, node.events(keyId).size());

    node = restart(node);
    assertNull(node.cache.get(keyId), "a fresh node's cache starts empty");
    Key recovered = node.get(keyId);
    assertSameKey(initial, recovered);
    assertEquals(initial.shared().currentMaterial().keyMaterialId(), recovered.shared().currentMaterial().keyMaterialId());
    assertArrayEquals(initial.shared().currentMaterial().secret(), recovered.shared().currentMaterial().secret());
    assertSameKey(initial, node.cache.get(keyId)); // published on recovery
    node.noDelivery(Duration.ofMillis(300));
  }

  @Test
  void replicateKeyCreatesTheReplicaThenSendsMaterialThenTellsTheOtherMembers() {
    Node node = start(US);
    String keyId = multiRegionId();
    Key primary = createPrimary(node, keyId);
    Delivery.ReplicaProperties props = replicaProps("replica in Ireland");

    Key replica = found(node.ask(keyId, r -> new ReplicateKey(EU, props, r)));
    assertEquals(keyId, replica.keyId());
    assertEquals(EU, replica.region());
    assertEquals(KeyState.Creating, replica.keyState());
    assertNull(replica.shared().currentMaterial(), "a replica in Creating has no material");
    assertEquals("replica in Ireland", replica.description());
    assertEquals(props.tags(), replica.tags());
    assertEquals(List.of(EU), replica.multiRegion().replicaRegions());
    assertEquals(US, replica.multiRegion().primaryRegion());

    // DescribeKey on the primary lists the replica at once.
    Key afterAdd = node.get(keyId);
    assertEquals(List.of(EU), afterAdd.multiRegion().replicaRegions());
    assertEquals(new MultiRegionConfiguration(1, 2, US, List.of(EU)), afterAdd.multiRegion());
    assertTrue(afterAdd.isPrimary());
    assertEquals(KeyState.Enabled, afterAdd.keyState());
    assertSameKey(afterAdd, node.cache.get(keyId));

    CreateReplica create = node.nextDelivery(CreateReplica.class, EU, keyId);
    assertEquals(EU, create.replica().region());
    assertEquals(KeyState.Creating, create.replica().keyState());
    assertTrue(create.replica().shared().materials().isEmpty(), "CreateReplica must not carry material");
    assertEquals("replica in Ireland", create.replica().description());
    assertEquals(afterAdd.multiRegion(), create.replica().multiRegion());
    ack(create, new Delivered());

    SynchronizeSharedProperties sync = node.nextDelivery(SynchronizeSharedProperties.class, EU, keyId);
    assertSameShared(primary.shared(), sync.shared());
    assertEquals(afterAdd.multiRegion(), sync.configuration());
    ack(sync, new Delivered());
    node.awaitKey(keyId, k -> k.outbox().isEmpty(), "without pending deliveries");
    node.noDelivery(Duration.ofMillis(300));

    // A second replica: its material, and the new member list to the first replica.
    found(node.ask(keyId, r -> new ReplicateKey(AP, replicaProps("replica in Sydney"), r)));
    MultiRegionConfiguration three = new MultiRegionConfiguration(1, 3, US, List.of(EU, AP));
    assertEquals(three, node.get(keyId).multiRegion());
    CreateReplica createAp = node.nextDelivery(CreateReplica.class, AP, keyId);
    assertEquals(three, createAp.replica().multiRegion());
    ack(createAp, new Delivered());
    Map<String, ReplicationCommand> next = new HashMap<>();
    for (int i = 0; i < 2; i++) {
      DeliverToKey d = node.nextDelivery();
      next.put(d.command().getClass().getSimpleName() + "->" + d.region(), d.command());
    }
    assertEquals(Stream.of("SynchronizeSharedProperties->" + AP, "SynchronizeConfiguration->" + EU).sorted().toList(),
        next.keySet().stream().sorted().toList());
    SynchronizeSharedProperties syncAp =
        (SynchronizeSharedProperties) next.get("SynchronizeSharedProperties->" + AP);
    assertSameShared(primary.shared(), syncAp.shared());
    assertEquals(three, ((SynchronizeConfiguration) next.get("SynchronizeConfiguration->" + EU)).configuration());
    next.values().forEach(c -> ack(c, new Delivered()));
    Key done = node.awaitKey(keyId, k -> k.outbox().isEmpty(), "without pending deliveries");
    node.noDelivery(Duration.ofMillis(300));

    node = restart(node);
    assertSameKey(done, node.get(keyId));
    node.noDelivery(Duration.ofMillis(500)); // nothing was pending
  }

  @Test
  void invalidRequestsAreRefusedAndChangeNothing() {
    Node node = start(US);

    // Nothing there yet.
    String missing = multiRegionId();
    KmsError notFound = node.error(missing, GetKey::new);
    assertEquals("NotFoundException", notFound.type());
    assertEquals("Key '" + node.arn(missing) + "' does not exist", notFound.message());
    assertEquals("NotFoundException", node.error(missing, r -> new ReplicateKey(EU, replicaProps("x"), r)).type());
    assertEquals("NotFoundException", node.error(missing, r -> new UpdatePrimaryRegion(EU, r)).type());
    assertTrue(node.events(missing).isEmpty());

    String keyId = multiRegionId();
    createPrimary(node, keyId);
    Key before = node.get(keyId);

    KmsError own = node.error(keyId, r -> new ReplicateKey(US, replicaProps("x"), r));
    assertEquals("ValidationException", own.type());
    assertSameKey(before, node.get(keyId));

    KmsError unknownRegion = node.error(keyId, r -> new ReplicateKey("sa-east-1", replicaProps("x"), r));
    assertEquals("UnsupportedOperationException", unknownRegion.type());
    assertSameKey(before, node.get(keyId));

    KmsError noReplica = node.error(keyId, r -> new UpdatePrimaryRegion(AP, r));
    assertEquals("NotFoundException", noReplica.type());
    assertSameKey(before, node.get(keyId));
    assertEquals(1, node.events(keyId).size());
    node.noDelivery(Duration.ofMillis(200));

    Key withReplica = replicateFully(node, keyId, EU);
    int events = node.events(keyId).size();
    KmsError twice = node.error(keyId, r -> new ReplicateKey(EU, replicaProps("again"), r));
    assertEquals("AlreadyExistsException", twice.type());
    assertEquals("You can create only one replica of each primary key in each AWS Region.", twice.message());
    assertSameKey(withReplica, node.get(keyId));
    assertEquals(events, node.events(keyId).size());
    node.noDelivery(Duration.ofMillis(200));

    // A single-Region key is no multi-Region primary.
    String single = singleRegionId();
    Key singleKey = found(node.ask(single, r -> new CreateKey(newKey(single, US, null), r)));
    node.manager.expectMessage(TIMEOUT, new KeyManager.Registered(single));
    KmsError notMrk = node.error(single, r -> new ReplicateKey(EU, replicaProps("x"), r));
    assertEquals("UnsupportedOperationException", notMrk.type());
    assertEquals(node.arn(single) + " is not a multi-region primary key.", notMrk.message());
    KmsError notMrkUpdate = node.error(single, r -> new UpdatePrimaryRegion(EU, r));
    assertEquals("UnsupportedOperationException", notMrkUpdate.type());
    assertSameKey(singleKey, node.get(single));
    assertEquals(1, node.events(single).size());

    // Neither is a replica (created here by a primary in eu-west-1).
    String replicaId = multiRegionId();
    Key replica = new Key(replicaId, US, 1L, "r", null, List.of(), KeyState.Creating, shared(1, material()).withoutMaterial(),
        new MultiRegionConfiguration(1, 2, EU, List.of(US)), List.of(), 0);
    assertEquals(new Delivered(), node.deliver(replicaId, r -> new CreateReplica(replica, r)));
    node.manager.expectMessage(TIMEOUT, new KeyManager.Registered(replicaId));
    KmsError notPrimary = node.error(replicaId, r -> new ReplicateKey(AP, replicaProps("x"), r));
    assertEquals("UnsupportedOperationException", notPrimary.type());
    assertEquals(node.arn(replicaId) + " is not a multi-region primary key.", notPrimary.message());
    KmsError notPrimaryUpdate = node.error(replicaId, r -> new UpdatePrimaryRegion(US, r));
    assertEquals("UnsupportedOperationException", notPrimaryUpdate.type());
    assertSameKey(replica, node.get(replicaId));
    assertEquals(1, node.events(replicaId).size());
    node.noDelivery(Duration.ofMillis(200));
  }

  @Test
  void pendingDeliveriesAreRetriedAndSurviveARestart() {
    Node node = start(US);
    String keyId = multiRegionId();
    createPrimary(node, keyId);
    found(node.ask(keyId, r -> new ReplicateKey(EU, replicaProps("r"), r)));
    Key pending = node.get(keyId);
    assertEquals(1, pending.outbox().size());

    // The Region is unreachable: the same delivery comes again after the backoff.
    CreateReplica first = node.nextDelivery(CreateReplica.class, EU, keyId);
    ack(first, new Unreachable("eu-west-1 is unreachable"));
    CreateReplica second = node.nextDelivery(CreateReplica.class, EU, keyId);
    assertSameKey(first.replica(), second.replica());
    // The Region does not answer: the attempt times out and is retried.
    CreateReplica third = node.nextDelivery(CreateReplica.class, EU, keyId);
    assertSameKey(first.replica(), third.replica());
    assertSameKey(pending, node.get(keyId)); // retries persist nothing
    assertEquals(2, node.events(keyId).size());

    // Crash before any acknowledgement: recovery alone re-sends it, without any new command.
    node = restart(node);
    node.entity(keyId);
    CreateReplica afterRestart = node.nextDelivery(CreateReplica.class, EU, keyId);
    assertSameKey(first.replica(), afterRestart.replica());
    assertSameKey(pending, node.get(keyId));

    ack(afterRestart, new Delivered());
    SynchronizeSharedProperties sync = node.nextDelivery(SynchronizeSharedProperties.class, EU, keyId);
    assertSameShared(pending.shared(), sync.shared());
    Key progressed = node.get(keyId);
    assertEquals(1, progressed.outbox().size());
    assertEquals(Delivery.Kind.SYNC_SHARED_PROPERTIES, progressed.outbox().get(0).kind());
    long createId = pending.outbox().get(0).id();

    // An acknowledgement of the completed CreateReplica again: ignored, no second follow-up.
    int events = node.events(keyId).size();
    node.entity(keyId).tell(new DeliveryOutcome(createId, new Delivered()));
    node.noDelivery(Duration.ofMillis(500));
    assertSameKey(progressed, node.get(keyId));
    assertEquals(events, node.events(keyId).size());

    ack(sync, new Delivered());
    Key done = node.awaitKey(keyId, k -> k.outbox().isEmpty(), "without pending deliveries");
    node.noDelivery(Duration.ofMillis(1500)); // no retry of anything acknowledged

    node = restart(node);
    assertSameKey(done, node.get(keyId));
    node.noDelivery(Duration.ofMillis(500));
  }

  @Test
  void handoverOnTheOldPrimaryCompletesWhenTheTargetAccepts() {
    Node node = start(US);
    String keyId = multiRegionId();
    Key primary = createPrimary(node, keyId);
    replicateFully(node, keyId, EU);

    Key updating = found(node.ask(keyId, r -> new UpdatePrimaryRegion(EU, r)));
    MultiRegionConfiguration epoch2 = new MultiRegionConfiguration(2, 3, EU, List.of(US));
    assertEquals(KeyState.Updating, updating.keyState());
    assertEquals(epoch2, updating.multiRegion());
    assertFalse(updating.isPrimary());
    assertSameKey(updating, node.get(keyId));

    Promote promote = node.nextDelivery(Promote.class, EU, keyId);
    assertEquals(epoch2, promote.configuration());
    assertSameShared(primary.shared(), promote.shared());

    // The target is unreachable for a while, and this Region crashes: the handover is re-driven.
    ack(promote, new Unreachable("eu-west-1 is unreachable"));
    assertEquals(epoch2, node.nextDelivery(Promote.class, EU, keyId).configuration());
    node = restart(node);
    assertSameKey(updating, node.get(keyId));
    Promote again = node.nextDelivery(Promote.class, EU, keyId);
    assertEquals(epoch2, again.configuration());

    ack(again, new Delivered());
    CompleteHandover complete = node.nextDelivery(CompleteHandover.class, EU, keyId);
    assertEquals(epoch2, complete.configuration());
    Key replica = node.get(keyId);
    assertEquals(KeyState.Enabled, replica.keyState());
    assertFalse(replica.isPrimary());
    assertEquals(epoch2, replica.multiRegion());
    assertTrue(node.events(keyId).stream().anyMatch(e -> e instanceof KeyEntity.HandoverCompleted));

    ack(complete, new Delivered());
    Key done = node.awaitKey(keyId, k -> k.outbox().isEmpty(), "without pending deliveries");
    node.noDelivery(Duration.ofMillis(500));

    // Now a replica: it can neither replicate nor hand over.
    assertEquals("UnsupportedOperationException", node.error(keyId, r -> new ReplicateKey(AP, replicaProps("x"), r)).type());
    assertEquals("UnsupportedOperationException", node.error(keyId, r -> new UpdatePrimaryRegion(US, r)).type());

    node = restart(node);
    assertSameKey(done, node.get(keyId));
    node.noDelivery(Duration.ofMillis(500));
  }

  @Test
  void handoverIsAbortedAtAHigherEpochWhenTheTargetRefuses() {
    Node node = start(US);
    String keyId = multiRegionId();
    createPrimary(node, keyId);
    replicateFully(node, keyId, EU);

    found(node.ask(keyId, r -> new UpdatePrimaryRegion(EU, r)));
    Promote promote = node.nextDelivery(Promote.class, EU, keyId);
    assertEquals(2, promote.configuration().epoch());
    ack(promote, new Refused("arn:aws:kms:eu-west-1:111122223333:key/" + keyId + " is creating."));

    Key back = node.awaitKey(keyId, k -> k.keyState() == KeyState.Enabled, "Enabled again");
    assertTrue(back.isPrimary());
    assertEquals(new MultiRegionConfiguration(3, 4, US, List.of(EU)), back.multiRegion());
    assertTrue(back.outbox().isEmpty());
    assertTrue(node.events(keyId).stream().anyMatch(e -> e instanceof KeyEntity.HandoverAborted));
    node.noDelivery(Duration.ofMillis(500)); // no CompleteHandover

    node = restart(node);
    assertSameKey(back, node.get(keyId));
    node.noDelivery(Duration.ofMillis(300));

    // Epochs only grow: the next attempt offers epoch 4.
    Key updating = found(node.ask(keyId, r -> new UpdatePrimaryRegion(EU, r)));
    assertEquals(4, updating.multiRegion().epoch());
    assertEquals(4, node.nextDelivery(Promote.class, EU, keyId).configuration().epoch());
  }

  @Test
  void handoverOnTheNewPrimary() {
    Node node = start(EU);
    String keyId = multiRegionId();
    KeyMaterial m = material();
    SharedProperties shared = shared(1, m);
    MultiRegionConfiguration epoch1 = new MultiRegionConfiguration(1, 3, US, List.of(EU, AP));
    Key replica = new Key(keyId, EU, 1_700_000_000_000L, "replica", "{}", List.of(new Tag("a", "b")),
        KeyState.Creating, shared.withoutMaterial(), epoch1, List.of(), 0);

    assertEquals(new Delivered(), node.deliver(keyId, r -> new CreateReplica(replica, r)));
    node.manager.expectMessage(TIMEOUT, new KeyManager.Registered(keyId));
    assertSameKey(replica, node.get(keyId));
    assertSameKey(replica, node.cache.get(keyId));
    // CreateReplica again (a retry): acknowledged, nothing new.
    assertEquals(new Delivered(), node.deliver(keyId, r -> new CreateReplica(replica, r)));
    assertEquals(1, node.events(keyId).size());

    MultiRegionConfiguration epoch2 = epoch1.handedOverTo(EU);
    assertEquals(new MultiRegionConfiguration(2, 4, EU, List.of(US, AP)), epoch2);

    // A replica still in Creating cannot become primary.
    DeliveryReply early = node.deliver(keyId, r -> new Promote(shared, epoch2, r));
    assertInstanceOf(Refused.class, early);
    assertSameKey(replica, node.get(keyId));
    assertEquals(1, node.events(keyId).size());

    assertEquals(new Delivered(), node.deliver(keyId, r -> new SynchronizeSharedProperties(shared, epoch1, r)));
    Key enabled = node.get(keyId);
    assertEquals(KeyState.Enabled, enabled.keyState());
    assertSameShared(shared, enabled.shared());
    assertFalse(enabled.isPrimary());
    assertEquals(new Delivered(), node.deliver(keyId, r -> new SynchronizeSharedProperties(shared, epoch1, r)));
    assertEquals(2, node.events(keyId).size());

    // A Promote that does not raise the epoch is refused.
    MultiRegionConfiguration staleEpoch = new MultiRegionConfiguration(1, 4, EU, List.of(US, AP));
    Refused stale = assertInstanceOf(Refused.class, node.deliver(keyId, r -> new Promote(shared, staleEpoch, r)));
    assertTrue(stale.reason().contains("stale epoch"), stale.reason());
    assertSameKey(enabled, node.get(keyId));
    assertEquals(2, node.events(keyId).size());

    // Promote: Updating primary at epoch 2.
    assertEquals(new Delivered(), node.deliver(keyId, r -> new Promote(shared, epoch2, r)));
    Key promoted = node.get(keyId);
    assertEquals(KeyState.Updating, promoted.keyState());
    assertTrue(promoted.isPrimary());
    assertEquals(epoch2, promoted.multiRegion());
    assertEquals(3, node.events(keyId).size());
    node.noDelivery(Duration.ofMillis(300)); // nobody is told before the old primary stepped down

    // The same Promote again (its acknowledgement was lost): acknowledged, no new event.
    assertEquals(new Delivered(), node.deliver(keyId, r -> new Promote(shared, epoch2, r)));
    assertSameKey(promoted, node.get(keyId));
    assertEquals(3, node.events(keyId).size());

    // Crash between Promote and CompleteHandover: still Updating primary.
    node = restart(node);
    assertSameKey(promoted, node.get(keyId));
    node.noDelivery(Duration.ofMillis(300));

    assertEquals(new Delivered(), node.deliver(keyId, r -> new CompleteHandover(epoch2, r)));
    Key primary = node.get(keyId);
    assertEquals(KeyState.Enabled, primary.keyState());
    assertTrue(primary.isPrimary());
    Map<String, SynchronizeConfiguration> announced = new HashMap<>();
    for (int i = 0; i < 2; i++) {
      DeliverToKey d = node.nextDelivery();
      assertEquals(keyId, d.keyId());
      announced.put(d.region(), assertInstanceOf(SynchronizeConfiguration.class, d.command()));
    }
    assertEquals(Map.of(US, epoch2, AP, epoch2), Map.of(
        US, announced.get(US).configuration(), AP, announced.get(AP).configuration()));
    announced.values().forEach(c -> ack(c, new Delivered()));
    Key done = node.awaitKey(keyId, k -> k.outbox().isEmpty(), "without pending deliveries");
    int events = node.events(keyId).size();

    // CompleteHandover again: acknowledged, nothing new.
    assertEquals(new Delivered(), node.deliver(keyId, r -> new CompleteHandover(epoch2, r)));
    node.noDelivery(Duration.ofMillis(300));
    assertSameKey(done, node.get(keyId));
    assertEquals(events, node.events(keyId).size());

    // A late Promote of the same epoch is a retry; one of an older epoch is refused, naming the
    // epoch its sender missed (so that a sender superseded by a forced promotion steps down).
    assertEquals(new Delivered(), node.deliver(keyId, r -> new Promote(shared, epoch2, r)));
    assertEquals(new Superseded(epoch2), node.deliver(keyId, r -> new Promote(shared, staleEpoch, r)));
    assertSameKey(done, node.get(keyId));
    assertEquals(events, node.events(keyId).size());

    node = restart(node);
    assertSameKey(done, node.get(keyId));
    node.noDelivery(Duration.ofMillis(300));

    // The new primary acts as one: it may hand over in turn, at epoch 3.
    Key updating = found(node.ask(keyId, r -> new UpdatePrimaryRegion(US, r)));
    assertEquals(KeyState.Updating, updating.keyState());
    Promote next = node.nextDelivery(Promote.class, US, keyId);
    assertEquals(new MultiRegionConfiguration(3, 5, US, List.of(EU, AP)), next.configuration());
    assertSameShared(shared, next.shared());
  }

  @Test
  void configurationsAndSharedPropertiesApplyOnlyWhenNewer() {
    Node node = start(EU);
    String keyId = multiRegionId();
    KeyMaterial m1 = material();
    SharedProperties v1 = shared(1, m1);
    MultiRegionConfiguration c12 = new MultiRegionConfiguration(1, 2, US, List.of(EU));
    Key replica = new Key(keyId, EU, 1L, "r", "{}", List.of(), KeyState.Creating, v1.withoutMaterial(), c12, List.of(), 0);
    assertEquals(new Delivered(), node.deliver(keyId, r -> new CreateReplica(replica, r)));
    assertEquals(new Delivered(), node.deliver(keyId, r -> new SynchronizeSharedProperties(v1, c12, r)));
    int events = node.events(keyId).size();

    // A newer version of the member list is applied.
    MultiRegionConfiguration c13 = new MultiRegionConfiguration(1, 3, US, List.of(EU, AP));
    assertEquals(new Delivered(), node.deliver(keyId, r -> new SynchronizeConfiguration(c13, r)));
    assertEquals(c13, node.get(keyId).multiRegion());
    assertEquals(++events, node.events(keyId).size());
    Key current = node.get(keyId);

    // Older and repeated ones are acknowledged and ignored.
    for (MultiRegionConfiguration old : List.of(c12, c13, MultiRegionConfiguration.initial(US))) {
      assertEquals(new Delivered(), node.deliver(keyId, r -> new SynchronizeConfiguration(old, r)));
      assertSameKey(current, node.get(keyId));
      assertEquals(events, node.events(keyId).size());
    }

    // A higher epoch wins even with a lower version; then a higher version of a lower epoch loses.
    MultiRegionConfiguration c21 = new MultiRegionConfiguration(2, 1, AP, List.of(US, EU));
    assertEquals(new Delivered(), node.deliver(keyId, r -> new SynchronizeConfiguration(c21, r)));
    assertEquals(c21, node.get(keyId).multiRegion());
    assertEquals(++events, node.events(keyId).size());
    current = node.get(keyId);
    MultiRegionConfiguration c19 = new MultiRegionConfiguration(1, 9, US, List.of(EU, AP));
    assertEquals(new Superseded(c21), node.deliver(keyId, r -> new SynchronizeConfiguration(c19, r)));
    assertSameKey(current, node.get(keyId));
    assertEquals(events, node.events(keyId).size());

    // Shared properties: the same version is ignored, but a newer configuration riding along applies.
    MultiRegionConfiguration c22 = new MultiRegionConfiguration(2, 2, AP, List.of(US, EU));
    assertEquals(new Delivered(), node.deliver(keyId, r -> new SynchronizeSharedProperties(v1, c22, r)));
    Key afterConfig = node.get(keyId);
    assertEquals(c22, afterConfig.multiRegion());
    assertSameShared(v1, afterConfig.shared());
    assertEquals(++events, node.events(keyId).size());

    // A newer version (a rotation) applies even with an older configuration, which is kept out; the
    // answer names the epoch the sender missed.
    SharedProperties v2 = shared(2, m1, material());
    assertEquals(new Superseded(c22), node.deliver(keyId, r -> new SynchronizeSharedProperties(v2, c12, r)));
    Key rotated = node.get(keyId);
    assertSameShared(v2, rotated.shared());
    assertEquals(c22, rotated.multiRegion());
    assertEquals(++events, node.events(keyId).size());

    // An older version is ignored.
    assertEquals(new Superseded(c22), node.deliver(keyId, r -> new SynchronizeSharedProperties(v1, c12, r)));
    assertSameKey(rotated, node.get(keyId));
    assertEquals(events, node.events(keyId).size());
    node.noDelivery(Duration.ofMillis(200)); // a replica sends nothing of its own

    node = restart(node);
    assertSameKey(rotated, node.get(keyId));
  }

  @Test
  void stateAndOutboxRecoverFromSnapshots() throws IOException {
    Node node = start(US, "snap", 3);
    String keyId = multiRegionId();
    createPrimary(node, keyId);
    replicateFully(node, keyId, EU);
    found(node.ask(keyId, r -> new ReplicateKey(AP, replicaProps("Sydney"), r)));
    ack(node.nextDelivery(CreateReplica.class, AP, keyId), new Delivered());
    // Acknowledge the material for Sydney, leave the member list for Ireland pending.
    SynchronizeConfiguration pendingSync = null;
    for (int i = 0; i < 2; i++) {
      DeliverToKey d = node.nextDelivery();
      if (d.command() instanceof SynchronizeConfiguration s) pendingSync = s;
      else ack(d.command(), new Delivered());
    }
    assertNotNull(pendingSync);
    Key pending = node.awaitKey(keyId, k -> k.outbox().size() == 1, "with one pending delivery");
    assertEquals(Delivery.Kind.SYNC_CONFIGURATION, pending.outbox().get(0).kind());
    assertEquals(7, node.events(keyId).size());

    Path snapshots = dataDir.resolve("snap").resolve("snapshots");
    try (Stream<Path> files = Files.list(snapshots)) {
      assertFalse(files.toList().isEmpty(), "no snapshot was written in " + snapshots);
    }

    node = restart(node, "snap", 3);
    node.entity(keyId);
    SynchronizeConfiguration again = node.nextDelivery(SynchronizeConfiguration.class, EU, keyId);
    assertEquals(pending.multiRegion(), again.configuration());
    assertSameKey(pending, node.get(keyId));

    ack(again, new Delivered());
    Key done = node.awaitKeyAcking(keyId, k -> k.outbox().isEmpty(), "without pending deliveries");
    node = restart(node, "snap", 3);
    assertSameKey(done, node.get(keyId));
    node.noDelivery(Duration.ofMillis(500));
  }

  /**
   * While a handover waits for the target's answer, the old primary's other pending deliveries must
   * not announce the configuration it has only proposed: if the target then refuses, nobody would
   * ever be told that the old primary kept its role (at a higher epoch), and a replica that took
   * the proposal for a fact would consider itself primary (DESIGN.md, invariant 5).
   */
  @Test
  void aHandoverInProgressDoesNotLeakItsProposedConfiguration() {
    Node node = start(US);
    String keyId = multiRegionId();
    createPrimary(node, keyId);
    found(node.ask(keyId, r -> new ReplicateKey(EU, replicaProps("r"), r)));
    ack(node.nextDelivery(CreateReplica.class, EU, keyId), new Delivered());
    // The material for the new replica is on its way; its acknowledgement will not come.
    SynchronizeSharedProperties firstSync = node.nextDelivery(SynchronizeSharedProperties.class, EU, keyId);
    assertEquals(1, firstSync.configuration().epoch());

    Key updating = found(node.ask(keyId, r -> new UpdatePrimaryRegion(EU, r)));
    assertEquals(KeyState.Updating, updating.keyState());

    // Until the target answers the Promote, whatever else is sent still names the current primary.
    long until = System.nanoTime() + Duration.ofMillis(2500).toNanos();
    int promotes = 0;
    while (System.nanoTime() < until) {
      if (nextCheckingNoLeak(node).command() instanceof Promote) promotes++; // unanswered: comes again
    }
    assertTrue(promotes >= 2, "the Promote was not retried: " + promotes);
    Promote promote;
    while (true) {
      DeliverToKey d = nextCheckingNoLeak(node);
      if (d.command() instanceof Promote p) {
        promote = p;
        break;
      }
    }
    ack(promote, new Refused("arn:aws:kms:eu-west-1:111122223333:key/" + keyId + " is creating."));
    node.awaitKey(keyId, k -> k.keyState() == KeyState.Enabled && k.isPrimary(), "primary again");
    // The material finally reaches the replica, with the configuration that is now in force.
    while (true) {
      DeliverToKey d = node.nextDelivery();
      assertFalse(d.command() instanceof Promote, "Promote sent after the handover was aborted");
      if (d.command() instanceof SynchronizeSharedProperties s) {
        assertEquals(new MultiRegionConfiguration(3, 4, US, List.of(EU)), s.configuration());
        ack(s, new Delivered());
        break;
      }
    }
    node.awaitKey(keyId, k -> k.outbox().isEmpty(), "without pending deliveries");
  }

  /**
   * A replica whose creation is still pending when a handover completes is finished by the old
   * primary; its follow-ups go to the other members, never to this key's own Region (which no
   * directory can reach, so such a delivery would be retried forever).
   */
  @Test
  void aReplicaPendingAcrossAHandoverIsFinishedWithoutDeliveriesToItself() {
    Node node = start(US);
    String keyId = multiRegionId();
    Key primary = createPrimary(node, keyId);
    replicateFully(node, keyId, EU);
    found(node.ask(keyId, r -> new ReplicateKey(AP, replicaProps("Sydney"), r)));
    ack(node.nextDelivery(CreateReplica.class, AP, keyId), new Unreachable("ap-southeast-2 is unreachable"));

    found(node.ask(keyId, r -> new UpdatePrimaryRegion(EU, r)));
    Promote promote;
    while (true) {
      DeliverToKey d = node.nextDelivery();
      if (d.command() instanceof Promote p) {
        promote = p;
        break;
      }
      assertInstanceOf(CreateReplica.class, d.command(), () -> "unexpected delivery " + d);
      ack(d.command(), new Unreachable("ap-southeast-2 is unreachable"));
    }
    ack(promote, new Delivered());

    Map<String, ReplicationCommand> after = new HashMap<>();
    for (int i = 0; i < 2; i++) {
      DeliverToKey d = node.nextDelivery();
      after.put(d.command().getClass().getSimpleName() + "->" + d.region(), d.command());
    }
    assertEquals(Stream.of("CompleteHandover->" + EU, "CreateReplica->" + AP).sorted().toList(),
        after.keySet().stream().sorted().toList());
    MultiRegionConfiguration epoch2 = new MultiRegionConfiguration(2, 4, EU, List.of(US, AP));
    assertEquals(epoch2, ((CreateReplica) after.get("CreateReplica->" + AP)).replica().multiRegion());
    after.values().forEach(c -> ack(c, new Delivered()));

    SynchronizeSharedProperties sync = node.nextDelivery(SynchronizeSharedProperties.class, AP, keyId);
    assertSameShared(primary.shared(), sync.shared());
    ack(sync, new Delivered());
    node.noDelivery(Duration.ofMillis(500)); // in particular nothing to us-east-1 itself
    Key done = node.awaitKey(keyId, k -> k.outbox().isEmpty(), "without pending deliveries");
    assertEquals(KeyState.Enabled, done.keyState());
    assertFalse(done.isPrimary());
    assertEquals(epoch2, done.multiRegion());
  }

  private static DeliverToKey nextCheckingNoLeak(Node node) {
    DeliverToKey d = node.nextDelivery();
    MultiRegionConfiguration sent = d.command() instanceof SynchronizeSharedProperties s ? s.configuration()
        : d.command() instanceof SynchronizeConfiguration s ? s.configuration()
        : d.command() instanceof CreateReplica s ? s.replica().multiRegion() : null;
    assertTrue(sent == null || sent.primaryRegion().equals(US),
        () -> "sent the proposed configuration before the target accepted it: " + d);
    return d;
  }
}
