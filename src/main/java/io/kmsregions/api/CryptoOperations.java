package io.kmsregions.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.kmsregions.crypto.AsymmetricEncryption;
import io.kmsregions.crypto.Ecdh;
import io.kmsregions.crypto.EncryptionAlgorithm;
import io.kmsregions.crypto.KeyMaterialGenerator;
import io.kmsregions.crypto.Macs;
import io.kmsregions.crypto.Macs.MacAlgorithm;
import io.kmsregions.crypto.MessageType;
import io.kmsregions.crypto.SigningAlgorithm;
import io.kmsregions.crypto.Signatures;
import io.kmsregions.crypto.SymmetricCiphertext;
import io.kmsregions.key.KeyArns;
import io.kmsregions.key.KeyEntity.Key;
import io.kmsregions.key.KeyMaterial;
import io.kmsregions.key.KeySpec;
import io.kmsregions.key.KeyState;
import io.kmsregions.key.KeyUsage;
import io.kmsregions.key.KmsError;
import io.kmsregions.key.SharedProperties;
import java.security.GeneralSecurityException;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;

/**
 * The cryptographic operations (kms-api.md §2 "Cryptographic operations", §6, §7): Encrypt,
 * Decrypt, ReEncrypt, GenerateDataKey*, GenerateDataKeyPair*, Sign, Verify, GenerateMac,
 * VerifyMac, GenerateRandom, GetPublicKey and DeriveSharedSecret, for every key spec. The
 * primitives live in {@code io.kmsregions.crypto}; this class validates, applies the key-state
 * table and shapes the answers.
 *
 * <p>Every operation checks in the same order: the shape of the request (ValidationException),
 * the key (NotFoundException), its usage, the algorithm against the key spec
 * (InvalidKeyUsageException), the key state (DisabledException, KMSInvalidStateException),
 * operation-specific sizes (ValidationException), then {@code DryRun}
 * (DryRunOperationException), and only then the cryptography. Decrypt and ReEncrypt check the
 * ciphertext before DryRun unless {@code DryRunModifiers} has {@code IGNORE_CIPHERTEXT}.
 *
 * <p>Cryptography runs on the caller's thread from the key's cached state, never on the key
 * actor. Private-key operations of RSA and ML-DSA keys and key-pair generation take milliseconds,
 * so they run on the blocking dispatcher ({@link ApiContext#blocking()}).
 *
 * <p>SM2 (SM2PKE, SM2DSA, ECDH on sm2p256v1): AWS offers SM2 keys only in its China Regions;
 * kms-regions supports them in every Region.
 */
final class CryptoOperations {
  private static final List<String> ENCRYPTION_ALGORITHMS = names(EncryptionAlgorithm.values());
  private static final List<String> SIGNING_ALGORITHMS = names(SigningAlgorithm.values());
  private static final List<String> MESSAGE_TYPES = names(MessageType.values());
  private static final List<String> MAC_ALGORITHMS = names(MacAlgorithm.values());
  private static final List<String> KEY_AGREEMENT_ALGORITHMS = List.of("ECDH");
  private static final List<String> DRY_RUN_MODIFIERS = List.of("IGNORE_CIPHERTEXT");
  /** DataKeyPairSpec (kms-api.md §7); each name is also a {@link KeySpec}. */
  static final List<String> DATA_KEY_PAIR_SPECS = List.of(
      "RSA_2048", "RSA_3072", "RSA_4096", "ECC_NIST_P256", "ECC_NIST_P384", "ECC_NIST_P521",
      "ECC_SECG_P256K1", "ECC_NIST_EDWARDS25519", "SM2");

  private final ApiContext api;

  private final CustomKeyStoreKeys keyStores;

  CryptoOperations(ApiContext api) {
    this.api = api;
    this.keyStores = new CustomKeyStoreKeys(api);
  }

  /**
   * Symmetric encryption of {@code plaintext} under {@code material} of {@code k}, with the
   * backing custom key store's part first (an external key store encrypts it too).
   */
  private CompletionStage<byte[]> symmetricEncrypt(Key k, KeyMaterial material, byte[] plaintext,
      Map<String, String> context, ApiRequest request) {
    Map<String, String> c = ApiContext.context(context);
    return keyStores.seal(k, plaintext, SymmetricCiphertext.encodeContext(c), request.operation(), request.requestId(),
            request.caller())
        .thenApply(payload -> SymmetricCiphertext.encrypt(k.keyId(), material.keyMaterialId(), material.secret(),
            payload, c));
  }

