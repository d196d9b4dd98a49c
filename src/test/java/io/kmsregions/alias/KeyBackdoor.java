package io.kmsregions.alias;

import io.kmsregions.key.KeyEntity;
import io.kmsregions.key.KeyManager;
import io.kmsregions.key.KeyState;
import io.kmsregions.region.RegionNode;
import java.lang.reflect.Constructor;
import java.lang.reflect.RecordComponent;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.actor.typed.javadsl.AskPattern;

/**
 * Test-only: creates a real, persisted key in a key state that the API cannot produce quickly or
 * at all for a single-Region key (PendingReplicaDeletion, Creating, Updating, Unavailable), so
 * that the key-state rules of aliases and grants (kms-api.md §6) can be tested. It copies a key that the API
 * created, under a new key id and with another state, and sends it to the node's key manager as
 * KeyEntity.CreateKey. Every record component is copied by name, so new components of
 * {@code KeyEntity.Key} keep this compiling and working.
 *
 * <p>States the API reaches (Disabled, PendingDeletion) are reached through the API in the tests.
 * A copy keeps the template's other fields, so a copied PendingDeletion key would have no
 * DeletionDate: use this only for the states above.
 */
public final class KeyBackdoor {
  private static final Duration TIMEOUT = Duration.ofSeconds(10);

  private KeyBackdoor() {}

  /** A new key of {@code node}'s Region: a copy of {@code templateKeyId} in {@code state}; its id. */
  public static String copyInState(RegionNode node, String templateKeyId, KeyState state) {
    ActorSystem<Void> system = node.system();
    ActorRef<KeyManager.Command> keys = keyManager(system);
    KeyEntity.Key template = ask(system, keys, templateKeyId, KeyEntity.GetKey::new);
    String keyId = UUID.randomUUID().toString();
    KeyEntity.Key copy = copy(template, keyId, state);
    KeyEntity.Key created = ask(system, keys, keyId, replyTo -> new KeyEntity.CreateKey(copy, replyTo));
    if (created.keyState() != state) throw new AssertionError("created " + created);
    return keyId;
  }

  @SuppressWarnings("unchecked")
  private static ActorRef<KeyManager.Command> keyManager(ActorSystem<Void> system) {
    try {
      org.apache.pekko.actor.ActorRef classic = Adapter.toClassic(system).actorSelection("/user/keys")
          .resolveOne(TIMEOUT).toCompletableFuture().get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
      return Adapter.toTyped(classic);
    } catch (Exception e) {
      throw new AssertionError("no key manager at /user/keys", e);
    }
  }

  private static KeyEntity.Key ask(ActorSystem<Void> system, ActorRef<KeyManager.Command> keys, String keyId,
      java.util.function.Function<ActorRef<KeyEntity.KeyReply>, KeyEntity.Command> command) {
    try {
      KeyEntity.KeyReply reply = AskPattern.<KeyManager.Command, KeyEntity.KeyReply>ask(keys,
              replyTo -> new KeyManager.Route(keyId, command.apply(replyTo)), TIMEOUT, system.scheduler())
          .toCompletableFuture().get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
      if (reply instanceof KeyEntity.KeyFound f) return f.key();
      throw new AssertionError("key " + keyId + ": " + reply);
    } catch (AssertionError e) {
      throw e;
    } catch (Exception e) {
      throw new AssertionError("key " + keyId + " did not answer", e);
    }
  }

  private static KeyEntity.Key copy(KeyEntity.Key template, String keyId, KeyState state) {
    try {
      RecordComponent[] components = KeyEntity.Key.class.getRecordComponents();
      Class<?>[] types = new Class<?>[components.length];
      Object[] values = new Object[components.length];
      for (int i = 0; i < components.length; i++) {
        types[i] = components[i].getType();
        values[i] = switch (components[i].getName()) {
          case "keyId" -> keyId;
          case "keyState" -> state;
          default -> components[i].getAccessor().invoke(template);
        };
      }
      Constructor<KeyEntity.Key> constructor = KeyEntity.Key.class.getDeclaredConstructor(types);
      return constructor.newInstance(values);
    } catch (ReflectiveOperationException e) {
      throw new AssertionError("cannot copy " + template, e);
    }
  }
}
