package io.kmsregions.bench;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * The bench's own minimal HTTP/1.1 client: one blocking keep-alive socket per worker, the request
 * bytes prepared at set-up ({@link KmsCall#wire()}) written in one call, the answer parsed in place
 * (status line, Content-Length or chunked body, Connection: close). Per request it costs one
 * write and usually one read system call and no allocation for a 200 answer whose body is not
 * wanted, so nearly all of the machine's CPU is left to the server under test.
 */
public final class RawTransport implements Transport {

  @Override
  public String name() {
    return "raw";
  }

  @Override
  public Connection connect(Endpoint endpoint) {
    return new RawConnection(endpoint);
  }

  /**
   * Whether {@code b} holds {@code lowerName} at {@code at}, ignoring ASCII case (HTTP header names;
   * the caller checks the bounds). Shared with the open loop's parser ({@link OpenLoopSelector}).
   */
  static boolean nameAt(byte[] b, int at, String lowerName) {
    for (int i = 0; i < lowerName.length(); i++) {
      int c = b[at + i];
      if (c >= 'A' && c <= 'Z') c += 32;
      if (c != lowerName.charAt(i)) return false;
    }
    return true;
  }

  static final class RawConnection implements Connection {
    private final Endpoint endpoint;
    private Socket socket;
    private InputStream in;
    private OutputStream out;
    private final byte[] buf = new byte[64 * 1024];
    private int pos;
    private int limit;

    RawConnection(Endpoint endpoint) {
      this.endpoint = endpoint;
    }

    private void open() throws IOException {
      Socket s = new Socket();
      s.setTcpNoDelay(true);
      s.setKeepAlive(true);
      s.connect(new InetSocketAddress(endpoint.host(), endpoint.port()), 5_000);
      // No SO_TIMEOUT: a timed read costs a poll() before every read(); the load runner closes the
      // connections of workers still blocked after the run instead.
      socket = s;
      in = s.getInputStream();
      out = s.getOutputStream();
      pos = 0;
      limit = 0;
    }

    @Override
    public Reply send(KmsCall call, boolean wantBody) throws IOException {
      if (socket == null) open();
      try {
        out.write(call.wire());
        out.flush();
        return readResponse(wantBody);
      } catch (IOException | RuntimeException e) {
        close();
        throw e instanceof IOException io ? io : new IOException(e);
      }
    }

    private Reply readResponse(boolean wantBody) throws IOException {
      // Status line: HTTP/1.1 200 OK
      int lineEnd = lineEnd();
      if (lineEnd - pos < 12 || buf[pos] != 'H') throw new IOException("bad status line");
      boolean http10 = buf[pos + 7] == '0';
      int status = (buf[pos + 9] - '0') * 100 + (buf[pos + 10] - '0') * 10 + (buf[pos + 11] - '0');
      pos = lineEnd + 2;
      long contentLength = -1;
      boolean chunked = false;
      boolean close = http10;
      while (true) {
        lineEnd = lineEnd();
        if (lineEnd == pos) {
          pos += 2;
          break;
        }
        int colon = indexOf(pos, lineEnd, (byte) ':');
        if (colon > 0) {
          int nameLen = colon - pos;
          if (nameLen == 14 && regionMatches(pos, "content-length")) {
            contentLength = Long.parseLong(ascii(colon + 1, lineEnd).trim());
          } else if (nameLen == 17 && regionMatches(pos, "transfer-encoding")) {
            chunked = ascii(colon + 1, lineEnd).toLowerCase().contains("chunked");
          } else if (nameLen == 10 && regionMatches(pos, "connection")) {
            String v = ascii(colon + 1, lineEnd).trim().toLowerCase();
            if (v.contains("close")) close = true;
            else if (v.contains("keep-alive")) close = false;
          }
        }
        pos = lineEnd + 2;
      }
      boolean keep = wantBody || status != 200;
      byte[] body;
      if (chunked) {
        body = readChunked();
      } else if (contentLength >= 0) {
        body = readFixed((int) contentLength, keep);
      } else {
        body = readToEof();
        close = true;
      }
      if (close) close();
      return new Reply(status, keep ? body : null);
    }

    /** The index of the next CRLF at or after pos, filling the buffer as needed. */
    private int lineEnd() throws IOException {
      int from = pos;
      while (true) {
        for (int i = from; i + 1 < limit; i++) {
          if (buf[i] == '\r' && buf[i + 1] == '\n') return i;
        }
        int scanned = Math.max(0, limit - 1 - pos); // bytes after pos already looked at
        if (!fill()) throw new EOFException("connection closed by the server");
        from = pos + scanned;
      }
    }

    /** Reads more bytes, compacting the buffer; false at end of stream. */
    private boolean fill() throws IOException {
      if (pos > 0) {
        System.arraycopy(buf, pos, buf, 0, limit - pos);
        limit -= pos;
        pos = 0;
      }
      if (limit == buf.length) throw new IOException("response head larger than " + buf.length + " bytes");
      int n = in.read(buf, limit, buf.length - limit);
      if (n < 0) return false;
      limit += n;
      return true;
    }

    private byte[] readFixed(int length, boolean keep) throws IOException {
      byte[] body = keep ? new byte[length] : null;
      int copied = 0;
      while (copied < length) {
        if (pos == limit) {
          pos = 0;
          limit = 0;
          int n = in.read(buf, 0, buf.length);
          if (n < 0) throw new EOFException("body cut short");
          limit = n;
        }
        int take = Math.min(length - copied, limit - pos);
        if (keep) System.arraycopy(buf, pos, body, copied, take);
        pos += take;
        copied += take;
      }
      return body;
    }

    private byte[] readChunked() throws IOException {
      java.io.ByteArrayOutputStream all = new java.io.ByteArrayOutputStream();
      while (true) {
        int lineEnd = lineEnd();
        String size = ascii(pos, lineEnd);
        int semi = size.indexOf(';');
        int n = Integer.parseInt((semi >= 0 ? size.substring(0, semi) : size).trim(), 16);
        pos = lineEnd + 2;
        if (n == 0) {
          while (true) { // trailers, then the empty line
            int e = lineEnd();
            boolean empty = e == pos;
            pos = e + 2;
            if (empty) return all.toByteArray();
          }
        }
        all.writeBytes(readFixed(n, true));
        int e = lineEnd();
        pos = e + 2;
      }
    }

    private byte[] readToEof() throws IOException {
      java.io.ByteArrayOutputStream all = new java.io.ByteArrayOutputStream();
      all.write(buf, pos, limit - pos);
      pos = limit;
      in.transferTo(all);
      return all.toByteArray();
    }

    private int indexOf(int from, int to, byte b) {
      for (int i = from; i < to; i++) if (buf[i] == b) return i;
      return -1;
    }

    private boolean regionMatches(int at, String lowerName) {
      return nameAt(buf, at, lowerName);
    }

    private String ascii(int from, int to) {
      return new String(buf, from, to - from, StandardCharsets.US_ASCII);
    }

    @Override
    public void close() {
      if (socket != null) {
        try {
          socket.close();
        } catch (IOException ignored) {
          // closing anyway
        }
      }
      socket = null;
    }
  }
}
