package io.kmsregions.api;

import com.fasterxml.jackson.databind.JsonNode;
import io.kmsregions.KmsSettings;
import io.kmsregions.alias.AliasCache;
import io.kmsregions.alias.AliasManager;
import io.kmsregions.key.KeyArns;
import io.kmsregions.key.KeyCache;
import io.kmsregions.key.KeyEntity;
import io.kmsregions.key.KeyEntity.Key;
import io.kmsregions.key.KeyManager;
import io.kmsregions.key.KmsError;
import io.kmsregions.region.RegionDirectory;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.javadsl.AskPattern;

/**
 * What every operation group shares: the node's settings and actors, KeyId resolution, and the
 * two ways to reach a key (its cached state, or its actor).
 */
final class ApiContext {
  /** One KMS operation: the request in, the JSON answer out (null for an empty body). */
  @FunctionalInterface
  interface Operation {
    CompletionStage<JsonNode> apply(ApiRequest request);
  }

  static final String DRY_RUN_MESSAGE = "The request would have succeeded, but the DryRun option is set.";
  private static final HexFormat HEX = HexFormat.of();
  static final SecureRandom RANDOM = new SecureRandom();

  private final KmsSettings settings;
  private final ActorSystem<?> system;
  private final ActorRef<KeyManager.Command> keys;
  private final ActorRef<RegionDirectory.Command> directory;
  private final KeyCache cache;
  private final AliasCache aliases;
  private final io.kmsregions.key.KeyUsageTracker usage;
  private final Executor blocking;
  /** Key policies, identity policies and grants decide who may call (issue 7 "Authorisation"). */
  private final io.kmsregions.security.authz.Authorizer authorizer;
  private final io.kmsregions.keystore.KeyStoreServices keyStores;

  ApiContext(
      KmsSettings settings,
      ActorSystem<?> system,
      ActorRef<KeyManager.Command> keys,
      ActorRef<RegionDirectory.Command> directory,
      KeyCache cache,
      AliasCache aliases,
      io.kmsregions.keystore.KeyStoreServices keyStores) {
    this.settings = settings;
    this.system = system;
    this.keys = keys;
    this.directory = directory;
    this.cache = cache;
    this.aliases = aliases;
    this.usage = new io.kmsregions.key.KeyUsageTracker(settings.clock().now());
    this.blocking = system.dispatchers().lookup(DispatcherSelector.blocking());
    this.authorizer = io.kmsregions.security.authz.Authorizer.fromConfig(system.settings().config());
    this.keyStores = keyStores;
  }

  /** This Region's custom key stores, CloudHSM clusters and external key store proxies. */
  io.kmsregions.keystore.KeyStoreServices keyStores() {
    return keyStores;
  }

  /**
   * The key as the API shows and checks it: a key of a custom key store that cannot be used now
   * (the store is not CONNECTED, or its proxy does not answer) is Unavailable while it is Enabled
   * or Disabled (kms-api.md §6); its actor keeps the state it would return to.
   */
  Key view(Key k) {
    if (k.customKeyStore() == null) return k;
    if (k.keyState() != io.kmsregions.key.KeyState.Enabled && k.keyState() != io.kmsregions.key.KeyState.Disabled) return k;
    if (keyStores.cache().isAvailable(k.customKeyStore().customKeyStoreId())) return k;
    return k.withKeyState(io.kmsregions.key.KeyState.Unavailable);
  }

  io.kmsregions.security.authz.Authorizer authorizer() {
    return authorizer;
  }

  private static final Executor DIRECT = Runnable::run;

  /**
   * A stage from Pekko as a CompletableFuture whose callbacks run on the completing thread.
   * Pekko's Java stages are Scala-backed and run even thenApply/handle on CompletableFuture's
   * default async executor, which starts a new thread per task when the common pool's
   * parallelism is 1, as on 2 cores (BENCHMARKS.md, hot spot 1).
   */
  static <T> CompletableFuture<T> direct(CompletionStage<T> stage) {
    return stage.toCompletableFuture().thenApplyAsync(t -> t, DIRECT);
  }

  /** {@link AskPattern#ask}, continued on the thread that completes it (see {@link #direct}). */
  static <Req, Res> CompletableFuture<Res> ask(
      org.apache.pekko.actor.typed.RecipientRef<Req> target,
      java.util.function.Function<ActorRef<Res>, Req> message,
      java.time.Duration timeout,
      org.apache.pekko.actor.typed.Scheduler scheduler) {
    return direct(AskPattern.ask(target, message::apply, timeout, scheduler));
  }

  KmsSettings settings() {
    return settings;
  }

  ActorSystem<?> system() {
    return system;
  }

  ActorRef<KeyManager.Command> keys() {
    return keys;
  }

  ActorRef<RegionDirectory.Command> directory() {
    return directory;
  }

  /** The last cryptographic use of each key (GetKeyLastUsage). */
  io.kmsregions.key.KeyUsageTracker usage() {
    return usage;
  }

  /** This Region's aliases, as their manager last persisted them. */
  AliasCache aliases() {
    return aliases;
  }

  /** For work that must not run on actor or HTTP threads (key generation). */
  Executor blocking() {
    return blocking;
  }

