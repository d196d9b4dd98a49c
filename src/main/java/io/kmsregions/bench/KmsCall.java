package io.kmsregions.bench;

import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * One KMS JSON 1.1 request, signed once (SigV4) for one endpoint and reused for every send. It
 * keeps its bytes ready for both transports: the whole HTTP/1.1 request for {@link RawTransport},
 * and an immutable {@link HttpRequest} for {@link JdkTransport}.
 */
public final class KmsCall {
  public static final String CONTENT_TYPE = "application/x-amz-json-1.1";

  private final String target;
  private final byte[] body;
  private final byte[] wire;
  private final String amzDate;
  private final String authorization;
  private final java.net.URI uri;
  private final Endpoint endpoint;
  private final SigV4 signer;
  private final long signedAtNanos = System.nanoTime();
  private volatile HttpRequest jdkRequest;

  KmsCall(Endpoint endpoint, String target, byte[] body, SigV4 signer, String amzDate) {
    this.endpoint = endpoint;
    this.signer = signer;
    this.target = target;
    this.body = body;
    String authorization = signer.kmsAuthorization(endpoint.hostHeader(), amzDate, target, body, endpoint.region());
    String head = "POST / HTTP/1.1\r\n"
        + "Host: " + endpoint.hostHeader() + "\r\n"
        + "Content-Type: " + CONTENT_TYPE + "\r\n"
        + "X-Amz-Date: " + amzDate + "\r\n"
        + "X-Amz-Target: " + target + "\r\n"
        + "Authorization: " + authorization + "\r\n"
        + "Content-Length: " + body.length + "\r\n"
        + "\r\n";
    byte[] h = head.getBytes(StandardCharsets.US_ASCII);
    this.wire = new byte[h.length + body.length];
    System.arraycopy(h, 0, wire, 0, h.length);
    System.arraycopy(body, 0, wire, h.length, body.length);
    this.amzDate = amzDate;
    this.authorization = authorization;
    this.uri = URI.create(endpoint.uri().toString().replaceAll("/+$", "") + "/");
  }

  public String target() {
    return target;
  }

  public byte[] body() {
    return body;
  }

  /** The signature's {@code X-Amz-Date} ({@code yyyyMMdd'T'HHmmss'Z'}, UTC). */
  String amzDate() {
    return amzDate;
  }

  /** Nanoseconds since this call was signed. */
  long ageNanos() {
    return System.nanoTime() - signedAtNanos;
  }

  /**
   * The same request signed again now. A SigV4 signature is accepted only within 15 minutes of
   * its {@code X-Amz-Date} (AWS's skew), and a long bench run outlives it.
   */
  KmsCall signedAgain() {
    return new KmsCall(endpoint, target, body, signer, SigV4.amzDateNow());
  }

  /** The whole request as sent on the wire (head and body). */
  byte[] wire() {
    return wire;
  }

  /** The java.net.http form, built on first use and then reused (HttpRequest is immutable). */
  HttpRequest jdkRequest() {
    HttpRequest r = jdkRequest;
    if (r == null) {
      r = HttpRequest.newBuilder(uri)
          .timeout(Duration.ofSeconds(60))
          .header("Content-Type", CONTENT_TYPE)
          .header("X-Amz-Date", amzDate)
          .header("X-Amz-Target", target)
          .header("Authorization", authorization)
          .POST(HttpRequest.BodyPublishers.ofByteArray(body))
          .build();
      jdkRequest = r;
    }
    return r;
  }
}
