package io.kmsregions.crypto;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kmsregions.crypto.KeyMaterialGenerator.GeneratedMaterial;
import io.kmsregions.crypto.Macs.MacAlgorithm;
import io.kmsregions.key.KeyMaterial;
import io.kmsregions.key.KeySpec;
import io.kmsregions.key.KeyUsage;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.MGF1ParameterSpec;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import javax.crypto.BadPaddingException;
import javax.crypto.Cipher;
import javax.crypto.KeyAgreement;
import javax.crypto.spec.OAEPParameterSpec;
import javax.crypto.spec.PSource;
import org.bouncycastle.asn1.ASN1EncodableVector;
import org.bouncycastle.asn1.ASN1Integer;
import org.bouncycastle.asn1.DEROctetString;
import org.bouncycastle.asn1.DERSequence;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.crypto.digests.SM3Digest;
import org.bouncycastle.crypto.engines.SM2Engine;
import org.bouncycastle.crypto.params.Ed25519PrivateKeyParameters;
import org.bouncycastle.crypto.params.ParametersWithRandom;
import org.bouncycastle.crypto.util.PrivateKeyInfoFactory;
import org.bouncycastle.crypto.util.PublicKeyFactory;
import org.bouncycastle.crypto.util.SubjectPublicKeyInfoFactory;
import org.bouncycastle.asn1.x9.ECNamedCurveTable;
import org.bouncycastle.math.ec.ECPoint;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The crypto package's primitives against independent implementations ({@link IndependentCrypto}:
 * the JDK, or a Bouncy Castle provider of the test's own where JDK 17 lacks the algorithm) and
 * published test vectors (RFC 8032, RFC 4231), in both directions: what kms-regions makes, they
 * accept; what they make, kms-regions accepts.
 */
class CryptoPrimitivesTest {
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final HexFormat HEX = HexFormat.of();
  private static final byte[] MESSAGE = "the quick brown fox jumps over the lazy dog".getBytes(StandardCharsets.UTF_8);
  private static final Map<KeySpec, KeyMaterial> MATERIAL = new ConcurrentHashMap<>();

  private static KeyMaterial material(KeySpec spec) {
    return MATERIAL.computeIfAbsent(spec, s -> {
      GeneratedMaterial g = KeyMaterialGenerator.generate(s);
      return new KeyMaterial(SymmetricCiphertext.newKeyMaterialId(), g.secret(), g.publicKey(), 0);
    });
  }

  /** Every (spec, signing algorithm) pair of the CreateKey matrix (kms-api.md §4). */
  static Stream<Arguments> signingPairs() {
    List<Arguments> out = new ArrayList<>();
    for (KeySpec spec : KeySpec.values()) {
      for (String a : spec.algorithms(KeyUsage.SIGN_VERIFY)) out.add(Arguments.of(spec, SigningAlgorithm.valueOf(a)));
    }
    return out.stream();
  }

