package io.kmsregions.security.atrest;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Locale;
import java.util.Set;
import javax.crypto.SecretKey;
import javax.crypto.spec.SecretKeySpec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The per-Region root key (AES-256) under which key material is sealed in the journal and the
 * snapshots ({@link KeyMaterialSealing}). It never enters the journal: it comes from the
 * environment variable {@code KMS_ROOT_KEY_<REGION>} (the Region upper-cased, dashes as
 * underscores, e.g. {@code KMS_ROOT_KEY_EU_WEST_1}; base64 of 32 bytes), or else from the file
 * {@code <data-dir>/<region>/root-key}, next to (not inside) the LevelDB folders, which the first
 * start creates with owner-only permissions (0600).
 *
 * <p>What this protects against: a copy of the journal or snapshots (a backup, a shared volume, a
 * bug report) reveals no key material unless the root key is copied too. It does not protect
 * against someone who can read the whole data folder as its owner; a real deployment keeps the
 * root key in an HSM or a cloud KMS (see the README's "Security model").
 */
public final class RootKey {
  private static final Logger log = LoggerFactory.getLogger(RootKey.class);
  public static final String FILE_NAME = "root-key";
  private static final int LENGTH = 32;

  private RootKey() {}

  /** The name of the environment variable that may hold {@code region}'s root key. */
  public static String environmentVariable(String region) {
    return "KMS_ROOT_KEY_" + region.toUpperCase(Locale.ROOT).replace('-', '_');
  }

  /**
   * {@code region}'s root key: from the environment, or from {@code regionDir/root-key}, created
   * (owner-only, written to a temporary file and moved into place atomically) when absent.
   */
  public static SecretKey loadOrCreate(Path regionDir, String region) {
    String fromEnv = System.getenv(environmentVariable(region));
    if (fromEnv != null && !fromEnv.isBlank()) {
      byte[] key = Base64.getDecoder().decode(fromEnv.trim());
      if (key.length != LENGTH) {
        throw new IllegalStateException(environmentVariable(region) + " must be the base64 of 32 bytes");
      }
      return new SecretKeySpec(key, "AES");
    }
    Path file = regionDir.resolve(FILE_NAME);
    try {
      Files.createDirectories(regionDir);
      if (!Files.exists(file)) create(file);
      byte[] key = Files.readAllBytes(file);
      if (key.length != LENGTH) throw new IllegalStateException(file + " is not a 32-byte root key");
      warnIfReadableByOthers(file);
      return new SecretKeySpec(key, "AES");
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read or create the root key " + file, e);
    }
  }

  private static void create(Path file) throws IOException {
    byte[] key = new byte[LENGTH];
    new SecureRandom().nextBytes(key);
    Path tmp;
    try {
      tmp = Files.createTempFile(file.getParent(), FILE_NAME, ".tmp",
          PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    } catch (UnsupportedOperationException notPosix) {
      tmp = Files.createTempFile(file.getParent(), FILE_NAME, ".tmp");
    }
    try {
      Files.write(tmp, key);
      try (var channel = java.nio.channels.FileChannel.open(tmp, java.nio.file.StandardOpenOption.WRITE)) {
        channel.force(true);
      }
      try {
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(tmp, file);
      }
      log.info("Created the root key {} (owner-only); losing it makes this Region's keys unreadable", file);
    } catch (FileAlreadyExistsException raced) {
      // Another process created it first: use theirs.
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  private static void warnIfReadableByOthers(Path file) {
    try {
      Set<PosixFilePermission> p = Files.getPosixFilePermissions(file);
      if (p.contains(PosixFilePermission.GROUP_READ) || p.contains(PosixFilePermission.OTHERS_READ)) {
        log.warn("The root key {} is readable by other users; chmod 600 it", file);
      }
    } catch (UnsupportedOperationException | IOException ignored) {
      // not a POSIX file system: nothing to check
    }
  }
}
