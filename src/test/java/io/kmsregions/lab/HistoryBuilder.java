package io.kmsregions.lab;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.kmsregions.lab.history.History;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/** Builds synthetic laboratory histories (FORMAT.md) in code, for the checker and report tests. */
public final class HistoryBuilder {
  public static final String US = "us-east-1";
  public static final String EU = "eu-west-1";
  public static final String AP = "ap-southeast-2";
  public static final String KEY = "mrk-1234abcd";
  public static final String DIGEST = "aa11";

  private final List<ObjectNode> records = new ArrayList<>();
  private long nextId = 1;

  public List<ObjectNode> records() {
    return records;
  }

  public History build() {
    return History.of(records);
  }

  /** The JSON Lines text of the records, in insertion order. */
  public String jsonLines() {
    StringBuilder b = new StringBuilder();
    for (ObjectNode n : records) b.append(n).append('\n');
    return b.toString();
  }

  private ObjectNode rec(String type, long t) {
    ObjectNode n = History.newRecord();
    n.put("type", type);
    n.put("t", t);
    records.add(n);
    return n;
  }

  private static ArrayNode array(String... values) {
    ArrayNode a = History.mapper().createArrayNode();
    for (String v : values) a.add(v);
    return a;
  }

  public HistoryBuilder scenario(String name, String... regions) {
    ObjectNode n = rec("scenario", 0);
    n.put("name", name);
    n.set("regions", array(regions));
    n.put("startedAt", 1_700_000_000_000L);
    n.set("settings", History.mapper().createObjectNode());
    return this;
  }

  public HistoryBuilder phase(long t, String name, String edge) {
    ObjectNode n = rec("phase", t);
    n.put("name", name);
    n.put("edge", edge);
    return this;
  }

  /** An invoke at {@code t} and its completion {@code latency} ms later; returns the id. */
  public long op(long t, String region, String op, String key, String outcome, String error, long latency,
      String ciphertext) {
    long id = nextId++;
    ObjectNode i = rec("invoke", t);
    i.put("id", id);
    i.put("region", region);
    i.put("op", op);
    i.put("key", key);
    ObjectNode c = rec("complete", t + latency);
    c.put("id", id);
    c.put("region", region);
    c.put("op", op);
    c.put("key", key);
    c.put("outcome", outcome);
    if (error == null) c.putNull("error");
    else c.put("error", error);
    c.put("latencyMs", (double) latency);
    if (ciphertext != null) c.put("ciphertext", ciphertext);
    return id;
  }

  public long ok(long t, String region, String op, String key) {
    return op(t, region, op, key, "ok", null, 3, null);
  }

  public long control(long t, String op, String region, String key, Map<String, String> args, String outcome) {
    long id = nextId++;
    ObjectNode n = rec("control", t);
    n.put("id", id);
    n.put("op", op);
    n.put("region", region);
    n.put("key", key);
    ObjectNode a = n.putObject("args");
    args.forEach(a::put);
    n.put("outcome", outcome);
    if ("ok".equals(outcome)) n.putNull("error");
    else n.put("error", "KMSInternalException");
    n.put("latencyMs", 12.0);
    return id;
  }

  public HistoryBuilder fault(long t, String action, String window, String edge, String... regions) {
    ObjectNode n = rec("fault", t);
    n.put("action", action);
    n.set("regions", array(regions));
    n.put("window", window);
    n.put("edge", edge);
    if ("partition".equals(action)) n.put("direction", "both");
    return this;
  }

  /** A fault record with {@code params}, e.g. the clock fault's {@code {"region":…, "scale": 86400}}. */
  public HistoryBuilder fault(long t, String action, String window, String edge, Map<String, Object> params,
      String... regions) {
    fault(t, action, window, edge, regions);
    ObjectNode n = (ObjectNode) records.get(records.size() - 1);
    n.set("params", new com.fasterxml.jackson.databind.ObjectMapper().valueToTree(params));
    return this;
  }

  public HistoryBuilder membership(long t, String observer, String event, String member) {
    ObjectNode n = rec("membership", t);
    n.put("observer", observer);
    n.put("event", event);
    n.put("member", member);
    return this;
  }

  public ObjectNode keyState(long t, String region, String key, String state, String type, String primary,
      long epoch, long version, String... members) {
    ObjectNode n = rec("keyState", t);
    n.put("region", region);
    n.put("key", key);
    n.put("state", state);
    if (type == null) n.putNull("multiRegionKeyType");
    else n.put("multiRegionKeyType", type);
    n.put("primaryRegion", primary);
    n.set("members", array(members));
    n.put("epoch", epoch);
    n.put("version", version);
    n.put("event", "Test");
    return n;
  }

  public ObjectNode finalRecord(long t, String region, String key, boolean exists, String state, String type,
      String primary, long epoch, long version, String digest, String... members) {
    ObjectNode n = rec("final", t);
    n.put("region", region);
    n.put("key", key);
    n.put("exists", exists);
    if (!exists) return n;
    n.put("state", state);
    n.put("multiRegionKeyType", type);
    n.put("primaryRegion", primary);
    n.set("members", array(members));
    n.put("epoch", epoch);
    n.put("version", version);
    n.put("sharedDigest", digest);
    return n;
  }

