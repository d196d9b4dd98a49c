package io.kmsregions.admin;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Added latency and loss on the cluster traffic that reaches this node from another Region: a TCP
 * relay in front of this node's Artery port, so that Pekko's failure detector and membership react
 * to the delay as they would on a slow link.
 *
 * <p>The node's canonical cluster address points at the relay, and Artery itself binds an internal
 * port behind it. Every node binds its outbound cluster connections to its own loopback address
 * ({@code 127.0.0.<10+i>}, {@code pekko.remote.artery.advanced.tcp.outbound-client-hostname}), so the
 * relay tells the sending Region by the connection's source address (Linux routes all of
 * 127.0.0.0/8 to the loopback interface; other systems need those aliases added).
 *
 * <p>A link's latency delays each chunk by {@code delay ± jitter} milliseconds, in order. Loss on a
 * TCP stream is not missing bytes but retransmission: each chunk is held, with the given
 * probability, for an extra retransmission timeout (200 ms, Linux's minimum RTO), which stalls the
 * chunks behind it as a real loss would. Without a shaping rule a chunk passes at once.
 */
public final class LinkShaper implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(LinkShaper.class);
  /** Linux's minimum TCP retransmission timeout, the cost of one lost segment on a quiet link. */
  static final long RETRANSMISSION_TIMEOUT_MS = 200;

  /**
   * The shaping of one link.
   *
   * @param delayMs added one-way latency, milliseconds (0..60000)
   * @param jitterMs random variation of the delay, ± milliseconds
   * @param lossPercent probability in percent (0..100) that a chunk waits one retransmission timeout
   */
  public record Shape(long delayMs, long jitterMs, double lossPercent) {
    public Shape {
      if (delayMs < 0 || delayMs > 60_000 || jitterMs < 0 || jitterMs > 60_000 || lossPercent < 0 || lossPercent > 100) {
        throw new IllegalArgumentException("delayMs and jitterMs must be 0..60000 and lossPercent 0..100");
      }
    }

    boolean isNone() {
      return delayMs == 0 && jitterMs == 0 && lossPercent == 0;
    }
  }

  private final ServerSocket server;
  private final InetSocketAddress target;
  private final Function<InetAddress, String> regionOf;
  private final Map<String, Shape> shapes = new ConcurrentHashMap<>();
  private final Set<Socket> open = ConcurrentHashMap.newKeySet();
  private volatile boolean closed;

  private LinkShaper(ServerSocket server, InetSocketAddress target, Function<InetAddress, String> regionOf) {
    this.server = server;
    this.target = target;
    this.regionOf = regionOf;
  }

  /**
   * Listens on {@code listen} and relays every connection to {@code target}.
   *
   * @param regionOf the sending Region of a source address, or null if unknown (never shaped)
   * @throws IOException if {@code listen} cannot be bound
   */
  public static LinkShaper start(InetSocketAddress listen, InetSocketAddress target, Function<InetAddress, String> regionOf)
      throws IOException {
    ServerSocket server = new ServerSocket();
    server.setReuseAddress(true);
    server.bind(listen, 128);
    LinkShaper shaper = new LinkShaper(server, target, regionOf);
    Thread acceptor = new Thread(shaper::acceptLoop, "link-shaper-accept-" + listen.getPort());
    acceptor.setDaemon(true);
    acceptor.start();
    return shaper;
  }

  /** Shapes the traffic from {@code region} to this node from now on; a none shape clears it. */
  public void shape(String region, Shape shape) {
    if (shape.isNone()) {
      shapes.remove(region);
    } else {
      shapes.put(region, shape);
    }
  }

  /** The current shaping per sending Region. */
  public Map<String, Shape> shapes() {
    return Map.copyOf(shapes);
  }

  public void clear() {
    shapes.clear();
  }

  private void acceptLoop() {
    while (!closed) {
      try {
        Socket in = server.accept();
        Socket out = new Socket();
        try {
          out.connect(target, 5_000);
        } catch (IOException e) {
          in.close();
          continue;
        }
        in.setTcpNoDelay(true);
        out.setTcpNoDelay(true);
        open.add(in);
        open.add(out);
        String from = regionOf.apply(in.getInetAddress());
        pump(in, out, from, "in");
        pump(out, in, null, "out");
      } catch (IOException e) {
        if (!closed) log.debug("link shaper accept failed: {}", e.toString());
      }
    }
  }

  /** Copies {@code src} to {@code dst}; shaped by the rule of {@code from} when there is one. */
  private void pump(Socket src, Socket dst, String from, String direction) {
    if (from == null) {
      start(() -> copy(src, dst), direction);
      return;
    }
    // A reader stamps each chunk with its release time; a writer releases them in order.
    LinkedBlockingQueue<Chunk> queue = new LinkedBlockingQueue<>();
    start(() -> {
      byte[] buf = new byte[64 * 1024];
      long lastRelease = 0;
      try (InputStream is = src.getInputStream()) {
        int n;
        while ((n = is.read(buf)) >= 0) {
          long now = System.nanoTime();
          Shape s = shapes.get(from);
          long release = now;
          if (s != null) {
            long delay = s.delayMs();
            if (s.jitterMs() > 0) delay += ThreadLocalRandom.current().nextLong(-s.jitterMs(), s.jitterMs() + 1);
            if (s.lossPercent() > 0 && ThreadLocalRandom.current().nextDouble(100) < s.lossPercent()) {
              delay += RETRANSMISSION_TIMEOUT_MS;
            }
            release = now + Math.max(0, delay) * 1_000_000L;
          }
          lastRelease = Math.max(lastRelease, release); // TCP keeps order
          byte[] chunk = new byte[n];
          System.arraycopy(buf, 0, chunk, 0, n);
          queue.put(new Chunk(chunk, lastRelease));
        }
      } catch (IOException | InterruptedException e) {
        // the connection ended
      } finally {
        queue.offer(Chunk.END);
      }
    }, direction + "-read");
    start(() -> {
      try (OutputStream os = dst.getOutputStream()) {
        while (true) {
          Chunk c = queue.take();
          if (c == Chunk.END) break;
          long wait = c.releaseAt() - System.nanoTime();
          if (wait > 0) Thread.sleep(wait / 1_000_000L, (int) (wait % 1_000_000L));
          os.write(c.bytes());
          os.flush();
        }
      } catch (IOException | InterruptedException e) {
        // the connection ended
      } finally {
        closeQuietly(src);
        closeQuietly(dst);
      }
    }, direction + "-write");
  }

  private record Chunk(byte[] bytes, long releaseAt) {
    static final Chunk END = new Chunk(new byte[0], 0);
  }

  private void copy(Socket src, Socket dst) {
    byte[] buf = new byte[64 * 1024];
    try (InputStream is = src.getInputStream(); OutputStream os = dst.getOutputStream()) {
      int n;
      while ((n = is.read(buf)) >= 0) {
        os.write(buf, 0, n);
        os.flush();
      }
    } catch (IOException e) {
      // the connection ended
    } finally {
      closeQuietly(src);
      closeQuietly(dst);
    }
  }

  private void start(Runnable r, String name) {
    Thread t = new Thread(r, "link-shaper-" + name);
    t.setDaemon(true);
    t.start();
  }

  private void closeQuietly(Socket s) {
    open.remove(s);
    try {
      s.close();
    } catch (IOException ignored) {
      // closing
    }
  }

  /** The port the relay listens on. */
  public int port() {
    return server.getLocalPort();
  }

  @Override
  public void close() {
    closed = true;
    try {
      server.close();
    } catch (IOException ignored) {
      // closing
    }
    for (Socket s : open) closeQuietly(s);
  }
}
