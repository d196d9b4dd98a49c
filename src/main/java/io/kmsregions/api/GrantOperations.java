package io.kmsregions.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.kmsregions.grant.GrantStore;
import io.kmsregions.grant.GrantStore.Grant;
import io.kmsregions.key.KeyEntity.Key;
import io.kmsregions.key.KeySpec;
import io.kmsregions.key.KmsError;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import java.util.regex.Pattern;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * CreateGrant, ListGrants, ListRetirableGrants, RetireGrant and RevokeGrant (kms-api.md §2
 * "Grants", §6, §8).
 *
 * <p>Grants are per Region and never replicated. They are stored and listed, not enforced yet:
 * every caller may still use every key, and anyone may retire or revoke a grant.
 *
 * <p>A grant token is {@code base64(version 1, Region, grant id, 16 random bytes)}: unique for
 * every CreateGrant call, also when a named retry returns an existing GrantId, and every token of
 * a grant identifies it (as AWS documents). Tokens are not stored; RetireGrant decodes them.
 */
final class GrantOperations {
  /** GrantOperation, the model's enum (kms-api.md §2; Encapsulate/Decapsulate are for ML-KEM keys). */
  static final List<String> GRANT_OPERATIONS = List.of(
      "Decrypt", "Encrypt", "GenerateDataKey", "GenerateDataKeyWithoutPlaintext", "ReEncryptFrom",
      "ReEncryptTo", "Sign", "Verify", "GetPublicKey", "CreateGrant", "RetireGrant", "DescribeKey",
      "GenerateDataKeyPair", "GenerateDataKeyPairWithoutPlaintext", "GenerateMac", "VerifyMac",
      "DeriveSharedSecret", "Encapsulate", "Decapsulate");
  private static final Set<String> FOR_EVERY_KEY = Set.of("DescribeKey", "CreateGrant", "RetireGrant");
  private static final Set<String> FOR_SYMMETRIC = Set.of("Encrypt", "Decrypt", "ReEncryptFrom", "ReEncryptTo",
      "GenerateDataKey", "GenerateDataKeyWithoutPlaintext", "GenerateDataKeyPair",
      "GenerateDataKeyPairWithoutPlaintext");
  private static final Set<String> FOR_ASYMMETRIC_ENCRYPTION =
      Set.of("Encrypt", "Decrypt", "ReEncryptFrom", "ReEncryptTo", "GetPublicKey");
  private static final Set<String> FOR_SIGNING = Set.of("Sign", "Verify", "GetPublicKey");
  private static final Set<String> FOR_HMAC = Set.of("GenerateMac", "VerifyMac");
  private static final Set<String> FOR_KEY_AGREEMENT = Set.of("DeriveSharedSecret", "GetPublicKey");

  private static final Pattern PRINCIPAL = Pattern.compile("^[\\w+=,.@:/-]+$");
  private static final Pattern GRANT_NAME = Pattern.compile("^[a-zA-Z0-9:/_-]+$");
  private static final Pattern GRANT_ID = Pattern.compile("^[0-9a-f]{64}$");
  private static final Pattern SEQ_MARKER = Pattern.compile("^[1-9][0-9]{0,17}$");
  private static final Pattern MARKER = Pattern.compile("[\\u0020-\\u00FF]*");
  private static final int MAX_CONTEXT_PAIRS = 8;
  private static final int MAX_CONTEXT_VALUE = 384;
  private static final int MAX_PAGE = 100;
  private static final int DEFAULT_PAGE = 50;
  private static final byte TOKEN_VERSION = 1;
  private static final HexFormat HEX = HexFormat.of();

  private final ApiContext api;
  private final ActorRef<GrantStore.Command> store;

  GrantOperations(ApiContext api, ActorRef<GrantStore.Command> store) {
    this.api = api;
    this.store = store;
  }

  /** The operations of this group, by name. */
  Map<String, ApiContext.Operation> operations() {
    return Map.of(
        "CreateGrant", r -> createGrant(r.body()),
        "ListGrants", r -> listGrants(r.body()),
        "ListRetirableGrants", r -> listRetirableGrants(r.body()),
        "RetireGrant", r -> retireGrant(r.body()),
        "RevokeGrant", r -> revokeGrant(r.body()));
  }

