package io.kmsregions.cli;

import io.kmsregions.keystore.xks.XksCredential;
import io.kmsregions.keystore.xks.XksKeyStore;
import io.kmsregions.keystore.xks.XksProxy;
import io.kmsregions.security.auth.Authenticator;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code xks-proxy}: an external key store (XKS) proxy for custom key stores of type
 * EXTERNAL_KEY_STORE ({@link XksProxy}), with its keys in {@code DIR/keys.json}. Prints one ready
 * line with what CreateCustomKeyStore needs (endpoint, URI path, access key id); Ctrl-C stops it.
 * Exit codes: 2 for a bad option or key file, 1 when the address cannot be bound.
 */
@Command(name = "xks-proxy", mixinStandardHelpOptions = true,
    description = "Run an external key store (XKS) proxy: the XKS Proxy API v1 over HTTP, SigV4-authenticated, "
        + "its AES-256 keys in a key file readable by its owner only.")
final class XksProxyCommand implements Callable<Integer> {

  @Option(names = "--host", defaultValue = "127.0.0.1", description = "Address to bind (default: ${DEFAULT-VALUE}).")
  String host;

  @Option(names = "--port", defaultValue = "7400", description = "Port to bind (default: ${DEFAULT-VALUE}).")
  int port;

  @Option(names = "--path-prefix", defaultValue = "/xks",
      description = "URI path prefix before /kms/xks/v1; \"\" for none (default: ${DEFAULT-VALUE}).")
  String pathPrefix;

  @Option(names = "--data", defaultValue = "data/xks-proxy",
      description = "Folder of the key file keys.json (default: ${DEFAULT-VALUE}).")
  Path dataDir;

  @Option(names = "--access-key-id", defaultValue = "${env:KMS_XKS_ACCESS_KEY_ID:-KMSREGIONSXKSPROXYDEV234}",
      description = "SigV4 access key id KMS signs with: 20-30 of A-Z, 2-7 (default: KMS_XKS_ACCESS_KEY_ID or the "
          + "development id ${DEFAULT-VALUE}).")
  String accessKeyId;

  @Option(names = "--secret-access-key",
      defaultValue = "${env:KMS_XKS_SECRET_ACCESS_KEY:-CmJ0zeYjlDjogmr2SdxrnwqfaER6KEQKDqbhgjz4XCw=}",
      description = "Its secret: 43-64 of a-z, A-Z, 0-9, /, +, = (default: KMS_XKS_SECRET_ACCESS_KEY or the "
          + "development secret in the README).", showDefaultValue = picocli.CommandLine.Help.Visibility.NEVER)
  String secretAccessKey;

  @Option(names = "--create-key", paramLabel = "ID",
      description = "Create this external key (32 random bytes) unless it exists; repeatable.")
  List<String> createKeys = new ArrayList<>();

  @Option(names = "--disable-key", paramLabel = "ID", description = "Disable this key; repeatable.")
  List<String> disableKeys = new ArrayList<>();

  @Option(names = "--enable-key", paramLabel = "ID", description = "Enable this key; repeatable.")
  List<String> enableKeys = new ArrayList<>();

  @Option(names = "--delete-key", paramLabel = "ID",
      description = "Delete this key and its material for good; repeatable.")
  List<String> deleteKeys = new ArrayList<>();

  @Override
  public Integer call() throws Exception {
    XksProxy.Settings settings;
    XksKeyStore keys;
    try {
      settings = new XksProxy.Settings(host, port, pathPrefix, dataDir,
          List.of(new XksCredential(accessKeyId, secretAccessKey)));
      // The key changes first: a mistake stops the start before anything is served.
      keys = XksKeyStore.open(dataDir);
      for (String id : createKeys) keys.create(id);
      for (String id : disableKeys) require(keys.setEnabled(id, false), id, keys);
      for (String id : enableKeys) require(keys.setEnabled(id, true), id, keys);
      for (String id : deleteKeys) require(keys.delete(id), id, keys);
    } catch (IllegalArgumentException e) {
      System.err.println("kms-regions xks-proxy: " + e.getMessage());
      return 2;
    }
    XksProxy proxy;
    try {
      proxy = XksProxy.start(settings);
    } catch (IOException e) {
      System.err.println("kms-regions xks-proxy: " + e.getMessage());
      return 1;
    }
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      proxy.close();
      System.out.println("kms-regions xks-proxy stopped");
      System.out.flush();
    }, "xks-proxy-stopped"));
    if (accessKeyId.equals(XksCredential.DEVELOPMENT.accessKeyId()) && !Authenticator.isLoopback(host)) {
      System.err.println("kms-regions xks-proxy: warning: the development credential, published in the README, "
          + "guards a non-loopback address; give --access-key-id and --secret-access-key.");
    }
    System.out.println("kms-regions xks-proxy ready: endpoint " + proxy.endpoint() + "  path " + proxy.uriPath()
        + "  access key id " + accessKeyId + "  keys " + proxy.keys().keyIds() + "  (key file " + keys.file()
        + "; Ctrl-C to stop)");
    System.out.flush();
    new CountDownLatch(1).await(); // until Ctrl-C (the hook above closes the proxy)
    return 0;
  }

  private static void require(boolean found, String id, XksKeyStore keys) {
    if (!found) throw new IllegalArgumentException("no key '" + id + "' in " + keys.file() + "; its keys: " + keys.keyIds());
  }
}
