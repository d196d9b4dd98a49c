package io.kmsregions.api;

import io.kmsregions.key.CustomKeyStoreBinding;
import io.kmsregions.key.KeyEntity.Key;
import io.kmsregions.key.KeySpec;
import io.kmsregions.key.KeyState;
import io.kmsregions.key.KeyUsage;
import io.kmsregions.key.KmsError;
import io.kmsregions.key.Origin;
import io.kmsregions.keystore.CustomKeyStore;
import io.kmsregions.keystore.CustomKeyStore.Type;
import io.kmsregions.keystore.CustomKeyStores;
import io.kmsregions.keystore.KeyStoreServices;
import io.kmsregions.keystore.XksProxies;
import io.kmsregions.keystore.XksProxies.ExternalCiphertext;
import io.kmsregions.keystore.XksProxies.XksFailure;
import io.kmsregions.security.auth.Caller;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.regex.Pattern;

/**
 * Keys in custom key stores (kms-api.md §4 "Origin", §6 "Unavailable"): which store may take a new
 * key (CreateKey), and the backing store's part in every symmetric operation.
 *
 * <p>A CloudHSM key's cryptography needs its cluster to have an ACTIVE HSM. An external key store
 * key is double-encrypted, as AWS does it: the plaintext is first encrypted by the external key
 * in the proxy ({@link #seal}), and that result by the key's KMS material in the usual ciphertext
 * format, whose header still names the key and material; Decrypt reverses both ({@link #open}).
 * A proxy that cannot be used makes the operation KMSInvalidStateException {@code <arn> is
 * unavailable.}, the key state it is in then.
 */
final class CustomKeyStoreKeys {
  private static final Pattern XKS_KEY_ID = Pattern.compile("^[a-zA-Z0-9-_.]+$");
  /** The first byte of a sealed external-key-store payload, so that a wrong one is told apart. */
  private static final int XKS_PAYLOAD_VERSION = 1;

  private final ApiContext api;
  private final KeyStoreServices services;

  CustomKeyStoreKeys(ApiContext api) {
    this.api = api;
    this.services = api.keyStores();
  }

  /**
   * Admits new key {@code keyId} to custom key store {@code storeId} (CreateKey; kms-api.md §4):
   * symmetric encryption keys only; the store exists, has {@code origin}'s type and is CONNECTED;
   * a CloudHSM cluster has two ACTIVE HSMs in different zones; an external key exists in the proxy,
   * is AES_256 for ENCRYPT and DECRYPT, is enabled, and no other key of the store uses it.
   *
   * @return where the key lives, once the store has recorded it
   */
  CompletionStage<CustomKeyStoreBinding> admit(String storeId, Origin origin, KeySpec spec, KeyUsage usage,
      String xksKeyId, String keyId, Caller caller) {
    if (spec != KeySpec.SYMMETRIC_DEFAULT || usage != KeyUsage.ENCRYPT_DECRYPT) {
      throw new KmsException(KmsError.unsupported("KeySpec " + spec + " with KeyUsage " + usage
          + " is not supported in custom key stores: only SYMMETRIC_DEFAULT keys for ENCRYPT_DECRYPT."));
    }
    if (origin == Origin.EXTERNAL_KEY_STORE) {
      if (xksKeyId == null) {
        throw new KmsException(KmsError.validation("XksKeyId is required for keys with Origin EXTERNAL_KEY_STORE."));
      }
      if (!XKS_KEY_ID.matcher(xksKeyId).matches()) {
        throw new KmsException(KmsError.constraint(xksKeyId, "xksKeyId",
            "Member must satisfy regular expression pattern: ^[a-zA-Z0-9-_.]+$"));
      }
    }
    CustomKeyStore store = services.cache().get(storeId)
        .orElseThrow(() -> new KmsException(KmsError.customKeyStoreNotFound(storeId)));
    Type expected = origin == Origin.AWS_CLOUDHSM ? Type.AWS_CLOUDHSM : Type.EXTERNAL_KEY_STORE;
    if (store.customKeyStoreType() != expected) {
      throw new KmsException(KmsError.validation("Custom key store " + storeId + " is an "
          + store.customKeyStoreType() + "; keys with Origin " + origin + " need an " + expected + "."));
    }
    if (!store.isConnected()) {
      throw new KmsException(new KmsError("CustomKeyStoreInvalidStateException", "Custom key store " + storeId
          + " is " + store.connectionState() + ": CreateKey needs it CONNECTED."));
    }
    CompletionStage<CustomKeyStoreBinding> binding;
    if (origin == Origin.AWS_CLOUDHSM) {
      String clusterId = store.cloudHsm().cloudHsmClusterId();
      int zones = services.cloudHsm().cluster(clusterId).map(c -> c.activeZones().size()).orElse(0);
      if (zones < 2) {
        throw new KmsException(new KmsError("CloudHsmClusterInvalidConfigurationException", "CloudHSM cluster "
            + clusterId + " must have at least two active HSMs in different Availability Zones to create a KMS key;"
            + " it has active HSMs in " + zones + "."));
      }
      binding = CompletableFuture.completedFuture(new CustomKeyStoreBinding(storeId, clusterId, null));
    } else {
      XksProxies.RequestMetadata metadata = new XksProxies.RequestMetadata(principal(caller),
          api.settings().keyArn(api.settings().region(), keyId), "CreateKey", null);
      binding = ApiContext.direct(services.xks().keyMetadata(store.xks(), xksKeyId, metadata))
          .handle((external, failure) -> {
            if (failure != null) throw new KmsException(createKeyError(unwrap(failure), store, xksKeyId));
            if (!"AES_256".equals(external.keySpec()) || external.keyUsage() == null
                || !external.keyUsage().contains("ENCRYPT") || !external.keyUsage().contains("DECRYPT")
                || !"ENABLED".equals(external.keyStatus())) {
              throw new KmsException(new KmsError("XksKeyInvalidConfigurationException", "The external key "
                  + xksKeyId + " is " + external.keySpec() + " for " + external.keyUsage() + ", "
                  + external.keyStatus() + "; a KMS key needs an ENABLED AES_256 key for ENCRYPT and DECRYPT."));
            }
            return new CustomKeyStoreBinding(storeId, null, xksKeyId);
          });
    }
    return binding.thenCompose(b -> ApiContext.<CustomKeyStores.Command, CustomKeyStores.Reply>ask(services.stores(),
            replyTo -> new CustomKeyStores.AddKey(storeId, keyId, b.xksKeyId(), replyTo),
            api.settings().askTimeout(), api.system().scheduler())
        .thenApply(reply -> {
          if (reply instanceof CustomKeyStores.Failed f) throw new KmsException(f.error());
          return b;
        }));
  }

