package io.kmsregions.key;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import io.kmsregions.CborSerializable;
import io.kmsregions.KmsSettings;
import io.kmsregions.imports.ImportParameters;
import io.kmsregions.imports.ImportRules;
import io.kmsregions.imports.ImportState;
import io.kmsregions.imports.ImportedKeyMaterial;
import io.kmsregions.region.RegionDirectory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.RecoveryCompleted;
import org.apache.pekko.persistence.typed.javadsl.CommandHandlerWithReply;
import org.apache.pekko.persistence.typed.javadsl.CommandHandlerWithReplyBuilder;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehaviorWithEnforcedReplies;
import org.apache.pekko.persistence.typed.javadsl.ReplyEffect;
import org.apache.pekko.persistence.typed.javadsl.RetentionCriteria;
import org.apache.pekko.persistence.typed.javadsl.SignalHandler;

/**
 * One KMS key in one Region: an event-sourced actor on this node's LevelDB journal (DESIGN.md).
 *
 * <p>Single-Region keys only answer the API. Multi-Region keys also carry the replication state:
 * their {@link MultiRegionConfiguration} and an outbox of {@link Delivery deliveries} to other
 * Regions. Every effect on another Region is persisted here first, then sent with retry and
 * backoff until acknowledged, and re-sent after recovery (invariant 4). The receiving key is
 * idempotent: it applies newer shared properties or configurations and ignores older ones
 * (invariants 3 and 5).
 *
 * <p>ReplicateKey: the primary persists {@link ReplicaAdded} and answers with the replica in
 * {@code Creating}; it delivers {@link CreateReplica} (metadata only), then
 * {@link SynchronizeSharedProperties}, on which the replica becomes {@code Enabled}; then it tells
 * the other members the new member list.
 *
 * <p>UpdatePrimaryRegion, a handover from A to B: A persists {@link HandoverStarted} (A
 * {@code Updating}, B named primary at the next epoch) and delivers {@link Promote}; B persists
 * {@link PromotedToPrimary} ({@code Updating}) and acknowledges; A persists
 * {@link HandoverCompleted} (an {@code Enabled} replica) and delivers {@link CompleteHandover};
 * B persists {@link PrimaryConfirmed} ({@code Enabled}) and tells every other member. If B refuses
 * (its replica is not Enabled), A persists {@link HandoverAborted} and stays primary.
 */
