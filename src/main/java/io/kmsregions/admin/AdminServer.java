package io.kmsregions.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.kmsregions.KmsSettings;
import io.kmsregions.key.KeyEntity;
import io.kmsregions.key.KeyManager;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * The admin endpoint of one Region node: separate from the KMS API (its own port, loopback by
 * default), for {@code kms-regions status}, {@code kms-regions fault} and the laboratory.
 *
 * <pre>
 *   GET  /status                      this node's view: Regions (Up, unreachable, absent), faults,
 *                                     the cluster transport (tls-tcp or tcp), and every key held
 *                                     here (?multiRegionOnly=true for mrk- keys)
 *   POST /faults/partition            {"peer":"eu-west-1","direction":"both|outbound|inbound"}
 *   POST /faults/heal                 {"peer":"eu-west-1"} or {} for every peer
 *   POST /faults/latency              {"peer":"eu-west-1","delayMs":100,"jitterMs":10,"lossPercent":1}
 *   POST /faults/clock                {"scale":86400}: this node's clock runs 86400 times its
 *                                     configured speed (kms.clock.time-scale); {"scale":1} or
 *                                     {"reset":true} restores it, as does a heal of everything
 *   POST /keys/force-promote          {"keyId":"mrk-…"}  (DESIGN.md, failure model; beyond AWS)
 *   GET  /cloudhsm                    the simulated CloudHSM clusters and their HSMs
 *   POST /cloudhsm/hsms               {"clusterId":"cluster-…","availabilityZone":"c"}: adds an HSM
 *   POST /cloudhsm/hsms/delete        {"clusterId":"cluster-…","hsmId":"hsm-…"}: deletes one
 * </pre>
 *
 * Errors are {@code {"error": "..."}} with HTTP 400 (bad request) or 409 (refused by the key).
 */
public final class AdminServer extends AllDirectives {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final KmsSettings settings;
  private final ActorSystem<?> system;
  private final ActorRef<KeyManager.Command> keys;
  private final Faults faults;
  private final Duration timeout;
  private final io.kmsregions.keystore.cloudhsm.SimulatedCloudHsm cloudHsm;

  public AdminServer(KmsSettings settings, ActorSystem<?> system, ActorRef<KeyManager.Command> keys, Faults faults,
      io.kmsregions.keystore.cloudhsm.SimulatedCloudHsm cloudHsm) {
    this.cloudHsm = cloudHsm;
    this.settings = settings;
    this.system = system;
    this.keys = keys;
    this.faults = faults;
    this.timeout = settings.askTimeout();
  }

  /** Binds {@code host:port}; released in coordinated shutdown with the rest of the node. */
  public CompletionStage<ServerBinding> bind(String host, int port) {
    return Http.get(system).newServerAt(host, port).bind(route())
        .thenApply(b -> b.addToCoordinatedShutdown(Duration.ofSeconds(3), system));
  }

  Route route() {
    return concat(
        path("status", () -> get(() -> parameterOptional("multiRegionOnly", only ->
            completeWithFuture(status(only.map(Boolean::parseBoolean).orElse(false)).thenApply(this::ok))))),
        pathPrefix("faults", () -> post(() -> entity(
            org.apache.pekko.http.javadsl.unmarshalling.Unmarshaller.entityToString(), body -> concat(
                path("partition", () -> completeWithFuture(guard(body, b -> faults.partition(
                    required(b, "peer"), Faults.Direction.valueOf(b.path("direction").asText("both")))))),
                path("heal", () -> completeWithFuture(guard(body, b -> faults.heal(
                    b.hasNonNull("peer") ? b.get("peer").asText() : null)))),
                path("clock", () -> completeWithFuture(guard(body, b -> {
                  faults.setClock(clockFactor(b));
                  return CompletableFuture.completedFuture(null);
                }))),
                path("latency", () -> completeWithFuture(guard(body, b -> {
                  faults.shape(required(b, "peer"), new LinkShaper.Shape(b.path("delayMs").asLong(0),
                      b.path("jitterMs").asLong(0), b.path("lossPercent").asDouble(0)));
                  return CompletableFuture.completedFuture(null);
                }))))))),
        path(org.apache.pekko.http.javadsl.server.PathMatchers.segment("keys").slash("force-promote"), () -> post(() -> entity(
            org.apache.pekko.http.javadsl.unmarshalling.Unmarshaller.entityToString(),
            body -> completeWithFuture(forcePromote(body))))),
        path("cloudhsm", () -> get(() -> complete(ok(clusters())))),
        pathPrefix("cloudhsm", () -> pathPrefix("hsms", () -> post(() -> entity(
            org.apache.pekko.http.javadsl.unmarshalling.Unmarshaller.entityToString(), body -> concat(
                pathEnd(() -> complete(hsmChange(body, b -> cloudHsm.addHsm(required(b, "clusterId"),
                    required(b, "availabilityZone"))))),
                path("delete", () -> complete(hsmChange(body, b -> {
                  cloudHsm.deleteHsm(required(b, "clusterId"), required(b, "hsmId"));
                  return null;
                })))))))));
  }