  /** Key {@code keyId} was admitted but not created: its store forgets it. */
  void release(String keyId) {
    services.stores().tell(new CustomKeyStores.RemoveKey(keyId, null));
  }

  private static KmsError createKeyError(Throwable failure, CustomKeyStore store, String xksKeyId) {
    if (failure instanceof XksFailure x) {
      if (x.connectionError().isPresent()) return CustomKeyStoreOperations.proxyError(x.connectionError().get(), store.xks());
      if (x.errorName().filter("KeyNotFoundException"::equals).isPresent()) {
        return new KmsError("XksKeyNotFoundException", "The external key store proxy of " + store.customKeyStoreId()
            + " has no external key " + xksKeyId + ".");
      }
      return new KmsError("XksKeyInvalidConfigurationException", "The external key store proxy refused external key "
          + xksKeyId + ": " + x.getMessage());
    }
    throw new CompletionException(failure);
  }

  // ------------------------------------------------------------------ the backing store's part

  /**
   * The first half of a symmetric encryption with {@code k}: for an external key store key, the
   * plaintext encrypted by its external key (the payload the KMS layer then encrypts); for other
   * keys the plaintext itself. {@code k} is already checked usable (Enabled, not Unavailable).
   */
  CompletionStage<byte[]> seal(Key k, byte[] plaintext, byte[] aad, String operation, String requestId, Caller caller) {
    CustomKeyStoreBinding b = k.customKeyStore();
    if (b == null) return CompletableFuture.completedFuture(plaintext);
    if (b.cloudHsmClusterId() != null) {
      requireHsm(k, b);
      return CompletableFuture.completedFuture(plaintext);
    }
    CustomKeyStore store = store(k);
    return ApiContext.direct(services.xks().encrypt(store.xks(), b.xksKeyId(), plaintext, aad,
            metadata(k, operation, requestId, caller)))
        .handle((c, failure) -> {
          if (failure != null) throw new KmsException(operationError(k, unwrap(failure)));
          return payload(c);
        });
  }

  /** The second half of a symmetric decryption with {@code k}: the inverse of {@link #seal}. */
  CompletionStage<byte[]> open(Key k, byte[] payload, byte[] aad, String operation, String requestId, Caller caller) {
    CustomKeyStoreBinding b = k.customKeyStore();
    if (b == null) return CompletableFuture.completedFuture(payload);
    if (b.cloudHsmClusterId() != null) {
      requireHsm(k, b);
      return CompletableFuture.completedFuture(payload);
    }
    ExternalCiphertext c = parsePayload(payload);
    CustomKeyStore store = store(k);
    return ApiContext.direct(services.xks().decrypt(store.xks(), b.xksKeyId(), c, aad,
            metadata(k, operation, requestId, caller)))
        .handle((plaintext, failure) -> {
          if (failure != null) throw new KmsException(operationError(k, unwrap(failure)));
          return plaintext;
        });
  }

