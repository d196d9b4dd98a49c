package io.kmsregions.bench;

import java.net.URI;

/**
 * A KMS endpoint and the Region its requests are signed for (the credential scope picks the Region
 * on kms-regions; moto accepts any).
 */
public record Endpoint(String name, URI uri, String region) {

  public Endpoint {
    if (uri.getHost() == null || uri.getPort() < 0 && !"http".equals(uri.getScheme())) {
      throw new IllegalArgumentException("endpoint must look like http://HOST:PORT, not " + uri);
    }
    if (!"http".equals(uri.getScheme())) throw new IllegalArgumentException("only http:// endpoints are supported: " + uri);
  }

  public static Endpoint of(String name, String url, String region) {
    return new Endpoint(name, URI.create(url), region);
  }

  public String host() {
    return uri.getHost();
  }

  public int port() {
    return uri.getPort() < 0 ? 80 : uri.getPort();
  }

  /** The Host header, as java.net.http also sends it (the port omitted when it is 80). */
  public String hostHeader() {
    return uri.getPort() < 0 || uri.getPort() == 80 ? uri.getHost() : uri.getHost() + ":" + uri.getPort();
  }

  /** The same server, signed for another Region (kms-regions forwards by credential scope). */
  public Endpoint forRegion(String otherRegion) {
    return new Endpoint(name, uri, otherRegion);
  }

  /** A request to this endpoint, signed now. */
  public KmsCall call(SigV4 signer, String target, byte[] body) {
    return new KmsCall(this, target, body, signer, SigV4.amzDateNow());
  }
}