public final class KeyEntity
    extends EventSourcedBehaviorWithEnforcedReplies<KeyEntity.Command, KeyEntity.Event, KeyEntity.State> {

  // ---------------------------------------------------------------- protocol

  /** Everything a key actor accepts. Typed in JSON because other messages carry commands. */
  @JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "command")
  @JsonSubTypes({
    @JsonSubTypes.Type(value = CreateKey.class, name = "CreateKey"),
    @JsonSubTypes.Type(value = GetKey.class, name = "GetKey"),
    @JsonSubTypes.Type(value = ReplicateKey.class, name = "ReplicateKey"),
    @JsonSubTypes.Type(value = UpdatePrimaryRegion.class, name = "UpdatePrimaryRegion"),
    @JsonSubTypes.Type(value = CreateReplica.class, name = "CreateReplica"),
    @JsonSubTypes.Type(value = SynchronizeSharedProperties.class, name = "SynchronizeSharedProperties"),
    @JsonSubTypes.Type(value = SynchronizeConfiguration.class, name = "SynchronizeConfiguration"),
    @JsonSubTypes.Type(value = Promote.class, name = "Promote"),
    @JsonSubTypes.Type(value = CompleteHandover.class, name = "CompleteHandover"),
    @JsonSubTypes.Type(value = DeliveryOutcome.class, name = "DeliveryOutcome"),
    @JsonSubTypes.Type(value = RedeliverPending.class, name = "RedeliverPending"),
    @JsonSubTypes.Type(value = EnableKey.class, name = "EnableKey"),
    @JsonSubTypes.Type(value = DisableKey.class, name = "DisableKey"),
    @JsonSubTypes.Type(value = UpdateKeyDescription.class, name = "UpdateKeyDescription"),
    @JsonSubTypes.Type(value = TagResource.class, name = "TagResource"),
    @JsonSubTypes.Type(value = UntagResource.class, name = "UntagResource"),
    @JsonSubTypes.Type(value = PutKeyPolicy.class, name = "PutKeyPolicy"),
    @JsonSubTypes.Type(value = ScheduleKeyDeletion.class, name = "ScheduleKeyDeletion"),
    @JsonSubTypes.Type(value = CancelKeyDeletion.class, name = "CancelKeyDeletion"),
    @JsonSubTypes.Type(value = EnableKeyRotation.class, name = "EnableKeyRotation"),
    @JsonSubTypes.Type(value = DisableKeyRotation.class, name = "DisableKeyRotation"),
    @JsonSubTypes.Type(value = RotateKeyOnDemand.class, name = "RotateKeyOnDemand"),
    @JsonSubTypes.Type(value = ReplicaDeleted.class, name = "ReplicaDeleted"),
    @JsonSubTypes.Type(value = Due.class, name = "Due"),
    @JsonSubTypes.Type(value = ForcePromote.class, name = "ForcePromote"),
    @JsonSubTypes.Type(value = IssueImportParameters.class, name = "IssueImportParameters"),
    @JsonSubTypes.Type(value = ImportKeyMaterial.class, name = "ImportKeyMaterial"),
    @JsonSubTypes.Type(value = DeleteImportedKeyMaterial.class, name = "DeleteImportedKeyMaterial")
  })
  public sealed interface Command extends CborSerializable {}

  /** A command from this Region's API; it always answers a {@link KeyReply}. */
  public sealed interface ApiCommand extends Command {
    ActorRef<KeyReply> replyTo();
  }

  /** Creates the key from its complete initial state (the API generated id and material). */
  public record CreateKey(Key initial, ActorRef<KeyReply> replyTo) implements ApiCommand {}

  /** Answers the key's current state (DescribeKey, and the cache of the crypto path). */
  public record GetKey(ActorRef<KeyReply> replyTo) implements ApiCommand {}

  /**
   * The operator's forced promotion of this replica (DESIGN.md, failure model; beyond AWS, for
   * study when the primary's Region is lost): this key becomes primary at an epoch above any that a
   * concurrent handover could reach, and tells every other member. Answers the new state, or
   * KMSInvalidStateException while the replica holds no material, ValidationException for a key
   * that is not a multi-Region replica.
   */
  public record ForcePromote(ActorRef<KeyReply> replyTo) implements ApiCommand {}

  /**
   * Published on the node's event stream when this key stepped down after a forced promotion and
   * had something the new primary does not (DESIGN.md: reported, never silently dropped).
   */
  public record ConflictsReported(String keyId, String newPrimaryRegion, long epoch, List<String> conflicts)
      implements CborSerializable {}

  /** ReplicateKey on the primary; answers the new replica's state ({@code Creating}). */
  public record ReplicateKey(
      String replicaRegion, Delivery.ReplicaProperties replica, ActorRef<KeyReply> replyTo)
      implements ApiCommand {}

  /** UpdatePrimaryRegion on the primary; answers this key's state after the handover started. */
  public record UpdatePrimaryRegion(String primaryRegion, ActorRef<KeyReply> replyTo)
      implements ApiCommand {}

  /** EnableKey: Disabled to Enabled (independent per Region). */
  public record EnableKey(ActorRef<KeyReply> replyTo) implements ApiCommand {}

  /** DisableKey: Enabled to Disabled (independent per Region). */
  public record DisableKey(ActorRef<KeyReply> replyTo) implements ApiCommand {}

  public record UpdateKeyDescription(String description, ActorRef<KeyReply> replyTo) implements ApiCommand {}

  /** Adds or replaces tags by TagKey; the result may hold at most 50. */
  public record TagResource(List<Tag> tags, ActorRef<KeyReply> replyTo) implements ApiCommand {}

  public record UntagResource(List<String> tagKeys, ActorRef<KeyReply> replyTo) implements ApiCommand {}

  /** A validated policy document (the lockout check happened at the API). */
  public record PutKeyPolicy(String policy, ActorRef<KeyReply> replyTo) implements ApiCommand {}

  /** Deletion after {@code pendingWindowInDays} (7..30) on the cluster clock. */
  public record ScheduleKeyDeletion(int pendingWindowInDays, ActorRef<KeyReply> replyTo) implements ApiCommand {}

  public record CancelKeyDeletion(ActorRef<KeyReply> replyTo) implements ApiCommand {}

  /** Automatic rotation every {@code rotationPeriodInDays} (90..2560): a shared property. */
  public record EnableKeyRotation(int rotationPeriodInDays, ActorRef<KeyReply> replyTo) implements ApiCommand {}

  public record DisableKeyRotation(ActorRef<KeyReply> replyTo) implements ApiCommand {}

  public record RotateKeyOnDemand(ActorRef<KeyReply> replyTo) implements ApiCommand {}

  /**
   * Timers of the cluster clock (internal): a deletion window, a rotation period or the validity
   * of imported key material may be over.
   */
  public enum Due implements Command { DELETION, ROTATION, IMPORT_EXPIRY }

  // Imported key material (Origin EXTERNAL; kms-api.md §2, §5, §7). The API does the slow
  // cryptography (key pair generation, unwrapping) off the actor; the key checks its state and
  // the token again and persists.

  /** GetParametersForImport: keep {@code parameters} (fresh wrapping key pair) until they expire. */
  public record IssueImportParameters(ImportParameters parameters, ActorRef<KeyReply> replyTo)
      implements ApiCommand {}

  /**
   * ImportKeyMaterial with material the API unwrapped with the parameters of {@code tokenId} and
   * checked against the key spec.
   *
   * @param publicKey of asymmetric material; null otherwise
   * @param importType NEW_KEY_MATERIAL, EXISTING_KEY_MATERIAL or null (the default)
   * @param requestedKeyMaterialId the request's KeyMaterialId, or null
   */
  public record ImportKeyMaterial(String tokenId, ImportedKeyMaterial material, byte[] publicKey,
      String importType, String requestedKeyMaterialId, ActorRef<KeyReply> replyTo) implements ApiCommand {}

  /** DeleteImportedKeyMaterial in this Region; {@code keyMaterialId} null means the current one. */
  public record DeleteImportedKeyMaterial(String keyMaterialId, ActorRef<KeyReply> replyTo) implements ApiCommand {}

  /** A message from another Region's member of the same multi-Region key set. */
  public sealed interface ReplicationCommand extends Command {
    ActorRef<DeliveryReply> replyTo();
  }

  /** Creates this Region's replica, in {@code Creating}, without material. */
  public record CreateReplica(Key replica, ActorRef<DeliveryReply> replyTo)
      implements ReplicationCommand {}

  /** The primary's shared properties; a replica applies them if newer. */
  public record SynchronizeSharedProperties(
      SharedProperties shared, MultiRegionConfiguration configuration, ActorRef<DeliveryReply> replyTo)
      implements ReplicationCommand {}

  /** A member list or primary designation; applied if newer. */
  public record SynchronizeConfiguration(
      MultiRegionConfiguration configuration, ActorRef<DeliveryReply> replyTo)
      implements ReplicationCommand {}

  /** Become primary at {@code configuration.epoch()} (a handover's step 2). */
  public record Promote(
      SharedProperties shared, MultiRegionConfiguration configuration, ActorRef<DeliveryReply> replyTo)
      implements ReplicationCommand {}

  /** The old primary has stepped down: finish the handover (step 4). */
  public record CompleteHandover(
      MultiRegionConfiguration configuration, ActorRef<DeliveryReply> replyTo)
      implements ReplicationCommand {}

  /** A replica was deleted in {@code region}; its primary drops it from the member list. */
  public record ReplicaDeleted(String region, ActorRef<DeliveryReply> replyTo) implements ReplicationCommand {}

  /** The outcome of one delivery attempt (internal). */
  public record DeliveryOutcome(long deliveryId, DeliveryReply reply) implements Command {}

  /** Timer: re-send every pending delivery that is not in flight (internal). */
  public enum RedeliverPending implements Command { INSTANCE }

  /** The answer to an API command. */
  public sealed interface KeyReply extends CborSerializable {}

  public record KeyFound(Key key) implements KeyReply {}

  public record KeyFailed(KmsError error) implements KeyReply {}

  /** The answer to a {@link ReplicationCommand}. */
  @JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "reply")
  @JsonSubTypes({
    @JsonSubTypes.Type(value = Delivered.class, name = "Delivered"),
    @JsonSubTypes.Type(value = Refused.class, name = "Refused"),
    @JsonSubTypes.Type(value = Unreachable.class, name = "Unreachable")
  })
  public sealed interface DeliveryReply extends CborSerializable {}

  /** Persisted (or already applied): the sender may forget the delivery. */
  public record Delivered() implements DeliveryReply {}

  /** Will never be applied (for example a Promote to a replica that is not Enabled). */
  public record Refused(String reason) implements DeliveryReply {}

  /**
   * Not applied: the receiver knows a higher epoch, {@code configuration}. A sender that still acts
   * as primary steps down on it (DESIGN.md, forced promotion); any other sender drops the delivery.
   */
  public record Superseded(MultiRegionConfiguration configuration) implements DeliveryReply {}

  /** Not delivered this time: the Region is unreachable or did not answer in time. */
  public record Unreachable(String reason) implements DeliveryReply {}

  // ---------------------------------------------------------------- events

  /** Everything that happened to a key, in its journal. */
  public sealed interface Event extends CborSerializable {}

  public record KeyCreated(Key key) implements Event {}

  public record ReplicaCreated(Key key) implements Event {}

  public record ReplicaAdded(MultiRegionConfiguration configuration, Delivery createReplica)
      implements Event {}

  /** A delivery was acknowledged; {@code followUps} are what comes next. */
  public record DeliveryCompleted(long deliveryId, List<Delivery> followUps) implements Event {}

  /** Shared properties (and the configuration, when newer; else null) from the primary. */
  public record SharedPropertiesSynchronized(
      SharedProperties shared, MultiRegionConfiguration configuration) implements Event {}

  public record ConfigurationSynchronized(MultiRegionConfiguration configuration) implements Event {}

  public record HandoverStarted(String to, MultiRegionConfiguration configuration, Delivery promote)
      implements Event {}

  /** {@code shared} is null when this member already had the newest shared properties. */
  public record PromotedToPrimary(MultiRegionConfiguration configuration, SharedProperties shared)
      implements Event {}

  public record HandoverCompleted(long promoteDeliveryId, Delivery completeHandover)
      implements Event {}

  public record HandoverAborted(long promoteDeliveryId, String reason,
      MultiRegionConfiguration configuration) implements Event {}

  public record PrimaryConfirmed(List<Delivery> announcements) implements Event {}

  /**
   * This replica was forced to be primary at {@code configuration.epoch()}; {@code shared} is its
   * view rewritten as a new generation; {@code synchronizations} tell every other member.
   */
  public record ForcedToPrimary(String previousPrimary, MultiRegionConfiguration configuration,
      SharedProperties shared, List<Delivery> synchronizations) implements Event {}

  /**
   * A primary (or a key in the middle of a handover) learned of a higher epoch with another
   * primary, and stepped down to a replica of it. {@code shared} is the new primary's shared
   * properties when the message carried newer ones (else null); {@code conflicts} describes what
   * this key had that the new primary does not (abandoned rotations, a superseded handover,
   * deliveries dropped), empty when nothing was lost. Reported, never silently dropped.
   */
  public record PrimaryDemoted(MultiRegionConfiguration configuration, SharedProperties shared,
      List<String> conflicts) implements Event {}

  public record KeyEnabled() implements Event {}

  public record KeyDisabled() implements Event {}

  public record DescriptionUpdated(String description) implements Event {}

  /** The key's tags after a TagResource or UntagResource. */
  public record TagsChanged(List<Tag> tags) implements Event {}

  public record PolicyPut(String policy) implements Event {}

  /** {@code keyState} PendingDeletion (with {@code deletionDate}) or PendingReplicaDeletion (0). */
  public record KeyDeletionScheduled(KeyState keyState, long deletionDate, int pendingWindowInDays)
      implements Event {}

  public record KeyDeletionCancelled() implements Event {}

  /** The deletion window ended; a replica tells its primary. */
  public record KeyDeleted(List<Delivery> notifications) implements Event {}

  /**
   * A replica is gone. When it was the last one of a primary in PendingReplicaDeletion, the
   * primary's own window starts: {@code deletionDate} is then set, else 0.
   */
  public record ReplicaRemoved(MultiRegionConfiguration configuration, List<Delivery> announcements,
      long deletionDate) implements Event {}

  /** Rotation settings changed on the primary; replicas are told. */
  public record RotationSettingsChanged(SharedProperties shared, List<Delivery> synchronizations)
      implements Event {}

  /** New material, held by every member before any encrypts with it. */
  public record RotationStarted(SharedProperties shared, PendingRotation rotation,
      List<Delivery> synchronizations) implements Event {}

  /** Every member holds the new material: it becomes current everywhere. */
  public record RotationCompleted(SharedProperties shared, List<Delivery> synchronizations)
      implements Event {}

  /** GetParametersForImport issued these parameters (independent of other Regions). */
  public record ImportParametersIssued(ImportParameters parameters) implements Event {}

  /**
   * This Region imported {@code material}. {@code shared} is set (and the replicas told) when the
   * import introduced the material to the key set: the first import, or new material for a
   * rotation; null for a re-import of known material.
   */
  public record KeyMaterialImported(ImportedKeyMaterial material, SharedProperties shared,
      List<Delivery> synchronizations, KeyState keyState) implements Event {}

  /**
   * This Region's copies of these imported materials are gone: deleted by
   * DeleteImportedKeyMaterial, or {@code expired} at their ValidTo on the cluster clock.
   */
  public record ImportedKeyMaterialDeleted(List<String> keyMaterialIds, KeyState keyState, boolean expired)
      implements Event {}

  // ---------------------------------------------------------------- state

  /** A key actor's state: nothing yet, a key, or a deleted key. */
  public sealed interface State extends CborSerializable {}

  public record EmptyKey() implements State {}

  /**
   * A key whose deletion window ended. It answers as if it never existed, may be created again as
   * a replica, and still delivers its last notifications (a replica tells its primary).
   */
  public record DeletedKey(String keyId, String region, MultiRegionConfiguration multiRegion,
      List<Delivery> outbox, long nextDeliveryId) implements State {
    public DeletedKey {
      outbox = outbox == null ? List.of() : List.copyOf(outbox);
    }
  }

  /**
   * A rotation under way on the primary: its material is held by every member it has reached,
   * and becomes current once every replica has acknowledged it.
   *
   * @param rotationType AUTOMATIC or ON_DEMAND
   * @param startDate epoch milliseconds on the cluster clock
   */
  public record PendingRotation(String keyMaterialId, String rotationType, long startDate)
      implements CborSerializable {}

  /**
   * A key as this Region holds it. Immutable: the API reads published instances from
   * {@link KeyCache} on other threads.
   *
   * @param creationDate epoch milliseconds on the cluster clock
   * @param multiRegion null for a single-Region key
   * @param outbox deliveries persisted and not yet acknowledged
   * @param deletionDate epoch milliseconds; set only in PendingDeletion
   * @param pendingWindowInDays the window of a scheduled deletion; 0 when none
   * @param pendingRotations rotations under way (primary only), oldest first: their material is
   *     on its way to the replicas and becomes current when all have it
   * @param customKeyStore the custom key store holding the key; null for every other key
   */
  public record Key(
      String keyId,
      String region,
      long creationDate,
      String description,
      String policy,
      List<Tag> tags,
      KeyState keyState,
      SharedProperties shared,
      MultiRegionConfiguration multiRegion,
      List<Delivery> outbox,
      long nextDeliveryId,
      long deletionDate,
      int pendingWindowInDays,
      List<PendingRotation> pendingRotations,
      ImportState imports,
      CustomKeyStoreBinding customKeyStore)
      implements State {

    public Key {
      tags = tags == null ? List.of() : List.copyOf(tags);
      outbox = outbox == null ? List.of() : List.copyOf(outbox);
      pendingRotations = pendingRotations == null ? List.of() : List.copyOf(pendingRotations);
    }

    /** A key without import state (every origin but EXTERNAL, and EXTERNAL before any import). */
    public Key(String keyId, String region, long creationDate, String description, String policy,
        List<Tag> tags, KeyState keyState, SharedProperties shared, MultiRegionConfiguration multiRegion,
        List<Delivery> outbox, long nextDeliveryId, long deletionDate, int pendingWindowInDays,
        List<PendingRotation> pendingRotations) {
      this(keyId, region, creationDate, description, policy, tags, keyState, shared, multiRegion, outbox,
          nextDeliveryId, deletionDate, pendingWindowInDays, pendingRotations, null, null);
    }

    /** A key with import state and not in a custom key store. */
    public Key(String keyId, String region, long creationDate, String description, String policy,
        List<Tag> tags, KeyState keyState, SharedProperties shared, MultiRegionConfiguration multiRegion,
        List<Delivery> outbox, long nextDeliveryId, long deletionDate, int pendingWindowInDays,
        List<PendingRotation> pendingRotations, ImportState imports) {
      this(keyId, region, creationDate, description, policy, tags, keyState, shared, multiRegion, outbox,
          nextDeliveryId, deletionDate, pendingWindowInDays, pendingRotations, imports, null);
    }

    /** This key in a custom key store: the same key with {@code binding}. */
    public Key inCustomKeyStore(CustomKeyStoreBinding binding) {
      return toBuilder().customKeyStore(binding).build();
    }

    /** Whether the key lives in a custom key store (Origin AWS_CLOUDHSM or EXTERNAL_KEY_STORE). */
    public boolean isInCustomKeyStore() {
      return customKeyStore != null;
    }

    /** This Region's imports (Origin EXTERNAL); empty for other keys. */
    public ImportState importState() {
      return imports == null ? ImportState.EMPTY : imports;
    }

    /**
     * The material with this id as this Region can use it, or null. For Origin EXTERNAL the shared
     * properties name the material and this Region's {@link #importState} holds the secret, if it
     * imported the material and it has not expired or been deleted here.
     */
    public KeyMaterial usableMaterial(String keyMaterialId) {
      return usable(shared.material(keyMaterialId));
    }

    /** The current material as this Region can use it (see {@link #usableMaterial}), or null. */
    public KeyMaterial usableCurrentMaterial() {
      return usable(shared.currentMaterial());
    }

    private KeyMaterial usable(KeyMaterial m) {
      if (m == null || shared.origin() != Origin.EXTERNAL) return m;
      ImportedKeyMaterial imported = importState().material(m.keyMaterialId());
      return imported == null || !imported.isImported() ? null
          : new KeyMaterial(m.keyMaterialId(), imported.secret(), m.publicKey(), m.createdAt(), keyId);
    }

    /** A key with no deletion scheduled and no rotation under way. */
    public Key(String keyId, String region, long creationDate, String description, String policy,
        List<Tag> tags, KeyState keyState, SharedProperties shared, MultiRegionConfiguration multiRegion,
        List<Delivery> outbox, long nextDeliveryId) {
      this(keyId, region, creationDate, description, policy, tags, keyState, shared, multiRegion, outbox,
          nextDeliveryId, 0, 0, List.of(), null);
    }

    public boolean isMultiRegion() {
      return multiRegion != null;
    }

    public boolean isPrimary() {
      return multiRegion != null && multiRegion.primaryRegion().equals(region);
    }

    /** Whether this key writes its own shared properties: a single-Region key or a primary. */
    public boolean ownsSharedProperties() {
      return multiRegion == null || isPrimary();
    }

    public boolean isPendingDeletion() {
      return keyState == KeyState.PendingDeletion || keyState == KeyState.PendingReplicaDeletion;
    }

    Builder toBuilder() {
      return new Builder(this);
    }

    public Key withKeyState(KeyState s) {
      return toBuilder().keyState(s).build();
    }

    public Key withShared(SharedProperties s) {
      return toBuilder().shared(s).build();
    }

    public Key withMultiRegion(MultiRegionConfiguration c) {
      return toBuilder().multiRegion(c).build();
    }

    Key withDeliveries(List<Delivery> added) {
      List<Delivery> all = new ArrayList<>(outbox);
      long next = nextDeliveryId;
      for (Delivery d : added) {
        all.add(d);
        next = Math.max(next, d.id() + 1);
      }
      return toBuilder().outbox(all).nextDeliveryId(next).build();
    }

    Key withoutDelivery(long id) {
      List<Delivery> rest = new ArrayList<>(outbox);
      rest.removeIf(d -> d.id() == id);
      return toBuilder().outbox(rest).build();
    }

    Delivery delivery(long id) {
      for (Delivery d : outbox) if (d.id() == id) return d;
      return null;
    }
  }

  /** Copies a {@link Key} with some fields changed (event handlers). */
  static final class Builder {
    private String keyId, region, description, policy;
    private long creationDate, nextDeliveryId, deletionDate;
    private List<Tag> tags;
    private KeyState keyState;
    private SharedProperties shared;
    private MultiRegionConfiguration multiRegion;
    private List<Delivery> outbox;
    private int pendingWindowInDays;
    private List<PendingRotation> pendingRotations;
    private ImportState imports;
    private CustomKeyStoreBinding customKeyStore;

    Builder(Key k) {
      keyId = k.keyId; region = k.region; creationDate = k.creationDate; description = k.description;
      policy = k.policy; tags = k.tags; keyState = k.keyState; shared = k.shared; multiRegion = k.multiRegion;
      outbox = k.outbox; nextDeliveryId = k.nextDeliveryId; deletionDate = k.deletionDate;
      pendingWindowInDays = k.pendingWindowInDays; pendingRotations = k.pendingRotations;
      imports = k.imports; customKeyStore = k.customKeyStore;
    }

    Builder description(String v) { description = v; return this; }
    Builder policy(String v) { policy = v; return this; }
    Builder tags(List<Tag> v) { tags = v; return this; }
    Builder keyState(KeyState v) { keyState = v; return this; }
    Builder shared(SharedProperties v) { shared = v; return this; }
    Builder multiRegion(MultiRegionConfiguration v) { multiRegion = v; return this; }
    Builder outbox(List<Delivery> v) { outbox = v; return this; }
    Builder nextDeliveryId(long v) { nextDeliveryId = v; return this; }
    Builder deletion(long date, int windowDays) { deletionDate = date; pendingWindowInDays = windowDays; return this; }
    Builder pendingRotations(List<PendingRotation> v) { pendingRotations = v; return this; }
    Builder imports(ImportState v) { imports = v; return this; }
    Builder customKeyStore(CustomKeyStoreBinding v) { customKeyStore = v; return this; }

    Key build() {
      return new Key(keyId, region, creationDate, description, policy, tags, keyState, shared, multiRegion,
          outbox, nextDeliveryId, deletionDate, pendingWindowInDays, pendingRotations, imports, customKeyStore);
    }
  }

  // ---------------------------------------------------------------- behavior

  /**
   * @param manager told of every key this actor creates (ListKeys)
   * @param directory how deliveries reach other Regions
   */
  public static Behavior<Command> create(
      String keyId,
      KmsSettings settings,
      KeyCache cache,
      ActorRef<KeyManager.Command> manager,
      ActorRef<RegionDirectory.Command> directory) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers ->
        new KeyEntity(keyId, settings, cache, manager, directory, ctx, timers)));
  }

  private final String keyId;
  private final KmsSettings settings;
  private final KeyCache cache;
  private final ActorRef<KeyManager.Command> manager;
  private final ActorRef<RegionDirectory.Command> directory;
  private final ActorContext<Command> ctx;
  private final TimerScheduler<Command> timers;
  // Transient: which deliveries have an attempt under way, and how many attempts failed in a row.
  private final Set<Long> inFlight = new HashSet<>();
  private static final java.security.SecureRandom RANDOM = new java.security.SecureRandom();
  private int failedAttempts = 0;

  private KeyEntity(
      String keyId,
      KmsSettings settings,
      KeyCache cache,
      ActorRef<KeyManager.Command> manager,
      ActorRef<RegionDirectory.Command> directory,
      ActorContext<Command> ctx,
      TimerScheduler<Command> timers) {
    super(PersistenceId.of("Key", keyId),
        SupervisorStrategy.restartWithBackoff(Duration.ofMillis(200), Duration.ofSeconds(5), 0.1));
    this.keyId = keyId;
    this.settings = settings;
    this.cache = cache;
    this.manager = manager;
    this.directory = directory;
    this.ctx = ctx;
    this.timers = timers;
  }

  @Override
  public State emptyState() {
    return new EmptyKey();
  }

  @Override
  public RetentionCriteria retentionCriteria() {
    return RetentionCriteria.snapshotEvery(settings.snapshotEvery(), 2);
  }

  @Override
  public SignalHandler<State> signalHandler() {
    return newSignalHandlerBuilder()
        .onSignal(RecoveryCompleted.class, (state, signal) -> {
          if (state instanceof Key key) {
            cache.publish(key);
            sendPending(key);
            armTimers(key);
          } else if (state instanceof DeletedKey deleted) {
            sendPending(deleted);
            // Again after every recovery: a crash may have come between the deletion and the notice.
            ctx.getSystem().eventStream().tell(new org.apache.pekko.actor.typed.eventstream.EventStream.Publish<>(
                new KeyManager.KeyDeleted(keyId)));
          }
        })
        .build();
  }

  @Override
  public CommandHandlerWithReply<Command, Event, State> commandHandler() {
    CommandHandlerWithReplyBuilder<Command, Event, State> builder = newCommandHandlerWithReplyBuilder();
    builder.forStateType(EmptyKey.class)
        .onCommand(CreateKey.class, this::onCreateKey)
        .onCommand(CreateReplica.class, this::onCreateReplica)
        .onCommand(GetKey.class, (s, c) -> Effect().reply(c.replyTo(), notFound()))
        .onCommand(ReplicateKey.class, (s, c) -> Effect().reply(c.replyTo(), notFound()))
        .onCommand(UpdatePrimaryRegion.class, (s, c) -> Effect().reply(c.replyTo(), notFound()))
        .onCommand(ReplicationCommand.class, (s, c) ->
            Effect().reply(c.replyTo(), new Refused("no key " + keyId + " in " + settings.region())))
        .onCommand(DeliveryOutcome.class, (s, c) -> Effect().noReply())
        .onCommand(RedeliverPending.class, (s, c) -> Effect().noReply())
        .onCommand(Due.class, (s, c) -> Effect().noReply())
        .onCommand(ApiCommand.class, (s, c) -> Effect().reply(c.replyTo(), notFound()));
    builder.forStateType(DeletedKey.class)
        .onCommand(CreateReplica.class, this::onCreateReplicaAgain)
        .onCommand(ReplicationCommand.class, (s, c) ->
            Effect().reply(c.replyTo(), new Refused(keyId + " was deleted in " + settings.region())))
        .onCommand(DeliveryOutcome.class, this::onDeletedDeliveryOutcome)
        .onCommand(RedeliverPending.class, (s, c) -> {
          sendPending(s);
          return Effect().noReply();
        })
        .onCommand(Due.class, (s, c) -> Effect().noReply())
        .onCommand(CreateKey.class, (s, c) ->
            Effect().reply(c.replyTo(), new KeyFailed(KmsError.alreadyExists("Key " + keyId + " existed."))))
        .onCommand(ApiCommand.class, (s, c) -> Effect().reply(c.replyTo(), notFound()));
    builder.forStateType(Key.class)
        .onCommand(CreateKey.class, (k, c) ->
            Effect().reply(c.replyTo(), new KeyFailed(KmsError.alreadyExists("Key " + keyId + " exists."))))
        .onCommand(GetKey.class, (k, c) -> Effect().reply(c.replyTo(), new KeyFound(k)))
        .onCommand(ReplicateKey.class, this::onReplicateKey)
        .onCommand(UpdatePrimaryRegion.class, this::onUpdatePrimaryRegion)
        .onCommand(CreateReplica.class, (k, c) -> Effect().reply(c.replyTo(), new Delivered()))
        .onCommand(SynchronizeSharedProperties.class, this::onSynchronizeSharedProperties)
        .onCommand(SynchronizeConfiguration.class, this::onSynchronizeConfiguration)
        .onCommand(Promote.class, this::onPromote)
        .onCommand(CompleteHandover.class, this::onCompleteHandover)
        .onCommand(ReplicaDeleted.class, this::onReplicaDeleted)
        .onCommand(DeliveryOutcome.class, this::onDeliveryOutcome)
        .onCommand(RedeliverPending.class, this::onRedeliverPending)
        .onCommand(EnableKey.class, this::onEnableKey)
        .onCommand(DisableKey.class, this::onDisableKey)
        .onCommand(UpdateKeyDescription.class, this::onUpdateKeyDescription)
        .onCommand(TagResource.class, this::onTagResource)
        .onCommand(UntagResource.class, this::onUntagResource)
        .onCommand(PutKeyPolicy.class, (k, c) -> persistAndReply(new PolicyPut(c.policy()), c.replyTo()))
        .onCommand(ScheduleKeyDeletion.class, this::onScheduleKeyDeletion)
        .onCommand(CancelKeyDeletion.class, this::onCancelKeyDeletion)
        .onCommand(EnableKeyRotation.class, this::onEnableKeyRotation)
        .onCommand(DisableKeyRotation.class, this::onDisableKeyRotation)
        .onCommand(RotateKeyOnDemand.class, this::onRotateKeyOnDemand)
        .onCommand(ForcePromote.class, this::onForcePromote)
        .onCommand(IssueImportParameters.class, this::onIssueImportParameters)
        .onCommand(ImportKeyMaterial.class, this::onImportKeyMaterial)
        .onCommand(DeleteImportedKeyMaterial.class, this::onDeleteImportedKeyMaterial)
        .onCommand(Due.class, this::onDue);
    return builder.build();
  }

  // ---- API commands

  private ReplyEffect<Event, State> onCreateKey(EmptyKey empty, CreateKey c) {
    return Effect().persist(new KeyCreated(c.initial()))
        .thenRun(this::afterPersist)
        .thenRun(s -> manager.tell(new KeyManager.Registered(keyId)))
        .thenReply(c.replyTo(), s -> new KeyFound((Key) s));
  }

  private ReplyEffect<Event, State> onReplicateKey(Key k, ReplicateKey c) {
    String arn = arn(k);
    if (!k.isPrimary()) {
      return Effect().reply(c.replyTo(), failed(KmsError.unsupported(arn + " is not a multi-region primary key.")));
    }
    KmsError stateError = requireEnabled(k);
    if (stateError != null) return Effect().reply(c.replyTo(), failed(stateError));
    String target = c.replicaRegion();
    if (target.equals(settings.region())) {
      return Effect().reply(c.replyTo(), failed(KmsError.validation(
          "ReplicaRegion " + target + " is the Region of the primary key " + arn + ".")));
    }
    if (!settings.regions().contains(target)) {
      return Effect().reply(c.replyTo(), failed(KmsError.unsupported(
          "The Region " + target + " is not a Region of this cluster " + settings.regions() + ".")));
    }
    if (k.multiRegion().hasMember(target)) {
      return Effect().reply(c.replyTo(), failed(KmsError.alreadyExists(
          "You can create only one replica of each primary key in each AWS Region.")));
    }
    MultiRegionConfiguration next = k.multiRegion().withReplica(target);
    Delivery create = new Delivery(k.nextDeliveryId(), target, Delivery.Kind.CREATE_REPLICA, c.replica());
    return Effect().persist(new ReplicaAdded(next, create))
        .thenRun(this::afterPersist)
        .thenReply(c.replyTo(), s -> new KeyFound(replicaOf((Key) s, target, c.replica())));
  }

  private ReplyEffect<Event, State> onUpdatePrimaryRegion(Key k, UpdatePrimaryRegion c) {
    String arn = arn(k);
    if (!k.isMultiRegion()) {
      return Effect().reply(c.replyTo(), failed(KmsError.unsupported(arn + " is not a multi-region key.")));
    }
    if (!k.isPrimary()) {
      return Effect().reply(c.replyTo(), failed(KmsError.unsupported(arn + " is not a multi-region primary key.")));
    }
    KmsError stateError = requireEnabled(k);
    if (stateError != null) return Effect().reply(c.replyTo(), failed(stateError));
    String target = c.primaryRegion();
    if (target.equals(settings.region())) {
      return Effect().reply(c.replyTo(), new KeyFound(k)); // already the primary: nothing to do
    }
    if (!k.multiRegion().replicaRegions().contains(target)) {
      return Effect().reply(c.replyTo(), failed(KmsError.notFound(
          "There is no replica of " + arn + " in " + target + ".")));
    }
    if (k.outbox().stream().anyMatch(d -> d.region().equals(target) && d.kind() == Delivery.Kind.CREATE_REPLICA)) {
      // The target's replica does not exist yet: it is not Enabled, so AWS refuses, and a Promote
      // would only be refused later. (A pending synchronisation is not enough to refuse: its
      // acknowledgement may simply not have arrived; the target itself refuses if still Creating.)
      return Effect().reply(c.replyTo(), failed(KmsError.invalidState(
          settings.keyArn(target, keyId) + " " + KeyState.Creating.phrase())));
    }
    if (!k.pendingRotations().isEmpty()) {
      return Effect().reply(c.replyTo(), failed(new KmsError("ConflictException",
          "A rotation of " + arn + " is in progress; update the primary Region when it completes.")));
    }
    MultiRegionConfiguration next = k.multiRegion().handedOverTo(target);
    Delivery promote = new Delivery(k.nextDeliveryId(), target, Delivery.Kind.PROMOTE, null);
    return Effect().persist(new HandoverStarted(target, next, promote))
        .thenRun(this::afterPersist)
        .thenReply(c.replyTo(), s -> new KeyFound((Key) s));
  }

  // ---- lifecycle commands (independent properties: this Region's key alone)

  private ReplyEffect<Event, State> onEnableKey(Key k, EnableKey c) {
    KmsError e = enableDisableError(k);
    if (e != null) return Effect().reply(c.replyTo(), failed(e));
    if (k.keyState() == KeyState.Enabled) return Effect().reply(c.replyTo(), new KeyFound(k));
    return persistAndReply(new KeyEnabled(), c.replyTo());
  }

  private ReplyEffect<Event, State> onDisableKey(Key k, DisableKey c) {
    KmsError e = enableDisableError(k);
    if (e != null) return Effect().reply(c.replyTo(), failed(e));
    if (k.keyState() == KeyState.Disabled) return Effect().reply(c.replyTo(), new KeyFound(k));
    return persistAndReply(new KeyDisabled(), c.replyTo());
  }

  private ReplyEffect<Event, State> onUpdateKeyDescription(Key k, UpdateKeyDescription c) {
    if (k.isPendingDeletion()) return Effect().reply(c.replyTo(), failed(pendingDeletion(k)));
    return persistAndReply(new DescriptionUpdated(c.description()), c.replyTo());
  }

  private ReplyEffect<Event, State> onTagResource(Key k, TagResource c) {
    if (k.isPendingDeletion()) return Effect().reply(c.replyTo(), failed(pendingDeletion(k)));
    java.util.LinkedHashMap<String, Tag> tags = new java.util.LinkedHashMap<>();
    for (Tag t : k.tags()) tags.put(t.tagKey(), t);
    for (Tag t : c.tags()) tags.put(t.tagKey(), t);
    if (tags.size() > 50) {
      return Effect().reply(c.replyTo(), failed(new KmsError("TagException", "Too many tags")));
    }
    return persistAndReply(new TagsChanged(List.copyOf(tags.values())), c.replyTo());
  }

  private ReplyEffect<Event, State> onUntagResource(Key k, UntagResource c) {
    if (k.isPendingDeletion()) return Effect().reply(c.replyTo(), failed(pendingDeletion(k)));
    List<Tag> rest = new ArrayList<>(k.tags());
    rest.removeIf(t -> c.tagKeys().contains(t.tagKey()));
    return persistAndReply(new TagsChanged(rest), c.replyTo());
  }

  private ReplyEffect<Event, State> onScheduleKeyDeletion(Key k, ScheduleKeyDeletion c) {
    if (k.isPendingDeletion()) return Effect().reply(c.replyTo(), failed(pendingDeletion(k)));
    if (k.keyState() == KeyState.Updating) return Effect().reply(c.replyTo(), failed(stateError(k)));
    // A primary with replicas waits for them: PendingReplicaDeletion, its window not started.
    Event scheduled = k.isPrimary() && !k.multiRegion().replicaRegions().isEmpty()
        ? new KeyDeletionScheduled(KeyState.PendingReplicaDeletion, 0, c.pendingWindowInDays())
        : new KeyDeletionScheduled(KeyState.PendingDeletion,
            settings.clock().now() + Duration.ofDays(c.pendingWindowInDays()).toMillis(), c.pendingWindowInDays());
    return persistAndReply(scheduled, c.replyTo());
  }

  private ReplyEffect<Event, State> onCancelKeyDeletion(Key k, CancelKeyDeletion c) {
    if (!k.isPendingDeletion()) {
      return Effect().reply(c.replyTo(), failed(KmsError.invalidState(arn(k) + " is not pending deletion.")));
    }
    return persistAndReply(new KeyDeletionCancelled(), c.replyTo());
  }

  private ReplyEffect<Event, State> onReplicaDeleted(Key k, ReplicaDeleted c) {
    if (!k.isPrimary() || !k.multiRegion().replicaRegions().contains(c.region())) {
      return Effect().reply(c.replyTo(), new Delivered());
    }
    MultiRegionConfiguration next = k.multiRegion().withoutReplica(c.region());
    List<Delivery> announcements = announce(k, next.replicaRegions(), Delivery.Kind.SYNC_CONFIGURATION);
    long deletionDate = k.keyState() == KeyState.PendingReplicaDeletion && next.replicaRegions().isEmpty()
        ? settings.clock().now() + Duration.ofDays(k.pendingWindowInDays()).toMillis()
        : 0;
    return Effect().persist(new ReplicaRemoved(next, announcements, deletionDate))
        .thenRun(this::afterPersist)
        .thenReply(c.replyTo(), s -> new Delivered());
  }

  private ReplyEffect<Event, State> onDue(Key k, Due due) {
    long now = settings.clock().now();
    if (due == Due.DELETION && k.keyState() == KeyState.PendingDeletion && now >= k.deletionDate()) {
      List<Delivery> notify = k.isMultiRegion() && !k.isPrimary()
          ? List.of(new Delivery(k.nextDeliveryId(), k.multiRegion().primaryRegion(), Delivery.Kind.REPLICA_DELETED, null))
          : List.of();
      return Effect().persist(new KeyDeleted(notify))
          .thenRun(s -> {
            cache.deleted(keyId);
            manager.tell(new KeyManager.Unregistered(keyId));
            ctx.getSystem().eventStream().tell(new org.apache.pekko.actor.typed.eventstream.EventStream.Publish<>(
                new KeyManager.KeyDeleted(keyId)));
            if (s instanceof DeletedKey d) sendPending(d);
          })
          .thenNoReply();
    }
    if (due == Due.ROTATION && k.ownsSharedProperties() && k.shared().rotationEnabled()
        && now >= k.shared().nextRotationDate()
        && (k.keyState() == KeyState.Enabled)) {
      return startRotation(k, "AUTOMATIC", null, null);
    }
    if (due == Due.IMPORT_EXPIRY) {
      List<String> expired = k.importState().expiredAt(now);
      if (!expired.isEmpty()) {
        return Effect().persist(new ImportedKeyMaterialDeleted(expired, ImportRules.stateAfterDeletion(k, expired), true))
            .thenRun(this::afterPersist)
            .thenNoReply();
      }
    }
    armTimers(k); // early (timers are capped) or not applicable any more
    return Effect().noReply();
  }

  // ---- imported key material (Origin EXTERNAL): independent per Region, except the material's identity

  private ReplyEffect<Event, State> onIssueImportParameters(Key k, IssueImportParameters c) {
    KmsError e = ImportRules.getParametersError(k, arn(k));
    if (e != null) return Effect().reply(c.replyTo(), failed(e));
    return persistAndReply(new ImportParametersIssued(c.parameters()), c.replyTo());
  }

  private ReplyEffect<Event, State> onImportKeyMaterial(Key k, ImportKeyMaterial c) {
    String arn = arn(k);
    KmsError e = ImportRules.importError(k, arn, c.tokenId(), settings.clock().now());
    if (e != null) return Effect().reply(c.replyTo(), failed(e));
    String primaryArn = k.isMultiRegion() ? settings.keyArn(k.multiRegion().primaryRegion(), keyId) : arn;
    Object decision = ImportRules.accept(k, arn, c.material(), c.publicKey(), c.importType(),
        c.requestedKeyMaterialId(), settings.clock().now(), primaryArn);
    if (decision instanceof KmsError refused) return Effect().reply(c.replyTo(), failed(refused));
    ImportRules.Accepted accepted = (ImportRules.Accepted) decision;
    // New material is a shared property: the replicas learn its id (never the secret; each Region imports it).
    List<Delivery> syncs = accepted.shared() == null ? List.of() : synchronizeReplicas(k);
    return persistAndReply(new KeyMaterialImported(c.material(), accepted.shared(), syncs, accepted.keyState()),
        c.replyTo());
  }

  private ReplyEffect<Event, State> onDeleteImportedKeyMaterial(Key k, DeleteImportedKeyMaterial c) {
    String arn = arn(k);
    KmsError e = ImportRules.deleteError(k, arn);
    if (e != null) return Effect().reply(c.replyTo(), failed(e));
    String id = c.keyMaterialId();
    if (id != null && k.shared().material(id) == null) {
      return Effect().reply(c.replyTo(), failed(KmsError.notFound(
          "Key material " + id + " is not associated with " + arn + ".")));
    }
    if (id == null && k.shared().currentMaterial() != null) id = k.shared().currentMaterial().keyMaterialId();
    if (id == null || !k.importState().holds(id)) {
      return Effect().reply(c.replyTo(), new KeyFound(k)); // nothing imported here: a no-op (§6)
    }
    List<String> ids = List.of(id);
    return persistAndReply(new ImportedKeyMaterialDeleted(ids, ImportRules.stateAfterDeletion(k, ids), false),
        c.replyTo());
  }

  // ---- rotation: shared properties, written by the primary only

  private ReplyEffect<Event, State> onEnableKeyRotation(Key k, EnableKeyRotation c) {
    KmsError e = rotationSettingsError(k);
    if (e != null) return Effect().reply(c.replyTo(), failed(e));
    long next = settings.clock().now() + Duration.ofDays(c.rotationPeriodInDays()).toMillis();
    SharedProperties shared = k.shared().withRotation(true, c.rotationPeriodInDays(), next);
    return persistAndReply(new RotationSettingsChanged(shared, synchronizeReplicas(k)), c.replyTo());
  }

  private ReplyEffect<Event, State> onDisableKeyRotation(Key k, DisableKeyRotation c) {
    KmsError e = rotationSettingsError(k);
    if (e != null) return Effect().reply(c.replyTo(), failed(e));
    if (!k.shared().rotationEnabled()) return Effect().reply(c.replyTo(), new KeyFound(k));
    SharedProperties shared = k.shared().withRotation(false, k.shared().rotationPeriodInDays(), 0);
    return persistAndReply(new RotationSettingsChanged(shared, synchronizeReplicas(k)), c.replyTo());
  }

  private ReplyEffect<Event, State> onRotateKeyOnDemand(Key k, RotateKeyOnDemand c) {
    String arn = arn(k);
    if (!k.shared().keySpec().isSymmetricEncryption()) {
      return Effect().reply(c.replyTo(), failed(new KmsError("UnsupportedOperationException", null)));
    }
    if (k.isInCustomKeyStore()) {
      // Keys in custom key stores cannot rotate (kms-api.md §6 note 7).
      return Effect().reply(c.replyTo(), failed(KmsError.unsupported(
          arn + " origin is " + k.shared().origin() + " which is not valid for this operation.")));
    }
    if (!k.ownsSharedProperties()) return Effect().reply(c.replyTo(), failed(replicaSharedError(k)));
    KeyMaterial imported = null;
    if (k.shared().origin() == Origin.EXTERNAL) {
      // On-demand rotation of imported material makes the material imported for it current
      // (kms-api.md §2 RotateKeyOnDemand, §5 "Imported key material"); this Region must hold it.
      imported = ImportRules.pendingMaterial(k.shared());
      if (imported == null || k.usableMaterial(imported.keyMaterialId()) == null) {
        return Effect().reply(c.replyTo(), failed(KmsError.invalidState(
            "No available key material pending rotation for the key: " + arn + ".")));
      }
    }
    if (k.keyState() != KeyState.Enabled) return Effect().reply(c.replyTo(), failed(stateError(k)));
    // Rotations still on their way to a replica count too, or an unreachable replica would lift the quota.
    long onDemand = k.shared().onDemandRotations()
        + k.pendingRotations().stream().filter(p -> p.rotationType().equals("ON_DEMAND")).count();
    if (onDemand >= 25) {
      return Effect().reply(c.replyTo(), failed(new KmsError("LimitExceededException",
          "The on-demand rotations limit has been reached for the given keyId. "
              + "No more on-demand rotations can be performed for this key: " + arn)));
    }
    return startRotation(k, "ON_DEMAND", c.replyTo(), imported);
  }

  /**
   * New material goes to every member first; it becomes current (everywhere) only when every
   * replica has acknowledged it, so a ciphertext made anywhere decrypts everywhere. A key without
   * replicas completes at once.
   */
  private ReplyEffect<Event, State> startRotation(Key k, String type, ActorRef<KeyReply> replyTo,
      KeyMaterial imported) {
    long now = settings.clock().now();
    KeyMaterial material;
    SharedProperties pending;
    if (imported != null) {
      // Imported material is already known to every member (its import announced it).
      material = imported;
      pending = k.shared().withRotation(k.shared().rotationEnabled(), k.shared().rotationPeriodInDays(),
          k.shared().nextRotationDate());
    } else {
      byte[] secret = new byte[32];
      RANDOM.nextBytes(secret);
      material = new KeyMaterial(io.kmsregions.crypto.SymmetricCiphertext.newKeyMaterialId(), secret, null, now,
          k.keyId());
      pending = k.shared().withPendingMaterial(material);
    }
    PendingRotation rotation = new PendingRotation(material.keyMaterialId(), type, now);
    List<Event> events = new ArrayList<>();
    List<Delivery> syncs = synchronizeReplicas(k);
    events.add(new RotationStarted(pending, rotation, syncs));
    if (syncs.isEmpty()) {
      List<PendingRotation> all = new ArrayList<>(k.pendingRotations());
      all.add(rotation);
      events.add(completion(pending, all, k.nextDeliveryId(), k, now));
    }
    var effect = Effect().persist(events).thenRun(this::afterPersist);
    return replyTo == null ? effect.thenNoReply() : effect.thenReply(replyTo, s -> new KeyFound((Key) s));
  }

  /** Every rotation under way completes, in order; the newest material becomes current. */
  private RotationCompleted completion(SharedProperties pending, List<PendingRotation> rotations, long nextId, Key k, long now) {
    long next = pending.rotationEnabled() ? now + Duration.ofDays(pending.rotationPeriodInDays()).toMillis() : 0;
    SharedProperties done = pending;
    for (PendingRotation rotation : rotations) {
      done = done.withRotationCompleted(rotation.keyMaterialId(), rotation.startDate(), rotation.rotationType(), next);
    }
    List<Delivery> syncs = new ArrayList<>();
    if (k.isMultiRegion()) {
      for (String r : k.multiRegion().replicaRegions()) {
        syncs.add(new Delivery(nextId++, r, Delivery.Kind.SYNC_SHARED_PROPERTIES, null));
      }
    }
    return new RotationCompleted(done, syncs);
  }

  private List<Delivery> synchronizeReplicas(Key k) {
    return k.isMultiRegion()
        ? announce(k, k.multiRegion().replicaRegions(), Delivery.Kind.SYNC_SHARED_PROPERTIES)
        : List.of();
  }

  private static List<Delivery> announce(Key k, List<String> regions, Delivery.Kind kind) {
    List<Delivery> out = new ArrayList<>();
    long id = k.nextDeliveryId();
    for (String r : regions) out.add(new Delivery(id++, r, kind, null));
    return out;
  }

  private ReplyEffect<Event, State> persistAndReply(Event e, ActorRef<KeyReply> replyTo) {
    return Effect().persist(e).thenRun(this::afterPersist).thenReply(replyTo, s -> new KeyFound((Key) s));
  }

  // ---- replication commands, from other Regions

  private ReplyEffect<Event, State> onCreateReplica(EmptyKey empty, CreateReplica c) {
    return Effect().persist(new ReplicaCreated(c.replica()))
        .thenRun(this::afterPersist)
        .thenRun(s -> manager.tell(new KeyManager.Registered(keyId)))
        .thenReply(c.replyTo(), s -> new Delivered());
  }

  private ReplyEffect<Event, State> onCreateReplicaAgain(DeletedKey deleted, CreateReplica c) {
    return Effect().persist(new ReplicaCreated(c.replica()))
        .thenRun(this::afterPersist)
        .thenRun(s -> manager.tell(new KeyManager.Registered(keyId)))
        .thenReply(c.replyTo(), s -> new Delivered());
  }

  private ReplyEffect<Event, State> onDeletedDeliveryOutcome(DeletedKey deleted, DeliveryOutcome o) {
    inFlight.remove(o.deliveryId());
    if (deleted.outbox().stream().noneMatch(d -> d.id() == o.deliveryId())) return Effect().noReply();
    if (o.reply() instanceof Unreachable) {
      scheduleRetry();
      return Effect().noReply();
    }
    return Effect().persist(new DeliveryCompleted(o.deliveryId(), List.of())).thenNoReply();
  }

  private ReplyEffect<Event, State> onSynchronizeSharedProperties(Key k, SynchronizeSharedProperties c) {
    if (supersedesMyPrimacy(k, c.configuration())) return stepDown(k, c.configuration(), c.shared(), c.replyTo());
    // From a sender behind this key's epoch: newer shared properties still apply (versions run on
    // across handovers, and a new generation wins), but the answer tells the sender the epoch it
    // missed, so that a primary superseded by a forced promotion steps down instead of taking the
    // answer for an acknowledgement (and, say, completing a rotation nobody else will use).
    boolean stale = isStale(k, c.configuration());
    boolean newerShared = c.shared().isNewerThan(k.shared());
    String awaited = newerShared ? ImportRules.awaitedImport(k, c.shared()) : null;
    if (awaited != null) {
      // A rotation to imported material this Region knows but has not imported yet (kms-api.md
      // §5): not acknowledged, so the primary keeps retrying and completes the rotation (makes the
      // material current anywhere) only once this Region has imported it too.
      return Effect().reply(c.replyTo(), new Unreachable(settings.region() + " has not imported key material "
          + awaited + " of " + keyId + " yet"));
    }
    MultiRegionConfiguration config =
        c.configuration().isNewerThan(k.multiRegion()) ? c.configuration() : null;
    if (newerShared) {
      // A new generation (a forced promotion) replaces this key's view wholesale: say what is lost.
      List<String> lost = new ArrayList<>();
      if (c.shared().generation() > k.shared().generation()) {
        for (KeyMaterial m : k.shared().materials()) {
          if (c.shared().material(m.keyMaterialId()) == null) {
            lost.add("key material " + m.keyMaterialId() + " is unknown to the primary of generation "
                + c.shared().generation() + " (" + c.configuration().primaryRegion() + ") and was dropped here");
          }
        }
      }
      return Effect().persist(new SharedPropertiesSynchronized(c.shared(), config))
          .thenRun(this::afterPersist)
          .thenRun(st -> reportConflicts(c.configuration(), lost))
          .thenReply(c.replyTo(), s -> stale ? new Superseded(((Key) s).multiRegion()) : new Delivered());
    }
    if (stale) return Effect().reply(c.replyTo(), new Superseded(k.multiRegion()));
    if (config != null) {
      return Effect().persist(new ConfigurationSynchronized(config))
          .thenRun(this::afterPersist)
          .thenReply(c.replyTo(), s -> new Delivered());
    }
    return Effect().reply(c.replyTo(), new Delivered());
  }

  private ReplyEffect<Event, State> onSynchronizeConfiguration(Key k, SynchronizeConfiguration c) {
    if (supersedesMyPrimacy(k, c.configuration())) return stepDown(k, c.configuration(), null, c.replyTo());
    if (isStale(k, c.configuration())) return Effect().reply(c.replyTo(), new Superseded(k.multiRegion()));
    if (!c.configuration().isNewerThan(k.multiRegion())) {
      return Effect().reply(c.replyTo(), new Delivered());
    }
    return Effect().persist(new ConfigurationSynchronized(c.configuration()))
        .thenRun(this::afterPersist)
        .thenReply(c.replyTo(), s -> new Delivered());
  }

  private ReplyEffect<Event, State> onPromote(Key k, Promote c) {
    MultiRegionConfiguration offered = c.configuration();
    if (k.isMultiRegion() && k.multiRegion().epoch() == offered.epoch()
        && offered.primaryRegion().equals(settings.region()) && k.isPrimary()) {
      return Effect().reply(c.replyTo(), new Delivered()); // a retry of the Promote we applied
    }
    // A primary that proposes a handover below the epoch this member knows was superseded by a
    // forced promotion: it must step down, not abort back to primacy at a next epoch.
    if (isStale(k, offered)) return Effect().reply(c.replyTo(), new Superseded(k.multiRegion()));
    // A Promote must raise the epoch: a newer member list at the same epoch names no new primary
    // (invariant 5: at most one primary per epoch).
    if (k.multiRegion() != null && offered.epoch() <= k.multiRegion().epoch()) {
      return Effect().reply(c.replyTo(), new Refused("stale epoch " + offered.epoch()
          + "; " + settings.region() + " knows epoch " + k.multiRegion().epoch()));
    }
    if (k.keyState() != KeyState.Enabled) {
      return Effect().reply(c.replyTo(), new Refused(arn(k) + " " + k.keyState().phrase()));
    }
    SharedProperties shared = c.shared().isNewerThan(k.shared()) ? c.shared() : null;
    return Effect().persist(new PromotedToPrimary(offered, shared))
        .thenRun(this::afterPersist)
        .thenReply(c.replyTo(), s -> new Delivered());
  }

  /**
   * Whether {@code offered} names another primary at a higher epoch while this key acts as primary
   * or is handing over: a forced promotion happened while this Region was away.
   */
  private boolean supersedesMyPrimacy(Key k, MultiRegionConfiguration offered) {
    if (k.multiRegion() == null || offered.epoch() <= k.multiRegion().epoch()) return false;
    if (offered.primaryRegion().equals(settings.region())) return false;
    boolean handingOver = k.keyState() == KeyState.Updating;
    return k.isPrimary() || handingOver;
  }

  /** Whether a message carrying {@code offered} comes from an epoch this key has left behind. */
  private static boolean isStale(Key k, MultiRegionConfiguration offered) {
    return k.multiRegion() != null && offered.epoch() < k.multiRegion().epoch();
  }

  private ReplyEffect<Event, State> stepDown(Key k, MultiRegionConfiguration offered, SharedProperties offeredShared,
      ActorRef<DeliveryReply> replyTo) {
    PrimaryDemoted demoted = demotion(k, offered, offeredShared);
    return Effect().persist(demoted)
        .thenRun(this::afterPersist)
        .thenRun(st -> reportConflicts(offered, demoted.conflicts()))
        .thenReply(replyTo, s -> new Delivered());
  }

  private void reportConflicts(MultiRegionConfiguration offered, List<String> conflicts) {
    if (conflicts.isEmpty()) return;
    ctx.getLog().warn("{} in {} stepped down for {} (epoch {}); conflicts: {}", keyId, settings.region(),
        offered.primaryRegion(), offered.epoch(), conflicts);
    ctx.getSystem().eventStream().tell(new org.apache.pekko.actor.typed.eventstream.EventStream.Publish<>(
        new ConflictsReported(keyId, offered.primaryRegion(), offered.epoch(), conflicts)));
  }

  /** What this key had that the primary of {@code offered} may lack: reported, never silently dropped. */
  private PrimaryDemoted demotion(Key k, MultiRegionConfiguration offered, SharedProperties offeredShared) {
    SharedProperties shared = offeredShared != null && offeredShared.isNewerThan(k.shared()) ? offeredShared : null;
    List<String> conflicts = new ArrayList<>();
    for (PendingRotation r : k.pendingRotations()) {
      conflicts.add("rotation to material " + r.keyMaterialId() + " started " + r.startDate()
          + " in " + settings.region() + " at epoch " + k.multiRegion().epoch()
          + " was abandoned (never current, so no ciphertext used it)");
    }
    if (k.keyState() == KeyState.Updating) {
      conflicts.add("handover of " + settings.region() + " to " + k.multiRegion().primaryRegion() + " at epoch "
          + k.multiRegion().epoch() + " was superseded");
    }
    for (Delivery d : k.outbox()) {
      if (d.kind() != Delivery.Kind.REPLICA_DELETED) {
        conflicts.add("undelivered " + d.kind() + " to " + d.region() + " was dropped");
      }
    }
    for (String m : k.multiRegion().members()) {
      if (!offered.hasMember(m)) {
        conflicts.add("member " + m + " known at epoch " + k.multiRegion().epoch()
            + " is not a member at epoch " + offered.epoch());
      }
    }
    if (offeredShared != null) {
      for (KeyMaterial m : k.shared().materials()) {
        if (offeredShared.material(m.keyMaterialId()) == null) {
          boolean wasCurrent = k.shared().rotations().stream().anyMatch(r -> r.keyMaterialId().equals(m.keyMaterialId()))
              || m.keyMaterialId().equals(k.shared().currentKeyMaterialId());
          conflicts.add("key material " + m.keyMaterialId() + " is unknown to the new primary " + offered.primaryRegion()
              + (wasCurrent ? "; it was current here, so ciphertexts made with it in " + settings.region()
                  + " no longer decrypt anywhere" : "; it was never current, so no ciphertext used it"));
        }
      }
    }
    return new PrimaryDemoted(offered, shared, conflicts);
  }

  private ReplyEffect<Event, State> onForcePromote(Key k, ForcePromote c) {
    String arn = arn(k);
    if (!k.isMultiRegion() || k.isPrimary()) {
      return Effect().reply(c.replyTo(), failed(KmsError.validation(arn + " is not a multi-Region replica key.")));
    }
    if (k.shared().currentMaterial() == null || k.keyState() == KeyState.Creating) {
      return Effect().reply(c.replyTo(), failed(KmsError.invalidState(arn + " " + k.keyState().phrase())));
    }
    // Above any epoch a concurrent handover (+1) or its abort (+2) could reach, and distinct per
    // Region, so that two forced promotions from the same epoch never share one.
    int index = Math.max(0, settings.regions().indexOf(settings.region()));
    long epoch = k.multiRegion().epoch() + 1000 + index;
    MultiRegionConfiguration next = k.multiRegion().forcedTo(settings.region(), epoch);
    List<Delivery> syncs = new ArrayList<>();
    long id = k.nextDeliveryId();
    for (String member : next.members()) {
      if (!member.equals(settings.region())) syncs.add(new Delivery(id++, member, Delivery.Kind.SYNC_SHARED_PROPERTIES, null));
    }
    ctx.getLog().warn("{} forced primary in {} at epoch {} (previous primary {})", keyId, settings.region(), epoch,
        k.multiRegion().primaryRegion());
    return Effect().persist(new ForcedToPrimary(k.multiRegion().primaryRegion(), next, k.shared().regenerated(epoch), syncs))
        .thenRun(this::afterPersist)
        .thenReply(c.replyTo(), s -> new KeyFound((Key) s));
  }

  private ReplyEffect<Event, State> onCompleteHandover(Key k, CompleteHandover c) {
    if (!k.isPrimary() || k.keyState() != KeyState.Updating
        || k.multiRegion().epoch() != c.configuration().epoch()) {
      return Effect().reply(c.replyTo(), new Delivered()); // a retry, or superseded by a newer epoch
    }
    List<Delivery> announcements = new ArrayList<>();
    long id = k.nextDeliveryId();
    for (String member : k.multiRegion().members()) {
      if (!member.equals(settings.region())) {
        announcements.add(new Delivery(id++, member, Delivery.Kind.SYNC_CONFIGURATION, null));
      }
    }
    return Effect().persist(new PrimaryConfirmed(announcements))
        .thenRun(this::afterPersist)
        .thenReply(c.replyTo(), s -> new Delivered());
  }

  // ---- delivery bookkeeping

  private ReplyEffect<Event, State> onDeliveryOutcome(Key k, DeliveryOutcome o) {
    inFlight.remove(o.deliveryId());
    Delivery d = k.delivery(o.deliveryId());
    if (d == null) return Effect().noReply();
    if (o.reply() instanceof Unreachable u) {
      ctx.getLog().debug("Delivery {} of {} to {} not acknowledged: {}", d.kind(), keyId, d.region(), u.reason());
      scheduleRetry();
      return Effect().noReply();
    }
    failedAttempts = 0;
    if (o.reply() instanceof Superseded sup) {
      if (supersedesMyPrimacy(k, sup.configuration())) {
        PrimaryDemoted demoted = demotion(k, sup.configuration(), null);
        return Effect().persist(demoted)
            .thenRun(this::afterPersist)
            .thenRun(st -> reportConflicts(sup.configuration(), demoted.conflicts()))
            .thenNoReply();
      }
      if (sup.configuration().epoch() <= k.multiRegion().epoch()) {
        // The refused attempt was built before this key learned the current epoch; the next one carries it.
        scheduleRetry();
        return Effect().noReply();
      }
      // A replica behind a newer epoch: that epoch's primary synchronises every member itself.
      return complete(k, d, List.of());
    }
    if (o.reply() instanceof Refused r) {
      ctx.getLog().warn("{} refused {} of {}: {}", d.region(), d.kind(), keyId, r.reason());
      if (d.kind() == Delivery.Kind.PROMOTE) {
        MultiRegionConfiguration back = k.multiRegion().handedOverTo(settings.region());
        return Effect().persist(new HandoverAborted(d.id(), r.reason(), back))
            .thenRun(this::afterPersist)
            .thenNoReply();
      }
      return complete(k, d, List.of());
    }
    // Delivered: persist that, with what comes next.
    long id = k.nextDeliveryId();
    switch (d.kind()) {
      case CREATE_REPLICA: {
        List<Delivery> next = new ArrayList<>();
        next.add(new Delivery(id++, d.region(), Delivery.Kind.SYNC_SHARED_PROPERTIES, null));
        for (String member : k.multiRegion().replicaRegions()) {
          // Never this Region: after a handover this key is itself one of the replicas.
          if (!member.equals(d.region()) && !member.equals(settings.region())) {
            next.add(new Delivery(id++, member, Delivery.Kind.SYNC_CONFIGURATION, null));
          }
        }
        // Sent while their write is under way, not after it: one journal write (an fsync) less
        // before the replica is Enabled. Their intent is already durable: CREATE_REPLICA leaves
        // the journal only in that same write, so a crash before it re-sends CreateReplica and
        // derives them again (the replica answers Delivered). What they carry (shared properties,
        // member list) is durable too, as the write changes neither. Receivers are idempotent.
        sendPending(k.withoutDelivery(d.id()).withDeliveries(next));
        return complete(k, d, next);
      }
      case PROMOTE:
        return Effect().persist(new HandoverCompleted(d.id(),
                new Delivery(id, d.region(), Delivery.Kind.COMPLETE_HANDOVER, null)))
            .thenRun(this::afterPersist)
            .thenNoReply();
      default:
        return complete(k, d, List.of());
    }
  }

  /**
   * Forgets {@code d}. When it was the last unacknowledged synchronisation of a rotation under
   * way, every replica now holds the new material: the rotation completes in the same write.
   */
  private ReplyEffect<Event, State> complete(Key k, Delivery d, List<Delivery> followUps) {
    List<Event> events = new ArrayList<>();
    events.add(new DeliveryCompleted(d.id(), followUps));
    Key after = k.withoutDelivery(d.id()).withDeliveries(followUps);
    if (!after.pendingRotations().isEmpty() && after.outbox().stream()
        .noneMatch(x -> x.kind() == Delivery.Kind.SYNC_SHARED_PROPERTIES || x.kind() == Delivery.Kind.CREATE_REPLICA)) {
      events.add(completion(after.shared(), after.pendingRotations(), after.nextDeliveryId(), after,
          settings.clock().now()));
    }
    return Effect().persist(events).thenRun(this::afterPersist).thenNoReply();
  }

  private ReplyEffect<Event, State> onRedeliverPending(Key k, RedeliverPending r) {
    sendPending(k);
    return Effect().noReply();
  }

  private void afterPersist(State state) {
    if (state instanceof Key key) {
      cache.publish(key);
      sendPending(key);
      armTimers(key);
    }
  }

  /**
   * Starts the timers of the cluster clock this key needs now: the end of its deletion window,
   * its next automatic rotation. Capped at the clock's max-timer-delay (a day; a second on a node
   * whose clock speed may change, so a sped-up clock is noticed); a timer that fires early re-arms.
   */
  private void armTimers(Key k) {
    Duration cap = settings.clock().maxTimerDelay();
    if (k.keyState() == KeyState.PendingDeletion && k.deletionDate() > 0) {
      Duration d = settings.clock().realDelayUntil(k.deletionDate());
      timers.startSingleTimer("deletion", Due.DELETION, d.compareTo(cap) > 0 ? cap : d);
    } else {
      timers.cancel("deletion");
    }
    long expiry = k.importState().earliestExpiry();
    if (expiry > 0) {
      Duration d = settings.clock().realDelayUntil(expiry);
      timers.startSingleTimer("import-expiry", Due.IMPORT_EXPIRY, d.compareTo(cap) > 0 ? cap : d);
    } else {
      timers.cancel("import-expiry");
    }
    if (k.ownsSharedProperties() && k.shared().rotationEnabled() && k.shared().nextRotationDate() > 0) {
      Duration d = settings.clock().realDelayUntil(k.shared().nextRotationDate());
      timers.startSingleTimer("rotation", Due.ROTATION, d.compareTo(cap) > 0 ? cap : d);
    } else {
      timers.cancel("rotation");
    }
  }

  private void sendPending(DeletedKey deleted) {
    for (Delivery d : deleted.outbox()) {
      if (inFlight.add(d.id())) {
        ctx.ask(DeliveryReply.class, directory, settings.deliveryTimeout(),
            (ActorRef<DeliveryReply> replyTo) -> new RegionDirectory.DeliverToKey(d.region(), keyId,
                new ReplicaDeleted(settings.region(), replyTo)),
            (reply, failure) -> new DeliveryOutcome(d.id(),
                reply != null ? reply : new Unreachable(String.valueOf(failure))));
      }
    }
  }

  private void sendPending(Key k) {
    // An old primary in the middle of a handover has only proposed its new configuration: the
    // target may still refuse the Promote. Messages are built from the current state, so every
    // other delivery waits until the handover completes or is aborted; otherwise it would announce
    // the proposal as fact (and a replica could take itself for the primary of an aborted epoch).
    boolean handingOver = k.keyState() == KeyState.Updating && !k.isPrimary();
    for (Delivery d : k.outbox()) {
      if (handingOver && d.kind() != Delivery.Kind.PROMOTE) continue;
      if (inFlight.add(d.id())) {
        ctx.ask(DeliveryReply.class, directory, settings.deliveryTimeout(),
            (ActorRef<DeliveryReply> replyTo) ->
                new RegionDirectory.DeliverToKey(d.region(), keyId, message(k, d, replyTo)),
            (reply, failure) -> new DeliveryOutcome(d.id(),
                reply != null ? reply : new Unreachable(String.valueOf(failure))));
      }
    }
  }

  private void scheduleRetry() {
    failedAttempts = Math.min(failedAttempts + 1, 20);
    long min = settings.minBackoff().toMillis();
    long delay = Math.min(settings.maxBackoff().toMillis(), min << Math.min(failedAttempts - 1, 16));
    if (!timers.isTimerActive("redeliver")) {
      timers.startSingleTimer("redeliver", RedeliverPending.INSTANCE, Duration.ofMillis(delay));
    }
  }

  /** The message for {@code d}, built from the current state so that a retry sends the newest. */
  private ReplicationCommand message(Key k, Delivery d, ActorRef<DeliveryReply> replyTo) {
    switch (d.kind()) {
      case CREATE_REPLICA:
        return new CreateReplica(replicaOf(k, d.region(), d.replica()), replyTo);
      case SYNC_SHARED_PROPERTIES:
        return new SynchronizeSharedProperties(k.shared(), k.multiRegion(), replyTo);
      case SYNC_CONFIGURATION:
        return new SynchronizeConfiguration(k.multiRegion(), replyTo);
      case PROMOTE:
        return new Promote(k.shared(), k.multiRegion(), replyTo);
      case COMPLETE_HANDOVER:
        return new CompleteHandover(k.multiRegion(), replyTo);
      case REPLICA_DELETED:
        return new ReplicaDeleted(settings.region(), replyTo);
      default:
        throw new IllegalStateException("unknown delivery kind " + d.kind());
    }
  }

  // ---------------------------------------------------------------- event handler

  @Override
  public EventHandler<State, Event> eventHandler() {
    return newEventHandlerBuilder()
        .forAnyState()
        .onEvent(KeyCreated.class, (s, e) -> e.key())
        .onEvent(ReplicaCreated.class, (s, e) -> e.key())
        .onEvent(ReplicaAdded.class, (s, e) ->
            ((Key) s).withMultiRegion(e.configuration()).withDeliveries(List.of(e.createReplica())))
        .onEvent(DeliveryCompleted.class, (s, e) -> {
          if (s instanceof DeletedKey d) {
            List<Delivery> rest = new ArrayList<>(d.outbox());
            rest.removeIf(x -> x.id() == e.deliveryId());
            return new DeletedKey(d.keyId(), d.region(), d.multiRegion(), rest, d.nextDeliveryId());
          }
          return ((Key) s).withoutDelivery(e.deliveryId()).withDeliveries(e.followUps());
        })
        .onEvent(SharedPropertiesSynchronized.class, (s, e) -> {
          Key k = ((Key) s).withShared(e.shared());
          if (e.configuration() != null) k = k.withMultiRegion(e.configuration());
          if (k.keyState() == KeyState.Creating) {
            // A replica of an imported-material key starts without material: each Region imports it (§5).
            k = k.withKeyState(k.usableCurrentMaterial() == null ? KeyState.PendingImport : KeyState.Enabled);
          }
          return k;
        })
        .onEvent(ConfigurationSynchronized.class, (s, e) -> ((Key) s).withMultiRegion(e.configuration()))
        .onEvent(HandoverStarted.class, (s, e) -> ((Key) s)
            .withKeyState(KeyState.Updating)
            .withMultiRegion(e.configuration())
            .withDeliveries(List.of(e.promote())))
        .onEvent(PromotedToPrimary.class, (s, e) -> {
          Key k = ((Key) s).withKeyState(KeyState.Updating).withMultiRegion(e.configuration());
          return e.shared() == null ? k : k.withShared(e.shared());
        })
        .onEvent(HandoverCompleted.class, (s, e) -> ((Key) s)
            .withoutDelivery(e.promoteDeliveryId())
            .withKeyState(KeyState.Enabled)
            .withDeliveries(List.of(e.completeHandover())))
        .onEvent(HandoverAborted.class, (s, e) -> ((Key) s)
            .withoutDelivery(e.promoteDeliveryId())
            .withKeyState(KeyState.Enabled)
            .withMultiRegion(e.configuration()))
        .onEvent(PrimaryConfirmed.class, (s, e) -> ((Key) s)
            .withKeyState(KeyState.Enabled)
            .withDeliveries(e.announcements()))
        .onEvent(ForcedToPrimary.class, (s, e) -> {
          Key k = (Key) s;
          List<Delivery> kept = new ArrayList<>(k.outbox());
          kept.removeIf(d -> d.kind() != Delivery.Kind.REPLICA_DELETED);
          return k.toBuilder().multiRegion(e.configuration()).shared(e.shared()).outbox(kept)
              .keyState(k.keyState() == KeyState.Updating ? KeyState.Enabled : k.keyState()).build()
              .withDeliveries(e.synchronizations());
        })
        .onEvent(PrimaryDemoted.class, (s, e) -> {
          Key k = (Key) s;
          List<Delivery> kept = new ArrayList<>(k.outbox());
          kept.removeIf(d -> d.kind() != Delivery.Kind.REPLICA_DELETED);
          return k.toBuilder().multiRegion(e.configuration()).shared(e.shared() == null ? k.shared() : e.shared())
              .outbox(kept).pendingRotations(List.of())
              .keyState(k.keyState() == KeyState.Updating ? KeyState.Enabled : k.keyState()).build();
        })
        .onEvent(KeyEnabled.class, (s, e) -> ((Key) s).withKeyState(KeyState.Enabled))
        .onEvent(KeyDisabled.class, (s, e) -> ((Key) s).withKeyState(KeyState.Disabled))
        .onEvent(DescriptionUpdated.class, (s, e) -> ((Key) s).toBuilder().description(e.description()).build())
        .onEvent(TagsChanged.class, (s, e) -> ((Key) s).toBuilder().tags(e.tags()).build())
        .onEvent(PolicyPut.class, (s, e) -> ((Key) s).toBuilder().policy(e.policy()).build())
        .onEvent(KeyDeletionScheduled.class, (s, e) -> ((Key) s).toBuilder()
            .keyState(e.keyState()).deletion(e.deletionDate(), e.pendingWindowInDays()).build())
        .onEvent(KeyDeletionCancelled.class, (s, e) -> ((Key) s).toBuilder()
            .keyState(KeyState.Disabled).deletion(0, 0).build())
        .onEvent(KeyDeleted.class, (s, e) -> {
          Key k = (Key) s;
          return new DeletedKey(k.keyId(), k.region(), k.multiRegion(), e.notifications(),
              k.nextDeliveryId() + e.notifications().size());
        })
        .onEvent(ReplicaRemoved.class, (s, e) -> {
          Key k = ((Key) s).withMultiRegion(e.configuration()).withDeliveries(e.announcements());
          return e.deletionDate() == 0 ? k
              : k.toBuilder().keyState(KeyState.PendingDeletion).deletion(e.deletionDate(), k.pendingWindowInDays()).build();
        })
        .onEvent(RotationSettingsChanged.class, (s, e) ->
            ((Key) s).withShared(e.shared()).withDeliveries(e.synchronizations()))
        .onEvent(RotationStarted.class, (s, e) -> ((Key) s).toBuilder()
            .shared(e.shared()).pendingRotations(appended(((Key) s).pendingRotations(), e.rotation())).build()
            .withDeliveries(e.synchronizations()))
        .onEvent(RotationCompleted.class, (s, e) -> ((Key) s).toBuilder()
            .shared(e.shared()).pendingRotations(List.of()).build().withDeliveries(e.synchronizations()))
        .onEvent(ImportParametersIssued.class, (s, e) -> ((Key) s).toBuilder()
            .imports(((Key) s).importState().withParameters(e.parameters())).build())
        .onEvent(KeyMaterialImported.class, (s, e) -> {
          Key k = (Key) s;
          Builder b = k.toBuilder().imports(k.importState().withMaterial(e.material())).keyState(e.keyState());
          if (e.shared() != null) b.shared(e.shared());
          return b.build().withDeliveries(e.synchronizations());
        })
        .onEvent(ImportedKeyMaterialDeleted.class, (s, e) -> ((Key) s).toBuilder()
            .imports(((Key) s).importState().withDeleted(e.keyMaterialIds())).keyState(e.keyState()).build())
        .build();
  }

  // ---------------------------------------------------------------- helpers

  /** The replica of {@code primary} in {@code region} as it starts: {@code Creating}, no material. */
  static Key replicaOf(Key primary, String region, Delivery.ReplicaProperties props) {
    return new Key(primary.keyId(), region, props.creationDate(), props.description(), props.policy(),
        props.tags(), KeyState.Creating, primary.shared().withoutMaterial(), primary.multiRegion(),
        List.of(), 0);
  }

  /** The key-state rule of ReplicateKey and UpdatePrimaryRegion (kms-api.md §6): Enabled only. */
  private KmsError requireEnabled(Key k) {
    switch (k.keyState()) {
      case Enabled:
        return null;
      case Disabled:
        return KmsError.disabled(arn(k));
      default:
        return KmsError.invalidState(arn(k) + " " + k.keyState().phrase());
    }
  }

  /** EnableKey and DisableKey (kms-api.md §6): not while pending deletion, import, creating, updating. */
  private KmsError enableDisableError(Key k) {
    return switch (k.keyState()) {
      case Enabled, Disabled, Unavailable -> null;
      default -> stateError(k);
    };
  }

  /** The KMSInvalidStateException of the key's state, or DisabledException. */
  private KmsError stateError(Key k) {
    return k.keyState() == KeyState.Disabled
        ? KmsError.disabled(arn(k))
        : KmsError.invalidState(arn(k) + " " + k.keyState().phrase());
  }

  private KmsError pendingDeletion(Key k) {
    return KmsError.invalidState(arn(k) + " " + KeyState.PendingDeletion.phrase());
  }

  private KmsError replicaSharedError(Key k) {
    return KmsError.unsupported(arn(k) + " is a multi-Region replica key. Change its shared properties on the primary key "
        + settings.keyArn(k.multiRegion().primaryRegion(), keyId) + ".");
  }

  /** Enable/DisableKeyRotation (kms-api.md §6, note 7): symmetric AWS_KMS keys, on the primary. */
  private KmsError rotationSettingsError(Key k) {
    KmsError status = rotationStatusError(k, arn(k));
    if (status != null) return status;
    if (!k.ownsSharedProperties()) return replicaSharedError(k);
    return switch (k.keyState()) {
      case Enabled, Updating -> null;
      default -> stateError(k);
    };
  }

  /**
   * Why a key has no rotation status (GetKeyRotationStatus, kms-api.md §6 notes 6 and 7), or null:
   * only symmetric encryption keys rotate, and imported material does not rotate automatically.
   */
  public static KmsError rotationStatusError(Key k, String arn) {
    if (k.shared().origin() == Origin.EXTERNAL) {
      return KmsError.unsupported(arn + " origin is EXTERNAL which is not valid for this operation.");
    }
    if (!k.shared().keySpec().isSymmetricEncryption() || k.shared().origin() != Origin.AWS_KMS) {
      return KmsError.unsupported(arn + " has key spec " + k.shared().keySpec() + " and origin "
          + k.shared().origin() + ", which do not support automatic rotation.");
    }
    return null;
  }

  private static <T> List<T> appended(List<T> list, T item) {
    List<T> all = new ArrayList<>(list);
    all.add(item);
    return all;
  }

  private String arn(Key k) {
    return settings.keyArn(k.region(), k.keyId());
  }

  private KeyFailed notFound() {
    return new KeyFailed(KmsError.keyNotFound(settings.keyArn(settings.region(), keyId)));
  }

  private static KeyFailed failed(KmsError e) {
    return new KeyFailed(e);
  }
}
