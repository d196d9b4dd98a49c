package io.kmsregions.crypto;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kmsregions.crypto.KeyMaterialGenerator.GeneratedMaterial;
import io.kmsregions.key.KeySpec;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.Provider;
import java.security.PublicKey;
import java.security.Signature;
import java.security.interfaces.ECKey;
import java.security.interfaces.EdECKey;
import java.security.interfaces.RSAPrivateCrtKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.ASN1OctetString;
import org.bouncycastle.asn1.ASN1Primitive;
import org.bouncycastle.asn1.ASN1Sequence;
import org.bouncycastle.asn1.ASN1TaggedObject;
import org.bouncycastle.asn1.DERNull;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.sec.ECPrivateKey;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.asn1.x9.ECNamedCurveTable;
import org.bouncycastle.asn1.x9.X9ECParameters;
import org.bouncycastle.jcajce.interfaces.MLDSAKey;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Checks generated material with parsers independent of {@link KeyMaterialGenerator}: the JDK's
 * KeyFactory where it knows the algorithm, else Bouncy Castle's ASN.1 classes and provider.
 * Expected OIDs are written out as dotted strings so a wrong constant in the generator shows.
 */
class KeyMaterialGeneratorTest {

  private static final Provider BC = Providers.bouncyCastle();
  private static final byte[] MESSAGE = "kms-regions test message".getBytes(StandardCharsets.UTF_8);

  // Two generations per spec (one for RSA_4096, which is slow), shared across tests.
  private static final Map<KeySpec, GeneratedMaterial[]> GENERATED = new ConcurrentHashMap<>();

  private static GeneratedMaterial[] generated(KeySpec spec) {
    return GENERATED.computeIfAbsent(spec, s -> s == KeySpec.RSA_4096
        ? new GeneratedMaterial[] {KeyMaterialGenerator.generate(s)}
        : new GeneratedMaterial[] {KeyMaterialGenerator.generate(s), KeyMaterialGenerator.generate(s)});
  }

  /**
   * What an asymmetric spec's encodings must contain.
   *
   * @param curve SEC 2 / GM name for EC keys, else null
   * @param curveOid named-curve OID for EC keys, else null
   * @param jdkParses whether the JDK 17 KeyFactory can parse the encodings
   * @param signatureProvider null for the JDK
   */
  private record Expected(
      String keyFactory, String keyOid, String curve, String curveOid, int fieldBits,
      boolean jdkParses, String signature, Provider signatureProvider) {}

  private static final String RSA = "1.2.840.113549.1.1.1";
  private static final String EC = "1.2.840.10045.2.1";

