package io.kmsregions.crypto;

import io.kmsregions.key.KeyMaterial;
import io.kmsregions.key.KeySpec;
import java.io.IOException;
import java.security.GeneralSecurityException;
import java.security.PublicKey;
import javax.crypto.KeyAgreement;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.gm.GMObjectIdentifiers;
import org.bouncycastle.asn1.sec.SECObjectIdentifiers;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.asn1.x9.ECNamedCurveTable;
import org.bouncycastle.asn1.x9.X9ECParameters;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;
import org.bouncycastle.math.ec.ECPoint;

/**
 * DeriveSharedSecret (kms-api.md §2): the raw ECDH shared secret Z (SP 800-56A Rev. 3 §5.7.1.2,
 * the x-coordinate of d·Q, as many bytes as the field) between a KEY_AGREEMENT key and a peer's
 * public key on the same curve. No KDF is applied, as in AWS.
 *
 * <p>The peer key must be a DER SubjectPublicKeyInfo of id-ecPublicKey with the key's named curve
 * (RFC 5480) and a valid point (on the curve, not the identity: the full public-key validation of
 * SP 800-56A §5.6.2.3.3, the curves having cofactor 1); compressed points are accepted. SM2 keys
 * (curve sm2p256v1) use plain ECDH on their curve; AWS offers SM2 only in its China Regions,
 * kms-regions supports it in every Region.
 */
public final class Ecdh {
  private Ecdh() {}

  /** The peer public key is not a valid key on the KMS key's curve. */
  public static final class InvalidPeerKeyException extends Exception {
    InvalidPeerKeyException(String message) {
      super(message, null, false, false);
    }
  }

  /** The named curve of a KEY_AGREEMENT key spec. */
  public static ASN1ObjectIdentifier curve(KeySpec spec) {
    return switch (spec) {
      case ECC_NIST_P256 -> SECObjectIdentifiers.secp256r1;
      case ECC_NIST_P384 -> SECObjectIdentifiers.secp384r1;
      case ECC_NIST_P521 -> SECObjectIdentifiers.secp521r1;
      case SM2 -> GMObjectIdentifiers.sm2p256v1;
      default -> throw new IllegalArgumentException(spec + " has no key agreement");
    };
  }

  /**
   * The shared secret of the private key of {@code material} and {@code peerSpki}.
   *
   * @throws InvalidPeerKeyException if {@code peerSpki} is not a valid public key on the curve
   */
  public static byte[] deriveSharedSecret(KeySpec spec, KeyMaterial material, byte[] peerSpki)
      throws InvalidPeerKeyException, GeneralSecurityException {
    PublicKey peer = KeyMaterialGenerator.publicKey(spec, validatedPeer(spec, peerSpki));
    KeyAgreement agreement = spec == KeySpec.SM2
        ? KeyAgreement.getInstance("ECDH", Providers.bouncyCastle())
        : KeyAgreement.getInstance("ECDH");
    agreement.init(ParsedKeys.privateKey(spec, material));
    agreement.doPhase(peer, true);
    return agreement.generateSecret();
  }

  /** The peer's SubjectPublicKeyInfo with an uncompressed point, after validating it. */
  public static byte[] validatedPeer(KeySpec spec, byte[] peerSpki) throws InvalidPeerKeyException {
    ASN1ObjectIdentifier curve = curve(spec);
    SubjectPublicKeyInfo info;
    try {
      info = SubjectPublicKeyInfo.getInstance(peerSpki);
    } catch (RuntimeException e) {
      throw new InvalidPeerKeyException("not a DER SubjectPublicKeyInfo");
    }
    if (info == null || !X9ObjectIdentifiers.id_ecPublicKey.equals(info.getAlgorithm().getAlgorithm())) {
      throw new InvalidPeerKeyException("not an EC public key");
    }
    ASN1Encodable parameters = info.getAlgorithm().getParameters();
    if (!curve.equals(parameters)) throw new InvalidPeerKeyException("not on curve " + curve);
    X9ECParameters x9 = ECNamedCurveTable.getByOID(curve);
    ECPoint q;
    try {
      q = x9.getCurve().decodePoint(info.getPublicKeyData().getOctets());
    } catch (RuntimeException e) {
      throw new InvalidPeerKeyException("not a point of the curve");
    }
    if (q.isInfinity() || !q.isValid()) throw new InvalidPeerKeyException("not a valid point");
    try {
      return new SubjectPublicKeyInfo(info.getAlgorithm(), q.getEncoded(false)).getEncoded("DER");
    } catch (IOException e) {
      throw new InvalidPeerKeyException("not encodable");
    }
  }
}