  /** The operations of this group, by name. */
  Map<String, ApiContext.Operation> operations() {
    return Map.ofEntries(
        Map.entry("Encrypt", this::encrypt),
        Map.entry("Decrypt", this::decrypt),
        Map.entry("ReEncrypt", this::reEncrypt),
        Map.entry("GenerateDataKey", r -> generateDataKey(r, true)),
        Map.entry("GenerateDataKeyWithoutPlaintext", r -> generateDataKey(r, false)),
        Map.entry("GenerateDataKeyPair", r -> generateDataKeyPair(r, true)),
        Map.entry("GenerateDataKeyPairWithoutPlaintext", r -> generateDataKeyPair(r, false)),
        Map.entry("Sign", r -> sign(r.body())),
        Map.entry("Verify", r -> verify(r.body())),
        Map.entry("GenerateMac", r -> generateMac(r.body())),
        Map.entry("VerifyMac", r -> verifyMac(r.body())),
        Map.entry("GenerateRandom", r -> generateRandom(r.body())),
        Map.entry("GetPublicKey", r -> getPublicKey(r.body())),
        Map.entry("DeriveSharedSecret", r -> deriveSharedSecret(r.body())));
  }

  // ------------------------------------------------------------------ Encrypt, Decrypt, ReEncrypt

  private CompletionStage<JsonNode> encrypt(ApiRequest request) {
    CryptoRequests.Encrypt r = Json.read(request.body(), CryptoRequests.Encrypt.class);
    String keyId = api.resolveKeyId(r.keyId());
    Validate.required(r.plaintext(), "plaintext");
    Validate.blobLength(r.plaintext(), "plaintext", 1, 4096);
    Validate.encryptionContext(r.encryptionContext(), "encryptionContext");
    Validate.grantTokens(r.grantTokens());
    EncryptionAlgorithm algorithm = encryptionAlgorithm(r.encryptionAlgorithm(), "encryptionAlgorithm");
    return api.key(keyId).thenCompose(k -> {
      Encryption e = prepareEncryption(k, algorithm, r.plaintext().length, r.encryptionContext(), "Encrypt");
      if (Boolean.TRUE.equals(r.dryRun())) throw ApiContext.dryRun();
      return encrypt(e, r.plaintext(), r.encryptionContext(), request).thenApply(blob -> {
        ObjectNode out = Json.MAPPER.createObjectNode();
        out.put("CiphertextBlob", blob);
        out.put("KeyId", api.arn(k));
        out.put("EncryptionAlgorithm", e.algorithm().name());
        return (JsonNode) out;
      });
    });
  }

  private CompletionStage<JsonNode> decrypt(ApiRequest request) {
    CryptoRequests.Decrypt r = Json.read(request.body(), CryptoRequests.Decrypt.class);
    rejectRecipient(r.recipient());
    boolean dryRun = Boolean.TRUE.equals(r.dryRun());
    boolean ignoreCiphertext = dryRun && ignoresCiphertext(r.dryRunModifiers());
    if (!ignoreCiphertext) Validate.required(r.ciphertextBlob(), "ciphertextBlob");
    Validate.blobLength(r.ciphertextBlob(), "ciphertextBlob", 1, 6144);
    Validate.encryptionContext(r.encryptionContext(), "encryptionContext");
    Validate.grantTokens(r.grantTokens());
    EncryptionAlgorithm algorithm = encryptionAlgorithm(r.encryptionAlgorithm(), "encryptionAlgorithm");
    String requested = r.keyId() == null ? null : api.resolveKeyId(r.keyId());
    Source source = new Source(r.ciphertextBlob(), requested, algorithm, r.encryptionContext(), ignoreCiphertext);
    return decryptSource(source, request).thenApply(d -> {
      if (dryRun) throw ApiContext.dryRun();
      ObjectNode out = Json.MAPPER.createObjectNode();
      out.put("KeyId", api.arn(d.key()));
      out.put("Plaintext", d.plaintext());
      out.put("EncryptionAlgorithm", d.algorithm().name());
      if (d.keyMaterialId() != null) out.put("KeyMaterialId", d.keyMaterialId());
      return out;
    });
  }

  private CompletionStage<JsonNode> reEncrypt(ApiRequest request) {
    CryptoRequests.ReEncrypt r = Json.read(request.body(), CryptoRequests.ReEncrypt.class);
    boolean dryRun = Boolean.TRUE.equals(r.dryRun());
    boolean ignoreCiphertext = dryRun && ignoresCiphertext(r.dryRunModifiers());
    if (!ignoreCiphertext) Validate.required(r.ciphertextBlob(), "ciphertextBlob");
    Validate.blobLength(r.ciphertextBlob(), "ciphertextBlob", 1, 6144);
    Validate.encryptionContext(r.sourceEncryptionContext(), "sourceEncryptionContext");
    Validate.encryptionContext(r.destinationEncryptionContext(), "destinationEncryptionContext");
    Validate.grantTokens(r.grantTokens());
    EncryptionAlgorithm sourceAlgorithm = encryptionAlgorithm(r.sourceEncryptionAlgorithm(), "sourceEncryptionAlgorithm");
    EncryptionAlgorithm destinationAlgorithm =
        encryptionAlgorithm(r.destinationEncryptionAlgorithm(), "destinationEncryptionAlgorithm");
    String destinationId = api.resolveKeyId(r.destinationKeyId());
    String sourceId = r.sourceKeyId() == null ? null : api.resolveKeyId(r.sourceKeyId());
    Source source = new Source(r.ciphertextBlob(), sourceId, sourceAlgorithm, r.sourceEncryptionContext(),
        ignoreCiphertext);
    return decryptSource(source, request).thenCompose(d -> api.key(destinationId).thenCompose(k -> {
      int length = d.plaintext() == null ? 1 : d.plaintext().length;
      Encryption e = prepareEncryption(k, destinationAlgorithm, length, r.destinationEncryptionContext(), "ReEncrypt");
      if (dryRun) throw ApiContext.dryRun();
      return encrypt(e, d.plaintext(), r.destinationEncryptionContext(), request).thenApply(blob -> reEncrypted(
          blob, d, k, e));
    }));
  }