  // ---------------------------------------------------------------- CreateGrant

  private CompletionStage<JsonNode> createGrant(byte[] body) {
    GrantRequests.CreateGrant r = Json.read(body, GrantRequests.CreateGrant.class);
    // The model's constraints first (Coral ValidationException), then the service's rules.
    Validate.required(r.keyId(), "keyId");
    Validate.length(r.keyId(), "keyId", 1, 2048);
    principal(r.granteePrincipal(), "granteePrincipal");
    principal(r.granteeServicePrincipal(), "granteeServicePrincipal");
    principal(r.retiringPrincipal(), "retiringPrincipal");
    principal(r.retiringServicePrincipal(), "retiringServicePrincipal");
    List<String> operations = operations(r.operations());
    Validate.length(r.name(), "name", 1, 256);
    if (r.name() != null && !GRANT_NAME.matcher(r.name()).matches()) {
      throw new KmsException(KmsError.constraint(r.name(), "name",
          "Member must satisfy regular expression pattern: ^[a-zA-Z0-9:/_-]+$"));
    }
    Validate.grantTokens(r.grantTokens());
    GrantStore.Constraints constraints = constraints(r.constraints());
    // [?] Wording ours: AWS's messages for these combinations are not recorded.
    if ((r.granteePrincipal() == null) == (r.granteeServicePrincipal() == null)) {
      throw new KmsException(KmsError.validation(r.granteePrincipal() == null
          ? "Either GranteePrincipal or GranteeServicePrincipal must be specified."
          : "GranteePrincipal and GranteeServicePrincipal cannot both be specified."));
    }
    if (r.retiringPrincipal() != null && r.retiringServicePrincipal() != null) {
      throw new KmsException(KmsError.validation(
          "RetiringPrincipal and RetiringServicePrincipal cannot both be specified."));
    }
    String keyId = api.resolveKeyIdNoAlias(r.keyId());
    return api.key(keyId)
        .thenCompose(k -> {
          requireOperationsFit(k, operations);
          if (constraints != null && (constraints.encryptionContextSubset() != null
              || constraints.encryptionContextEquals() != null) && !k.shared().keySpec().isSymmetricEncryption()) {
            throw new KmsException(KmsError.validation("Encryption context grant constraints are valid only for"
                + " symmetric encryption KMS keys; " + api.arn(k) + " has KeySpec " + k.shared().keySpec() + "."));
          }
          KmsError stateError = stateError(k);
          if (stateError != null) throw new KmsException(stateError);
          if (Boolean.TRUE.equals(r.dryRun())) throw ApiContext.dryRun();
          Grant proposed = new Grant(ApiContext.randomHex(32), 0, keyId, r.name(), api.settings().clock().now(),
              r.granteePrincipal(), r.granteeServicePrincipal(), r.retiringPrincipal(),
              r.retiringServicePrincipal(), issuingAccount(), operations, constraints);
          return ask(replyTo -> new GrantStore.CreateGrant(proposed, replyTo));
        })
        .thenApply(reply -> {
          Grant g = ((GrantStore.Created) reply).grant();
          ObjectNode out = Json.MAPPER.createObjectNode();
          out.put("GrantToken", token(g.grantId()));
          out.put("GrantId", g.grantId());
          return out;
        });
  }

  /** The operations a key of this type permits in a grant. */
  static Set<String> permittedOperations(Key k) {
    Set<String> permitted = new LinkedHashSet<>(FOR_EVERY_KEY);
    KeySpec spec = k.shared().keySpec();
    if (spec.isSymmetricEncryption()) {
      permitted.addAll(FOR_SYMMETRIC);
    } else if (spec.family() == KeySpec.Family.HMAC) {
      permitted.addAll(FOR_HMAC);
    } else {
      switch (k.shared().keyUsage()) {
        case ENCRYPT_DECRYPT -> permitted.addAll(FOR_ASYMMETRIC_ENCRYPTION);
        case SIGN_VERIFY -> permitted.addAll(FOR_SIGNING);
        case KEY_AGREEMENT -> permitted.addAll(FOR_KEY_AGREEMENT);
        default -> { }
      }
    }
    return permitted;
  }