  private HttpResponse hsmChange(String body, java.util.function.Function<JsonNode, Object> change) {
    try {
      change.apply(body.isBlank() ? JSON.createObjectNode() : JSON.readTree(body));
      return ok(clusters());
    } catch (IllegalArgumentException | com.fasterxml.jackson.core.JsonProcessingException e) {
      return error(400, e.getMessage());
    }
  }

  /** The simulated CloudHSM clusters: id, state, subnets' zones, HSMs. */
  private ObjectNode clusters() {
    ObjectNode n = JSON.createObjectNode();
    ArrayNode list = n.putArray("clusters");
    for (var c : cloudHsm.clusters()) {
      ObjectNode e = list.addObject();
      e.put("clusterId", c.clusterId());
      e.put("state", c.state());
      c.subnetZones().forEach(e.putArray("subnetAvailabilityZones")::add);
      ArrayNode hsms = e.putArray("hsms");
      for (var h : c.hsms()) {
        hsms.addObject().put("hsmId", h.hsmId()).put("availabilityZone", h.availabilityZone()).put("state", h.state());
      }
    }
    return n;
  }

  private interface FaultAction {
    CompletionStage<Void> apply(JsonNode body);
  }

  private CompletionStage<HttpResponse> guard(String body, FaultAction action) {
    try {
      JsonNode b = body.isBlank() ? JSON.createObjectNode() : JSON.readTree(body);
      return action.apply(b).thenApply(v -> ok(faultsNode()));
    } catch (IllegalArgumentException | com.fasterxml.jackson.core.JsonProcessingException e) {
      return CompletableFuture.completedFuture(error(400, e.getMessage()));
    }
  }

  private static String required(JsonNode b, String field) {
    if (!b.hasNonNull(field) || !b.get(field).isTextual()) throw new IllegalArgumentException("missing \"" + field + "\"");
    return b.get(field).asText();
  }

  /**
   * The clock fault's factor from {@code {"scale": X}} (a JSON number, finite, &gt; 0) or
   * {@code {"reset": true}} (1); anything else is refused before the clock changes.
   */
  static double clockFactor(JsonNode b) {
    boolean reset = b.path("reset").asBoolean(false);
    if (b.has("reset") && !b.get("reset").isBoolean()) throw new IllegalArgumentException("\"reset\" must be true or false");
    JsonNode scale = b.get("scale");
    if (reset) {
      if (scale != null) throw new IllegalArgumentException("give \"scale\" or \"reset\": true, not both");
      return 1.0;
    }
    if (scale == null || scale.isNull()) throw new IllegalArgumentException("missing \"scale\" (a number > 0; 1 restores the configured speed)");
    if (!scale.isNumber()) throw new IllegalArgumentException("\"scale\" must be a number > 0, not " + scale);
    double x = scale.asDouble();
    if (!io.kmsregions.ClusterClock.validScale(x)) throw new IllegalArgumentException("\"scale\" must be a number > 0, not " + scale);
    return x;
  }