  /** ReEncrypt's answer. */
  private JsonNode reEncrypted(byte[] blob, Decrypted d, Key k, Encryption e) {
    ObjectNode out = Json.MAPPER.createObjectNode();
    out.put("CiphertextBlob", blob);
    out.put("SourceKeyId", api.arn(d.key()));
    out.put("KeyId", api.arn(k));
    out.put("SourceEncryptionAlgorithm", d.algorithm().name());
    out.put("DestinationEncryptionAlgorithm", e.algorithm().name());
    if (d.keyMaterialId() != null) out.put("SourceKeyMaterialId", d.keyMaterialId());
    if (e.material() != null && e.algorithm() == EncryptionAlgorithm.SYMMETRIC_DEFAULT) {
      out.put("DestinationKeyMaterialId", e.material().keyMaterialId());
    }
    return out;
  }

  /** What Decrypt and ReEncrypt are asked to decrypt. {@code blob} is null when ignored. */
  private record Source(
      byte[] blob, String keyId, EncryptionAlgorithm algorithm, Map<String, String> context, boolean ignoreBlob) {}

  /** A decrypted source; {@code plaintext} is null when the ciphertext was ignored (DryRun). */
  private record Decrypted(Key key, byte[] plaintext, EncryptionAlgorithm algorithm, String keyMaterialId) {}

  /**
   * Decrypts a source ciphertext. Symmetric ciphertexts name their key and material (DESIGN.md
   * invariant 6), so the KeyId is optional and, when given, must be that key
   * (IncorrectKeyException). Asymmetric ciphertexts are bare, so KeyId and the algorithm are
   * required.
   */
  private CompletionStage<Decrypted> decryptSource(Source s, ApiRequest request) {
    String operation = request.operation();
    EncryptionAlgorithm algorithm = s.algorithm() == null ? EncryptionAlgorithm.SYMMETRIC_DEFAULT : s.algorithm();
    if (algorithm != EncryptionAlgorithm.SYMMETRIC_DEFAULT) {
      if (s.keyId() == null) {
        throw new KmsException(KmsError.validation(
            "KeyId is required when EncryptionAlgorithm is " + algorithm + "."));
      }
      return api.key(s.keyId()).thenCompose(k -> {
        KeyMaterial material = usable(k, KeyUsage.ENCRYPT_DECRYPT, operation, algorithm.name());
        rejectContext(s.context());
        if (s.ignoreBlob()) return CompletableFuture.completedFuture(new Decrypted(k, null, algorithm, null));
        return onKey(k, () -> {
          try {
            byte[] plaintext = AsymmetricEncryption.decrypt(k.shared().keySpec(), material, algorithm, s.blob());
            return new Decrypted(k, plaintext, algorithm, null);
          } catch (GeneralSecurityException e) {
            throw new KmsException(KmsError.invalidCiphertext());
          }
        });
      });
    }
    if (s.ignoreBlob()) {
      // Nothing to read the key from but the KeyId, when there is one (DryRun follows).
      if (s.keyId() == null) return CompletableFuture.completedFuture(new Decrypted(null, null, algorithm, null));
      return api.key(s.keyId()).thenApply(k -> {
        symmetricMaterial(k, operation, s.algorithm() == null ? null : algorithm.name());
        return new Decrypted(k, null, algorithm, null);
      });
    }
    SymmetricCiphertext.Header header;
    try {
      header = SymmetricCiphertext.parse(s.blob());
    } catch (IllegalArgumentException e) {
      if (s.keyId() == null) throw new KmsException(KmsError.invalidCiphertext());
      // Not our symmetric format: say why if the KeyId names a key that cannot take it.
      return api.key(s.keyId()).thenApply(k -> {
        symmetricMaterial(k, operation, s.algorithm() == null ? null : algorithm.name());
        throw new KmsException(KmsError.invalidCiphertext());
      });
    }
    if (s.keyId() != null && !s.keyId().equals(header.keyId())) throw new KmsException(KmsError.incorrectKey());
    if (!KeyArns.isKeyId(header.keyId())) throw new KmsException(KmsError.invalidCiphertext());
    return api.key(header.keyId()).thenCompose(k -> {
      symmetricMaterial(k, operation, s.algorithm() == null ? null : algorithm.name());
      // Imported material this Region does not hold (deleted or expired here) cannot decrypt.
      KeyMaterial material = k.usableMaterial(header.keyMaterialId());
      if (material == null) throw new KmsException(KmsError.invalidCiphertext());
      Map<String, String> context = ApiContext.context(s.context());
      byte[] payload;
      try {
        payload = SymmetricCiphertext.decrypt(header, material.secret(), s.blob(), context);
      } catch (GeneralSecurityException e) {
        throw new KmsException(KmsError.invalidCiphertext());
      }
      return keyStores.open(k, payload, SymmetricCiphertext.encodeContext(context), operation, request.requestId(),
              request.caller())
          .thenApply(plaintext -> new Decrypted(k, plaintext, algorithm, material.keyMaterialId()));
    });
  }

