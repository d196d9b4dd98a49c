package io.kmsregions.keystore.xks;

import com.typesafe.config.Config;
import io.kmsregions.keystore.CustomKeyStore.ConnectionErrorCode;
import io.kmsregions.keystore.CustomKeyStore.XksProxySettings;
import io.kmsregions.keystore.XksProxies;
import java.net.URI;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * {@link XksProxies} over {@link XksClient}: one client (and HTTP connection pool) per distinct
 * proxy setting, signing as this node's Region, with {@code kms.xks.request-timeout} per call.
 * Every failure becomes an {@link XksProxies.XksFailure} carrying the KMS ConnectionErrorCode or
 * the proxy's errorName.
 */
public final class XksProxyClients implements XksProxies {
  private final String region;
  private final Duration timeout;
  private final ConcurrentHashMap<XksProxySettings, XksClient> clients = new ConcurrentHashMap<>();

  private XksProxyClients(String region, Duration timeout) {
    this.region = region;
    this.timeout = timeout;
  }

  /** The proxies' client of the node of {@code region}. */
  public static XksProxyClients create(Config config, String region) {
    return new XksProxyClients(region, XksClient.configuredTimeout(config));
  }

  private XksClient client(XksProxySettings p) {
    return clients.computeIfAbsent(p, s -> new XksClient(URI.create(s.uriEndpoint()), s.uriPath(), s.accessKeyId(),
        s.secretAccessKey(), region, timeout));
  }

  @Override
  public CompletionStage<Optional<ConnectionErrorCode>> health(XksProxySettings proxy) {
    XksClient c;
    try {
      c = client(proxy);
    } catch (IllegalArgumentException e) {
      return CompletableFuture.completedFuture(Optional.of(ConnectionErrorCode.XKS_PROXY_INVALID_CONFIGURATION));
    }
    return c.health().handle((h, failure) -> {
      if (failure == null) return Optional.<ConnectionErrorCode>empty();
      XksException x = XksException.of(failure);
      if (x == null || x.connectionErrorCode() == null) return Optional.of(ConnectionErrorCode.XKS_PROXY_INVALID_RESPONSE);
      return Optional.of(ConnectionErrorCode.valueOf(x.connectionErrorCode().name()));
    });
  }

  @Override
  public CompletionStage<ExternalKey> keyMetadata(XksProxySettings proxy, String xksKeyId, RequestMetadata metadata) {
    return call(proxy, c -> c.keyMetadata(xksKeyId, metadata(metadata))
        .thenApply(k -> new ExternalKey(k.keySpec(), k.keyUsage(), k.keyStatus())));
  }

  @Override
  public CompletionStage<ExternalCiphertext> encrypt(XksProxySettings proxy, String xksKeyId, byte[] plaintext,
      byte[] aad, RequestMetadata metadata) {
    return call(proxy, c -> c.encrypt(xksKeyId, plaintext, aad, metadata(metadata))
        .thenApply(x -> new ExternalCiphertext(x.initializationVector(), x.ciphertext(), x.authenticationTag())));
  }

  @Override
  public CompletionStage<byte[]> decrypt(XksProxySettings proxy, String xksKeyId, ExternalCiphertext ciphertext,
      byte[] aad, RequestMetadata metadata) {
    return call(proxy, c -> c.decrypt(xksKeyId, new XksClient.Ciphertext(ciphertext.ciphertext(),
        ciphertext.initializationVector(), ciphertext.authenticationTag(), null), aad, metadata(metadata)));
  }

  private <T> CompletionStage<T> call(XksProxySettings proxy, Function<XksClient, CompletionStage<T>> call) {
    CompletionStage<T> stage;
    try {
      stage = call.apply(client(proxy));
    } catch (IllegalArgumentException e) {
      return CompletableFuture.failedFuture(
          new XksFailure(ConnectionErrorCode.XKS_PROXY_INVALID_CONFIGURATION, null, e.getMessage()));
    }
    return stage.handle((value, failure) -> {
      if (failure == null) return CompletableFuture.completedFuture(value);
      XksException x = XksException.of(failure);
      XksFailure f = x == null
          ? new XksFailure(ConnectionErrorCode.XKS_PROXY_INVALID_RESPONSE, null, String.valueOf(failure.getMessage()))
          : new XksFailure(x.connectionErrorCode() == null ? null : ConnectionErrorCode.valueOf(x.connectionErrorCode().name()),
              x.errorName(), x.getMessage());
      return CompletableFuture.<T>failedFuture(f);
    }).thenCompose(Function.identity());
  }

  private static XksRequestMetadata metadata(RequestMetadata m) {
    return new XksRequestMetadata(m.awsPrincipalArn(), m.kmsKeyArn(), m.kmsOperation(),
        m.kmsRequestId() != null ? m.kmsRequestId() : java.util.UUID.randomUUID().toString(), null);
  }
}
