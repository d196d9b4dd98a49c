package io.kmsregions.keystore.xks;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The external keys of an XKS proxy: the stand-in for the external key manager (an HSM in a real
 * deployment). Each key is an XksKeyId with 32 bytes of AES-256 key material and a status,
 * {@code ENABLED} or {@code DISABLED} (XKS Proxy API specification, "GetKeyMetadata").
 *
 * <p>Held in one JSON file, {@code DIR/keys.json}, readable and writable by its owner only (0600;
 * the folder 0700), rewritten whole through a temporary file and an atomic rename on every change,
 * so a crash leaves the old file or the new one. Its shape:
 * <pre>{"keys": [{"keyId": "...", "keyMaterial": "&lt;Base64 of 32 bytes&gt;", "keyStatus": "ENABLED",
 *             "creationDate": "2026-01-01T00:00:00Z"}]}</pre>
 * The material is in the clear in that file, as in the key manager it simulates: protect the
 * folder as you would the HSM. Keys exist until {@link #delete} removes them.
 *
 * <p>Thread-safe: changes are serialised; reads see the latest committed state.
 */
public final class XksKeyStore {
  /** An XksKeyId: 1-128 of {@code A-Z a-z 0-9 - _ .} (specification, "API operations"). */
  public static final Pattern KEY_ID = Pattern.compile("[a-zA-Z0-9._-]{1,128}");
  static final String FILE = "keys.json";
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rw-------");

  /** One external key; {@code material} is 32 bytes. */
  public record Key(String keyId, byte[] material, boolean enabled, Instant creationDate) {
    @Override
    public String toString() {
      return "Key[" + keyId + ", " + (enabled ? "ENABLED" : "DISABLED") + "]"; // never the material
    }
  }

  private final Path file;
  private volatile Map<String, Key> keys;

  private XksKeyStore(Path file, Map<String, Key> keys) {
    this.file = file;
    this.keys = keys;
  }

  /**
   * The key store of {@code dir}, created empty (folder and file) when absent.
   *
   * @throws IOException if the folder cannot be created or the file cannot be read
   * @throws IllegalArgumentException if the file is not a key file (naming the entry at fault)
   */
  public static XksKeyStore open(Path dir) throws IOException {
    if (!Files.isDirectory(dir)) {
      Files.createDirectories(dir);
      restrict(dir, PosixFilePermissions.fromString("rwx------")); // only a folder made here: never chmod a user's own
    }
    Path file = dir.resolve(FILE);
    Map<String, Key> keys = new LinkedHashMap<>();
    if (Files.exists(file)) {
      JsonNode root;
      try {
        root = MAPPER.readTree(file.toFile());
      } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
        throw new IllegalArgumentException(file + " is not a JSON key file: " + e.getOriginalMessage(), e);
      }
      JsonNode list = root == null ? null : root.get("keys");
      if (list == null || !list.isArray()) throw new IllegalArgumentException(file + " has no \"keys\" array");
      for (int i = 0; i < list.size(); i++) {
        Key k = parse(list.get(i), file + ": keys[" + i + "]");
        keys.put(k.keyId(), k);
      }
    }
    XksKeyStore store = new XksKeyStore(file, Collections.unmodifiableMap(keys));
    store.write(store.keys); // creates the file, and tightens the permissions of an old one
    return store;
  }

  private static Key parse(JsonNode n, String where) {
    String id = n.path("keyId").asText(null);
    if (id == null || !KEY_ID.matcher(id).matches()) throw new IllegalArgumentException(where + ": invalid keyId");
    byte[] material;
    try {
      material = Base64.getDecoder().decode(n.path("keyMaterial").asText(""));
    } catch (IllegalArgumentException e) {
      material = new byte[0];
    }
    if (material.length != XksCipher.KEY_BYTES) {
      throw new IllegalArgumentException(where + " (" + id + "): keyMaterial must be 32 bytes in Base64");
    }
    String status = n.path("keyStatus").asText("ENABLED");
    if (!status.equals("ENABLED") && !status.equals("DISABLED")) {
      throw new IllegalArgumentException(where + " (" + id + "): keyStatus must be ENABLED or DISABLED");
    }
    Instant created = n.hasNonNull("creationDate") ? Instant.parse(n.get("creationDate").asText()) : Instant.EPOCH;
    return new Key(id, material, status.equals("ENABLED"), created);
  }

  /** The key file. */
  public Path file() {
    return file;
  }

  /** The key {@code keyId}, or null. */
  public Key get(String keyId) {
    return keys.get(keyId);
  }

  /** Every key id, in creation order. */
  public List<String> keyIds() {
    return new ArrayList<>(keys.keySet());
  }

  /**
   * Creates an enabled key with fresh random material; a key that exists is left as it is.
   *
   * @return true if the key was created
   * @throws IllegalArgumentException if {@code keyId} is not a valid XksKeyId
   */
  public synchronized boolean create(String keyId) throws IOException {
    if (keyId == null || !KEY_ID.matcher(keyId).matches()) {
      throw new IllegalArgumentException("An XksKeyId is 1-128 characters of A-Z, a-z, 0-9, '-', '_' and '.', not '"
          + keyId + "'.");
    }
    if (keys.containsKey(keyId)) return false;
    Map<String, Key> next = new LinkedHashMap<>(keys);
    next.put(keyId, new Key(keyId, XksCipher.randomKey(), true, Instant.now()));
    commit(next);
    return true;
  }

  /**
   * Enables or disables a key (a disabled key answers GetKeyMetadata with {@code DISABLED} and
   * refuses Encrypt and Decrypt with InvalidStateException).
   *
   * @return false if there is no such key
   */
  public synchronized boolean setEnabled(String keyId, boolean enabled) throws IOException {
    Key k = keys.get(keyId);
    if (k == null) return false;
    if (k.enabled() == enabled) return true;
    Map<String, Key> next = new LinkedHashMap<>(keys);
    next.put(keyId, new Key(keyId, k.material(), enabled, k.creationDate()));
    commit(next);
    return true;
  }

  /** Deletes a key and its material for good. @return false if there is no such key */
  public synchronized boolean delete(String keyId) throws IOException {
    if (!keys.containsKey(keyId)) return false;
    Map<String, Key> next = new LinkedHashMap<>(keys);
    next.remove(keyId);
    commit(next);
    return true;
  }

  private void commit(Map<String, Key> next) throws IOException {
    Map<String, Key> frozen = Collections.unmodifiableMap(next);
    write(frozen); // the file first: a key is in use only once it is durable
    keys = frozen;
  }

  private void write(Map<String, Key> state) throws IOException {
    ObjectNode root = MAPPER.createObjectNode();
    ArrayNode list = root.putArray("keys");
    for (Key k : state.values()) {
      list.addObject()
          .put("keyId", k.keyId())
          .put("keyMaterial", Base64.getEncoder().encodeToString(k.material()))
          .put("keyStatus", k.enabled() ? "ENABLED" : "DISABLED")
          .put("creationDate", k.creationDate().toString());
    }
    Path tmp = file.resolveSibling(FILE + ".tmp");
    Files.deleteIfExists(tmp);
    try {
      // Created owner-only, so the material is never readable by others, not even for a moment.
      Files.createFile(tmp, PosixFilePermissions.asFileAttribute(OWNER_ONLY));
    } catch (UnsupportedOperationException e) {
      Files.createFile(tmp); // not a POSIX file system
    } catch (FileAlreadyExistsException e) {
      throw new IOException("another process is writing " + file, e);
    }
    Files.write(tmp, MAPPER.writerWithDefaultPrettyPrinter().writeValueAsBytes(root));
    try {
      Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
    }
    restrict(file, OWNER_ONLY);
  }

  private static void restrict(Path p, Set<PosixFilePermission> permissions) {
    try {
      Files.setPosixFilePermissions(p, permissions);
    } catch (UnsupportedOperationException e) {
      // not a POSIX file system: nothing to restrict
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