  /**
   * A KeyId parameter of an operation that accepts alias forms (kms-api.md §2, "KeyId forms":
   * Encrypt, Decrypt, ReEncrypt, GenerateDataKey*, GenerateDataKeyPair*, Sign, Verify,
   * GenerateMac, VerifyMac, GetPublicKey, DescribeKey, DeriveSharedSecret) as a bare key id of this
   * Region: a key id, a key ARN, an alias name {@code alias/x} or an alias ARN
   * {@code arn:aws:kms:<region>:<account>:alias/x}, resolved through this Region's aliases.
   *
   * @throws KmsException ValidationException when missing or too long; NotFoundException for a
   *     malformed id, an ARN of another Region or account, or an alias this Region does not have
   *     ({@code Alias <alias ARN> is not found.})
   */
  String resolveKeyId(String keyId) {
    return resolve(keyId, true);
  }

  /**
   * A KeyId parameter of a management operation, which takes a key id or key ARN only (every
   * operation not listed at {@link #resolveKeyId}): the same, except that an alias name or alias
   * ARN is refused with InvalidArnException {@code Key Aliases are not supported for this
   * operation.} (AWS's text, recorded for an alias ARN given to CreateGrant; assumed for an alias
   * name, which AWS documents as invalid there too).
   */
  String resolveKeyIdNoAlias(String keyId) {
    return resolve(keyId, false);
  }

  static final String ALIASES_NOT_SUPPORTED = "Key Aliases are not supported for this operation.";

  private String resolve(String keyId, boolean aliasAllowed) {
    Validate.required(keyId, "keyId");
    Validate.length(keyId, "keyId", 1, 2048);
    if (keyId.startsWith("arn:")) {
      String[] parts = keyId.split(":", 6);
      if (parts.length != 6 || !parts[2].equals("kms") || !parts[5].contains("/")) {
        throw new KmsException(KmsError.notFound("Invalid arn " + keyId));
      }
      if (!parts[3].equals(settings.region())) {
        throw new KmsException(KmsError.notFound("Invalid arn " + parts[3]));
      }
      if (!parts[4].equals(settings.accountId()) || !parts[1].equals(settings.partition())) {
        throw new KmsException(KmsError.notFound("Invalid arn " + keyId));
      }
      if (parts[5].startsWith("alias/")) {
        return aliasTarget(parts[5], aliasAllowed);
      }
      if (!parts[5].startsWith("key/") || !KeyArns.isKeyId(parts[5].substring(4))) {
        throw new KmsException(KmsError.notFound("Invalid arn " + keyId));
      }
      return parts[5].substring(4);
    }
    if (keyId.startsWith("alias/")) return aliasTarget(keyId, aliasAllowed);
    if (!KeyArns.isKeyId(keyId)) throw new KmsException(KmsError.notFound("Invalid keyId '" + keyId + "'"));
    return keyId;
  }

  private String aliasTarget(String aliasName, boolean aliasAllowed) {
    if (!aliasAllowed) throw new KmsException(new KmsError("InvalidArnException", ALIASES_NOT_SUPPORTED));
    AliasManager.Alias alias = aliases.get(aliasName);
    if (alias == null) {
      throw new KmsException(KmsError.notFound("Alias " + AliasCache.aliasArn(settings, aliasName) + " is not found."));
    }
    return alias.targetKeyId();
  }

  /** The key's newest state: from the cache, or from its actor (which then starts on this node). */
  CompletionStage<Key> key(String keyId) {
    Key cached = cache.get(keyId);
    if (cached != null) return CompletableFuture.completedFuture(view(cached));
    return askKey(keyId, KeyEntity.GetKey::new);
  }

  CompletionStage<Key> askKey(
      String keyId, Function<ActorRef<KeyEntity.KeyReply>, KeyEntity.Command> command) {
    CompletionStage<KeyEntity.KeyReply> reply = ask(keys,
        replyTo -> new KeyManager.Route(keyId, command.apply(replyTo)), settings.askTimeout(), system.scheduler());
    return reply.thenApply(r -> {
      if (r instanceof KeyEntity.KeyFound f) return view(f.key());
      throw new KmsException(((KeyEntity.KeyFailed) r).error());
    });
  }

  String arn(Key k) {
    return settings.keyArn(settings.region(), k.keyId());
  }

  static Map<String, String> context(Map<String, String> context) {
    return context == null ? Map.of() : context;
  }

  static KmsException dryRun() {
    return new KmsException(new KmsError("DryRunOperationException", DRY_RUN_MESSAGE));
  }

  static JsonNode readTree(byte[] body) {
    try {
      return Json.tree(body);
    } catch (java.io.IOException e) {
      return Json.MAPPER.createObjectNode();
    }
  }

  static String randomHex(int bytes) {
    byte[] b = new byte[bytes];
    RANDOM.nextBytes(b);
    return HEX.formatHex(b);
  }

  /** The default key policy of CreateKey and ReplicateKey (kms-api.md §4), in AWS's layout. */
  String defaultPolicy() {
    return "{\n"
        + "  \"Version\" : \"2012-10-17\",\n"
        + "  \"Id\" : \"key-default-1\",\n"
        + "  \"Statement\" : [ {\n"
        + "    \"Sid\" : \"Enable IAM User Permissions\",\n"
        + "    \"Effect\" : \"Allow\",\n"
        + "    \"Principal\" : {\n"
        + "      \"AWS\" : \"arn:" + settings.partition() + ":iam::" + settings.accountId() + ":root\"\n"
        + "    },\n"
        + "    \"Action\" : \"kms:*\",\n"
        + "    \"Resource\" : \"*\"\n"
        + "  } ]\n"
        + "}";
  }
}