  /** An encryption checked and ready to run. */
  private record Encryption(Key key, EncryptionAlgorithm algorithm, KeyMaterial material) {}

  private CompletionStage<byte[]> encrypt(Encryption e, byte[] plaintext, Map<String, String> context,
      ApiRequest request) {
    if (e.algorithm() == EncryptionAlgorithm.SYMMETRIC_DEFAULT) {
      return symmetricEncrypt(e.key(), e.material(), plaintext, context, request);
    }
    try {
      return CompletableFuture.completedFuture(
          AsymmetricEncryption.encrypt(e.key().shared().keySpec(), e.material(), e.algorithm(), plaintext));
    } catch (GeneralSecurityException x) {
      throw new IllegalStateException(e.algorithm() + " encryption failed", x);
    }
  }

  /**
   * The checks of an encryption with {@code k} of {@code plaintextLength} bytes: usage,
   * algorithm, state, and for asymmetric algorithms no encryption context and the plaintext limit
   * ({@code Algorithm RSAES_OAEP_SHA_256 and key spec RSA_2048 cannot encrypt data larger than
   * 190 bytes.}, kms-api.md §7).
   */
  private Encryption prepareEncryption(
      Key k, EncryptionAlgorithm requested, int plaintextLength, Map<String, String> context, String operation) {
    EncryptionAlgorithm algorithm = requested == null ? EncryptionAlgorithm.SYMMETRIC_DEFAULT : requested;
    if (algorithm == EncryptionAlgorithm.SYMMETRIC_DEFAULT || k.shared().keySpec().isSymmetricEncryption()) {
      KeyMaterial material = symmetricMaterial(k, operation, requested == null ? null : requested.name());
      return new Encryption(k, EncryptionAlgorithm.SYMMETRIC_DEFAULT, material);
    }
    KeyMaterial material = usable(k, KeyUsage.ENCRYPT_DECRYPT, operation, algorithm.name());
    rejectContext(context);
    KeySpec spec = k.shared().keySpec();
    int max = algorithm.maxPlaintext(spec);
    if (plaintextLength > max) {
      throw new KmsException(KmsError.validation("Algorithm " + algorithm + " and key spec " + spec
          + " cannot encrypt data larger than " + max + " bytes."));
    }
    return new Encryption(k, algorithm, material);
  }

  /** kms-api.md §7: an encryption context applies to symmetric keys only. */
  private static void rejectContext(Map<String, String> context) {
    if (context != null && !context.isEmpty()) {
      throw new KmsException(KmsError.validation(
          "EncryptionContext is not supported with asymmetric encryption algorithms."));
    }
  }

  // ------------------------------------------------------------------ data keys and data key pairs

  private CompletionStage<JsonNode> generateDataKey(ApiRequest request, boolean withPlaintext) {
    CryptoRequests.GenerateDataKey r = Json.read(request.body(), CryptoRequests.GenerateDataKey.class);
    String operation = withPlaintext ? "GenerateDataKey" : "GenerateDataKeyWithoutPlaintext";
    String keyId = api.resolveKeyId(r.keyId());
    Validate.encryptionContext(r.encryptionContext(), "encryptionContext");
    Validate.range(r.numberOfBytes(), "numberOfBytes", 1, 1024);
    Validate.oneOf(r.keySpec(), "keySpec", List.of("AES_256", "AES_128"));
    Validate.grantTokens(r.grantTokens());
    if (withPlaintext) rejectRecipient(r.recipient());
    if ((r.numberOfBytes() == null) == (r.keySpec() == null)) {
      throw new KmsException(KmsError.validation("Please specify either number of bytes or key spec."));
    }
    int size = r.numberOfBytes() != null ? r.numberOfBytes() : r.keySpec().equals("AES_128") ? 16 : 32;
    return api.key(keyId).thenCompose(k -> {
      KeyMaterial material = dataKeyMaterial(k, operation);
      if (Boolean.TRUE.equals(r.dryRun())) throw ApiContext.dryRun();
      byte[] dataKey = new byte[size];
      ApiContext.RANDOM.nextBytes(dataKey);
      return symmetricEncrypt(k, material, dataKey, r.encryptionContext(), request).thenApply(blob -> {
        ObjectNode out = Json.MAPPER.createObjectNode();
        out.put("CiphertextBlob", blob);
        if (withPlaintext) out.put("Plaintext", dataKey);
        out.put("KeyId", api.arn(k));
        out.put("KeyMaterialId", material.keyMaterialId());
        return (JsonNode) out;
      });
    });
  }

