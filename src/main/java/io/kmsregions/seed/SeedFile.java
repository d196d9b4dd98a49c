package io.kmsregions.seed;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.kmsregions.imports.KeyMaterialImport;
import io.kmsregions.key.KeyArns;
import io.kmsregions.key.KeyMaterial;
import io.kmsregions.key.KeySpec;
import io.kmsregions.key.KeyUsage;
import io.kmsregions.key.Origin;
import io.kmsregions.key.Tag;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * A seed file: keys that every start of the cluster creates with fixed ids and material, so that
 * a fresh cluster seeded from the same file decrypts what another one encrypted. YAML:
 *
 * <pre>
 * keys:
 *   - keyId: mrk-0123456789abcdef0123456789abcdef   # or a UUID for a single-Region key
 *     regions: [us-east-1, eu-west-1]              # a multi-Region key: the first is the primary
 *     keySpec: SYMMETRIC_DEFAULT                   # default SYMMETRIC_DEFAULT (kms-api.md §4)
 *     keyUsage: ENCRYPT_DECRYPT                    # default: the spec's default usage
 *     origin: AWS_KMS                              # AWS_KMS (default) or EXTERNAL
 *     description: payments
 *     policy: '{"Version":"2012-10-17", ...}'      # default: the default key policy
 *     enabled: true
 *     tags: {team: payments}
 *     aliases: [alias/payments]                    # in every Region of the key
 *     material:                                    # versions, oldest first; the last is current
 *       - base64: 3q2+7w...                        # symmetric (32 bytes) and HMAC keys
 *       - pem: |                                   # key pairs: a PKCS#8 private key
 *           -----BEGIN PRIVATE KEY-----
 * </pre>
 *
 * <p>Material is required for AWS_KMS keys (generated material would differ between Regions and
 * between clusters); an EXTERNAL key without material starts PendingImport, with material it
 * starts as if that material had been imported, never expiring. Several versions are a rotation
 * history (symmetric keys only): every version decrypts, the last encrypts. Key material ids are
 * derived from the key id and the material, so they are the same everywhere.
 */
public record SeedFile(Path path, List<SeededKey> keys) {
  private static final Pattern ALIAS = Pattern.compile("^alias/[a-zA-Z0-9:/_-]+$");

  /** One material version of a seeded key, as it will be stored. */
  public record Version(String keyMaterialId, byte[] secret, byte[] publicKey) {}

  /** One validated key of the seed file. */
  public record SeededKey(
      String label,
      String keyId,
      List<String> regions,
      KeySpec keySpec,
      KeyUsage keyUsage,
      Origin origin,
      String description,
      String policy,
      boolean enabled,
      List<Tag> tags,
      List<String> aliases,
      List<Version> versions) {

    public boolean isMultiRegion() {
      return keyId.startsWith("mrk-");
    }

    public String primaryRegion() {
      return regions.get(0);
    }
  }

  /** The YAML shape (Jackson, lowerCamelCase fields as written in the file). */
  record FileShape(List<KeyShape> keys) {}

  record KeyShape(String keyId, List<String> regions, String keySpec, String keyUsage, String origin,
      String description, String policy, Boolean enabled, Map<String, String> tags, List<String> aliases,
      List<MaterialShape> material) {}

  record MaterialShape(String base64, String pem) {}

