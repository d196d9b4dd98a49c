package io.kmsregions.lab;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.kmsregions.region.RegionSpec;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

/**
 * The loopback control endpoint of a supervisor ({@code up}): lets {@code kms-regions fault}
 * crash, restart, pause and resume the node processes it started.
 *
 * <pre>
 *   GET  /processes                {"us-east-1": {"condition": "RUNNING", "pid": 123}, …}
 *   POST /processes/{action}       {"region": "us-east-1"}, action = crash | restart | pause | resume
 * </pre>
 *
 * Answers 400 {@code {"error": …}} for an unknown Region or a process not in a state for the action.
 */
public final class SupervisorServer implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final HttpServer server;

  private SupervisorServer(HttpServer server) {
    this.server = server;
  }

  /** Listens on 127.0.0.1:{@code port}. */
  public static SupervisorServer start(int port, RegionProcesses processes) throws IOException {
    HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 16);
    server.createContext("/processes", exchange -> {
      try {
        String path = exchange.getRequestURI().getPath();
        if (exchange.getRequestMethod().equals("GET") && path.equals("/processes")) {
          ObjectNode n = JSON.createObjectNode();
          for (RegionSpec s : processes.specs()) {
            n.putObject(s.name()).put("condition", processes.condition(s.name()).name()).put("pid", processes.pid(s.name()));
          }
          answer(exchange, 200, n);
          return;
        }
        if (!exchange.getRequestMethod().equals("POST")) {
          answer(exchange, 405, error("use GET /processes or POST /processes/{action}"));
          return;
        }
        JsonNode body = JSON.readTree(exchange.getRequestBody().readAllBytes());
        String region = body == null ? null : body.path("region").asText(null);
        if (region == null) {
          answer(exchange, 400, error("missing \"region\""));
          return;
        }
        switch (path) {
          case "/processes/crash" -> processes.crash(region);
          case "/processes/restart" -> processes.restart(region);
          case "/processes/pause" -> processes.pause(region);
          case "/processes/resume" -> processes.resume(region);
          default -> {
            answer(exchange, 404, error("unknown action " + path));
            return;
          }
        }
        answer(exchange, 200, JSON.createObjectNode().put("region", region)
            .put("condition", processes.condition(region).name()).put("pid", processes.pid(region)));
      } catch (IllegalArgumentException | IllegalStateException | IOException e) {
        answer(exchange, 400, error(e.getMessage()));
      }
    });
    server.start();
    return new SupervisorServer(server);
  }

  private static ObjectNode error(String message) {
    return JSON.createObjectNode().put("error", message);
  }

  private static void answer(HttpExchange exchange, int status, JsonNode body) throws IOException {
    byte[] bytes = JSON.writeValueAsString(body).getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().set("Content-Type", "application/json");
    exchange.sendResponseHeaders(status, bytes.length);
    try (OutputStream os = exchange.getResponseBody()) {
      os.write(bytes);
    }
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