  /**
   * GenerateDataKeyPair(WithoutPlaintext): a fresh key pair of the requested DataKeyPairSpec, the
   * private key (DER PKCS#8) encrypted under a symmetric encryption key in the symmetric
   * ciphertext format, so that Decrypt returns the PKCS#8 bytes; the public key as DER
   * SubjectPublicKeyInfo.
   */
  private CompletionStage<JsonNode> generateDataKeyPair(ApiRequest request, boolean withPlaintext) {
    CryptoRequests.GenerateDataKeyPair r = Json.read(request.body(), CryptoRequests.GenerateDataKeyPair.class);
    String operation = withPlaintext ? "GenerateDataKeyPair" : "GenerateDataKeyPairWithoutPlaintext";
    String keyId = api.resolveKeyId(r.keyId());
    Validate.required(r.keyPairSpec(), "keyPairSpec");
    Validate.oneOf(r.keyPairSpec(), "keyPairSpec", DATA_KEY_PAIR_SPECS);
    Validate.encryptionContext(r.encryptionContext(), "encryptionContext");
    Validate.grantTokens(r.grantTokens());
    if (withPlaintext) rejectRecipient(r.recipient());
    KeySpec pairSpec = KeySpec.valueOf(r.keyPairSpec());
    return api.key(keyId).thenCompose(k -> {
      KeyMaterial material = dataKeyMaterial(k, operation);
      if (Boolean.TRUE.equals(r.dryRun())) throw ApiContext.dryRun();
      return CompletableFuture.supplyAsync(() -> KeyMaterialGenerator.generate(pairSpec), api.blocking())
          .thenCompose(pair -> symmetricEncrypt(k, material, pair.secret(), r.encryptionContext(), request)
              .thenApply(blob -> {
        ObjectNode out = Json.MAPPER.createObjectNode();
        out.put("PrivateKeyCiphertextBlob", blob);
        if (withPlaintext) out.put("PrivateKeyPlaintext", pair.secret());
        out.put("PublicKey", pair.publicKey());
        out.put("KeyId", api.arn(k));
        out.put("KeyPairSpec", pairSpec.name());
        out.put("KeyMaterialId", material.keyMaterialId());
        return (JsonNode) out;
      }));
    });
  }

  // ------------------------------------------------------------------ Sign, Verify

  private CompletionStage<JsonNode> sign(byte[] body) {
    CryptoRequests.Sign r = Json.read(body, CryptoRequests.Sign.class);
    String keyId = api.resolveKeyId(r.keyId());
    Validate.required(r.message(), "message");
    Validate.blobLength(r.message(), "message", 1, 4096);
    MessageType type = messageType(r.messageType());
    Validate.grantTokens(r.grantTokens());
    SigningAlgorithm algorithm = signingAlgorithm(r.signingAlgorithm());
    return api.key(keyId).thenCompose(k -> {
      KeyMaterial material = checkedSigning(k, "Sign", algorithm, type, r.message());
      if (Boolean.TRUE.equals(r.dryRun())) throw ApiContext.dryRun();
      return onKey(k, () -> {
        byte[] signature;
        try {
          signature = Signatures.sign(k.shared().keySpec(), material, algorithm, type, r.message());
        } catch (GeneralSecurityException e) {
          throw new IllegalStateException(algorithm + " signing failed", e);
        }
        ObjectNode out = Json.MAPPER.createObjectNode();
        out.put("KeyId", api.arn(k));
        out.put("Signature", signature);
        out.put("SigningAlgorithm", algorithm.name());
        return out;
      });
    });
  }

