package io.kmsregions.bench;

import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * java.net.http.HttpClient over HTTP/1.1 keep-alive: the workers share one client whose pool
 * holds one connection per concurrent request. Its threads are named {@code bench-http-*} so the
 * bench can count their CPU time as the load generator's.
 */
public final class JdkTransport implements Transport {
  private final ExecutorService executor;
  private final HttpClient client;

  JdkTransport(int concurrency) {
    AtomicInteger n = new AtomicInteger();
    executor = Executors.newFixedThreadPool(Math.max(2, Math.min(concurrency, 8)), r -> {
      Thread t = new Thread(r, "bench-http-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
    client = HttpClient.newBuilder()
        .version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(Duration.ofSeconds(5))
        .executor(executor)
        .build();
  }

  @Override
  public String name() {
    return "jdk";
  }

  @Override
  public Connection connect(Endpoint endpoint) {
    return new Connection() {
      @Override
      public Reply send(KmsCall call, boolean wantBody) throws IOException {
        try {
          HttpResponse<byte[]> r = client.send(call.jdkRequest(), HttpResponse.BodyHandlers.ofByteArray());
          return new Reply(r.statusCode(), r.body());
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IOException("interrupted", e);
        }
      }

      @Override
      public void close() {}
    };
  }

  @Override
  public void close() {
    executor.shutdownNow();
  }
}
