package io.kmsregions.security.transit;

import io.kmsregions.key.KeyEntity.CompleteHandover;
import io.kmsregions.key.KeyEntity.CreateReplica;
import io.kmsregions.key.KeyEntity.Promote;
import io.kmsregions.key.KeyEntity.ReplicaDeleted;
import io.kmsregions.key.KeyEntity.ReplicationCommand;
import io.kmsregions.key.KeyEntity.SynchronizeConfiguration;
import io.kmsregions.key.KeyEntity.SynchronizeSharedProperties;
import io.kmsregions.key.KeyMaterial;
import io.kmsregions.key.SharedProperties;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.spec.X509EncodedKeySpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.UnaryOperator;
import javax.crypto.Cipher;
import javax.crypto.KeyAgreement;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.bouncycastle.crypto.digests.SHA256Digest;
import org.bouncycastle.crypto.generators.HKDFBytesGenerator;
import org.bouncycastle.crypto.params.HKDFParameters;

/**
 * Key material wrapped for the Region that receives it (issue 7, "In transit": "Material that
 * crosses Regions (replication, handover) is additionally wrapped for the receiving Region, so
 * even a plain-TCP deployment never carries it in clear").
 *
 * <p>Each node holds an X25519 key pair made at start (in memory only; a restarted node has a new
 * one and its peers fetch it again). To send a replication message, the sending node derives a
 * key from its private key and the receiving node's public key (X25519, RFC 7748; HKDF-SHA256,
 * RFC 5869, salted with both public keys, info naming both Regions) and encrypts every secret of
 * every {@link KeyMaterial} in the message with AES-256-GCM (fresh 12-byte IV; associated data:
 * the key id and the material id). Only the receiving node (or the sender) can derive that key.
 * Public keys and key ids are not wrapped: they are public. A message wrapped for a key pair the
 * receiver no longer holds cannot be opened; it is refused and the sender retries, as for a
 * Region it cannot reach.
 *
 * <p>Sealed secret layout: {@code version(1)=1 | iv(12) | AES-GCM ciphertext+tag}.
 */
public final class TransitSealing {
  private static final byte VERSION = 1;
  private static final int IV_BYTES = 12;
  private static final SecureRandom RANDOM = new SecureRandom();

  private final String region;
  private final KeyPair keyPair;
  private final byte[] publicKey;
  /** Derived keys by (peer Region, peer public key fingerprint). */
  private final Map<String, SecretKeySpec> derived = new ConcurrentHashMap<>();

  private TransitSealing(String region, KeyPair keyPair) {
    this.region = region;
    this.keyPair = keyPair;
    this.publicKey = keyPair.getPublic().getEncoded();
  }

  /** A new key pair for the node of {@code region}. */
  public static TransitSealing create(String region) {
    try {
      return new TransitSealing(region, KeyPairGenerator.getInstance("X25519").generateKeyPair());
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("X25519 is not available", e);
    }
  }

  /** This node's public key: X.509 SubjectPublicKeyInfo DER of an X25519 key. */
  public byte[] publicKey() {
    return publicKey.clone();
  }