  private static Expected expected(KeySpec spec) {
    return switch (spec) {
      case SYMMETRIC_DEFAULT, HMAC_224, HMAC_256, HMAC_384, HMAC_512 -> null;
      case RSA_2048, RSA_3072, RSA_4096 ->
          new Expected("RSA", RSA, null, null, 0, true, "SHA256withRSA", null);
      case ECC_NIST_P256 ->
          new Expected("EC", EC, "secp256r1", "1.2.840.10045.3.1.7", 256, true, "SHA256withECDSA", null);
      case ECC_NIST_P384 ->
          new Expected("EC", EC, "secp384r1", "1.3.132.0.34", 384, true, "SHA384withECDSA", null);
      case ECC_NIST_P521 ->
          new Expected("EC", EC, "secp521r1", "1.3.132.0.35", 521, true, "SHA512withECDSA", null);
      // The JDK 17 KeyFactory still parses secp256k1; only SunEC's signing is gone.
      case ECC_SECG_P256K1 ->
          new Expected("EC", EC, "secp256k1", "1.3.132.0.10", 256, true, "SHA256withECDSA", BC);
      case SM2 ->
          new Expected("EC", EC, "sm2p256v1", "1.2.156.10197.1.301", 256, false, "SM3withSM2", BC);
      case ECC_NIST_EDWARDS25519 ->
          new Expected("Ed25519", "1.3.101.112", null, null, 0, true, "Ed25519", null);
      case ML_DSA_44 ->
          new Expected("ML-DSA", "2.16.840.1.101.3.4.3.17", null, null, 0, false, "ML-DSA", BC);
      case ML_DSA_65 ->
          new Expected("ML-DSA", "2.16.840.1.101.3.4.3.18", null, null, 0, false, "ML-DSA", BC);
      case ML_DSA_87 ->
          new Expected("ML-DSA", "2.16.840.1.101.3.4.3.19", null, null, 0, false, "ML-DSA", BC);
    };
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(KeySpec.class)
  void generatesWellFormedMaterial(KeySpec spec) throws Exception {
    GeneratedMaterial material = generated(spec)[0];
    Expected expected = expected(spec);
    if (expected == null) {
      int bytes = switch (spec) {
        case SYMMETRIC_DEFAULT -> 32;
        case HMAC_224 -> 28;
        case HMAC_256 -> 32;
        case HMAC_384 -> 48;
        case HMAC_512 -> 64;
        default -> throw new AssertionError(spec);
      };
      assertEquals(bytes, material.secret().length);
      assertNull(material.publicKey());
      return;
    }
    assertNotNull(material.publicKey());

    // Structure, with BC's ASN.1 parser (RFC 5208/5958 PKCS#8, RFC 5280 SPKI).
    PrivateKeyInfo pkcs8 = PrivateKeyInfo.getInstance(material.secret());
    SubjectPublicKeyInfo spki = SubjectPublicKeyInfo.getInstance(material.publicKey());
    assertEquals(expected.keyOid(), pkcs8.getPrivateKeyAlgorithm().getAlgorithm().getId());
    assertEquals(expected.keyOid(), spki.getAlgorithm().getAlgorithm().getId());
    checkAlgorithmParameters(expected, pkcs8.getPrivateKeyAlgorithm().getParameters());
    checkAlgorithmParameters(expected, spki.getAlgorithm().getParameters());

    // Keys, with the JDK where it can, else BC.
    KeyFactory factory = expected.jdkParses()
        ? KeyFactory.getInstance(expected.keyFactory())
        : KeyFactory.getInstance(expected.keyFactory(), BC);
    PrivateKey privateKey = factory.generatePrivate(new PKCS8EncodedKeySpec(material.secret()));
    PublicKey publicKey = factory.generatePublic(new X509EncodedKeySpec(material.publicKey()));

    switch (spec.family()) {
      case RSA -> {
        RSAPrivateCrtKey rsaPrivate = assertInstanceOf(RSAPrivateCrtKey.class, privateKey);
        RSAPublicKey rsaPublic = assertInstanceOf(RSAPublicKey.class, publicKey);
        assertEquals(spec.size(), rsaPrivate.getModulus().bitLength());
        assertEquals(rsaPrivate.getModulus(), rsaPublic.getModulus());
        assertEquals(BigInteger.valueOf(65537), rsaPublic.getPublicExponent());
      }
      case ECC, SM2 -> {
        checkCurve(expected, (ECKey) privateKey);
        checkCurve(expected, (ECKey) publicKey);
        // RFC 5915 ECPrivateKey: if the inner parameters are present they must name the curve too.
        ECPrivateKey inner = ECPrivateKey.getInstance(pkcs8.parsePrivateKey());
        if (inner.getParametersObject() != null) {
          assertEquals(new ASN1ObjectIdentifier(expected.curveOid()), inner.getParametersObject());
        }
        // RFC 5915 §3: privateKey is fixed-length, ceiling(log2(n)/8) octets.
        byte[] scalar = ASN1OctetString.getInstance(
            ASN1Sequence.getInstance(pkcs8.parsePrivateKey()).getObjectAt(1)).getOctets();
        assertEquals((expected.fieldBits() + 7) / 8, scalar.length);
      }
      case EDWARDS -> {
        assertEquals("Ed25519", ((EdECKey) privateKey).getParams().getName());
        assertEquals("Ed25519", ((EdECKey) publicKey).getParams().getName());
        // RFC 8410 §7: CurvePrivateKey is an OCTET STRING of 32 bytes; §4: raw 32-byte public key.
        assertEquals(32, ASN1OctetString.getInstance(pkcs8.parsePrivateKey()).getOctets().length);
        assertEquals(32, spki.getPublicKeyData().getOctets().length);
      }
      case ML_DSA -> {
        String name = "ML-DSA-" + spec.size();
        assertEquals(name, ((MLDSAKey) privateKey).getParameterSpec().getName());
        assertEquals(name, ((MLDSAKey) publicKey).getParameterSpec().getName());
        checkMlDsaSizes(spec, pkcs8, spki);
      }
      default -> throw new AssertionError(spec);
    }

    // The pair matches, and a different message does not verify.
    byte[] signature = sign(expected, privateKey, MESSAGE);
    assertTrue(verify(expected, publicKey, MESSAGE, signature), "signature verifies");
    byte[] other = MESSAGE.clone();
    other[0] ^= 1;
    assertFalse(verify(expected, publicKey, other, signature), "altered message must not verify");
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(value = KeySpec.class, names = "RSA_4096", mode = EnumSource.Mode.EXCLUDE)
  void twoGenerationsDiffer(KeySpec spec) throws Exception {
    GeneratedMaterial[] two = generated(spec);
    assertFalse(Arrays.equals(two[0].secret(), two[1].secret()), "secrets differ");
    Expected expected = expected(spec);
    if (expected == null) {
      return;
    }
    assertFalse(Arrays.equals(two[0].publicKey(), two[1].publicKey()), "public keys differ");
    // And a signature by one key does not verify under the other.
    KeyFactory factory = expected.jdkParses()
        ? KeyFactory.getInstance(expected.keyFactory())
        : KeyFactory.getInstance(expected.keyFactory(), BC);
    PrivateKey first = factory.generatePrivate(new PKCS8EncodedKeySpec(two[0].secret()));
    PublicKey second = factory.generatePublic(new X509EncodedKeySpec(two[1].publicKey()));
    assertFalse(verify(expected, second, MESSAGE, sign(expected, first, MESSAGE)));
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(KeySpec.class)
  void parsesItsOwnEncodingsBack(KeySpec spec) throws Exception {
    GeneratedMaterial material = generated(spec)[0];
    Expected expected = expected(spec);
    if (expected == null) {
      assertThrows(IllegalArgumentException.class,
          () -> KeyMaterialGenerator.privateKey(spec, material.secret()));
      assertThrows(IllegalArgumentException.class,
          () -> KeyMaterialGenerator.publicKey(spec, material.secret()));
      return;
    }
    PrivateKey privateKey = KeyMaterialGenerator.privateKey(spec, material.secret());
    PublicKey publicKey = KeyMaterialGenerator.publicKey(spec, material.publicKey());
    assertArrayEquals(material.secret(), privateKey.getEncoded());
    assertArrayEquals(material.publicKey(), publicKey.getEncoded());
    assertTrue(verify(expected, publicKey, MESSAGE, sign(expected, privateKey, MESSAGE)));

    // Malformed input is an IllegalArgumentException, never a raw provider exception.
    byte[] truncated = Arrays.copyOf(material.secret(), material.secret().length - 1);
    byte[] garbage = {0x30, 0x03, 0x02, 0x01};
    for (byte[] bad : new byte[][] {null, new byte[0], garbage, truncated, material.publicKey()}) {
      assertThrows(IllegalArgumentException.class, () -> KeyMaterialGenerator.privateKey(spec, bad));
    }
    for (byte[] bad : new byte[][] {null, new byte[0], garbage, material.secret()}) {
      assertThrows(IllegalArgumentException.class, () -> KeyMaterialGenerator.publicKey(spec, bad));
    }
  }

  @Test
  void rejectsKeysOfAnotherSpec() {
    KeySpec[][] mismatches = {
        {KeySpec.RSA_2048, KeySpec.RSA_3072}, // same algorithm, wrong modulus size
        {KeySpec.ECC_NIST_P256, KeySpec.ECC_NIST_P384}, // same algorithm, wrong curve
        {KeySpec.ECC_NIST_P256, KeySpec.ECC_SECG_P256K1},
        {KeySpec.SM2, KeySpec.ECC_NIST_P256},
        {KeySpec.ML_DSA_44, KeySpec.ML_DSA_65}, // wrong parameter set
        {KeySpec.ECC_NIST_EDWARDS25519, KeySpec.RSA_2048},
    };
    for (KeySpec[] pair : mismatches) {
      GeneratedMaterial material = generated(pair[0])[0];
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> KeyMaterialGenerator.privateKey(pair[1], material.secret()), pair[0] + " as " + pair[1]);
      assertTrue(e.getMessage().startsWith(pair[1].name()), e.getMessage());
      assertThrows(IllegalArgumentException.class,
          () -> KeyMaterialGenerator.publicKey(pair[1], material.publicKey()), pair[0] + " as " + pair[1]);
    }
  }

  @Test
  void rejectsNullSpecAndKeepsSecretsOutOfToString() {
    assertThrows(NullPointerException.class, () -> KeyMaterialGenerator.generate(null));
    assertThrows(NullPointerException.class, () -> new GeneratedMaterial(null, null));
    GeneratedMaterial material = new GeneratedMaterial(new byte[] {1, 2, 3}, null);
    assertEquals("GeneratedMaterial[secret=3 bytes, publicKey=none]", material.toString());
  }

  @Test
  void sharesOneBouncyCastleProviderWithoutRegisteringIt() {
    assertTrue(Providers.bouncyCastle() == Providers.bouncyCastle());
    assertEquals("BC", Providers.bouncyCastle().getName());
    KeyMaterialGenerator.generate(KeySpec.SM2);
    assertNull(java.security.Security.getProvider("BC"), "BC must not be installed globally");
  }

  private static void checkAlgorithmParameters(Expected expected, ASN1Encodable parameters) {
    if (expected.curveOid() != null) {
      // RFC 5480 §2.1.1: namedCurve, not explicit ECParameters.
      assertEquals(new ASN1ObjectIdentifier(expected.curveOid()), parameters);
    } else if (expected.keyOid().equals(RSA)) {
      assertEquals(DERNull.INSTANCE, parameters); // RFC 8017 A.1: parameters NULL
    } else {
      assertNull(parameters); // RFC 8410 §3, RFC 9881: parameters absent
    }
  }

  private static void checkCurve(Expected expected, ECKey key) {
    X9ECParameters reference = ECNamedCurveTable.getByName(expected.curve());
    assertNotNull(reference, expected.curve());
    assertEquals(expected.fieldBits(), key.getParams().getCurve().getField().getFieldSize());
    assertEquals(reference.getN(), key.getParams().getOrder());
    assertEquals(reference.getCurve().getField().getCharacteristic(),
        ((java.security.spec.ECFieldFp) key.getParams().getCurve().getField()).getP());
    assertEquals(reference.getCurve().getA().toBigInteger(), key.getParams().getCurve().getA());
    assertEquals(reference.getCurve().getB().toBigInteger(), key.getParams().getCurve().getB());
  }

  /** FIPS 204 Table 2 sizes; the private key may be any RFC 9881 ML-DSA-PrivateKey choice. */
  private static void checkMlDsaSizes(KeySpec spec, PrivateKeyInfo pkcs8, SubjectPublicKeyInfo spki)
      throws Exception {
    int publicBytes = switch (spec) {
      case ML_DSA_44 -> 1312;
      case ML_DSA_65 -> 1952;
      case ML_DSA_87 -> 2592;
      default -> throw new AssertionError(spec);
    };
    int expandedBytes = switch (spec) {
      case ML_DSA_44 -> 2560;
      case ML_DSA_65 -> 4032;
      case ML_DSA_87 -> 4896;
      default -> throw new AssertionError(spec);
    };
    assertEquals(publicBytes, spki.getPublicKeyData().getOctets().length);
    ASN1Primitive choice = ASN1Primitive.fromByteArray(pkcs8.getPrivateKey().getOctets());
    if (choice instanceof ASN1TaggedObject seed) { // seed [0] IMPLICIT OCTET STRING (SIZE (32))
      assertEquals(32, ASN1OctetString.getInstance(seed, false).getOctets().length);
    } else if (choice instanceof ASN1OctetString expandedKey) {
      assertEquals(expandedBytes, expandedKey.getOctets().length);
    } else {
      ASN1Sequence both = ASN1Sequence.getInstance(choice); // SEQUENCE { seed, expandedKey }
      assertEquals(32, ASN1OctetString.getInstance(both.getObjectAt(0)).getOctets().length);
      assertEquals(expandedBytes, ASN1OctetString.getInstance(both.getObjectAt(1)).getOctets().length);
    }
  }

  private static Signature signature(Expected expected) throws Exception {
    return expected.signatureProvider() == null
        ? Signature.getInstance(expected.signature())
        : Signature.getInstance(expected.signature(), expected.signatureProvider());
  }

  private static byte[] sign(Expected expected, PrivateKey key, byte[] message) throws Exception {
    Signature signer = signature(expected);
    signer.initSign(key);
    signer.update(message);
    return signer.sign();
  }

  private static boolean verify(Expected expected, PublicKey key, byte[] message, byte[] sig)
      throws Exception {
    Signature verifier = signature(expected);
    verifier.initVerify(key);
    verifier.update(message);
    return verifier.verify(sig);
  }
}
