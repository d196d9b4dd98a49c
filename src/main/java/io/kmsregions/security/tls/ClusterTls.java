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
 * transport with {@code ConfigSSLEngineProvider}, {@code require-mutual-authentication = on}),
 * on by default ({@code kms.cluster.tls.enabled}; {@code --no-cluster-tls} turns it off).
 *
 * <p>The certificates come from, first match wins: key stores configured in Pekko's settings
 * ({@code pekko.remote.artery.ssl.config-ssl-engine.key-store} not left at Pekko's default); the
 * folder {@code kms.cluster.tls.certificates} that {@link #generate} wrote (docker-compose mounts
 * one; a node never writes it); otherwise the first start generates a throwaway cluster
 * certificate authority in {@code <data-dir>/cluster-ca/} (an EC P-256 key and a self-signed
 * certificate, RFC 5280 basic constraints cA) and, per Region, a node certificate it signs in
 * {@code <data-dir>/<region>/tls/}, for both server and client authentication. Every node trusts
 * only that authority, so a node whose certificate another authority issued (or that has none)
 * cannot join. Key stores are PKCS#12, owner-only (their folders too), with a random password
 * kept beside them (owner-only). Hostname verification is off: the nodes are identified by the
 * authority that issued their certificate, not by their addresses (Regions may move between hosts).
 */
public final class ClusterTls {
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final String DEFAULT_KEY_STORE = "keystore";
  private static final String ENGINE = "pekko.remote.artery.ssl.config-ssl-engine.";
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(ClusterTls.class);

  private ClusterTls() {}

  /** Where a node's certificates come from under a configuration (see the class comment). */
  public sealed interface Source {
    /** TLS is off: Artery runs over plain TCP. */
    record Plain() implements Source {}

    /** Key stores configured in Pekko's own settings. */
    record Configured(String keyStore) implements Source {}

    /** A folder written by {@link #generate} ({@code kms.cluster.tls.certificates}). */
    record Folder(Path dir) implements Source {}

    /** Generated on first start under the data folder; {@code authority} is its cluster-ca folder. */
    record Generated(Path authority) implements Source {}
  }

  /** Which {@link Source} {@code config} (a node's whole configuration) selects for {@code dataDir}. */
  public static Source source(Config config, Path dataDir) {
    if (!config.getBoolean("kms.cluster.tls.enabled")) return new Source.Plain();
    String keyStore = config.getString(ENGINE + "key-store");
    if (!DEFAULT_KEY_STORE.equals(keyStore)) return new Source.Configured(keyStore);
    String folder = config.getString("kms.cluster.tls.certificates");
    if (!folder.isBlank()) return new Source.Folder(Path.of(folder).toAbsolutePath());
    return new Source.Generated(dataDir.toAbsolutePath().resolve("cluster-ca"));
  }

  /** One line for an operator: how the links between Regions are secured under {@code source}. */
  public static String describe(Source source) {
    if (source instanceof Source.Configured c) return "mutual TLS, configured key store " + c.keyStore();
    if (source instanceof Source.Folder f) return "mutual TLS, certificates from " + f.dir();
    if (source instanceof Source.Generated g) return "mutual TLS, cluster CA " + g.authority();
    return "plain TCP (cluster TLS off)";
  }

  /**
   * For a supervisor ({@code up}, the laboratory) before it starts the node processes of one data
   * folder: creates the cluster's authority now when the nodes would generate it, so that it is
   * made once, by one process; the nodes then only issue (or load) their own certificates.
   *
   * <p>With a {@code kms.cluster.tls.certificates} folder it checks instead that every one of
   * {@code regions} has its files there, so that a missing one stops the supervisor, not a node.
   *
   * @return the source the nodes will use (see {@link #source})
   * @throws IllegalStateException naming a missing file of a certificates folder
   */
  public static Source prepare(Config config, Path dataDir, List<String> regions) {
    Source source = source(config, dataDir);
    if (source instanceof Source.Generated g) {
      underLock(g.authority(), () -> ensureAuthority(g.authority()));
    } else if (source instanceof Source.Folder f) {
      regions.forEach(r -> mounted(f.dir(), r));
    }
    return source;
  }

  /**
   * The configuration that makes {@code region}'s node use TLS, or an empty one when TLS is off.
   *
   * @throws IllegalStateException when {@code kms.cluster.tls.certificates} lacks a file the node needs
   */
  public static Config config(Config config, Path dataDir, String region, List<String> hosts) {
    Source source = source(config, dataDir);
    if (source instanceof Source.Plain) return ConfigFactory.empty();
    Map<String, Object> c = new HashMap<>();
    c.put("pekko.remote.artery.transport", "tls-tcp");
    c.put(ENGINE + "require-mutual-authentication", true);
    c.put(ENGINE + "hostname-verification", false);
    c.put(ENGINE + "protocol", "TLSv1.3");
    c.put(ENGINE + "enabled-algorithms", List.of("TLS_AES_256_GCM_SHA384", "TLS_AES_128_GCM_SHA256"));
    // Configured key stores are the operator's own (their passwords are in the configuration).
    NodeStores stores = source instanceof Source.Folder f ? mounted(f.dir(), region)
        : source instanceof Source.Generated ? ensure(dataDir, region, hosts) : null;
    if (stores != null) {
      c.put(ENGINE + "key-store", stores.keyStore().toString());
      c.put(ENGINE + "trust-store", stores.trustStore().toString());
      c.put(ENGINE + "key-store-password", stores.password());
      c.put(ENGINE + "key-password", stores.password());
      c.put(ENGINE + "trust-store-password", stores.password());
    }
    return ConfigFactory.parseMap(c);
  }

  /** A node's key store and the cluster's trust store (same password). */
  public record NodeStores(Path keyStore, Path trustStore, String password) {}

  /**
   * The node key store of {@code region} and the cluster trust store under {@code dataDir},
   * creating the authority and the node certificate when missing (a node certificate that the
   * present authority did not issue is issued again). A file lock serialises separate
   * {@code node} processes sharing one data folder.
   */
  public static NodeStores ensure(Path dataDir, String region, List<String> hosts) {
    Path caDir = dataDir.resolve("cluster-ca");
    Path nodeStore = dataDir.resolve(region).resolve("tls").resolve("node.p12");
    return underLock(caDir, () -> {
      ensureAuthority(caDir);
      String password = readPassword(caDir);
      ensureNode(caDir, nodeStore, region, hosts, password);
      return new NodeStores(nodeStore, caDir.resolve("truststore.p12"), password);
    });
  }

  /**
   * {@code kms-regions tls generate}: writes, under {@code out}, what {@code kms.cluster.tls.certificates}
   * reads: {@code cluster-ca/truststore.p12}, {@code cluster-ca/password} and per Region
   * {@code <region>/tls/node.p12} (SANs {@code hosts.get(region)}). The authority (its private
   * key) is {@code caDir}, created when missing and reused otherwise, so running it again adds
   * Regions without changing the others; when {@code caDir} is not {@code out/cluster-ca}, the
   * trust store and password are copied to {@code out} and the CA key stays out of it.
   *
   * @return the Regions whose certificate was issued now (the others were kept)
   */
  public static List<String> generate(Path out, Path caDir, Map<String, List<String>> hosts) {
    Path outCa = out.resolve("cluster-ca");
    return underLock(caDir, () -> {
      ensureAuthority(caDir);
      String password = readPassword(caDir);
      List<String> issued = new java.util.ArrayList<>();
      for (var e : new java.util.TreeMap<>(hosts).entrySet()) {
        Path nodeStore = out.resolve(e.getKey()).resolve("tls").resolve("node.p12");
        if (ensureNode(caDir, nodeStore, e.getKey(), e.getValue(), password)) issued.add(e.getKey());
      }
      if (!outCa.toAbsolutePath().normalize().equals(caDir.toAbsolutePath().normalize())) {
        ownerOnlyDirectories(outCa);
        for (String f : List.of("truststore.p12", "password")) copyOwnerOnly(caDir.resolve(f), outCa.resolve(f));
      }
      return issued;
    });
  }

  /** The stores of {@code region} in a folder {@link #generate} wrote; never writes. */
  static NodeStores mounted(Path dir, String region) {
    Path trust = dir.resolve("cluster-ca").resolve("truststore.p12");
    Path passwordFile = dir.resolve("cluster-ca").resolve("password");
    Path node = dir.resolve(region).resolve("tls").resolve("node.p12");
    for (Path p : List.of(trust, passwordFile, node)) {
      if (!Files.isReadable(p)) {
        throw new IllegalStateException("kms.cluster.tls.certificates: no readable " + p + " (write the folder with "
            + "`kms-regions tls generate --out " + dir + "`, or run with --no-cluster-tls)");
      }
    }
    try {
      return new NodeStores(node, trust, Files.readString(passwordFile, StandardCharsets.US_ASCII).trim());
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read " + passwordFile, e);
    }
  }

  private interface Locked<T> {
    T run() throws IOException, GeneralSecurityException, org.bouncycastle.operator.OperatorCreationException;
  }

  /**
   * Runs {@code body} holding {@code caDir/lock}: a file lock between processes (every node of
   * one {@code up}, several containers on one volume), this class's monitor within one JVM (a
   * second lock on the same file in one JVM would throw OverlappingFileLockException).
   */
  private static synchronized <T> T underLock(Path caDir, Locked<T> body) {
    try {
      ownerOnlyDirectories(caDir);
      try (FileChannel lockFile = FileChannel.open(caDir.resolve("lock"), StandardOpenOption.CREATE,
          StandardOpenOption.WRITE); FileLock lock = lockFile.lock()) {
        return body.run();
      }
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot create the cluster's TLS material under " + caDir, e);
    } catch (GeneralSecurityException | org.bouncycastle.operator.OperatorCreationException e) {
      throw new IllegalStateException("Cannot create the cluster's TLS material", e);
    }
  }

  /** The password, the CA key store and the trust store in {@code caDir}; true when made now. */
  private static boolean ensureAuthority(Path caDir) throws IOException, GeneralSecurityException,
      org.bouncycastle.operator.OperatorCreationException {
    Path passwordFile = caDir.resolve("password");
    if (!Files.exists(passwordFile)) {
      byte[] p = new byte[18];
      RANDOM.nextBytes(p);
      writeOwnerOnly(passwordFile, HexFormat.of().formatHex(p).getBytes(StandardCharsets.US_ASCII));
    }
    Path caStore = caDir.resolve("ca.p12");
    if (Files.exists(caStore)) return false;
    char[] pw = readPassword(caDir).toCharArray();
    KeyPair ca = ecKeyPair();
    X509Certificate caCert = certificate("CN=kms-regions cluster CA", ca, "CN=kms-regions cluster CA",
        ca.getPrivate(), true, List.of());
    // The trust store first: ca.p12 marks a complete authority, so a kill -9 between the two
    // writes leaves no authority without its trust store (the next start makes both again).
    KeyStore ts = KeyStore.getInstance("PKCS12");
    ts.load(null, null);
    ts.setCertificateEntry("ca", caCert);
    store(ts, caDir.resolve("truststore.p12"), pw);
    KeyStore ks = KeyStore.getInstance("PKCS12");
    ks.load(null, null);
    ks.setKeyEntry("ca", ca.getPrivate(), pw, new Certificate[] {caCert});
    store(ks, caStore, pw);
    LOG.info("Generated a throwaway cluster CA in {}; only nodes with a certificate it issued can join", caDir);
    return true;
  }

  /** Issues {@code nodeStore} unless it holds a certificate of the authority in {@code caDir}; true when issued. */
  private static boolean ensureNode(Path caDir, Path nodeStore, String region, List<String> hosts, String password)
      throws IOException, GeneralSecurityException, org.bouncycastle.operator.OperatorCreationException {
    char[] pw = password.toCharArray();
    KeyStore ks = load(caDir.resolve("ca.p12"), pw);
    X509Certificate caCert = (X509Certificate) ks.getCertificate("ca");
    if (Files.exists(nodeStore)) {
      try {
        // A node store of an earlier authority (cluster-ca deleted since) would keep the node out.
        ((X509Certificate) load(nodeStore, pw).getCertificate("node")).verify(caCert.getPublicKey());
        return false;
      } catch (GeneralSecurityException | IOException | NullPointerException notOurs) {
        LOG.warn("{} was not issued by the cluster CA in {}; issuing it again", nodeStore, caDir);
      }
    }
    PrivateKey caKey = (PrivateKey) ks.getKey("ca", pw);
    KeyPair node = ecKeyPair();
    X509Certificate cert = certificate("CN=" + region, node, caCert.getSubjectX500Principal().getName(), caKey,
        false, hosts);
    KeyStore n = KeyStore.getInstance("PKCS12");
    n.load(null, null);
    n.setKeyEntry("node", node.getPrivate(), pw, new Certificate[] {cert, caCert});
    ownerOnlyDirectories(nodeStore.getParent());
    store(n, nodeStore, pw);
    return true;
  }

  private static String readPassword(Path caDir) throws IOException {
    return Files.readString(caDir.resolve("password"), StandardCharsets.US_ASCII).trim();
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

  private static void copyOwnerOnly(Path from, Path to) throws IOException {
    writeOwnerOnly(to, Files.readAllBytes(from));
  }

  /** Creates {@code dir} (and missing parents) and makes {@code dir} itself owner-only (rwx------). */
  private static void ownerOnlyDirectories(Path dir) throws IOException {
    Files.createDirectories(dir);
    try {
      Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
    } catch (UnsupportedOperationException notPosix) {
      // Windows: the folder keeps its inherited ACL
    }
  }

  private static void createOwnerOnly(Path file) throws IOException {
    try {
      Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    } catch (UnsupportedOperationException notPosix) {
      Files.createFile(file);
    }
  }
}