  private CompletionStage<JsonNode> verify(byte[] body) {
    CryptoRequests.Verify r = Json.read(body, CryptoRequests.Verify.class);
    String keyId = api.resolveKeyId(r.keyId());
    Validate.required(r.message(), "message");
    Validate.blobLength(r.message(), "message", 1, 4096);
    MessageType type = messageType(r.messageType());
    Validate.required(r.signature(), "signature");
    Validate.blobLength(r.signature(), "signature", 1, 6144);
    Validate.grantTokens(r.grantTokens());
    SigningAlgorithm algorithm = signingAlgorithm(r.signingAlgorithm());
    return api.key(keyId).thenApply(k -> {
      KeyMaterial material = checkedSigning(k, "Verify", algorithm, type, r.message());
      if (Boolean.TRUE.equals(r.dryRun())) throw ApiContext.dryRun();
      if (!Signatures.verify(k.shared().keySpec(), material, algorithm, type, r.message(), r.signature())) {
        throw new KmsException(KmsError.invalidSignature());
      }
      ObjectNode out = Json.MAPPER.createObjectNode();
      out.put("KeyId", api.arn(k));
      out.put("SignatureValid", true);
      out.put("SigningAlgorithm", algorithm.name());
      return out;
    });
  }

  /** Usage, algorithm, state, then message type and digest length (kms-api.md §7 "Signing"). */
  private KeyMaterial checkedSigning(Key k, String operation, SigningAlgorithm algorithm, MessageType type,
      byte[] message) {
    KeyMaterial material = usable(k, KeyUsage.SIGN_VERIFY, operation, algorithm.name());
    String problem = algorithm.messageProblem(type, message);
    if (problem != null) throw new KmsException(KmsError.validation(problem));
    return material;
  }

  // ------------------------------------------------------------------ GenerateMac, VerifyMac

  private CompletionStage<JsonNode> generateMac(byte[] body) {
    CryptoRequests.GenerateMac r = Json.read(body, CryptoRequests.GenerateMac.class);
    Validate.required(r.message(), "message");
    Validate.blobLength(r.message(), "message", 1, 4096);
    String keyId = api.resolveKeyId(r.keyId());
    MacAlgorithm algorithm = macAlgorithm(r.macAlgorithm());
    Validate.grantTokens(r.grantTokens());
    return api.key(keyId).thenApply(k -> {
      KeyMaterial material = usable(k, KeyUsage.GENERATE_VERIFY_MAC, "GenerateMac", algorithm.name());
      if (Boolean.TRUE.equals(r.dryRun())) throw ApiContext.dryRun();
      ObjectNode out = Json.MAPPER.createObjectNode();
      out.put("Mac", Macs.mac(algorithm, material.secret(), r.message()));
      out.put("MacAlgorithm", algorithm.name());
      out.put("KeyId", api.arn(k));
      return out;
    });
  }

  private CompletionStage<JsonNode> verifyMac(byte[] body) {
    CryptoRequests.VerifyMac r = Json.read(body, CryptoRequests.VerifyMac.class);
    Validate.required(r.message(), "message");
    Validate.blobLength(r.message(), "message", 1, 4096);
    String keyId = api.resolveKeyId(r.keyId());
    MacAlgorithm algorithm = macAlgorithm(r.macAlgorithm());
    Validate.required(r.mac(), "mac");
    Validate.blobLength(r.mac(), "mac", 1, 6144);
    Validate.grantTokens(r.grantTokens());
    return api.key(keyId).thenApply(k -> {
      KeyMaterial material = usable(k, KeyUsage.GENERATE_VERIFY_MAC, "VerifyMac", algorithm.name());
      if (Boolean.TRUE.equals(r.dryRun())) throw ApiContext.dryRun();
      if (!Macs.verify(algorithm, material.secret(), r.message(), r.mac())) {
        throw new KmsException(KmsError.invalidMac());
      }
      ObjectNode out = Json.MAPPER.createObjectNode();
      out.put("KeyId", api.arn(k));
      out.put("MacValid", true);
      out.put("MacAlgorithm", algorithm.name());
      return out;
    });
  }

  // ------------------------------------------------------------------ GenerateRandom, GetPublicKey, DeriveSharedSecret

  private CompletionStage<JsonNode> generateRandom(byte[] body) {
    CryptoRequests.GenerateRandom r = Json.read(body, CryptoRequests.GenerateRandom.class);
    Validate.range(r.numberOfBytes(), "numberOfBytes", 1, 1024);
    Validate.length(r.customKeyStoreId(), "customKeyStoreId", 1, 64);
    if (r.numberOfBytes() == null) throw new KmsException(KmsError.validation("NumberOfBytes is required."));
    // The bytes come from the store's CloudHSM cluster, which must be connected and serving.
    if (r.customKeyStoreId() != null) keyStores.requireRandomSource(r.customKeyStoreId());
    rejectRecipient(r.recipient());
    byte[] random = new byte[r.numberOfBytes()];
    ApiContext.RANDOM.nextBytes(random);
    ObjectNode out = Json.MAPPER.createObjectNode();
    out.put("Plaintext", random);
    return CompletableFuture.completedFuture(out);
  }

