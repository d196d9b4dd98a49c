package io.kmsregions.keystore.xks;

import com.typesafe.config.Config;
import io.kmsregions.keystore.CustomKeyStore.ConnectionErrorCode;
import io.kmsregions.keystore.CustomKeyStore.XksProxySettings;
import io.kmsregions.keystore.XksProxies;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/** TEMPORARY: replaced by the XksClient adapter when the XKS client lands. */
public final class XksProxyClients implements XksProxies {
  public static XksProxyClients create(Config config, String region) {
    return new XksProxyClients();
  }

  public CompletionStage<Optional<ConnectionErrorCode>> health(XksProxySettings proxy) {
    return CompletableFuture.completedFuture(Optional.of(ConnectionErrorCode.XKS_PROXY_NOT_REACHABLE));
  }

  public CompletionStage<ExternalKey> keyMetadata(XksProxySettings proxy, String xksKeyId, RequestMetadata metadata) {
    return CompletableFuture.failedFuture(new XksFailure(ConnectionErrorCode.XKS_PROXY_NOT_REACHABLE, null, "n/a"));
  }

  public CompletionStage<ExternalCiphertext> encrypt(XksProxySettings proxy, String xksKeyId, byte[] plaintext,
      byte[] aad, RequestMetadata metadata) {
    return CompletableFuture.failedFuture(new XksFailure(ConnectionErrorCode.XKS_PROXY_NOT_REACHABLE, null, "n/a"));
  }

  public CompletionStage<byte[]> decrypt(XksProxySettings proxy, String xksKeyId, ExternalCiphertext ciphertext,
      byte[] aad, RequestMetadata metadata) {
    return CompletableFuture.failedFuture(new XksFailure(ConnectionErrorCode.XKS_PROXY_NOT_REACHABLE, null, "n/a"));
  }
}
