package io.kmsregions.lab;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * Records the laboratory's history (lab/history/FORMAT.md): every record gets {@code t}, the
 * milliseconds since the scenario started on this process's monotonic clock. Records are kept in
 * memory and written, sorted by {@code t} and merged with the nodes' event logs, at the end.
 */
public final class HistoryWriter {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final long startNanos = System.nanoTime();
  private final long startedAtWall = System.currentTimeMillis();
  private final List<ObjectNode> records = new ArrayList<>();
  private final AtomicLong ids = new AtomicLong();

  public long startedAtWall() {
    return startedAtWall;
  }

  /** Milliseconds since the start. */
  public long now() {
    return (System.nanoTime() - startNanos) / 1_000_000L;
  }

  public long nextId() {
    return ids.incrementAndGet();
  }

  /** A new record of {@code type} stamped now; call {@link #add} once filled. */
  public ObjectNode record(String type) {
    ObjectNode n = JSON.createObjectNode();
    n.put("type", type);
    n.put("t", now());
    return n;
  }

  public synchronized void add(ObjectNode n) {
    records.add(n);
  }

  /** A snapshot of the records so far (for progress and verification). */
  public synchronized List<ObjectNode> records() {
    return new ArrayList<>(records);
  }

  /**
   * Reads the nodes' event logs ({@code *.jsonl} in {@code eventsDir}), turns their {@code wall}
   * into {@code t}, and writes everything sorted by {@code t} to {@code out}.
   */
  public synchronized void write(Path out, Path eventsDir) {
    List<ObjectNode> all = new ArrayList<>(records);
    if (Files.isDirectory(eventsDir)) {
      try (Stream<Path> files = Files.list(eventsDir)) {
        for (Path f : files.filter(p -> p.toString().endsWith(".jsonl")).sorted().toList()) {
          for (String line : Files.readAllLines(f, StandardCharsets.UTF_8)) {
            if (line.isBlank()) continue;
            try {
              JsonNode n = JSON.readTree(line);
              if (!(n instanceof ObjectNode o) || !o.has("wall")) continue;
              o.put("t", o.get("wall").asLong() - startedAtWall);
              all.add(o);
            } catch (IOException e) {
              // a line torn by kill -9: skip it
            }
          }
        }
      } catch (IOException e) {
        throw new UncheckedIOException("Cannot read the event logs in " + eventsDir, e);
      }
    }
    // The scenario line stays first; the rest in time order (stable, so an invoke precedes its completion).
    all.sort(Comparator.comparing((ObjectNode n) -> n.path("type").asText().equals("scenario") ? 0 : 1)
        .thenComparingLong(n -> n.path("t").asLong()));
    try (BufferedWriter w = Files.newBufferedWriter(out, StandardCharsets.UTF_8)) {
      for (ObjectNode n : all) {
        w.write(JSON.writeValueAsString(n));
        w.newLine();
      }
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot write " + out, e);
    }
  }
}