  /** AWS answers a misfit with a ValidationException (the model's docs); the wording is ours. */
  private void requireOperationsFit(Key k, List<String> operations) {
    Set<String> permitted = permittedOperations(k);
    for (String op : operations) {
      if (!permitted.contains(op)) {
        throw new KmsException(KmsError.validation("Grant operation " + op + " is not valid for "
            + api.arn(k) + ", a key with KeySpec " + k.shared().keySpec() + " and KeyUsage "
            + k.shared().keyUsage() + "."));
      }
    }
  }

  /** CreateGrant's row of the key-state table (kms-api.md §6). */
  private KmsError stateError(Key k) {
    return switch (k.keyState()) {
      case Enabled, Updating, Unavailable -> null;
      case Disabled -> KmsError.disabled(api.arn(k));
      default -> KmsError.invalidState(api.arn(k) + " " + k.keyState().phrase());
    };
  }

  private static void principal(String value, String field) {
    Validate.length(value, field, 1, 256);
    if (value != null && !PRINCIPAL.matcher(value).matches()) {
      throw new KmsException(KmsError.constraint(value, field,
          "Member must satisfy regular expression pattern: ^[\\w+=,.@:/-]+$"));
    }
  }

  /** Operations: required, each a GrantOperation; duplicates dropped, order kept. */
  private static List<String> operations(List<String> operations) {
    Validate.required(operations, "operations");
    if (operations.isEmpty()) {
      throw new KmsException(KmsError.constraint("[]", "operations",
          "Member must have length greater than or equal to 1"));
    }
    for (int i = 0; i < operations.size(); i++) {
      Validate.required(operations.get(i), "operations." + (i + 1) + ".member");
    }
    if (!GRANT_OPERATIONS.containsAll(operations)) {
      throw new KmsException(KmsError.constraint(operations.toString(), "operations",
          "Member must satisfy constraint: [Member must satisfy enum value set: " + GRANT_OPERATIONS + "]"));
    }
    return List.copyOf(new LinkedHashSet<>(operations));
  }

  /** Grant constraints: at most 8 pairs in each map, values of at most 384 characters. */
  private static GrantStore.Constraints constraints(GrantRequests.Constraints c) {
    if (c == null) return null;
    contextConstraint(c.encryptionContextSubset(), "EncryptionContextSubset");
    contextConstraint(c.encryptionContextEquals(), "EncryptionContextEquals");
    Validate.length(c.sourceArn(), "constraints.sourceArn", 1, 2048);
    if (c.encryptionContextSubset() == null && c.encryptionContextEquals() == null && c.sourceArn() == null) {
      return null;
    }
    return new GrantStore.Constraints(c.encryptionContextSubset(), c.encryptionContextEquals(), c.sourceArn());
  }

  private static void contextConstraint(Map<String, String> context, String name) {
    if (context == null) return;
    String field = "constraints." + Character.toLowerCase(name.charAt(0)) + name.substring(1);
    Validate.encryptionContext(context, field);
    if (context.size() > MAX_CONTEXT_PAIRS) {
      throw new KmsException(KmsError.validation("The " + name + " grant constraint has " + context.size()
          + " encryption context pairs; at most " + MAX_CONTEXT_PAIRS + " are allowed."));
    }
    for (Map.Entry<String, String> e : context.entrySet()) {
      if (e.getValue().length() > MAX_CONTEXT_VALUE) {
        throw new KmsException(KmsError.validation("The value of encryption context key '" + e.getKey()
            + "' in the " + name + " grant constraint is longer than " + MAX_CONTEXT_VALUE + " characters."));
      }
    }
  }

  // ---------------------------------------------------------------- listings

