package io.kmsregions.api;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.kmsregions.KmsSettings;
import io.kmsregions.key.KeyEntity.Key;
import io.kmsregions.key.KeyMaterial;
import io.kmsregions.key.KeyState;
import io.kmsregions.key.MultiRegionConfiguration;
import io.kmsregions.key.Origin;
import io.kmsregions.key.SharedProperties;
import io.kmsregions.key.Tag;
import java.math.BigDecimal;
import java.util.List;

/** KeyMetadata as AWS shows it (kms-api.md §3), and the other JSON shapes of keys. */
final class KeyMetadataJson {
  private KeyMetadataJson() {}

  /** Epoch milliseconds as AWS's epoch seconds with a fractional part. */
  static BigDecimal epochSeconds(long millis) {
    return BigDecimal.valueOf(millis, 3);
  }

  static ObjectNode of(Key k, KmsSettings settings) {
    SharedProperties shared = k.shared();
    ObjectNode m = Json.MAPPER.createObjectNode();
    m.put("AWSAccountId", settings.accountId());
    m.put("KeyId", k.keyId());
    m.put("Arn", settings.keyArn(k.region(), k.keyId()));
    m.put("CreationDate", epochSeconds(k.creationDate()));
    m.put("Enabled", k.keyState() == KeyState.Enabled);
    m.put("Description", k.description() == null ? "" : k.description());
    m.put("KeyUsage", shared.keyUsage().name());
    m.put("KeyState", k.keyState().name());
    if (k.keyState() == KeyState.PendingDeletion) m.put("DeletionDate", epochSeconds(k.deletionDate()));
    m.put("Origin", shared.origin().name());
    if (k.customKeyStore() != null) {
      m.put("CustomKeyStoreId", k.customKeyStore().customKeyStoreId());
      if (k.customKeyStore().cloudHsmClusterId() != null) m.put("CloudHsmClusterId", k.customKeyStore().cloudHsmClusterId());
      if (k.customKeyStore().xksKeyId() != null) m.putObject("XksKeyConfiguration").put("Id", k.customKeyStore().xksKeyId());
    }
    m.put("KeyManager", "CUSTOMER");
    shared.keySpec().customerMasterKeySpec().ifPresent(s -> m.put("CustomerMasterKeySpec", s));
    m.put("KeySpec", shared.keySpec().name());
    List<String> algorithms = shared.keySpec().algorithms(shared.keyUsage());
    String listName = switch (shared.keyUsage()) {
      case ENCRYPT_DECRYPT -> "EncryptionAlgorithms";
      case SIGN_VERIFY -> "SigningAlgorithms";
      case GENERATE_VERIFY_MAC -> "MacAlgorithms";
      case KEY_AGREEMENT -> "KeyAgreementAlgorithms";
    };
    ArrayNode list = m.putArray(listName);
    algorithms.forEach(list::add);
    m.put("MultiRegion", k.isMultiRegion());
    if (k.isMultiRegion()) m.set("MultiRegionConfiguration", configuration(k, settings));
    if (k.keyState() == KeyState.PendingReplicaDeletion) m.put("PendingDeletionWindowInDays", k.pendingWindowInDays());
    KeyMaterial current = shared.currentMaterial();
    if (current != null && shared.keySpec().isSymmetricEncryption()
        && (shared.origin() == Origin.AWS_KMS || shared.origin() == Origin.EXTERNAL)) {
      m.put("CurrentKeyMaterialId", current.keyMaterialId());
    }
    if (shared.origin() == Origin.EXTERNAL) importedMaterial(k, m);
    return m;
  }

  /**
   * ExpirationModel and ValidTo of a key with imported material (kms-api.md §3): shown while this
   * Region holds its current material; ValidTo is the earliest expiry of the materials it holds.
   */
  private static void importedMaterial(Key k, ObjectNode m) {
    KeyMaterial current = k.shared().currentMaterial();
    io.kmsregions.imports.ImportedKeyMaterial imported =
        current == null ? null : k.importState().material(current.keyMaterialId());
    if (imported == null || !imported.isImported()) return;
    m.put("ExpirationModel", imported.expirationModel());
    long validTo = k.importState().earliestExpiry();
    if (validTo > 0) m.put("ValidTo", epochSeconds(validTo));
  }

  static ObjectNode configuration(Key k, KmsSettings settings) {
    MultiRegionConfiguration c = k.multiRegion();
    ObjectNode n = Json.MAPPER.createObjectNode();
    n.put("MultiRegionKeyType", k.isPrimary() ? "PRIMARY" : "REPLICA");
    n.set("PrimaryKey", member(c.primaryRegion(), k.keyId(), settings));
    ArrayNode replicas = n.putArray("ReplicaKeys");
    for (String r : c.replicaRegions()) replicas.add(member(r, k.keyId(), settings));
    return n;
  }

  private static ObjectNode member(String region, String keyId, KmsSettings settings) {
    ObjectNode n = Json.MAPPER.createObjectNode();
    n.put("Arn", settings.keyArn(region, keyId));
    n.put("Region", region);
    return n;
  }

  static ArrayNode tags(List<Tag> tags) {
    ArrayNode a = Json.MAPPER.createArrayNode();
    for (Tag t : tags) {
      ObjectNode n = a.addObject();
      n.put("TagKey", t.tagKey());
      n.put("TagValue", t.tagValue());
    }
    return a;
  }
}
