package io.kmsregions.lab;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.kmsregions.bench.SigV4;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * A KMS client of the laboratory for one Region's own endpoint: AWS JSON 1.1 requests signed with
 * SigV4, each classified as the history needs it (lab/history/FORMAT.md): {@code ok}, {@code fail}
 * (the call certainly did not take effect: an AWS error, a refused connection) or {@code info}
 * (indeterminate: timed out or broken after sending).
 */
public final class LabClient {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** The outcome of one call: {@code body} when ok, {@code error} otherwise. */
  public record Result(String outcome, String error, String message, JsonNode body, double latencyMs) {
    public boolean ok() {
      return outcome.equals("ok");
    }
  }

  private final String region;
  private final URI endpoint;
  private final String host;
  private final SigV4 signer;
  private final Duration timeout;
  private final HttpClient http;

  public LabClient(String region, String baseUrl, SigV4 signer, Duration timeout) {
    this.region = region;
    this.endpoint = URI.create(baseUrl + "/");
    this.host = endpoint.getHost() + ":" + endpoint.getPort();
    this.signer = signer;
    this.timeout = timeout;
    this.http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(Duration.ofMillis(Math.min(timeout.toMillis(), 2000))).build();
  }

  public String region() {
    return region;
  }

  /** Calls {@code operation} (a TrentService operation) with {@code body}, within the client timeout. */
  public Result call(String operation, ObjectNode body) {
    return call(operation, body, timeout);
  }

  /** Calls {@code operation} with {@code body}, waiting at most {@code timeout} for the answer. */
  public Result call(String operation, ObjectNode body, Duration timeout) {
    byte[] bytes = body.toString().getBytes(StandardCharsets.UTF_8);
    String amzDate = SigV4.amzDateNow();
    String target = "TrentService." + operation;
    long start = System.nanoTime();
    try {
      HttpRequest req = HttpRequest.newBuilder(endpoint).timeout(timeout)
          .header("Content-Type", "application/x-amz-json-1.1")
          .header("X-Amz-Target", target)
          .header("X-Amz-Date", amzDate)
          .header("Authorization", signer.kmsAuthorization(host, amzDate, target, bytes, region))
          .POST(HttpRequest.BodyPublishers.ofByteArray(bytes)).build();
      HttpResponse<byte[]> r = http.send(req, HttpResponse.BodyHandlers.ofByteArray());
      double ms = (System.nanoTime() - start) / 1e6;
      JsonNode answer = r.body().length == 0 ? JSON.createObjectNode() : JSON.readTree(r.body());
      if (r.statusCode() == 200) return new Result("ok", null, null, answer, ms);
      String type = answer.path("__type").asText("");
      type = type.contains("#") ? type.substring(type.indexOf('#') + 1) : type;
      if (type.isEmpty()) type = "Http" + r.statusCode();
      return new Result("fail", type, answer.path("message").asText(answer.path("Message").asText("")), null, ms);
    } catch (ConnectException e) {
      return new Result("fail", "ConnectionRefused", e.toString(), null, (System.nanoTime() - start) / 1e6);
    } catch (HttpTimeoutException e) {
      boolean connect = e instanceof java.net.http.HttpConnectTimeoutException;
      return new Result(connect ? "fail" : "info", connect ? "ConnectTimeout" : "Timeout", e.toString(), null,
          (System.nanoTime() - start) / 1e6);
    } catch (IOException e) {
      return new Result("info", "IOException", e.toString(), null, (System.nanoTime() - start) / 1e6);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return new Result("info", "Interrupted", e.toString(), null, (System.nanoTime() - start) / 1e6);
    }
  }
}
