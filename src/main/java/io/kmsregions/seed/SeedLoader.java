package io.kmsregions.seed;

import io.kmsregions.KmsSettings;
import io.kmsregions.alias.AliasCache;
import io.kmsregions.alias.AliasManager;
import io.kmsregions.imports.ImportState;
import io.kmsregions.imports.ImportedKeyMaterial;
import io.kmsregions.key.KeyEntity;
import io.kmsregions.key.KeyEntity.Key;
import io.kmsregions.key.KeyManager;
import io.kmsregions.key.KeyMaterial;
import io.kmsregions.key.KeyState;
import io.kmsregions.key.MultiRegionConfiguration;
import io.kmsregions.key.Origin;
import io.kmsregions.key.SharedProperties;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;

/**
 * Creates the keys of a {@link SeedFile} that belong to this Region, at start, through the same
 * key actors (and journal) as every other key. Idempotent: a key that exists with the seeded key
 * spec, usage, origin and material is left as it is (whatever its description, tags or state have
 * become since), so restarting with the same file changes nothing; a key that exists with other
 * properties is a conflict, reported as a {@link SeedException}. Each Region creates its own
 * member of a multi-Region key, with the complete member list and the same shared properties, so
 * no replication is needed and every Region is ready on its own.
 */
public final class SeedLoader {
  private final SeedFile seed;
  private final KmsSettings settings;
  private final ActorSystem<?> system;
  private final ActorRef<KeyManager.Command> keys;
  private final ActorRef<AliasManager.Command> aliases;
  private final AliasCache aliasCache;
  private final String defaultPolicy;

  public SeedLoader(SeedFile seed, KmsSettings settings, ActorSystem<?> system, ActorRef<KeyManager.Command> keys,
      ActorRef<AliasManager.Command> aliases, AliasCache aliasCache, String defaultPolicy) {
    this.seed = seed;
    this.settings = settings;
    this.system = system;
    this.keys = keys;
    this.aliases = aliases;
    this.aliasCache = aliasCache;
    this.defaultPolicy = defaultPolicy;
  }

  /** Loads every key of this Region, one after the other; fails with a {@link SeedException}. */
  public CompletionStage<Integer> load() {
    CompletionStage<Integer> done = aliasCache.whenLoaded(Duration.ofSeconds(60)).thenApply(v -> 0);
    for (SeedFile.SeededKey key : seed.keys()) {
      if (!key.regions().contains(settings.region())) continue;
      done = done.thenCompose(n -> loadKey(key).thenCompose(v -> loadAliases(key)).thenApply(v -> n + 1));
    }
    return done;
  }

  private CompletionStage<Void> loadKey(SeedFile.SeededKey key) {
    return ask(key.keyId(), KeyEntity.GetKey::new).thenCompose(reply -> {
      if (reply instanceof KeyEntity.KeyFound found) {
        String conflict = conflict(found.key(), key);
        if (conflict != null) {
          throw new SeedException(key.label() + " conflicts with the key in " + settings.region() + ": " + conflict);
        }
        return CompletableFuture.completedFuture(null);
      }
      Key initial = initial(key);
      return ask(key.keyId(), replyTo -> new KeyEntity.CreateKey(initial, replyTo)).thenApply(created -> {
        if (created instanceof KeyEntity.KeyFailed f) {
          if ("AlreadyExistsException".equals(f.error().type())) {
            // Deleted after an earlier seeding (its deletion window ended): deleted keys stay deleted.
            system.log().warn("{}: the key was deleted in {}; not seeded again", key.label(), settings.region());
            return null;
          }
          throw new SeedException(key.label() + ": cannot be created in " + settings.region() + ": " + f.error().message());
        }
        return null;
      });
    });
  }

