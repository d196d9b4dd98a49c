package io.kmsregions.crypto.bench;

import io.kmsregions.crypto.Providers;
import io.kmsregions.crypto.SymmetricCiphertext;
import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.bouncycastle.crypto.InvalidCipherTextException;
import org.bouncycastle.crypto.engines.AESEngine;
import org.bouncycastle.crypto.modes.GCMBlockCipher;
import org.bouncycastle.crypto.modes.GCMModeCipher;
import org.bouncycastle.crypto.params.AEADParameters;
import org.bouncycastle.crypto.params.KeyParameter;
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
 * AES-256-GCM (SP 800-38D) on 256-byte plaintexts, 96-bit IVs, 128-bit tags: the JDK's SunJCE
 * (with its AES-NI and CLMUL intrinsics), Bouncy Castle's JCE provider, and Bouncy Castle's
 * lightweight {@code GCMBlockCipher} over {@code AESEngine}; plus kms-regions' own ciphertext
 * format ({@link SymmetricCiphertext}: header, AAD of the encryption context, random IV), the
 * Encrypt/Decrypt hot path. Encryption uses a fresh IV per operation (a counter, so that no
 * SecureRandom cost is measured; both providers refuse an IV reused under one key).
 *
 * <p>Run with {@code mvn -Pbench}; see BENCHMARKS-crypto.md.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 3)
@Fork(1)
public class AesGcmBenchmark {
  private static final int SIZE = 256;

  private final byte[] key = new byte[32];
  private final byte[] plaintext = new byte[SIZE];
  private final byte[] iv = new byte[12];
  private final byte[] fixedIv = new byte[12];
  private final byte[] out = new byte[SIZE + 16];
  private final byte[] back = new byte[SIZE];
  private SecretKeySpec secretKey;
  private Cipher jdk;
  private Cipher bcJce;
  private GCMModeCipher bcLight;
  private byte[] ciphertext;
  private byte[] kmsBlob;
  private SymmetricCiphertext.Header kmsHeader;
  private long counter;
  private final String materialId = SymmetricCiphertext.newKeyMaterialId();
  private final Map<String, String> context = Map.of("purpose", "benchmark");

  @Setup
  public void setUp() throws Exception {
    SecureRandom random = new SecureRandom();
    random.nextBytes(key);
    random.nextBytes(plaintext);
    random.nextBytes(fixedIv);
    secretKey = new SecretKeySpec(key, "AES");
    jdk = Cipher.getInstance("AES/GCM/NoPadding");
    bcJce = Cipher.getInstance("AES/GCM/NoPadding", Providers.bouncyCastle());
    bcLight = GCMBlockCipher.newInstance(AESEngine.newInstance());
    Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
    c.init(Cipher.ENCRYPT_MODE, secretKey, new GCMParameterSpec(128, fixedIv));
    ciphertext = c.doFinal(plaintext);
    kmsBlob = SymmetricCiphertext.encrypt("1234abcd-12ab-34cd-56ef-1234567890ab", materialId, key, plaintext, context);
    kmsHeader = SymmetricCiphertext.parse(kmsBlob);
  }

  private byte[] nextIv() {
    ByteBuffer.wrap(iv).putLong(4, ++counter);
    return iv;
  }

  @Benchmark
  public byte[] encryptJdk() throws GeneralSecurityException {
    jdk.init(Cipher.ENCRYPT_MODE, secretKey, new GCMParameterSpec(128, nextIv()));
    jdk.doFinal(plaintext, 0, SIZE, out, 0);
    return out;
  }

  @Benchmark
  public byte[] encryptBouncyCastleJce() throws GeneralSecurityException {
    bcJce.init(Cipher.ENCRYPT_MODE, secretKey, new GCMParameterSpec(128, nextIv()));
    bcJce.doFinal(plaintext, 0, SIZE, out, 0);
    return out;
  }

  @Benchmark
  public byte[] encryptBouncyCastleLightweight() throws InvalidCipherTextException {
    bcLight.init(true, new AEADParameters(new KeyParameter(key), 128, nextIv().clone()));
    int n = bcLight.processBytes(plaintext, 0, SIZE, out, 0);
    bcLight.doFinal(out, n);
    return out;
  }

  @Benchmark
  public byte[] encryptKmsRegionsFormat() {
    return SymmetricCiphertext.encrypt("1234abcd-12ab-34cd-56ef-1234567890ab", materialId, key, plaintext, context);
  }

  @Benchmark
  public byte[] decryptJdk() throws GeneralSecurityException {
    jdk.init(Cipher.DECRYPT_MODE, secretKey, new GCMParameterSpec(128, fixedIv));
    jdk.doFinal(ciphertext, 0, ciphertext.length, back, 0);
    return back;
  }

  @Benchmark
  public byte[] decryptBouncyCastleJce() throws GeneralSecurityException {
    bcJce.init(Cipher.DECRYPT_MODE, secretKey, new GCMParameterSpec(128, fixedIv));
    bcJce.doFinal(ciphertext, 0, ciphertext.length, back, 0);
    return back;
  }

  @Benchmark
  public byte[] decryptBouncyCastleLightweight() throws InvalidCipherTextException {
    bcLight.init(false, new AEADParameters(new KeyParameter(key), 128, fixedIv));
    int n = bcLight.processBytes(ciphertext, 0, ciphertext.length, back, 0);
    bcLight.doFinal(back, n);
    return back;
  }

  @Benchmark
  public byte[] decryptKmsRegionsFormat() throws GeneralSecurityException {
    return SymmetricCiphertext.decrypt(kmsHeader, key, kmsBlob, context);
  }
}
