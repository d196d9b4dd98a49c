package io.kmsregions.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The bench's set-up client for one endpoint: single calls and batches sent with a fixed number of
 * parallel keep-alive connections (creating keys, making ciphertexts and signatures, polling).
 */
public final class KmsClient implements AutoCloseable {
  private final Endpoint endpoint;
  private final SigV4 signer;
  private final Transport transport = new RawTransport();
  private final int parallelism;
  private final ExecutorService pool;
  private final ThreadLocal<Transport.Connection> connection;
  private final List<Transport.Connection> connections = new ArrayList<>();

  public KmsClient(Endpoint endpoint, SigV4 signer, int parallelism) {
    this.endpoint = endpoint;
    this.signer = signer;
    this.parallelism = parallelism;
    AtomicInteger n = new AtomicInteger();
    this.pool = Executors.newFixedThreadPool(parallelism, r -> {
      Thread t = new Thread(r, "bench-setup-" + endpoint.name() + "-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
    this.connection = ThreadLocal.withInitial(() -> {
      Transport.Connection c = transport.connect(endpoint);
      synchronized (connections) {
        connections.add(c);
      }
      return c;
    });
  }

  public Endpoint endpoint() {
    return endpoint;
  }

  public SigV4 signer() {
    return signer;
  }

  /** A request for {@code operation} (a TrentService operation, or a full target with a dot). */
  public KmsCall prepare(String operation, JsonNode body) {
    return prepareFor(endpoint, operation, body);
  }

  /** A request signed for another Region of the same server (kms-regions forwards it). */
  public KmsCall prepareFor(Endpoint ep, String operation, JsonNode body) {
    String target = operation.contains(".") ? operation : "TrentService." + operation;
    try {
      return ep.call(signer, target, Reply.JSON.writeValueAsBytes(body));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Sends one request on the calling thread's connection; an I/O failure becomes a 599 reply. */
  public Reply send(KmsCall call) {
    try {
      return connection.get().send(call, true);
    } catch (IOException e) {
      return new Reply(599, ("{\"__type\":\"" + e.getClass().getSimpleName() + "\",\"message\":\""
          + String.valueOf(e.getMessage()).replace('"', '\'') + "\"}").getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }
  }

  public Reply call(String operation, JsonNode body) {
    return send(prepare(operation, body));
  }

  /** Sends every request, {@code parallelism} at a time; the replies in the same order. */
  public List<Reply> sendAll(List<KmsCall> calls) {
    List<Future<Reply>> futures = new ArrayList<>(calls.size());
    for (KmsCall c : calls) futures.add(pool.submit(() -> send(c)));
    List<Reply> replies = new ArrayList<>(calls.size());
    try {
      for (Future<Reply> f : futures) replies.add(f.get());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    } catch (ExecutionException e) {
      throw new IllegalStateException(e.getCause());
    }
    return replies;
  }

  public int parallelism() {
    return parallelism;
  }

  public static ObjectNode json() {
    return Reply.JSON.createObjectNode();
  }

  @Override
  public void close() {
    pool.shutdownNow();
    synchronized (connections) {
      connections.forEach(Transport.Connection::close);
    }
  }
}