  /** Why an existing key is not the seeded one, or null when it is. */
  static String conflict(Key existing, SeedFile.SeededKey key) {
    SharedProperties s = existing.shared();
    if (s.keySpec() != key.keySpec()) return "it has key spec " + s.keySpec() + ", the seed file " + key.keySpec();
    if (s.keyUsage() != key.keyUsage()) return "it has key usage " + s.keyUsage() + ", the seed file " + key.keyUsage();
    if (s.origin() != key.origin()) return "it has origin " + s.origin() + ", the seed file " + key.origin();
    if (existing.isMultiRegion() != key.isMultiRegion()) return "multi-Region keys differ";
    if (existing.isMultiRegion()) {
      // Members added at run time (ReplicateKey) are fine; a Region the file adds to an existing
      // key set is not: the other members would never learn of it.
      for (String r : key.regions()) {
        if (!existing.multiRegion().hasMember(r)) {
          return "its key set has no member in " + r + " (add replicas with ReplicateKey, not in the seed file)";
        }
      }
    }
    for (SeedFile.Version v : key.versions()) {
      if (s.material(v.keyMaterialId()) == null) {
        return "it does not have the seeded key material " + v.keyMaterialId() + " (different material)";
      }
    }
    return null;
  }

  private Key initial(SeedFile.SeededKey key) {
    long now = settings.clock().now();
    List<KeyMaterial> materials = SeedFile.materials(key, now);
    SharedProperties shared = sharedProperties(key, materials, now);
    ImportState imports = null;
    if (key.origin() == Origin.EXTERNAL && !key.versions().isEmpty()) {
      // Seeded imported material counts as imported in every Region of the key, never expiring.
      imports = ImportState.EMPTY;
      for (SeedFile.Version v : key.versions()) {
        imports = imports.withMaterial(new ImportedKeyMaterial(v.keyMaterialId(), v.secret(),
            ImportedKeyMaterial.DOES_NOT_EXPIRE, 0, "seeded", now));
      }
    }
    KeyState state = materials.isEmpty() ? KeyState.PendingImport : key.enabled() ? KeyState.Enabled : KeyState.Disabled;
    MultiRegionConfiguration configuration = null;
    if (key.isMultiRegion()) {
      List<String> replicas = key.regions().subList(1, key.regions().size());
      configuration = new MultiRegionConfiguration(1, 1 + replicas.size(), key.primaryRegion(), replicas);
    }
    return new Key(key.keyId(), settings.region(), now, key.description(),
        key.policy() != null ? key.policy() : defaultPolicy, key.tags(), state, shared, configuration,
        List.of(), 0, 0, 0, List.of(), imports);
  }

  /** Version 1 of the shared properties: every material version, the last current, older ones rotated from. */
  private static SharedProperties sharedProperties(SeedFile.SeededKey key, List<KeyMaterial> materials, long now) {
    List<SharedProperties.Rotation> rotations = new ArrayList<>();
    for (int i = 1; i < materials.size(); i++) {
      rotations.add(new SharedProperties.Rotation(materials.get(i).keyMaterialId(), now, "AUTOMATIC"));
    }
    String current = materials.isEmpty() ? null : materials.get(materials.size() - 1).keyMaterialId();
    return new SharedProperties(1, key.keySpec(), key.keyUsage(), key.origin(), materials, current, false, 0, 0, rotations, 0);
  }

  private CompletionStage<Void> loadAliases(SeedFile.SeededKey key) {
    CompletionStage<Void> done = CompletableFuture.completedFuture(null);
    for (String alias : key.aliases()) {
      done = done.thenCompose(v -> {
        AliasManager.Alias existing = aliasCache.get(alias);
        if (existing != null) {
          if (!existing.targetKeyId().equals(key.keyId())) {
            throw new SeedException(key.label() + ": alias " + alias + " in " + settings.region()
                + " already points at another key, " + existing.targetKeyId());
          }
          return CompletableFuture.completedFuture(null);
        }
        return AskPattern.<AliasManager.Command, AliasManager.Reply>ask(aliases,
                replyTo -> new AliasManager.CreateAlias(alias, key.keyId(), settings.clock().now(), replyTo),
                settings.askTimeout(), system.scheduler())
            .thenApply(reply -> {
              if (reply instanceof AliasManager.Failed f) {
                throw new SeedException(key.label() + ": alias " + alias + " in " + settings.region() + ": " + f.error().message());
              }
              return null;
            });
      });
    }
    return done;
  }

  private CompletionStage<KeyEntity.KeyReply> ask(String keyId,
      java.util.function.Function<ActorRef<KeyEntity.KeyReply>, KeyEntity.Command> command) {
    return AskPattern.<KeyManager.Command, KeyEntity.KeyReply>ask(keys,
        replyTo -> new KeyManager.Route(keyId, command.apply(replyTo)), settings.askTimeout(), system.scheduler());
  }

}