  // ------------------------------------------------------------------ signatures

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("signingPairs")
  void signaturesInteroperateBothWays(KeySpec spec, SigningAlgorithm algorithm) throws Exception {
    KeyMaterial m = material(spec);
    String name = algorithm.name();
    if (algorithm.accepts(MessageType.RAW)) {
      byte[] ours = Signatures.sign(spec, m, algorithm, MessageType.RAW, MESSAGE);
      assertTrue(IndependentCrypto.verify(name, m.publicKey(), MESSAGE, ours), "independent verifier rejects ours");
      assertFalse(IndependentCrypto.verify(name, m.publicKey(), tampered(MESSAGE), ours),
          "independent verifier accepts ours over another message");
      byte[] theirs = IndependentCrypto.sign(name, m.secret(), m.publicKey(), MESSAGE);
      assertTrue(Signatures.verify(spec, m, algorithm, MessageType.RAW, MESSAGE, theirs), "we reject theirs");
      assertFalse(Signatures.verify(spec, m, algorithm, MessageType.RAW, tampered(MESSAGE), theirs));
      assertFalse(Signatures.verify(spec, m, algorithm, MessageType.RAW, MESSAGE, tampered(theirs)));
    }
    if (algorithm.accepts(MessageType.DIGEST) && algorithm != SigningAlgorithm.ED25519_PH_SHA_512) {
      // A digest signed as DIGEST verifies as the RAW message, and the other way round.
      byte[] digest = IndependentCrypto.digest(name, m.publicKey(), MESSAGE);
      assertEquals(algorithm.digestLength(), digest.length);
      byte[] ours = Signatures.sign(spec, m, algorithm, MessageType.DIGEST, digest);
      assertTrue(IndependentCrypto.verify(name, m.publicKey(), MESSAGE, ours), "DIGEST signature is not RAW's");
      byte[] theirs = IndependentCrypto.sign(name, m.secret(), m.publicKey(), MESSAGE);
      assertTrue(Signatures.verify(spec, m, algorithm, MessageType.DIGEST, digest, theirs));
      assertFalse(Signatures.verify(spec, m, algorithm, MessageType.DIGEST, tampered(digest), theirs));
    }
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(value = KeySpec.class, names = {"ML_DSA_44", "ML_DSA_65", "ML_DSA_87"})
  void mlDsaExternalMuIsTheMuOfTheRawMessage(KeySpec spec) throws Exception {
    KeyMaterial m = material(spec);
    byte[] mu = IndependentCrypto.mu(m.publicKey(), MESSAGE);
    byte[] ours = Signatures.sign(spec, m, SigningAlgorithm.ML_DSA_SHAKE_256, MessageType.EXTERNAL_MU, mu);
    assertTrue(IndependentCrypto.verify("ML_DSA_SHAKE_256", m.publicKey(), MESSAGE, ours));
    byte[] theirs = IndependentCrypto.sign("ML_DSA_SHAKE_256", m.secret(), m.publicKey(), MESSAGE);
    assertTrue(Signatures.verify(spec, m, SigningAlgorithm.ML_DSA_SHAKE_256, MessageType.EXTERNAL_MU, mu, theirs));
    assertFalse(Signatures.verify(spec, m, SigningAlgorithm.ML_DSA_SHAKE_256, MessageType.EXTERNAL_MU,
        tampered(mu), theirs));
  }

  @Test
  void ed25519phSignsTheGivenBytesWithThePrehashFlag() throws Exception {
    KeyMaterial m = material(KeySpec.ECC_NIST_EDWARDS25519);
    byte[] digest = MessageDigest.getInstance("SHA-512").digest(MESSAGE);
    byte[] ours = Signatures.sign(KeySpec.ECC_NIST_EDWARDS25519, m, SigningAlgorithm.ED25519_PH_SHA_512,
        MessageType.DIGEST, digest);
    // The JDK's HashEdDSA over the 64 submitted bytes (KMS prehashes what it is given).
    assertTrue(IndependentCrypto.verify("ED25519_PH_SHA_512", m.publicKey(), digest, ours));
    assertFalse(IndependentCrypto.verify("ED25519_PH_SHA_512", m.publicKey(), MESSAGE, ours));
    assertFalse(IndependentCrypto.verify("ED25519_SHA_512", m.publicKey(), digest, ours));
    byte[] theirs = IndependentCrypto.sign("ED25519_PH_SHA_512", m.secret(), m.publicKey(), digest);
    assertTrue(Signatures.verify(KeySpec.ECC_NIST_EDWARDS25519, m, SigningAlgorithm.ED25519_PH_SHA_512,
        MessageType.DIGEST, digest, theirs));
  }

  /** RFC 8032 §7.1 TEST 2 (Ed25519) and §7.3 TEST abc (Ed25519ph): both deterministic. */
  @Test
  void ed25519MatchesRfc8032TestVectors() throws Exception {
    KeyMaterial pure = ed25519("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb");
    assertArrayEquals(HEX.parseHex("3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c"),
        SubjectPublicKeyInfo.getInstance(pure.publicKey()).getPublicKeyData().getOctets());
    assertArrayEquals(HEX.parseHex("92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
            + "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"),
        Signatures.sign(KeySpec.ECC_NIST_EDWARDS25519, pure, SigningAlgorithm.ED25519_SHA_512, MessageType.RAW,
            HEX.parseHex("72")));
    KeyMaterial ph = ed25519("833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42");
    assertArrayEquals(HEX.parseHex("98a70222f0b8121aa9d30f813d683f809e462b469c7ff87639499bb94e6dae41"
            + "31f85042463c2a355a2003d062adf5aaa10b8c61e636062aaad11c2a26083406"),
        Signatures.sign(KeySpec.ECC_NIST_EDWARDS25519, ph, SigningAlgorithm.ED25519_PH_SHA_512, MessageType.DIGEST,
            HEX.parseHex("616263")));
  }

  private static KeyMaterial ed25519(String seedHex) throws Exception {
    Ed25519PrivateKeyParameters sk = new Ed25519PrivateKeyParameters(HEX.parseHex(seedHex), 0);
    byte[] pkcs8 = PrivateKeyInfoFactory.createPrivateKeyInfo(sk).getEncoded("DER");
    byte[] spki = SubjectPublicKeyInfoFactory.createSubjectPublicKeyInfo(sk.generatePublicKey()).getEncoded("DER");
    return new KeyMaterial(SymmetricCiphertext.newKeyMaterialId(), pkcs8, spki, 0);
  }

  @Test
  void rsaPssUsesASaltAsLongAsTheHash() throws Exception {
    KeyMaterial m = material(KeySpec.RSA_2048);
    byte[] ours = Signatures.sign(KeySpec.RSA_2048, m, SigningAlgorithm.RSASSA_PSS_SHA_256, MessageType.RAW, MESSAGE);
    java.security.Signature wrongSalt = java.security.Signature.getInstance("RSASSA-PSS");
    wrongSalt.setParameter(new java.security.spec.PSSParameterSpec("SHA-256", "MGF1", MGF1ParameterSpec.SHA256, 20, 1));
    wrongSalt.initVerify(IndependentCrypto.publicKey(m.publicKey()));
    wrongSalt.update(MESSAGE);
    assertFalse(wrongSalt.verify(ours), "a 20-byte salt verifier must not accept a 32-byte salt signature");
    // ECDSA signatures are DER SEQUENCE {r, s}.
    KeyMaterial ec = material(KeySpec.ECC_NIST_P256);
    byte[] ecdsa = Signatures.sign(KeySpec.ECC_NIST_P256, ec, SigningAlgorithm.ECDSA_SHA_256, MessageType.RAW, MESSAGE);
    assertEquals(2, org.bouncycastle.asn1.ASN1Sequence.getInstance(ecdsa).size());
  }

  @Test
  void messageTypeRulesAndDigestLengths() {
    assertNull(SigningAlgorithm.ECDSA_SHA_384.messageProblem(MessageType.DIGEST, new byte[48]));
    assertEquals("Digest is invalid length for algorithm ECDSA_SHA_384.",
        SigningAlgorithm.ECDSA_SHA_384.messageProblem(MessageType.DIGEST, new byte[32]));
    assertEquals("Digest is invalid length for algorithm SM2DSA.",
        SigningAlgorithm.SM2DSA.messageProblem(MessageType.DIGEST, new byte[64]));
    assertEquals("Message type DIGEST is incompatible with algorithm ED25519_SHA_512.",
        SigningAlgorithm.ED25519_SHA_512.messageProblem(MessageType.DIGEST, new byte[64]));
    assertEquals("Message type RAW is incompatible with algorithm ED25519_PH_SHA_512.",
        SigningAlgorithm.ED25519_PH_SHA_512.messageProblem(MessageType.RAW, MESSAGE));
    assertEquals("Message type EXTERNAL_MU is incompatible with algorithm ECDSA_SHA_256.",
        SigningAlgorithm.ECDSA_SHA_256.messageProblem(MessageType.EXTERNAL_MU, new byte[64]));
    assertEquals("Digest is invalid length for algorithm ML_DSA_SHAKE_256.",
        SigningAlgorithm.ML_DSA_SHAKE_256.messageProblem(MessageType.EXTERNAL_MU, new byte[32]));
    assertNull(SigningAlgorithm.ML_DSA_SHAKE_256.messageProblem(MessageType.EXTERNAL_MU, new byte[64]));
  }

  // ------------------------------------------------------------------ encryption

  @Test
  void rsaOaepPlaintextLimitsAreAwsTable() {
    // kms-api.md §7: RSA_2048 214 / 190; RSA_3072 342 / 318; RSA_4096 470 / 446; SM2PKE 1024.
    assertEquals(214, EncryptionAlgorithm.RSAES_OAEP_SHA_1.maxPlaintext(KeySpec.RSA_2048));
    assertEquals(190, EncryptionAlgorithm.RSAES_OAEP_SHA_256.maxPlaintext(KeySpec.RSA_2048));
    assertEquals(342, EncryptionAlgorithm.RSAES_OAEP_SHA_1.maxPlaintext(KeySpec.RSA_3072));
    assertEquals(318, EncryptionAlgorithm.RSAES_OAEP_SHA_256.maxPlaintext(KeySpec.RSA_3072));
    assertEquals(470, EncryptionAlgorithm.RSAES_OAEP_SHA_1.maxPlaintext(KeySpec.RSA_4096));
    assertEquals(446, EncryptionAlgorithm.RSAES_OAEP_SHA_256.maxPlaintext(KeySpec.RSA_4096));
    assertEquals(1024, EncryptionAlgorithm.SM2PKE.maxPlaintext(KeySpec.SM2));
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(value = EncryptionAlgorithm.class, names = {"RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"})
  void rsaOaepInteroperatesWithTheJdkCipher(EncryptionAlgorithm algorithm) throws Exception {
    KeyMaterial m = material(KeySpec.RSA_2048);
    String hash = algorithm.hash();
    OAEPParameterSpec params = new OAEPParameterSpec(hash, "MGF1", new MGF1ParameterSpec(hash), PSource.PSpecified.DEFAULT);
    String transformation = "RSA/ECB/OAEPWith" + hash + "AndMGF1Padding";
    byte[] plaintext = new byte[algorithm.maxPlaintext(KeySpec.RSA_2048)];
    RANDOM.nextBytes(plaintext);

    Cipher jdk = Cipher.getInstance(transformation);
    jdk.init(Cipher.ENCRYPT_MODE, IndependentCrypto.publicKey(m.publicKey()), params);
    byte[] theirs = jdk.doFinal(plaintext);
    assertArrayEquals(plaintext, AsymmetricEncryption.decrypt(KeySpec.RSA_2048, m, algorithm, theirs));

    byte[] ours = AsymmetricEncryption.encrypt(KeySpec.RSA_2048, m, algorithm, plaintext);
    assertEquals(256, ours.length);
    jdk.init(Cipher.DECRYPT_MODE, IndependentCrypto.privateKey(m.secret(), m.publicKey()), params);
    assertArrayEquals(plaintext, jdk.doFinal(ours));

    // The other hash does not decrypt it, nor does a flipped bit.
    EncryptionAlgorithm other = algorithm == EncryptionAlgorithm.RSAES_OAEP_SHA_1
        ? EncryptionAlgorithm.RSAES_OAEP_SHA_256 : EncryptionAlgorithm.RSAES_OAEP_SHA_1;
    assertThrows(GeneralSecurityException.class, () -> AsymmetricEncryption.decrypt(KeySpec.RSA_2048, m, other, theirs));
    assertThrows(GeneralSecurityException.class,
        () -> AsymmetricEncryption.decrypt(KeySpec.RSA_2048, m, algorithm, tampered(theirs)));
  }

  @Test
  void sm2pkeIsC1C3C2AndAcceptsTheDerForm() throws Exception {
    KeyMaterial m = material(KeySpec.SM2);
    byte[] plaintext = new byte[1024];
    RANDOM.nextBytes(plaintext);
    byte[] ours = AsymmetricEncryption.encrypt(KeySpec.SM2, m, EncryptionAlgorithm.SM2PKE, plaintext);
    assertEquals(97 + plaintext.length, ours.length);
    assertEquals(0x04, ours[0]);
    // C1 is a point of the curve, and C3 = SM3(x2 || M || y2) sits before C2 (GB/T 32918.4 §6.1).
    ECPoint c1 = ECNamedCurveTable.getByName("sm2p256v1").getCurve().decodePoint(java.util.Arrays.copyOf(ours, 65));
    assertTrue(c1.isValid());

    // Bouncy Castle's engine in the same mode, used directly, decrypts ours and makes one we decrypt.
    SM2Engine engine = new SM2Engine(new SM3Digest(), SM2Engine.Mode.C1C3C2);
    engine.init(false, org.bouncycastle.crypto.util.PrivateKeyFactory.createKey(m.secret()));
    assertArrayEquals(plaintext, engine.processBlock(ours, 0, ours.length));
    engine.init(true, new ParametersWithRandom(PublicKeyFactory.createKey(m.publicKey()), RANDOM));
    byte[] theirs = engine.processBlock(plaintext, 0, plaintext.length);
    assertArrayEquals(plaintext, AsymmetricEncryption.decrypt(KeySpec.SM2, m, EncryptionAlgorithm.SM2PKE, theirs));

    // GM/T 0009-2012 DER: SEQUENCE {x, y, hash, ciphertext}.
    ASN1EncodableVector v = new ASN1EncodableVector();
    v.add(new ASN1Integer(new BigInteger(1, java.util.Arrays.copyOfRange(theirs, 1, 33))));
    v.add(new ASN1Integer(new BigInteger(1, java.util.Arrays.copyOfRange(theirs, 33, 65))));
    v.add(new DEROctetString(java.util.Arrays.copyOfRange(theirs, 65, 97)));
    v.add(new DEROctetString(java.util.Arrays.copyOfRange(theirs, 97, theirs.length)));
    byte[] der = new DERSequence(v).getEncoded("DER");
    assertArrayEquals(plaintext, AsymmetricEncryption.decrypt(KeySpec.SM2, m, EncryptionAlgorithm.SM2PKE, der));

    assertThrows(BadPaddingException.class,
        () -> AsymmetricEncryption.decrypt(KeySpec.SM2, m, EncryptionAlgorithm.SM2PKE, tampered(ours)));
  }

  // ------------------------------------------------------------------ ECDH, HMAC

  @ParameterizedTest(name = "{0}")
  @EnumSource(value = KeySpec.class, names = {"ECC_NIST_P256", "ECC_NIST_P384", "ECC_NIST_P521", "SM2"})
  void ecdhMatchesTheOtherSide(KeySpec spec) throws Exception {
    KeyMaterial m = material(spec);
    String curve = switch (spec) {
      case ECC_NIST_P256 -> "secp256r1";
      case ECC_NIST_P384 -> "secp384r1";
      case ECC_NIST_P521 -> "secp521r1";
      default -> "sm2p256v1";
    };
    boolean jdk = spec != KeySpec.SM2;
    KeyPairGenerator g = jdk ? KeyPairGenerator.getInstance("EC") : KeyPairGenerator.getInstance("EC", IndependentCrypto.BC);
    g.initialize(new ECGenParameterSpec(curve));
    KeyPair peer = g.generateKeyPair();
    KeyAgreement other = jdk ? KeyAgreement.getInstance("ECDH") : KeyAgreement.getInstance("ECDH", IndependentCrypto.BC);
    other.init(peer.getPrivate());
    other.doPhase(IndependentCrypto.publicKey(m.publicKey()), true);
    byte[] expected = other.generateSecret();

    byte[] ours = Ecdh.deriveSharedSecret(spec, m, peer.getPublic().getEncoded());
    assertArrayEquals(expected, ours);
    assertEquals((spec.size() + 7) / 8, ours.length);

    // A compressed peer point is the same key.
    SubjectPublicKeyInfo info = SubjectPublicKeyInfo.getInstance(peer.getPublic().getEncoded());
    ECPoint q = ECNamedCurveTable.getByName(curve).getCurve().decodePoint(info.getPublicKeyData().getOctets());
    byte[] compressed = new SubjectPublicKeyInfo(info.getAlgorithm(), q.getEncoded(true)).getEncoded("DER");
    assertArrayEquals(expected, Ecdh.deriveSharedSecret(spec, m, compressed));
  }

  @Test
  void ecdhRefusesPeersOffTheCurve() throws Exception {
    KeyMaterial m = material(KeySpec.ECC_NIST_P256);
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
    g.initialize(new ECGenParameterSpec("secp384r1"));
    byte[] p384 = g.generateKeyPair().getPublic().getEncoded();
    assertThrows(Ecdh.InvalidPeerKeyException.class, () -> Ecdh.deriveSharedSecret(KeySpec.ECC_NIST_P256, m, p384));
    byte[] rsa = material(KeySpec.RSA_2048).publicKey();
    assertThrows(Ecdh.InvalidPeerKeyException.class, () -> Ecdh.deriveSharedSecret(KeySpec.ECC_NIST_P256, m, rsa));
    assertThrows(Ecdh.InvalidPeerKeyException.class,
        () -> Ecdh.deriveSharedSecret(KeySpec.ECC_NIST_P256, m, new byte[] {1, 2, 3}));
    // A P-256 SPKI whose point is not on the curve (y + 1).
    g.initialize(new ECGenParameterSpec("secp256r1"));
    byte[] good = g.generateKeyPair().getPublic().getEncoded();
    byte[] bad = good.clone();
    bad[bad.length - 1] ^= 1;
    assertThrows(Ecdh.InvalidPeerKeyException.class, () -> Ecdh.deriveSharedSecret(KeySpec.ECC_NIST_P256, m, bad));
    assertNotNull(Ecdh.deriveSharedSecret(KeySpec.ECC_NIST_P256, m, good));
  }

  /** RFC 4231 §4.3, test case 2. */
  @Test
  void hmacMatchesRfc4231() {
    byte[] key = "Jefe".getBytes(StandardCharsets.US_ASCII);
    byte[] data = "what do ya want for nothing?".getBytes(StandardCharsets.US_ASCII);
    Map<MacAlgorithm, String> expected = Map.of(
        MacAlgorithm.HMAC_SHA_224, "a30e01098bc6dbbf45690f3a7e9e6d0f8bbea2a39e6148008fd05e44",
        MacAlgorithm.HMAC_SHA_256, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
        MacAlgorithm.HMAC_SHA_384, "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e"
            + "8e2240ca5e69e2c78b3239ecfab21649",
        MacAlgorithm.HMAC_SHA_512, "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554"
            + "9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737");
    expected.forEach((algorithm, hex) -> {
      assertEquals(hex, HEX.formatHex(Macs.mac(algorithm, key, data)), algorithm.name());
      assertTrue(Macs.verify(algorithm, key, data, HEX.parseHex(hex)));
      assertFalse(Macs.verify(algorithm, key, data, tampered(HEX.parseHex(hex))));
      assertFalse(Macs.verify(algorithm, key, data, java.util.Arrays.copyOf(HEX.parseHex(hex), 16)));
    });
  }

  @Test
  void parsedKeysAreNotConfusedAcrossMaterialWithTheSameId() {
    KeyMaterial a = material(KeySpec.ECC_NIST_P256);
    GeneratedMaterial other = KeyMaterialGenerator.generate(KeySpec.ECC_NIST_P256);
    KeyMaterial b = new KeyMaterial(a.keyMaterialId(), other.secret(), other.publicKey(), 0);
    PublicKey pa = ParsedKeys.publicKey(KeySpec.ECC_NIST_P256, a);
    PublicKey pb = ParsedKeys.publicKey(KeySpec.ECC_NIST_P256, b);
    assertArrayEquals(a.publicKey(), pa.getEncoded());
    assertArrayEquals(b.publicKey(), pb.getEncoded());
    PrivateKey sa = ParsedKeys.privateKey(KeySpec.ECC_NIST_P256, a);
    assertTrue(sa == ParsedKeys.privateKey(KeySpec.ECC_NIST_P256, a), "a second parse of the same material");
  }

  private static byte[] tampered(byte[] b) {
    byte[] t = b.clone();
    t[t.length / 2] ^= 0x01;
    return t;
  }
}
