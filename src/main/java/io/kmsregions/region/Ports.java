package io.kmsregions.region;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Free loopback ports for clusters started on free ports (the laboratory, tests, benchmarks).
 *
 * <p>A port found by binding port 0 comes from the kernel's ephemeral range, which every outgoing
 * connection on the machine also draws from; between finding it and binding it for real, another
 * process may take it ("Address already in use" on a busy machine). Ports below Linux's default
 * ephemeral range (32768-60999) are never handed out that way, so a free one there stays free
 * unless someone binds it explicitly.
 */
public final class Ports {
  private static final int LOW = 20_000;
  private static final int HIGH = 32_700;

  private Ports() {}

  /** A port on 127.0.0.1 that is free now, outside the ephemeral range when possible. */
  public static int freePort() {
    for (int attempt = 0; attempt < 200; attempt++) {
      int port = ThreadLocalRandom.current().nextInt(LOW, HIGH);
      if (isFree(port)) return port;
    }
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new IllegalStateException("no free port", e);
    }
  }

  private static boolean isFree(int port) {
    try (ServerSocket s = new ServerSocket()) {
      s.setReuseAddress(false);
      s.bind(new java.net.InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1);
      return true;
    } catch (IOException e) {
      return false;
    }
  }
}
