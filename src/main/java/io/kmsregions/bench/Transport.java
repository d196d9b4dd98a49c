package io.kmsregions.bench;

import java.io.IOException;

/**
 * How the bench sends requests. Each worker owns one {@link Connection} (a keep-alive HTTP/1.1
 * connection) and sends on it one request at a time: a closed loop.
 */
public interface Transport extends AutoCloseable {

  /** One worker's channel to an endpoint; not thread-safe. */
  interface Connection extends AutoCloseable {
    /**
     * Sends {@code call} and waits for its answer.
     *
     * @param wantBody whether the caller needs the body of a 200 answer (error bodies are always kept)
     * @throws IOException when the connection fails; the next send reconnects
     */
    Reply send(KmsCall call, boolean wantBody) throws IOException;

    @Override
    void close();
  }

  String name();

  Connection connect(Endpoint endpoint);

  @Override
  default void close() {}

  /** {@code raw} (a blocking socket per worker, the default) or {@code jdk} (java.net.http.HttpClient). */
  static Transport named(String name, int concurrency) {
    return switch (name) {
      case "raw" -> new RawTransport();
      case "jdk" -> new JdkTransport(concurrency);
      default -> throw new IllegalArgumentException("--client must be raw or jdk, not " + name);
    };
  }
}