  private CompletionStage<JsonNode> getPublicKey(byte[] body) {
    CryptoRequests.GetPublicKey r = Json.read(body, CryptoRequests.GetPublicKey.class);
    String keyId = api.resolveKeyId(r.keyId());
    Validate.grantTokens(r.grantTokens());
    return api.key(keyId).thenApply(k -> {
      SharedProperties shared = k.shared();
      KeySpec spec = shared.keySpec();
      if (spec.family() == KeySpec.Family.SYMMETRIC || spec.family() == KeySpec.Family.HMAC) {
        throw new KmsException(KmsError.unsupported(
            api.arn(k) + " key spec is " + spec + " which is not valid for GetPublicKey."));
      }
      KeyMaterial material = usable(k, shared.keyUsage(), "GetPublicKey", null);
      ObjectNode out = Json.MAPPER.createObjectNode();
      out.put("KeyId", api.arn(k));
      out.put("PublicKey", material.publicKey());
      spec.customerMasterKeySpec().ifPresent(s -> out.put("CustomerMasterKeySpec", s));
      out.put("KeySpec", spec.name());
      out.put("KeyUsage", shared.keyUsage().name());
      String listName = switch (shared.keyUsage()) {
        case ENCRYPT_DECRYPT -> "EncryptionAlgorithms";
        case SIGN_VERIFY -> "SigningAlgorithms";
        case KEY_AGREEMENT -> "KeyAgreementAlgorithms";
        case GENERATE_VERIFY_MAC -> "MacAlgorithms"; // unreachable: HMAC keys are refused above
      };
      ArrayNode list = out.putArray(listName);
      spec.algorithms(shared.keyUsage()).forEach(list::add);
      return out;
    });
  }

  private CompletionStage<JsonNode> deriveSharedSecret(byte[] body) {
    CryptoRequests.DeriveSharedSecret r = Json.read(body, CryptoRequests.DeriveSharedSecret.class);
    String keyId = api.resolveKeyId(r.keyId());
    Validate.required(r.keyAgreementAlgorithm(), "keyAgreementAlgorithm");
    String algorithm = Validate.oneOf(r.keyAgreementAlgorithm(), "keyAgreementAlgorithm", KEY_AGREEMENT_ALGORITHMS);
    Validate.required(r.publicKey(), "publicKey");
    Validate.blobLength(r.publicKey(), "publicKey", 1, 8192);
    Validate.grantTokens(r.grantTokens());
    rejectRecipient(r.recipient());
    return api.key(keyId).thenApply(k -> {
      KeyMaterial material = usable(k, KeyUsage.KEY_AGREEMENT, "DeriveSharedSecret", algorithm);
      KeySpec spec = k.shared().keySpec();
      try {
        Ecdh.validatedPeer(spec, r.publicKey());
      } catch (Ecdh.InvalidPeerKeyException e) {
        throw new KmsException(KmsError.validation(null)); // AWS sends no message [R]
      }
      if (Boolean.TRUE.equals(r.dryRun())) throw ApiContext.dryRun();
      byte[] secret;
      try {
        secret = Ecdh.deriveSharedSecret(spec, material, r.publicKey());
      } catch (Ecdh.InvalidPeerKeyException e) {
        throw new KmsException(KmsError.validation(null));
      } catch (GeneralSecurityException e) {
        throw new IllegalStateException("ECDH failed", e);
      }
      ObjectNode out = Json.MAPPER.createObjectNode();
      out.put("KeyId", api.arn(k));
      out.put("SharedSecret", secret);
      out.put("KeyAgreementAlgorithm", algorithm);
      out.put("KeyOrigin", k.shared().origin().name());
      return out;
    });
  }

  // ------------------------------------------------------------------ the checks every operation shares

  /**
   * The checks of an operation with {@code k} (kms-api.md §6, §7): its usage is {@code usage}
   * ({@code <key ARN> key usage is SIGN_VERIFY which is not valid for Encrypt.}), {@code
   * algorithm} (unless null) is one of its spec's ({@code Algorithm HMAC_SHA_256 is incompatible
   * with key spec HMAC_224.}), its state allows cryptography, and it has material.
   */
  private KeyMaterial usable(Key k, KeyUsage usage, String operation, String algorithm) {
    String arn = api.arn(k);
    SharedProperties shared = k.shared();
    if (shared.keyUsage() != usage) {
      throw new KmsException(KmsError.invalidKeyUsage(
          arn + " key usage is " + shared.keyUsage() + " which is not valid for " + operation + "."));
    }
    if (algorithm != null && !shared.keySpec().algorithms(usage).contains(algorithm)) {
      throw new KmsException(KmsError.invalidKeyUsage(
          "Algorithm " + algorithm + " is incompatible with key spec " + shared.keySpec() + "."));
    }
    return material(k, arn);
  }