  private CompletionStage<JsonNode> listGrants(byte[] body) {
    GrantRequests.ListGrants r = Json.read(body, GrantRequests.ListGrants.class);
    Validate.range(r.limit(), "limit", 1, 1000);
    long after = marker(r.marker());
    Validate.required(r.keyId(), "keyId");
    Validate.length(r.keyId(), "keyId", 1, 2048);
    Validate.length(r.grantId(), "grantId", 1, 128);
    principal(r.granteePrincipal(), "granteePrincipal");
    principal(r.granteeServicePrincipal(), "granteeServicePrincipal");
    String keyId = api.resolveKeyIdNoAlias(r.keyId());
    if (r.grantId() != null) requireGrantIdFormat(r.grantId());
    GrantStore.Filter filter =
        new GrantStore.Filter(keyId, r.grantId(), r.granteePrincipal(), r.granteeServicePrincipal(), null, null);
    // Any key state (kms-api.md §6), but the key must exist.
    return api.key(keyId).thenCompose(k -> page(filter, after, r.limit()));
  }

  private CompletionStage<JsonNode> listRetirableGrants(byte[] body) {
    GrantRequests.ListRetirableGrants r = Json.read(body, GrantRequests.ListRetirableGrants.class);
    Validate.range(r.limit(), "limit", 1, 1000);
    long after = marker(r.marker());
    principal(r.retiringPrincipal(), "retiringPrincipal");
    principal(r.retiringServicePrincipal(), "retiringServicePrincipal");
    if (r.retiringPrincipal() == null && r.retiringServicePrincipal() == null) {
      Validate.required(r.retiringPrincipal(), "retiringPrincipal");
    }
    if (r.retiringPrincipal() != null && r.retiringServicePrincipal() != null) {
      throw new KmsException(KmsError.validation(
          "RetiringPrincipal and RetiringServicePrincipal cannot both be specified."));
    }
    GrantStore.Filter filter =
        new GrantStore.Filter(null, null, null, null, r.retiringPrincipal(), r.retiringServicePrincipal());
    return page(filter, after, r.limit());
  }

  /**
   * One page of grants as GrantListEntry. Grants of keys that no longer exist in this Region are
   * left out (the page may then be shorter than Limit, which AWS allows).
   */
  private CompletionStage<JsonNode> page(GrantStore.Filter filter, long after, Integer limit) {
    int size = Math.min(limit == null ? DEFAULT_PAGE : limit, MAX_PAGE);
    return ask(replyTo -> new GrantStore.ListGrants(filter, after, size, replyTo))
        .thenCompose(reply -> {
          GrantStore.Page page = (GrantStore.Page) reply;
          Map<String, CompletableFuture<Boolean>> exists = new LinkedHashMap<>();
          for (Grant g : page.grants()) {
            exists.computeIfAbsent(g.keyId(), id -> keyExists(id).toCompletableFuture());
          }
          return CompletableFuture.allOf(exists.values().toArray(CompletableFuture[]::new)).thenApply(x -> {
            ObjectNode out = Json.MAPPER.createObjectNode();
            ArrayNode list = out.putArray("Grants");
            for (Grant g : page.grants()) {
              if (exists.get(g.keyId()).join()) list.add(entry(g));
            }
            out.put("Truncated", page.truncated());
            if (page.truncated()) out.put("NextMarker", String.valueOf(page.grants().get(page.grants().size() - 1).seq()));
            return out;
          });
        });
  }

