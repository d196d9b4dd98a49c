package io.kmsregions.crypto.bench;

import io.kmsregions.crypto.KeyMaterialGenerator;
import io.kmsregions.crypto.MessageType;
import io.kmsregions.crypto.Providers;
import io.kmsregions.crypto.Signatures;
import io.kmsregions.crypto.SigningAlgorithm;
import io.kmsregions.crypto.SymmetricCiphertext;
import io.kmsregions.key.KeyMaterial;
import io.kmsregions.key.KeySpec;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.MGF1ParameterSpec;
import java.security.spec.PSSParameterSpec;
import java.util.concurrent.TimeUnit;
import org.bouncycastle.jcajce.spec.MLDSAParameterSpec;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Sign of a 256-byte message, JDK versus Bouncy Castle's JCE provider where both have the
 * algorithm: ECDSA P-256 with SHA-256, RSASSA-PSS 2048 with SHA-256 (MGF1-SHA-256, 32-byte salt),
 * Ed25519; ML-DSA-44 (Bouncy Castle only: the JDK has ML-DSA from 24 on). Plus kms-regions'
 * {@link Signatures#sign} (the Sign path: cached parsed key, then the chosen provider).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 3)
@Fork(1)
public class SignBenchmark {
  private final byte[] message = new byte[256];
  private Signature ecdsaJdk;
  private Signature ecdsaBc;
  private Signature pssJdk;
  private Signature pssBc;
  private Signature ed25519Jdk;
  private Signature ed25519Bc;
  private Signature mlDsaBc;
  private KeyMaterial ecMaterial;
  private KeyMaterial rsaMaterial;
  private KeyMaterial edMaterial;
  private KeyMaterial mlDsaMaterial;

  @Setup
  public void setUp() throws Exception {
    SecureRandom random = new SecureRandom();
    random.nextBytes(message);
    KeyPairGenerator ec = KeyPairGenerator.getInstance("EC");
    ec.initialize(new ECGenParameterSpec("secp256r1"));
    KeyPair ecPair = ec.generateKeyPair();
    ecdsaJdk = init(Signature.getInstance("SHA256withECDSA"), ecPair.getPrivate());
    ecdsaBc = init(Signature.getInstance("SHA256withECDSA", Providers.bouncyCastle()), ecPair.getPrivate());

    KeyPairGenerator rsa = KeyPairGenerator.getInstance("RSA");
    rsa.initialize(2048);
    KeyPair rsaPair = rsa.generateKeyPair();
    PSSParameterSpec pss = new PSSParameterSpec("SHA-256", "MGF1", MGF1ParameterSpec.SHA256, 32, 1);
    pssJdk = Signature.getInstance("RSASSA-PSS");
    pssJdk.setParameter(pss);
    init(pssJdk, rsaPair.getPrivate());
    pssBc = Signature.getInstance("SHA256withRSA/PSS", Providers.bouncyCastle());
    pssBc.setParameter(pss);
    init(pssBc, rsaPair.getPrivate());

    KeyPair edPair = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
    ed25519Jdk = init(Signature.getInstance("Ed25519"), edPair.getPrivate());
    ed25519Bc = init(Signature.getInstance("Ed25519", Providers.bouncyCastle()), edPair.getPrivate());

    KeyPairGenerator ml = KeyPairGenerator.getInstance("ML-DSA", Providers.bouncyCastle());
    ml.initialize(MLDSAParameterSpec.ml_dsa_44, random);
    mlDsaBc = init(Signature.getInstance("ML-DSA", Providers.bouncyCastle()), ml.generateKeyPair().getPrivate());

    ecMaterial = material(KeySpec.ECC_NIST_P256);
    rsaMaterial = material(KeySpec.RSA_2048);
    edMaterial = material(KeySpec.ECC_NIST_EDWARDS25519);
    mlDsaMaterial = material(KeySpec.ML_DSA_44);
  }

  private static KeyMaterial material(KeySpec spec) {
    KeyMaterialGenerator.GeneratedMaterial g = KeyMaterialGenerator.generate(spec);
    return new KeyMaterial(SymmetricCiphertext.newKeyMaterialId(), g.secret(), g.publicKey(), 0);
  }

  private static Signature init(Signature s, PrivateKey key) throws GeneralSecurityException {
    s.initSign(key);
    return s;
  }

  private byte[] sign(Signature s) throws GeneralSecurityException {
    s.update(message);
    return s.sign();
  }

  @Benchmark
  public byte[] ecdsaP256Jdk() throws GeneralSecurityException {
    return sign(ecdsaJdk);
  }

  @Benchmark
  public byte[] ecdsaP256BouncyCastle() throws GeneralSecurityException {
    return sign(ecdsaBc);
  }

  @Benchmark
  public byte[] ecdsaP256KmsRegions() throws GeneralSecurityException {
    return Signatures.sign(KeySpec.ECC_NIST_P256, ecMaterial, SigningAlgorithm.ECDSA_SHA_256, MessageType.RAW, message);
  }

  @Benchmark
  public byte[] rsa2048PssJdk() throws GeneralSecurityException {
    return sign(pssJdk);
  }

  @Benchmark
  public byte[] rsa2048PssBouncyCastle() throws GeneralSecurityException {
    return sign(pssBc);
  }

  @Benchmark
  public byte[] rsa2048PssKmsRegions() throws GeneralSecurityException {
    return Signatures.sign(KeySpec.RSA_2048, rsaMaterial, SigningAlgorithm.RSASSA_PSS_SHA_256, MessageType.RAW, message);
  }

  @Benchmark
  public byte[] ed25519Jdk() throws GeneralSecurityException {
    return sign(ed25519Jdk);
  }

  @Benchmark
  public byte[] ed25519BouncyCastle() throws GeneralSecurityException {
    return sign(ed25519Bc);
  }

  @Benchmark
  public byte[] ed25519KmsRegions() throws GeneralSecurityException {
    return Signatures.sign(KeySpec.ECC_NIST_EDWARDS25519, edMaterial, SigningAlgorithm.ED25519_SHA_512,
        MessageType.RAW, message);
  }

  @Benchmark
  public byte[] mlDsa44BouncyCastle() throws GeneralSecurityException {
    return sign(mlDsaBc);
  }

  @Benchmark
  public byte[] mlDsa44KmsRegions() throws GeneralSecurityException {
    return Signatures.sign(KeySpec.ML_DSA_44, mlDsaMaterial, SigningAlgorithm.ML_DSA_SHAKE_256, MessageType.RAW,
        message);
  }
}