  /**
   * The checks every symmetric encryption shares: a symmetric ENCRYPT_DECRYPT key, with the
   * SYMMETRIC_DEFAULT algorithm (or none), in a state that allows cryptography, with material.
   */
  private KeyMaterial symmetricMaterial(Key k, String operation, String algorithm) {
    String arn = api.arn(k);
    SharedProperties shared = k.shared();
    if (shared.keyUsage() != KeyUsage.ENCRYPT_DECRYPT) {
      throw new KmsException(KmsError.invalidKeyUsage(
          arn + " key usage is " + shared.keyUsage() + " which is not valid for " + operation + "."));
    }
    String a = algorithm == null ? "SYMMETRIC_DEFAULT" : algorithm;
    if (!shared.keySpec().algorithms(KeyUsage.ENCRYPT_DECRYPT).contains(a) || !a.equals("SYMMETRIC_DEFAULT")) {
      throw new KmsException(KmsError.invalidKeyUsage(
          "Algorithm " + a + " is incompatible with key spec " + shared.keySpec() + "."));
    }
    return material(k, arn);
  }

  /**
   * GenerateDataKey* and GenerateDataKeyPair* need a symmetric encryption key: an asymmetric
   * ENCRYPT_DECRYPT key is refused with {@code <key ARN> key KeySpec is RSA_2048 which is not
   * valid for GenerateDataKeyPair.}
   */
  private KeyMaterial dataKeyMaterial(Key k, String operation) {
    String arn = api.arn(k);
    SharedProperties shared = k.shared();
    if (shared.keyUsage() == KeyUsage.ENCRYPT_DECRYPT && !shared.keySpec().isSymmetricEncryption()) {
      throw new KmsException(KmsError.invalidKeyUsage(
          arn + " key KeySpec is " + shared.keySpec() + " which is not valid for " + operation + "."));
    }
    return symmetricMaterial(k, operation, null);
  }

  /** The current material, if the key state allows cryptography (kms-api.md §6, first two rows). */
  private static KeyMaterial material(Key k, String arn) {
    KmsError stateError = switch (k.keyState()) {
      case Enabled, Updating -> null;
      case Disabled -> KmsError.disabled(arn);
      default -> KmsError.invalidState(arn + " " + k.keyState().phrase());
    };
    if (stateError != null) throw new KmsException(stateError);
    KeyMaterial current = k.usableCurrentMaterial();
    if (current == null) throw new KmsException(KmsError.invalidState(arn + " " + KeyState.PendingImport.phrase()));
    return current;
  }

  /**
   * Runs {@code work} here, or on the blocking dispatcher for the keys whose private-key
   * operations take milliseconds (RSA, ML-DSA), so they never hold an HTTP or actor thread.
   */
  private <T> CompletionStage<T> onKey(Key k, Supplier<T> work) {
    KeySpec.Family family = k.shared().keySpec().family();
    if (family == KeySpec.Family.RSA || family == KeySpec.Family.ML_DSA) {
      return CompletableFuture.supplyAsync(work, api.blocking());
    }
    return CompletableFuture.completedFuture(work.get());
  }

  // ------------------------------------------------------------------ enum fields

  private static EncryptionAlgorithm encryptionAlgorithm(String value, String field) {
    Validate.oneOf(value, field, ENCRYPTION_ALGORITHMS);
    return value == null ? null : EncryptionAlgorithm.valueOf(value);
  }

  private static SigningAlgorithm signingAlgorithm(String value) {
    Validate.required(value, "signingAlgorithm");
    Validate.oneOf(value, "signingAlgorithm", SIGNING_ALGORITHMS);
    return SigningAlgorithm.valueOf(value);
  }

  private static MessageType messageType(String value) {
    Validate.oneOf(value, "messageType", MESSAGE_TYPES);
    return value == null ? MessageType.RAW : MessageType.valueOf(value);
  }

  private static MacAlgorithm macAlgorithm(String value) {
    Validate.required(value, "macAlgorithm");
    Validate.oneOf(value, "macAlgorithm", MAC_ALGORITHMS);
    return MacAlgorithm.valueOf(value);
  }

  private static boolean ignoresCiphertext(List<String> modifiers) {
    if (modifiers == null) return false;
    for (int i = 0; i < modifiers.size(); i++) {
      Validate.required(modifiers.get(i), "dryRunModifiers." + (i + 1) + ".member");
      Validate.oneOf(modifiers.get(i), "dryRunModifiers." + (i + 1) + ".member", DRY_RUN_MODIFIERS);
    }
    return modifiers.contains("IGNORE_CIPHERTEXT");
  }

  /** Recipient (AWS Nitro Enclaves attestation) is not simulated. */
  private static void rejectRecipient(JsonNode recipient) {
    if (recipient != null && !recipient.isNull()) {
      throw new KmsException(KmsError.unsupported(
          "kms-regions does not support Recipient (AWS Nitro Enclaves attestation documents)."));
    }
  }

  private static List<String> names(Enum<?>[] values) {
    return Arrays.stream(values).map(Enum::name).toList();
  }
}