  private ObjectNode entry(Grant g) {
    ObjectNode e = Json.MAPPER.createObjectNode();
    e.put("KeyId", api.settings().keyArn(api.settings().region(), g.keyId()));
    e.put("GrantId", g.grantId());
    if (g.name() != null) e.put("Name", g.name());
    e.put("CreationDate", KeyMetadataJson.epochSeconds(g.creationDate()));
    if (g.granteePrincipal() != null) e.put("GranteePrincipal", g.granteePrincipal());
    if (g.granteeServicePrincipal() != null) e.put("GranteeServicePrincipal", g.granteeServicePrincipal());
    if (g.retiringPrincipal() != null) e.put("RetiringPrincipal", g.retiringPrincipal());
    if (g.retiringServicePrincipal() != null) e.put("RetiringServicePrincipal", g.retiringServicePrincipal());
    e.put("IssuingAccount", g.issuingAccount());
    ArrayNode ops = e.putArray("Operations");
    g.operations().forEach(ops::add);
    GrantStore.Constraints c = g.constraints();
    if (c != null) {
      ObjectNode cn = e.putObject("Constraints");
      if (c.encryptionContextSubset() != null) cn.set("EncryptionContextSubset", sorted(c.encryptionContextSubset()));
      if (c.encryptionContextEquals() != null) cn.set("EncryptionContextEquals", sorted(c.encryptionContextEquals()));
      if (c.sourceArn() != null) cn.put("SourceArn", c.sourceArn());
    }
    return e;
  }

  private static ObjectNode sorted(Map<String, String> context) {
    ObjectNode n = Json.MAPPER.createObjectNode();
    new java.util.TreeMap<>(context).forEach(n::put);
    return n;
  }

  /** Markers are the number of the last grant of the previous page: anything else was not ours. */
  private static long marker(String marker) {
    if (marker == null) return 0;
    Validate.length(marker, "marker", 1, 1024);
    if (!MARKER.matcher(marker).matches()) {
      throw new KmsException(KmsError.constraint(marker, "marker",
          "Member must satisfy regular expression pattern: [\\u0020-\\u00FF]*"));
    }
    if (!SEQ_MARKER.matcher(marker).matches()) {
      throw new KmsException(new KmsError("InvalidMarkerException", "Invalid marker: " + marker));
    }
    return Long.parseLong(marker);
  }

  // ---------------------------------------------------------------- RetireGrant, RevokeGrant

  private CompletionStage<JsonNode> retireGrant(byte[] body) {
    GrantRequests.RetireGrant r = Json.read(body, GrantRequests.RetireGrant.class);
    Validate.length(r.grantToken(), "grantToken", 1, 8192);
    Validate.length(r.keyId(), "keyId", 1, 2048);
    Validate.length(r.grantId(), "grantId", 1, 128);
    String grantId;
    String keyId = null;
    if (r.grantToken() != null) {
      grantId = grantIdOf(r.grantToken());
      if (r.grantId() != null && !r.grantId().equals(grantId)) {
        throw new KmsException(invalidGrantId(r.grantId()));
      }
      if (r.keyId() != null) keyId = api.resolveKeyIdNoAlias(r.keyId());
    } else if (r.keyId() != null && r.grantId() != null) {
      keyId = api.resolveKeyIdNoAlias(r.keyId());
      requireGrantIdFormat(r.grantId());
      grantId = r.grantId();
    } else {
      // Wording as LocalStack records it.
      throw new KmsException(KmsError.validation("Grant token OR (grant ID, key ID) must be specified"));
    }
    return remove(keyId, grantId, false, Boolean.TRUE.equals(r.dryRun()));
  }

  private CompletionStage<JsonNode> revokeGrant(byte[] body) {
    GrantRequests.RevokeGrant r = Json.read(body, GrantRequests.RevokeGrant.class);
    Validate.required(r.keyId(), "keyId");
    Validate.length(r.keyId(), "keyId", 1, 2048);
    Validate.required(r.grantId(), "grantId");
    Validate.length(r.grantId(), "grantId", 1, 128);
    String keyId = api.resolveKeyIdNoAlias(r.keyId());
    requireGrantIdFormat(r.grantId());
    return remove(keyId, r.grantId(), true, Boolean.TRUE.equals(r.dryRun()));
  }