  /**
   * Reads and validates {@code path} for a cluster of {@code clusterRegions}.
   *
   * @throws SeedException naming the file, the entry and the reason, on one line
   */
  public static SeedFile load(Path path, List<String> clusterRegions) {
    FileShape shape;
    try {
      ObjectMapper yaml = new ObjectMapper(new YAMLFactory())
          .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
      shape = yaml.readValue(Files.readAllBytes(path), FileShape.class);
    } catch (IOException e) {
      String reason = e.getMessage() == null ? e.toString() : e.getMessage().lines().findFirst().orElse("");
      throw new SeedException("seed file " + path + ": cannot read it: " + reason, e);
    }
    List<SeededKey> keys = new ArrayList<>();
    Set<String> ids = new HashSet<>();
    Map<String, String> aliasOwners = new LinkedHashMap<>();
    List<KeyShape> entries = shape == null || shape.keys() == null ? List.of() : shape.keys();
    for (int i = 0; i < entries.size(); i++) {
      KeyShape k = entries.get(i);
      String label = "seed file " + path + ": keys[" + i + "]" + (k != null && k.keyId() != null ? " (" + k.keyId() + ")" : "");
      if (k == null) throw new SeedException(label + ": empty entry");
      SeededKey key = validate(label, k, clusterRegions);
      if (!ids.add(key.keyId())) throw new SeedException(label + ": the key id appears more than once");
      for (String alias : key.aliases()) {
        for (String region : key.regions()) {
          String other = aliasOwners.putIfAbsent(region + " " + alias, key.keyId());
          if (other != null) {
            throw new SeedException(label + ": alias " + alias + " in " + region + " is already the alias of " + other);
          }
        }
      }
      keys.add(key);
    }
    return new SeedFile(path, List.copyOf(keys));
  }

  private static SeededKey validate(String label, KeyShape k, List<String> clusterRegions) {
    if (k.keyId() == null || !KeyArns.isKeyId(k.keyId())) {
      throw new SeedException(label + ": keyId must be a key id: a UUID, or mrk- and 32 lowercase hex digits");
    }
    boolean multiRegion = k.keyId().startsWith("mrk-");
    List<String> regions = k.regions() == null ? List.of() : List.copyOf(k.regions());
    if (regions.isEmpty()) throw new SeedException(label + ": regions is missing");
    if (!multiRegion && regions.size() != 1) {
      throw new SeedException(label + ": a single-Region key has exactly one Region; use an mrk- id for a multi-Region key");
    }
    if (new HashSet<>(regions).size() != regions.size()) throw new SeedException(label + ": a Region is listed twice");
    for (String r : regions) {
      if (!clusterRegions.contains(r)) {
        throw new SeedException(label + ": " + r + " is not a Region of this cluster " + clusterRegions);
      }
    }
    KeySpec spec = parse(label, "keySpec", k.keySpec() == null ? "SYMMETRIC_DEFAULT" : k.keySpec(), KeySpec.class);
    KeyUsage usage = k.keyUsage() != null ? parse(label, "keyUsage", k.keyUsage(), KeyUsage.class)
        : spec.defaultUsage().orElseThrow(() -> new SeedException(label + ": keyUsage is required for " + spec));
    if (!spec.allowedUsages().contains(usage)) {
      throw new SeedException(label + ": keyUsage " + usage + " is not compatible with keySpec " + spec);
    }
    Origin origin = parse(label, "origin", k.origin() == null ? "AWS_KMS" : k.origin(), Origin.class);
    if (origin != Origin.AWS_KMS && origin != Origin.EXTERNAL) {
      throw new SeedException(label + ": origin " + origin + " cannot be seeded; use AWS_KMS or EXTERNAL");
    }
    List<MaterialShape> material = k.material() == null ? List.of() : k.material();
    if (material.isEmpty() && origin == Origin.AWS_KMS) {
      throw new SeedException(label + ": material is required for an AWS_KMS key (it must be the same in every Region and cluster)");
    }
    if (material.size() > 1 && !spec.isSymmetricEncryption()) {
      throw new SeedException(label + ": only SYMMETRIC_DEFAULT keys have several material versions");
    }
    List<Version> versions = new ArrayList<>();
    Set<String> materialIds = new HashSet<>();
    for (int v = 0; v < material.size(); v++) {
      Version version = version(label + ": material[" + v + "]", k.keyId(), spec, material.get(v));
      if (!materialIds.add(version.keyMaterialId())) throw new SeedException(label + ": material[" + v + "] repeats an earlier version");
      versions.add(version);
    }
    String description = k.description() == null ? "" : k.description();
    if (description.length() > 8192) throw new SeedException(label + ": description is longer than 8192 characters");
    if (k.policy() != null) {
      try {
        new ObjectMapper().readTree(k.policy());
      } catch (IOException e) {
        throw new SeedException(label + ": policy is not a JSON document");
      }
    }
    List<Tag> tags = new ArrayList<>();
    if (k.tags() != null) {
      if (k.tags().size() > 50) throw new SeedException(label + ": more than 50 tags");
      for (Map.Entry<String, String> t : k.tags().entrySet()) {
        if (t.getKey().startsWith("aws:")) throw new SeedException(label + ": tag " + t.getKey() + ": Tags beginning with aws: are reserved");
        tags.add(new Tag(t.getKey(), t.getValue() == null ? "" : t.getValue()));
      }
    }
    List<String> aliases = k.aliases() == null ? List.of() : List.copyOf(k.aliases());
    for (String a : aliases) {
      if (a == null || !ALIAS.matcher(a).matches() || a.length() > 256 || a.startsWith("alias/aws/")) {
        throw new SeedException(label + ": " + a + " is not a valid alias name (alias/ followed by [a-zA-Z0-9:/_-], not alias/aws/)");
      }
    }
    return new SeededKey(label, k.keyId(), regions, spec, usage, origin, description, k.policy(),
        k.enabled() == null || k.enabled(), List.copyOf(tags), aliases, List.copyOf(versions));
  }