  /** A short identifier of a public key (its SHA-256, first 8 bytes, hex). */
  public static String fingerprint(byte[] publicKey) {
    try {
      byte[] d = MessageDigest.getInstance("SHA-256").digest(publicKey);
      return java.util.HexFormat.of().formatHex(d, 0, 8);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  public String fingerprint() {
    return fingerprint(publicKey);
  }

  /**
   * {@code command} with every material secret sealed for {@code peerRegion}'s node whose public
   * key is {@code peerPublicKey}.
   */
  public ReplicationCommand sealFor(String peerRegion, byte[] peerPublicKey, String keyId, ReplicationCommand command) {
    SecretKeySpec k = key(peerRegion, peerPublicKey, region, peerRegion);
    return mapMaterials(command, m -> m.secret() == null ? m
        : new KeyMaterial(m.keyMaterialId(), seal(k, m.secret(), aad(keyId, m)), m.publicKey(), m.createdAt(), m.keyId()));
  }

  /**
   * The inverse of {@link #sealFor}, on the receiving node: {@code command} as {@code peerRegion}'s
   * node (public key {@code peerPublicKey}) sealed it for this node.
   *
   * @throws GeneralSecurityException when a secret was not sealed for this node's key pair
   */
  public ReplicationCommand openFrom(String peerRegion, byte[] peerPublicKey, String keyId, ReplicationCommand command)
      throws GeneralSecurityException {
    SecretKeySpec k = key(peerRegion, peerPublicKey, peerRegion, region);
    try {
      return mapMaterials(command, m -> {
        if (m.secret() == null) return m;
        try {
          return new KeyMaterial(m.keyMaterialId(), open(k, m.secret(), aad(keyId, m)), m.publicKey(), m.createdAt(),
              m.keyId());
        } catch (GeneralSecurityException e) {
          throw new Unsealable(e);
        }
      });
    } catch (Unsealable e) {
      throw (GeneralSecurityException) e.getCause();
    }
  }

  private static final class Unsealable extends RuntimeException {
    Unsealable(GeneralSecurityException cause) {
      super(cause);
    }
  }

  /**
   * The same command with each of its key materials replaced. Every replication command is named
   * here; an unknown one is refused rather than sent unsealed (TransitSealingTest checks every
   * permitted subtype of {@link ReplicationCommand}).
   */
  static ReplicationCommand mapMaterials(ReplicationCommand c, UnaryOperator<KeyMaterial> f) {
    if (c instanceof CreateReplica r) {
      return new CreateReplica(r.replica().withShared(map(r.replica().shared(), f)), r.replyTo());
    }
    if (c instanceof SynchronizeSharedProperties s) {
      return new SynchronizeSharedProperties(map(s.shared(), f), s.configuration(), s.replyTo());
    }
    if (c instanceof Promote p) return new Promote(map(p.shared(), f), p.configuration(), p.replyTo());
    if (c instanceof SynchronizeConfiguration || c instanceof CompleteHandover || c instanceof ReplicaDeleted) return c;
    throw new IllegalArgumentException("TransitSealing does not know " + c.getClass().getSimpleName());
  }

  private static SharedProperties map(SharedProperties s, UnaryOperator<KeyMaterial> f) {
    if (s == null || s.materials().isEmpty()) return s;
    List<KeyMaterial> out = new ArrayList<>(s.materials().size());
    for (KeyMaterial m : s.materials()) out.add(f.apply(m));
    return new SharedProperties(s.version(), s.keySpec(), s.keyUsage(), s.origin(), out, s.currentKeyMaterialId(),
        s.rotationEnabled(), s.rotationPeriodInDays(), s.nextRotationDate(), s.rotations(), s.generation());
  }

  private static byte[] aad(String keyId, KeyMaterial m) {
    return (keyId + "|" + m.keyMaterialId()).getBytes(StandardCharsets.UTF_8);
  }

  /** The AES key shared with a peer: HKDF over X25519(ours, theirs); {@code from}→{@code to} in info. */
  private SecretKeySpec key(String peerRegion, byte[] peerPublicKey, String from, String to) {
    return derived.computeIfAbsent(peerRegion + "|" + fingerprint(peerPublicKey) + "|" + from + ">" + to, x -> {
      try {
        PublicKey peer = KeyFactory.getInstance("X25519").generatePublic(new X509EncodedKeySpec(peerPublicKey));
        KeyAgreement agreement = KeyAgreement.getInstance("X25519");
        agreement.init(keyPair.getPrivate());
        agreement.doPhase(peer, true);
        byte[] shared = agreement.generateSecret();
        // Salt: both public keys in the sender-then-receiver order, so both sides derive the same.
        byte[] senderKey = from.equals(region) ? publicKey : peerPublicKey;
        byte[] receiverKey = from.equals(region) ? peerPublicKey : publicKey;
        byte[] salt = new byte[senderKey.length + receiverKey.length];
        System.arraycopy(senderKey, 0, salt, 0, senderKey.length);
        System.arraycopy(receiverKey, 0, salt, senderKey.length, receiverKey.length);
        HKDFBytesGenerator hkdf = new HKDFBytesGenerator(new SHA256Digest());
        hkdf.init(new HKDFParameters(shared, salt,
            ("kms-regions transit key material " + from + ">" + to).getBytes(StandardCharsets.UTF_8)));
        byte[] aes = new byte[32];
        hkdf.generateBytes(aes, 0, aes.length);
        Arrays.fill(shared, (byte) 0);
        return new SecretKeySpec(aes, "AES");
      } catch (GeneralSecurityException e) {
        throw new IllegalArgumentException("not an X25519 public key: " + e.getMessage(), e);
      }
    });
  }

  private static byte[] seal(SecretKeySpec k, byte[] secret, byte[] aad) {
    try {
      byte[] iv = new byte[IV_BYTES];
      RANDOM.nextBytes(iv);
      Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
      c.init(Cipher.ENCRYPT_MODE, k, new GCMParameterSpec(128, iv));
      c.updateAAD(aad);
      byte[] body = c.doFinal(secret);
      byte[] out = new byte[1 + IV_BYTES + body.length];
      out[0] = VERSION;
      System.arraycopy(iv, 0, out, 1, IV_BYTES);
      System.arraycopy(body, 0, out, 1 + IV_BYTES, body.length);
      return out;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AES-GCM failed", e);
    }
  }

  private static byte[] open(SecretKeySpec k, byte[] sealed, byte[] aad) throws GeneralSecurityException {
    if (sealed.length < 1 + IV_BYTES + 16 || sealed[0] != VERSION) {
      throw new GeneralSecurityException("not sealed key material");
    }
    Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
    c.init(Cipher.DECRYPT_MODE, k, new GCMParameterSpec(128, sealed, 1, IV_BYTES));
    c.updateAAD(aad);
    return c.doFinal(sealed, 1 + IV_BYTES, sealed.length - 1 - IV_BYTES);
  }

  /** For messages: which Region's node this is. */
  public String region() {
    return region;
  }
}
