package io.kmsregions.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;

/**
 * The open loop of the raw client on one thread: {@code concurrency} keep-alive connections
 * multiplexed by a {@link Selector}, request {@code k} scheduled at {@code start + k / rate} and
 * sent on the first idle connection once due, its latency counted from its scheduled time (no
 * coordinated omission: a request that waits for a free connection or for the loop is charged the
 * wait).
 *
 * <p>Why one thread: with a thread per connection, every request of an open loop costs two
 * wake-ups of a sleeping thread (its send time, then its answer), which cost the load generator
 * 36-44 µs of CPU per request on the 2-core machine against 15 µs in a closed loop, taking the
 * cores the server under test needs (BENCHMARKS.md, "p99 at half the maximum"). Here one thread
 * waits in {@code select} with a 1 ms timeout: due requests are released at each wake-up (an answer
 * or the 1 ms tick), and answers that arrive together are read in one wake-up. A request can
 * therefore leave up to about 1 ms after its scheduled time; that delay is in its latency, so the
 * tick can only make the figures worse, never better.
 *
 * <p>Answers are parsed in place: status line, {@code Content-Length} body (kms-regions and moto
 * answer with one); {@code Connection: close} (moto's, on every answer) or HTTP/1.0 closes the
 * connection after the answer, and the next request opens a new one. A chunked or unterminated
 * answer is an error of the run, named.
 */
final class OpenLoopSelector implements Runnable {
  private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();
  /** How long answers still in flight at the end of the run are awaited before the loop gives up. */
  private static final long DRAIN_NANOS = TimeUnit.SECONDS.toNanos(30);

  final Histogram histogram = OpResult.newHistogram();
  final Map<String, Long> errors = new HashMap<>();
  long completed;
  long cpuNanos;

  private final Endpoint endpoint;
  private final List<KmsCall> calls;
  private final int connections;
  private final double rate;
  private final long start;
  private final long measureStart;
  private final long end;
  private volatile Selector selector;

  OpenLoopSelector(Endpoint endpoint, List<KmsCall> calls, int connections, double rate, long start,
      long measureStart, long end) {
    if (rate <= 0) throw new IllegalArgumentException("an open loop needs a rate");
    this.endpoint = endpoint;
    this.calls = calls;
    this.connections = connections;
    this.rate = rate;
    this.start = start;
    this.measureStart = measureStart;
    this.end = end;
  }

  /** One connection: the request in flight on it (its scheduled time) and the answer's bytes so far. */
  private final class Connection {
    SocketChannel channel;
    SelectionKey key;
    long sentFor = -1; // scheduled time of the request in flight, or -1 when idle
    boolean closeAfter; // the answer being read said Connection: close (or was HTTP/1.0 without keep-alive)
    ByteBuffer in = ByteBuffer.allocate(16 * 1024);

    void open() throws IOException {
      channel = SocketChannel.open();
      channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
      channel.connect(new InetSocketAddress(endpoint.host(), endpoint.port()));
      channel.configureBlocking(false);
      key = channel.register(selector, SelectionKey.OP_READ, this);
      in.clear();
    }

    void close() {
      try {
        if (channel != null) channel.close();
      } catch (IOException ignored) {
        // closing anyway
      }
      channel = null;
    }

    void send(KmsCall call, long scheduled) throws IOException {
      if (channel == null) open();
      ByteBuffer out = ByteBuffer.wrap(call.wire());
      while (out.hasRemaining()) {
        if (channel.write(out) == 0) Thread.onSpinWait(); // a request is far smaller than the socket buffer
      }
      sentFor = scheduled;
    }

    /**
     * Reads what arrived; returns the answer's status (its error type in {@code errorOut[0]} when
     * not 200) once it is complete, -1 while incomplete.
     */
    int read(String[] errorOut) throws IOException {
      if (!in.hasRemaining()) in = ByteBuffer.allocate(in.capacity() * 2).put(in.flip());
      int n = channel.read(in);
      if (n < 0) throw new IOException("connection closed by the server");
      byte[] b = in.array();
      int len = in.position();
      int headEnd = indexOfCrlfCrlf(b, len);
      if (headEnd < 0) return -1;
      if (len < 12 || b[0] != 'H') throw new IOException("bad status line");
      int status = (b[9] - '0') * 100 + (b[10] - '0') * 10 + (b[11] - '0');
      int contentLength = readHead(b, headEnd);
      if (contentLength < 0) throw new IOException("an answer without Content-Length (chunked?): not supported by the open loop");
      int total = headEnd + 4 + contentLength;
      if (len < total) return -1;
      if (status != 200) {
        errorOut[0] = new Reply(status, java.util.Arrays.copyOfRange(b, headEnd + 4, total)).errorType();
      }
      // Keep-alive: whatever follows belongs to no request (the server answers one at a time).
      in.clear();
      return status;
    }

