package io.kmsregions.lab;

import com.fasterxml.jackson.databind.JsonNode;
import io.kmsregions.region.RegionSpec;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** The text of {@code kms-regions status}: every node's view of the Regions and of the keys. */
public final class StatusTable {
  private StatusTable() {}

  /**
   * @param views each Region's GET /status answer, or null when its node did not answer
   * @param allKeys also single-Region keys
   */
  public static String render(List<RegionSpec> specs, Map<String, JsonNode> views, boolean allKeys) {
    StringBuilder b = new StringBuilder();
    int w = Math.max(16, specs.stream().mapToInt(s -> s.name().length() + 2).max().orElse(16));
    b.append("Regions, as each node sees them (row: the node asked)\n");
    b.append(pad("node", w));
    for (RegionSpec s : specs) b.append(pad(s.name(), w));
    b.append("faults\n");
    for (RegionSpec obs : specs) {
      JsonNode v = views.get(obs.name());
      b.append(pad(obs.name(), w));
      if (v == null) {
        b.append("(no answer from ").append(obs.adminUrl()).append(": down, paused or cut off)\n");
        continue;
      }
      for (RegionSpec s : specs) {
        String cell = "?";
        for (JsonNode r : v.path("regions")) {
          if (!r.path("region").asText().equals(s.name())) continue;
          if (s.name().equals(obs.name())) {
            cell = "self";
          } else {
            String status = r.path("status").asText();
            cell = status.equals("Absent") ? "down/absent" : (r.path("reachable").asBoolean() ? status : "unreachable");
          }
        }
        b.append(pad(cell, w));
      }
      b.append(faults(v.path("faults"))).append('\n');
    }
    // How the links between Regions run, as the nodes that answered say (tls-tcp or tcp).
    Map<String, List<String>> transports = new TreeMap<>();
    views.forEach((region, v) -> {
      if (v != null && v.hasNonNull("clusterTransport")) {
        transports.computeIfAbsent(v.path("clusterTransport").asText(), t -> new java.util.ArrayList<>()).add(region);
      }
    });
    if (transports.size() == 1) {
      b.append("Cluster links: ").append(transports.keySet().iterator().next()).append('\n');
    } else if (!transports.isEmpty()) {
      b.append("Cluster links: mixed");
      transports.forEach((t, rs) -> b.append(' ').append(t).append(' ').append(new java.util.TreeSet<>(rs)));
      b.append('\n');
    }
    // Keys: one block per key, one row per Region holding it.
    Map<String, Map<String, JsonNode>> keys = new TreeMap<>();
    for (var e : views.entrySet()) {
      if (e.getValue() == null) continue;
      for (JsonNode k : e.getValue().path("keys")) {
        if (!allKeys && k.path("multiRegionKeyType").isNull()) continue;
        keys.computeIfAbsent(k.path("keyId").asText(), x -> new TreeMap<>()).put(e.getKey(), k);
      }
    }
    b.append('\n').append(allKeys ? "Keys" : "Multi-Region keys").append(keys.isEmpty() ? ": none\n" : "\n");
    for (var k : keys.entrySet()) {
      b.append(k.getKey()).append('\n');
      b.append("  ").append(pad("region", w)).append(pad("role", 9)).append(pad("state", 24)).append(pad("primary", w))
          .append(pad("epoch", 7)).append(pad("shared", 16)).append(pad("pending", 8)).append("members\n");
      for (var r : k.getValue().entrySet()) {
        JsonNode s = r.getValue();
        String shared = "v" + s.path("version").asLong() + " " + s.path("sharedDigest").asText("").substring(0,
            Math.min(8, s.path("sharedDigest").asText("").length()));
        b.append("  ").append(pad(r.getKey(), w)).append(pad(s.path("multiRegionKeyType").asText("-"), 9))
            .append(pad(s.path("keyState").asText(), 24)).append(pad(s.path("primaryRegion").asText("-"), w))
            .append(pad(Long.toString(s.path("epoch").asLong()), 7)).append(pad(shared, 16))
            .append(pad(Integer.toString(s.path("pendingDeliveries").asInt()), 8))
            .append(String.join(",", iter(s.path("members")))).append('\n');
      }
    }
    return b.toString();
  }

  private static String faults(JsonNode f) {
    if (f.isMissingNode() || !f.path("enabled").asBoolean()) return "(no fault support)";
    StringBuilder b = new StringBuilder();
    f.path("partitions").fields().forEachRemaining(e -> b.append("partition ").append(e.getKey()).append('(')
        .append(e.getValue().asText()).append(") "));
    f.path("links").fields().forEachRemaining(e -> b.append("from ").append(e.getKey()).append(": +")
        .append(e.getValue().path("delayMs").asLong()).append("ms±").append(e.getValue().path("jitterMs").asLong())
        .append(" loss ").append(e.getValue().path("lossPercent").asDouble()).append("% "));
    // The clock fault: this node's clock runs `scale` times its configured speed.
    double scale = f.path("clock").path("scale").asDouble(1.0);
    if (scale != 1.0) b.append("clock x").append(number(scale)).append(' ');
    return b.length() == 0 ? "none" : b.toString().trim();
  }

  /** 86400 rather than 86400.0; 0.5 stays 0.5. */
  private static String number(double x) {
    return x == Math.rint(x) && Math.abs(x) < 1e15 ? Long.toString((long) x) : Double.toString(x);
  }

  private static List<String> iter(JsonNode a) {
    java.util.ArrayList<String> l = new java.util.ArrayList<>();
    a.forEach(x -> l.add(x.asText()));
    return l;
  }

  private static String pad(String s, int w) {
    return s.length() >= w ? s + " " : s + " ".repeat(w - s.length());
  }
}