  private CompletionStage<HttpResponse> forcePromote(String body) {
    String keyId;
    try {
      keyId = required(JSON.readTree(body), "keyId");
    } catch (IllegalArgumentException | com.fasterxml.jackson.core.JsonProcessingException e) {
      return CompletableFuture.completedFuture(error(400, e.getMessage()));
    }
    return AskPattern.<KeyManager.Command, KeyEntity.KeyReply>ask(keys,
            r -> new KeyManager.Route(keyId, new KeyEntity.ForcePromote(r)), timeout, system.scheduler())
        .handle((reply, failure) -> {
          if (failure != null) return error(503, "no answer from key " + keyId + ": " + failure.getMessage());
          if (reply instanceof KeyEntity.KeyFound f) return ok(JSON.valueToTree(KeyStatus.of(f.key())));
          KeyEntity.KeyFailed k = (KeyEntity.KeyFailed) reply;
          return error(409, k.error().type() + ": " + k.error().message());
        });
  }

  /** This node's view of the cluster and of its keys. */
  CompletionStage<ObjectNode> status(boolean multiRegionOnly) {
    ObjectNode n = JSON.createObjectNode();
    n.put("region", settings.region());
    n.put("pid", ProcessHandle.current().pid());
    n.put("wall", System.currentTimeMillis());
    // tls-tcp (mutual TLS, io.kmsregions.security.tls.ClusterTls) or tcp (--no-cluster-tls).
    n.put("clusterTransport", system.settings().config().getString("pekko.remote.artery.transport"));
    var state = Cluster.get(system).state();
    var unreachable = new java.util.HashSet<Member>();
    state.getUnreachable().forEach(unreachable::add);
    ArrayNode regions = n.putArray("regions");
    for (String r : settings.regions()) {
      ObjectNode row = regions.addObject();
      row.put("region", r);
      Member m = null;
      for (Member x : state.getMembers()) if (x.dataCenter().equals(r)) m = x;
      if (m == null) {
        row.put("status", r.equals(settings.region()) ? "Joining" : "Absent");
        row.put("reachable", false);
      } else {
        row.put("status", m.status().toString());
        row.put("address", m.address().toString());
        boolean reach = !unreachable.contains(m) && !state.getUnreachableDataCenters().contains(r);
        row.put("reachable", r.equals(settings.region()) || reach);
      }
    }
    n.set("faults", faultsNode());
    return allKeys().thenApply(list -> {
      ArrayNode ks = n.putArray("keys");
      for (KeyEntity.Key k : list) {
        if (multiRegionOnly && !k.isMultiRegion()) continue;
        ks.add(JSON.valueToTree(KeyStatus.of(k)));
      }
      return n;
    });
  }

  private JsonNode faultsNode() {
    return JSON.valueToTree(faults.describe());
  }

  private CompletionStage<List<KeyEntity.Key>> allKeys() {
    return page(null, new ArrayList<>());
  }

  private CompletionStage<List<KeyEntity.Key>> page(String after, List<KeyEntity.Key> acc) {
    return AskPattern.<KeyManager.Command, KeyManager.KeyPage>ask(keys,
            r -> new KeyManager.ListKeys(after, 1000, r), timeout, system.scheduler())
        .thenCompose(p -> {
          List<CompletableFuture<KeyEntity.KeyReply>> asks = new ArrayList<>();
          for (String id : p.keyIds()) {
            asks.add(AskPattern.<KeyManager.Command, KeyEntity.KeyReply>ask(keys,
                r -> new KeyManager.Route(id, new KeyEntity.GetKey(r)), timeout, system.scheduler())
                .toCompletableFuture());
          }
          return CompletableFuture.allOf(asks.toArray(CompletableFuture[]::new)).thenCompose(v -> {
            for (var a : asks) if (a.join() instanceof KeyEntity.KeyFound f) acc.add(f.key());
            if (p.truncated() && !p.keyIds().isEmpty()) return page(p.keyIds().get(p.keyIds().size() - 1), acc);
            return CompletableFuture.completedFuture(acc);
          });
        });
  }

  private HttpResponse ok(JsonNode body) {
    try {
      return HttpResponse.create().withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON, JSON.writeValueAsString(body)));
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      return error(500, e.getMessage());
    }
  }

  private static HttpResponse error(int status, String message) {
    ObjectNode n = JSON.createObjectNode();
    n.put("error", message);
    return HttpResponse.create().withStatus(StatusCodes.get(status))
        .withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON, n.toString()));
  }
}