    /**
     * One pass over the head {@code b[0, headEnd)}, allocating nothing (it runs for every answer):
     * sets {@link #closeAfter} from {@code Connection} and the HTTP version, and returns the
     * {@code Content-Length}, or -1 when there is none.
     */
    private int readHead(byte[] b, int headEnd) {
      int contentLength = -1;
      boolean close = false;
      boolean keepAlive = false;
      for (int line = 0; line < headEnd; ) {
        int eol = line;
        while (eol < headEnd && b[eol] != '\r') eol++;
        if (eol - line > CONTENT_LENGTH.length() && RawTransport.nameAt(b, line, CONTENT_LENGTH)) {
          contentLength = 0;
          for (int i = line + CONTENT_LENGTH.length(); i < eol; i++) {
            if (b[i] >= '0' && b[i] <= '9') contentLength = contentLength * 10 + (b[i] - '0');
          }
        } else if (eol - line > CONNECTION.length() && RawTransport.nameAt(b, line, CONNECTION)) {
          close = contains(b, line + CONNECTION.length(), eol, "close");
          keepAlive = contains(b, line + CONNECTION.length(), eol, "keep-alive");
        }
        line = eol + 2;
      }
      closeAfter = b[7] == '0' ? !keepAlive : close; // HTTP/1.0 closes unless asked to keep alive
      return contentLength;
    }
  }

  @Override
  public void run() {
    long interval = (long) (1e9 / rate);
    long cpuAtMeasureStart = -1;
    Connection[] all = new Connection[connections];
    ArrayDeque<Connection> idle = new ArrayDeque<>();
    int inFlight = 0;
    long k = 0;
    int next = 0;
    String[] error = new String[1];
    try (Selector sel = Selector.open()) {
      selector = sel;
      for (int i = 0; i < connections; i++) {
        all[i] = new Connection();
        idle.add(all[i]);
      }
      LoadRunner.sleepUntil(start);
      while (true) {
        long now = System.nanoTime();
        if (cpuAtMeasureStart < 0 && now >= measureStart) cpuAtMeasureStart = THREADS.getCurrentThreadCpuTime();
        // Release every request that is due, while a connection is free.
        while (!idle.isEmpty()) {
          long scheduled = start + k * interval;
          if (scheduled > now || scheduled >= end) break;
          Connection c = idle.poll();
          KmsCall call = calls.get(next);
          if (++next == calls.size()) next = 0;
          k++;
          try {
            c.send(call, scheduled);
            inFlight++;
          } catch (IOException e) {
            c.close();
            idle.add(c);
            record(scheduled, System.nanoTime(), e.getClass().getSimpleName());
          }
        }
        boolean sending = start + k * interval < end;
        if (!sending && (inFlight == 0 || now > end + DRAIN_NANOS)) break;
        sel.select(1);
        Iterator<SelectionKey> ready = sel.selectedKeys().iterator();
        while (ready.hasNext()) {
          SelectionKey key = ready.next();
          ready.remove();
          Connection c = (Connection) key.attachment();
          if (c.sentFor < 0) {
            // An idle connection became readable: the server closed it. Open anew on the next send.
            drainClosed(c);
            continue;
          }
          error[0] = null;
          try {
            int status = c.read(error);
            if (status < 0) continue;
            record(c.sentFor, System.nanoTime(), error[0]);
            // Before the next request is written to it: a write to a socket the server has closed
            // may succeed, and the request is then lost with the connection.
            if (c.closeAfter) c.close();
          } catch (IOException e) {
            record(c.sentFor, System.nanoTime(), e.getClass().getSimpleName());
            c.close();
          }
          c.sentFor = -1;
          inFlight--;
          idle.add(c);
        }
      }
    } catch (IOException e) {
      errors.merge(e.getClass().getSimpleName(), 1L, Long::sum);
    } finally {
      if (cpuAtMeasureStart >= 0) cpuNanos = THREADS.getCurrentThreadCpuTime() - cpuAtMeasureStart;
      for (Connection c : all) {
        if (c != null) c.close();
      }
    }
  }

  private void record(long scheduled, long done, String error) {
    if (scheduled >= measureStart && done <= end) {
      histogram.recordValue(Math.min(OpResult.HIGHEST_MICROS, Math.max(1, (done - scheduled) / 1000)));
      completed++;
      if (error != null) errors.merge(error, 1L, Long::sum);
    }
  }

  private static void drainClosed(Connection c) {
    try {
      c.in.clear();
      if (c.channel.read(c.in) < 0) c.close();
      else c.in.clear(); // unsolicited bytes: nothing waits for them
    } catch (IOException e) {
      c.close();
    }
  }

  private static int indexOfCrlfCrlf(byte[] b, int len) {
    for (int i = 0; i + 3 < len; i++) {
      if (b[i] == '\r' && b[i + 1] == '\n' && b[i + 2] == '\r' && b[i + 3] == '\n') return i;
    }
    return -1;
  }

  private static final String CONTENT_LENGTH = "content-length:";
  private static final String CONNECTION = "connection:";

  /** Whether {@code b[from, to)} contains {@code lowerToken}, ignoring ASCII case. */
  private static boolean contains(byte[] b, int from, int to, String lowerToken) {
    for (int i = from; i + lowerToken.length() <= to; i++) {
      if (RawTransport.nameAt(b, i, lowerToken)) return true;
    }
    return false;
  }
}
