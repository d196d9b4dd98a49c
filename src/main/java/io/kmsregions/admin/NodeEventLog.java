package io.kmsregions.admin;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.kmsregions.key.KeyCache;
import io.kmsregions.key.KeyEntity;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;

/**
 * What one node saw, for the laboratory's history: membership events and every key state change,
 * as JSON Lines appended to a file (flushed per line, so a {@code kill -9} loses at most the lines
 * still queued). Lines are written by a thread of the log's own, never on the key actor's or the
 * cluster's thread that reports them. Each line carries {@code wall} (epoch milliseconds); the laboratory turns it into
 * the history's {@code t}. The record shapes are those of lab/history/FORMAT.md.
 */
public final class NodeEventLog implements KeyCache.Listener, AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final String region;
  private final BufferedWriter out;
  // One writer thread, so that a key actor never waits on the disk for the laboratory's history.
  private final java.util.concurrent.ExecutorService writer = java.util.concurrent.Executors.newSingleThreadExecutor(r -> {
    Thread t = new Thread(r, "node-event-log");
    t.setDaemon(true);
    return t;
  });

  public NodeEventLog(String region, Path file) {
    this.region = region;
    try {
      if (file.getParent() != null) Files.createDirectories(file.getParent());
      this.out = Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot open the event log " + file, e);
    }
  }

  /** A membership event about {@code member}'s Region, as this node saw it. */
  public void membership(String event, String member) {
    ObjectNode n = line("membership");
    n.put("observer", region);
    n.put("event", event);
    n.put("member", member);
    write(n);
  }

  @Override
  public void changed(KeyEntity.Key before, KeyEntity.Key after) {
    KeyStatus s = KeyStatus.of(after);
    ObjectNode n = line("keyState");
    n.put("region", region);
    n.put("key", s.keyId());
    n.put("state", s.keyState());
    n.put("multiRegionKeyType", s.multiRegionKeyType());
    n.put("primaryRegion", s.primaryRegion());
    n.set("members", JSON.valueToTree(s.members()));
    n.put("epoch", s.epoch());
    n.put("version", s.version());
    n.put("event", before == null ? "Loaded" : "Changed");
    write(n);
  }

  @Override
  public void deleted(String keyId) {
    ObjectNode n = line("keyState");
    n.put("region", region);
    n.put("key", keyId);
    n.put("state", "Deleted");
    n.putNull("multiRegionKeyType");
    n.put("event", "KeyDeleted");
    write(n);
  }

  /** A forced promotion's conflicts reported by a key that stepped down here. */
  public void conflicts(String keyId, String detail, List<String> conflicts) {
    for (String c : conflicts) {
      ObjectNode n = line("conflict");
      n.put("region", region);
      n.put("key", keyId);
      n.put("detail", detail + ": " + c);
      write(n);
    }
  }

  private ObjectNode line(String type) {
    ObjectNode n = JSON.createObjectNode();
    n.put("type", type);
    n.put("wall", System.currentTimeMillis());
    return n;
  }

  private void write(ObjectNode n) {
    try {
      writer.execute(() -> {
        try {
          out.write(JSON.writeValueAsString(n));
          out.newLine();
          out.flush();
        } catch (IOException e) {
          // The history loses a line; the node keeps serving.
        }
      });
    } catch (java.util.concurrent.RejectedExecutionException e) {
      // closed: the node is stopping
    }
  }

  /** Writes what is queued, then closes the file. */
  @Override
  public void close() {
    writer.shutdown();
    try {
      writer.awaitTermination(5, java.util.concurrent.TimeUnit.SECONDS);
      out.close();
    } catch (IOException ignored) {
      // closing
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