  public ObjectNode verify(long t, String check, String region, String key, long ref, boolean ok, String error) {
    ObjectNode n = rec("verify", t);
    n.put("check", check);
    n.put("region", region);
    n.put("key", key);
    n.put("ref", ref);
    n.put("ok", ok);
    if (error == null) n.putNull("error");
    else n.put("error", error);
    return n;
  }

  public HistoryBuilder conflict(long t, String region, String key, String detail) {
    ObjectNode n = rec("conflict", t);
    n.put("region", region);
    n.put("key", key);
    n.put("detail", detail);
    return this;
  }

  /** The first record of {@code type} in {@code region} for {@code key}, to plant a change in it. */
  public ObjectNode find(String type, String region, String key) {
    for (ObjectNode n : records) {
      if (type.equals(n.path("type").asText()) && Objects.equals(region, n.path("region").asText(null))
          && Objects.equals(key, n.path("key").asText(null))) {
        return n;
      }
    }
    throw new AssertionError("no " + type + " record for " + key + " in " + region);
  }

  /** Removes the records matching. */
  public HistoryBuilder remove(java.util.function.Predicate<JsonNode> which) {
    records.removeIf(which);
    return this;
  }

  // ------------------------------------------------------------------ a clean scenario

  /** Ids of what {@link #clean()} recorded, for tests that plant violations. */
  public long replicateEuId;
  public long replicateApId;
  public long createId;
  public final List<Long> ciphertextOps = new ArrayList<>();

  /**
   * A clean run: three Regions; {@link #KEY} created in us-east-1 and replicated to the two others;
   * a workload of Encrypt/Decrypt in every Region from 1 s to 11 s every 50 ms; ap-southeast-2
   * crashes from 4 s to 6 s (its operations fail, the others' do not), detected at 4.8 s; after
   * the settle every Region agrees and every ciphertext decrypts everywhere.
   */
  public static HistoryBuilder clean() {
    HistoryBuilder b = new HistoryBuilder();
    b.scenario("clean-crash", US, EU, AP);
    b.phase(0, "setup", "start");
    b.createId = b.control(100, "CreateKey", US, KEY, Map.of("multiRegion", "true"), "ok");
    b.keyState(110, US, KEY, "Enabled", "PRIMARY", US, 1, 1, US);
    b.replicateEuId = b.control(200, "ReplicateKey", US, KEY, Map.of("replicaRegion", EU), "ok");
    b.keyState(205, US, KEY, "Enabled", "PRIMARY", US, 1, 2, US, EU);
    b.keyState(230, EU, KEY, "Creating", "REPLICA", US, 1, 2, US, EU);
    b.keyState(260, EU, KEY, "Enabled", "REPLICA", US, 1, 2, US, EU);
    b.replicateApId = b.control(300, "ReplicateKey", US, KEY, Map.of("replicaRegion", AP), "ok");
    b.keyState(305, US, KEY, "Enabled", "PRIMARY", US, 1, 3, US, EU, AP);
    b.keyState(330, AP, KEY, "Creating", "REPLICA", US, 1, 3, US, EU, AP);
    b.keyState(360, AP, KEY, "Enabled", "REPLICA", US, 1, 3, US, EU, AP);
    b.keyState(370, EU, KEY, "Enabled", "REPLICA", US, 1, 3, US, EU, AP);
    b.phase(1000, "setup", "end");
    b.phase(1000, "workload", "start");
    int n = 0;
    for (long t = 1000; t < 11_000; t += 50) {
      for (String r : List.of(US, EU, AP)) {
        boolean apDown = r.equals(AP) && t >= 4000 && t < 6000;
        if (apDown) {
          b.op(t, r, "Encrypt", KEY, "fail", "ConnectionRefused", 1, null);
        } else if (n++ % 20 == 0) {
          b.ciphertextOps.add(b.op(t, r, "Encrypt", KEY, "ok", null, 4, "Y3Q" + n));
        } else {
          b.ok(t, r, "Decrypt", KEY);
        }
      }
    }
    b.fault(4000, "crash", "w1", "open", AP);
    b.membership(4800, US, "UnreachableMember", AP);
    b.membership(4810, EU, "UnreachableDataCenter", AP);
    b.fault(6000, "restart", "w1", "close", AP);
    b.membership(6900, US, "ReachableMember", AP);
    b.keyState(7000, AP, KEY, "Enabled", "REPLICA", US, 1, 3, US, EU, AP); // recovered after restart
    b.phase(11_000, "workload", "end");
    b.phase(11_000, "settle", "start");
    b.phase(13_000, "settle", "end");
    b.phase(13_000, "verify", "start");
    for (String r : List.of(US, EU, AP)) {
      b.finalRecord(13_010, r, KEY, true, "Enabled", r.equals(US) ? "PRIMARY" : "REPLICA", US, 1, 3, DIGEST,
          US, EU, AP);
    }
    b.verify(13_050, "describe", US, KEY, b.createId, true, null);
    b.verify(13_050, "describe", EU, KEY, b.replicateEuId, true, null);
    b.verify(13_050, "describe", AP, KEY, b.replicateApId, true, null);
    long t = 13_100;
    for (long id : b.ciphertextOps) {
      for (String r : List.of(US, EU, AP)) b.verify(t++, "decrypt", r, KEY, id, true, null);
    }
    b.phase(14_000, "verify", "end");
    return b;
  }
}