  /**
   * Retires or revokes: the key (when named) must exist, the grant must exist, belong to it and
   * to a key that still exists (any key state, kms-api.md §6); a dry run stops there.
   */
  private CompletionStage<JsonNode> remove(String keyId, String grantId, boolean revoke, boolean dryRun) {
    CompletionStage<Key> named = keyId == null ? CompletableFuture.completedFuture(null) : api.key(keyId);
    return named
        .thenCompose(k -> ask(replyTo -> new GrantStore.GetGrant(grantId, replyTo)))
        .thenCompose(reply -> {
          Grant g = ((GrantStore.GrantReply) reply).grant();
          if (g == null || (keyId != null && !g.keyId().equals(keyId))) {
            throw new KmsException(grantNotFound(grantId));
          }
          return keyExists(g.keyId()).thenCompose(exists -> {
            if (!exists) throw new KmsException(grantNotFound(grantId));
            if (dryRun) throw ApiContext.dryRun();
            return ask(replyTo -> new GrantStore.DeleteGrant(keyId, grantId, revoke, replyTo));
          });
        })
        .thenApply(reply -> null);
  }

  // ---------------------------------------------------------------- grant ids and tokens

  /** A GrantId that cannot be one of ours (64 lowercase hex) is invalid, not merely unknown. */
  private static void requireGrantIdFormat(String grantId) {
    if (!GRANT_ID.matcher(grantId).matches()) throw new KmsException(invalidGrantId(grantId));
  }

  private static KmsError invalidGrantId(String grantId) {
    return new KmsError("InvalidGrantIdException", "Invalid grant ID " + grantId);
  }

  private static KmsError grantNotFound(String grantId) {
    return KmsError.notFound("Grant ID " + grantId + " not found");
  }

  private String token(String grantId) {
    byte[] region = api.settings().region().getBytes(StandardCharsets.US_ASCII);
    byte[] nonce = new byte[16];
    ApiContext.RANDOM.nextBytes(nonce);
    ByteBuffer b = ByteBuffer.allocate(2 + region.length + 32 + nonce.length);
    b.put(TOKEN_VERSION).put((byte) region.length).put(region).put(HEX.parseHex(grantId)).put(nonce);
    return Base64.getEncoder().encodeToString(b.array());
  }

  /** The grant id a token of this Region names; InvalidGrantTokenException for anything else. */
  private String grantIdOf(String token) {
    return grantIdOf(token, api.settings().region());
  }

  /** The same for {@code region}; also used by {@link KeyAuthorization} for RetireGrant. */
  static String grantIdOf(String token, String thisRegion) {
    KmsException invalid = new KmsException(new KmsError("InvalidGrantTokenException", "Invalid grant token."));
    byte[] bytes;
    try {
      bytes = Base64.getDecoder().decode(token);
    } catch (IllegalArgumentException e) {
      throw invalid;
    }
    if (bytes.length < 2 || bytes[0] != TOKEN_VERSION) throw invalid;
    int regionLength = bytes[1] & 0xff;
    if (bytes.length != 2 + regionLength + 32 + 16) throw invalid;
    String region = new String(bytes, 2, regionLength, StandardCharsets.US_ASCII);
    if (!region.equals(thisRegion)) {
      throw new KmsException(new KmsError("InvalidGrantTokenException",
          "The grant token was issued in " + region + ", not in " + thisRegion + "."));
    }
    return HEX.formatHex(bytes, 2 + regionLength, 2 + regionLength + 32);
  }

  // ---------------------------------------------------------------- plumbing

  private String issuingAccount() {
    return "arn:" + api.settings().partition() + ":iam::" + api.settings().accountId() + ":root";
  }

  /** Whether the key exists in this Region (in any state); other failures fail the stage. */
  private CompletionStage<Boolean> keyExists(String keyId) {
    return api.key(keyId).handle((k, failure) -> {
      if (failure == null) return true;
      Throwable cause = failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
      if (cause instanceof KmsException e && e.error().type().equals("NotFoundException")) return false;
      throw failure instanceof CompletionException c ? c : new CompletionException(failure);
    });
  }

  /** Asks the store; a {@link GrantStore.Failed} answer fails the stage with its error. */
  private CompletionStage<GrantStore.Reply> ask(Function<ActorRef<GrantStore.Reply>, GrantStore.Command> command) {
    return ApiContext.ask(store, command::apply, api.settings().askTimeout(), api.system().scheduler())
        .thenApply(reply -> {
          if (reply instanceof GrantStore.Failed f) throw new KmsException(f.error());
          return reply;
        });
  }
}