  private void requireHsm(Key k, CustomKeyStoreBinding b) {
    if (!services.cloudHsm().canServe(b.cloudHsmClusterId())) {
      throw new KmsException(KmsError.invalidState(api.arn(k) + " " + KeyState.Unavailable.phrase()));
    }
  }

  private CustomKeyStore store(Key k) {
    return services.cache().get(k.customKeyStore().customKeyStoreId()).orElseThrow(() ->
        new KmsException(KmsError.invalidState(api.arn(k) + " " + KeyState.Unavailable.phrase())));
  }

  private KmsError operationError(Key k, Throwable failure) {
    if (failure instanceof XksFailure x) {
      if (x.errorName().filter("InvalidCiphertextException"::equals).isPresent()) return KmsError.invalidCiphertext();
      if (x.errorName().filter("InvalidStateException"::equals).isPresent()) {
        return KmsError.invalidState(api.arn(k) + " cannot be used: its external key " + k.customKeyStore().xksKeyId()
            + " is disabled in the external key manager.");
      }
      return KmsError.invalidState(api.arn(k) + " " + KeyState.Unavailable.phrase());
    }
    throw new CompletionException(failure);
  }

  private XksProxies.RequestMetadata metadata(Key k, String operation, String requestId, Caller caller) {
    return new XksProxies.RequestMetadata(principal(caller), api.arn(k), operation, requestId);
  }

  private String principal(Caller caller) {
    return caller != null && caller.principalArn() != null ? caller.principalArn()
        : "arn:" + api.settings().partition() + ":iam::" + api.settings().accountId() + ":root";
  }

  private static Throwable unwrap(Throwable t) {
    while (t instanceof CompletionException && t.getCause() != null) t = t.getCause();
    return t;
  }

  /** version(1) ivLength(2) iv tagLength(2) tag ciphertext. */
  private static byte[] payload(ExternalCiphertext c) {
    try {
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      DataOutputStream out = new DataOutputStream(bytes);
      out.writeByte(XKS_PAYLOAD_VERSION);
      out.writeShort(c.initializationVector().length);
      out.write(c.initializationVector());
      out.writeShort(c.authenticationTag().length);
      out.write(c.authenticationTag());
      out.write(c.ciphertext());
      return bytes.toByteArray();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private static ExternalCiphertext parsePayload(byte[] payload) {
    try {
      DataInputStream in = new DataInputStream(new java.io.ByteArrayInputStream(payload));
      if (in.readUnsignedByte() != XKS_PAYLOAD_VERSION) throw new KmsException(KmsError.invalidCiphertext());
      byte[] iv = in.readNBytes(in.readUnsignedShort());
      byte[] tag = in.readNBytes(in.readUnsignedShort());
      byte[] ciphertext = in.readAllBytes();
      return new ExternalCiphertext(iv, ciphertext, tag);
    } catch (IOException e) {
      throw new KmsException(KmsError.invalidCiphertext());
    }
  }

  /** GenerateRandom's CustomKeyStoreId (kms-api.md §2): a CloudHSM store's cluster makes the bytes. */
  void requireRandomSource(String storeId) {
    CustomKeyStore store = services.cache().get(storeId)
        .orElseThrow(() -> new KmsException(KmsError.customKeyStoreNotFound(storeId)));
    if (store.customKeyStoreType() != Type.AWS_CLOUDHSM) {
      throw new KmsException(KmsError.unsupported(
          "GenerateRandom with CustomKeyStoreId is supported for AWS_CLOUDHSM key stores only; " + storeId + " is an "
              + store.customKeyStoreType() + "."));
    }
    if (!store.isConnected()) {
      throw new KmsException(new KmsError("CustomKeyStoreInvalidStateException",
          "Custom key store " + storeId + " is " + store.connectionState() + ": GenerateRandom needs it CONNECTED."));
    }
    if (!services.cloudHsm().canServe(store.cloudHsm().cloudHsmClusterId())) {
      throw new KmsException(new KmsError("CustomKeyStoreInvalidStateException", "CloudHSM cluster "
          + store.cloudHsm().cloudHsmClusterId() + " of custom key store " + storeId + " has no active HSM."));
    }
  }
}