  private static Version version(String label, String keyId, KeySpec spec, MaterialShape m) {
    if (m == null || (m.base64() == null) == (m.pem() == null)) {
      throw new SeedException(label + ": give exactly one of base64 (symmetric and HMAC keys) or pem (key pairs)");
    }
    boolean pair = spec.family() != KeySpec.Family.SYMMETRIC && spec.family() != KeySpec.Family.HMAC;
    byte[] secret;
    if (pair) {
      if (m.pem() == null) throw new SeedException(label + ": a " + spec + " key takes a PEM private key (pem:)");
      secret = pem(label, m.pem());
    } else {
      if (m.base64() == null) throw new SeedException(label + ": a " + spec + " key takes base64 material (base64:)");
      try {
        secret = Base64.getMimeDecoder().decode(m.base64());
      } catch (IllegalArgumentException e) {
        throw new SeedException(label + ": base64 is not valid base64");
      }
    }
    byte[] publicKey;
    try {
      publicKey = KeyMaterialImport.check(spec, secret);
    } catch (KeyMaterialImport.InvalidMaterialException e) {
      throw new SeedException(label + ": " + e.getMessage().lines().findFirst().orElse(""));
    }
    return new Version(KeyMaterialImport.keyMaterialId(keyId, spec, secret, publicKey), secret, publicKey);
  }

  /** The DER of a PEM block; PKCS#8 ("PRIVATE KEY") is what KMS keys hold. */
  private static byte[] pem(String label, String pem) {
    String text = pem.trim();
    if (!text.startsWith("-----BEGIN PRIVATE KEY-----") || !text.endsWith("-----END PRIVATE KEY-----")) {
      throw new SeedException(label + ": pem must be a PKCS#8 private key (-----BEGIN PRIVATE KEY-----); "
          + "convert others with: openssl pkcs8 -topk8 -nocrypt");
    }
    String body = text.substring("-----BEGIN PRIVATE KEY-----".length(), text.length() - "-----END PRIVATE KEY-----".length());
    try {
      return Base64.getMimeDecoder().decode(body.replaceAll("\\s", ""));
    } catch (IllegalArgumentException e) {
      throw new SeedException(label + ": pem is not valid base64");
    }
  }

  private static <E extends Enum<E>> E parse(String label, String field, String value, Class<E> type) {
    try {
      return Enum.valueOf(type, value);
    } catch (IllegalArgumentException e) {
      throw new SeedException(label + ": " + field + " " + value + " is not one of " + java.util.Arrays.toString(type.getEnumConstants()));
    }
  }

  /** The material versions as stored in the shared properties (secrets kept out for EXTERNAL keys). */
  static List<KeyMaterial> materials(SeededKey key, long now) {
    List<KeyMaterial> out = new ArrayList<>();
    for (Version v : key.versions()) {
      out.add(new KeyMaterial(v.keyMaterialId(), key.origin() == Origin.EXTERNAL ? null : v.secret(), v.publicKey(), now,
          key.keyId()));
    }
    return out;
  }
}
