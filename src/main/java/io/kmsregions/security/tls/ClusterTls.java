package io.kmsregions.security.tls;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * Artery between Regions over TLS 1.3 with mutual authentication (Pekko's {@code tls-tcp}
 * transport with {@code ConfigSSLEngineProvider}, {@code require-mutual-authentication = on}).
 *
 * <p>When {@code kms.cluster.tls.enabled} is on and no key store is configured
 * ({@code pekko.remote.artery.ssl.config-ssl-engine.key-store} left at Pekko's default), the first
 * start generates a throwaway cluster certificate authority in {@code <data-dir>/cluster-ca/} (an
 * EC P-256 key and a self-signed certificate, RFC 5280 basic constraints cA) and, per Region, a
 * node certificate it signs in {@code <data-dir>/<region>/tls/}, for both server and client
 * authentication. Every node trusts only that authority, so a node whose certificate another
 * authority issued (or that has none) cannot join. Key stores are PKCS#12, owner-only, with a
 * random password kept beside them (owner-only). Hostname verification is off: the nodes are
 * identified by the authority that issued their certificate, not by their addresses (Regions may
 * move between hosts).
 */
public final class ClusterTls {
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final String DEFAULT_KEY_STORE = "keystore";

  private ClusterTls() {}

  /**
   * The configuration that makes {@code region}'s node use TLS, or an empty one when TLS is off or
   * the operator configured key stores of their own.
   */
  public static Config config(Config config, Path dataDir, String region, List<String> hosts) {
    if (!config.getBoolean("kms.cluster.tls.enabled")) return ConfigFactory.empty();
    String engine = "pekko.remote.artery.ssl.config-ssl-engine.";
    Map<String, Object> c = new HashMap<>();
    c.put("pekko.remote.artery.transport", "tls-tcp");
    c.put(engine + "require-mutual-authentication", true);
    c.put(engine + "hostname-verification", false);
    c.put(engine + "protocol", "TLSv1.3");
    c.put(engine + "enabled-algorithms", List.of("TLS_AES_256_GCM_SHA384", "TLS_AES_128_GCM_SHA256"));
    if (!DEFAULT_KEY_STORE.equals(config.getString(engine + "key-store"))) {
      return ConfigFactory.parseMap(c); // configured ones (e.g. mounted by docker-compose)
    }
    NodeStores stores = ensure(dataDir, region, hosts);
    c.put(engine + "key-store", stores.keyStore().toString());
    c.put(engine + "trust-store", stores.trustStore().toString());
    c.put(engine + "key-store-password", stores.password());
    c.put(engine + "key-password", stores.password());
    c.put(engine + "trust-store-password", stores.password());
    return ConfigFactory.parseMap(c);
  }

  /** A node's key store and the cluster's trust store (same password). */
  public record NodeStores(Path keyStore, Path trustStore, String password) {}

  /**
   * The node key store of {@code region} and the cluster trust store under {@code dataDir},
   * creating the authority and the node certificate when missing. A file lock serialises
   * separate {@code node} processes sharing one data folder.
   */
  public static synchronized NodeStores ensure(Path dataDir, String region, List<String> hosts) {
    try {
      Path caDir = Files.createDirectories(dataDir.resolve("cluster-ca"));
      try (FileChannel lockFile = FileChannel.open(caDir.resolve("lock"), StandardOpenOption.CREATE,
          StandardOpenOption.WRITE); FileLock lock = lockFile.lock()) {
        Path passwordFile = caDir.resolve("password");
        if (!Files.exists(passwordFile)) {
          byte[] p = new byte[18];
          RANDOM.nextBytes(p);
          writeOwnerOnly(passwordFile, HexFormat.of().formatHex(p).getBytes(StandardCharsets.US_ASCII));
        }
        String password = Files.readString(passwordFile, StandardCharsets.US_ASCII).trim();
        char[] pw = password.toCharArray();
        Path caStore = caDir.resolve("ca.p12");
        Path trustStore = caDir.resolve("truststore.p12");
        if (!Files.exists(caStore)) {
          KeyPair ca = ecKeyPair();
          X509Certificate caCert = certificate("CN=kms-regions cluster CA", ca, "CN=kms-regions cluster CA",
              ca.getPrivate(), true, List.of());
          KeyStore ks = KeyStore.getInstance("PKCS12");
          ks.load(null, null);
          ks.setKeyEntry("ca", ca.getPrivate(), pw, new Certificate[] {caCert});
          store(ks, caStore, pw);
          KeyStore ts = KeyStore.getInstance("PKCS12");
          ts.load(null, null);
          ts.setCertificateEntry("ca", caCert);
          store(ts, trustStore, pw);
        }
        Path nodeStore = Files.createDirectories(dataDir.resolve(region).resolve("tls")).resolve("node.p12");
        if (!Files.exists(nodeStore)) {
          KeyStore ks = load(caStore, pw);
          PrivateKey caKey = (PrivateKey) ks.getKey("ca", pw);
          X509Certificate caCert = (X509Certificate) ks.getCertificate("ca");
          KeyPair node = ecKeyPair();
          X509Certificate cert = certificate("CN=" + region, node, caCert.getSubjectX500Principal().getName(), caKey,
              false, hosts);
          KeyStore n = KeyStore.getInstance("PKCS12");
          n.load(null, null);
          n.setKeyEntry("node", node.getPrivate(), pw, new Certificate[] {cert, caCert});
          store(n, nodeStore, pw);
        }
        return new NodeStores(nodeStore, trustStore, password);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot create the cluster's TLS material under " + dataDir, e);
    } catch (GeneralSecurityException | org.bouncycastle.operator.OperatorCreationException e) {
      throw new IllegalStateException("Cannot create the cluster's TLS material", e);
    }
  }

  private static KeyPair ecKeyPair() throws GeneralSecurityException {
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
    g.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
    return g.generateKeyPair();
  }

  private static X509Certificate certificate(String subject, KeyPair keys, String issuer, PrivateKey issuerKey,
      boolean ca, List<String> hosts) throws GeneralSecurityException, IOException,
      org.bouncycastle.operator.OperatorCreationException {
    Instant now = Instant.now();
    JcaX509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(new X500Name(issuer),
        new BigInteger(127, RANDOM), Date.from(now.minus(Duration.ofHours(1))),
        Date.from(now.plus(Duration.ofDays(3650))), new X500Name(subject), keys.getPublic());
    b.addExtension(Extension.basicConstraints, true, new BasicConstraints(ca));
    if (ca) {
      b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
    } else {
      b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
      b.addExtension(Extension.extendedKeyUsage, false,
          new ExtendedKeyUsage(new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}));
      if (!hosts.isEmpty()) {
        GeneralName[] names = hosts.stream().map(h -> h.matches("[0-9.]+|.*:.*")
            ? new GeneralName(GeneralName.iPAddress, h) : new GeneralName(GeneralName.dNSName, h))
            .toArray(GeneralName[]::new);
        b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(names));
      }
    }
    return new JcaX509CertificateConverter().getCertificate(
        b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(issuerKey)));
  }

  private static KeyStore load(Path file, char[] pw) throws IOException, GeneralSecurityException {
    KeyStore ks = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(file)) {
      ks.load(in, pw);
    }
    return ks;
  }

  private static void store(KeyStore ks, Path file, char[] pw) throws IOException, GeneralSecurityException {
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    Files.deleteIfExists(tmp);
    createOwnerOnly(tmp);
    try (OutputStream out = Files.newOutputStream(tmp, StandardOpenOption.WRITE)) {
      ks.store(out, pw);
    }
    Files.move(tmp, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
  }

  private static void writeOwnerOnly(Path file, byte[] content) throws IOException {
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    Files.deleteIfExists(tmp);
    createOwnerOnly(tmp);
    Files.write(tmp, content);
    Files.move(tmp, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
  }

  private static void createOwnerOnly(Path file) throws IOException {
    try {
      Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    } catch (UnsupportedOperationException notPosix) {
      Files.createFile(file);
    }
  }
}
