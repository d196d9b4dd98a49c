package io.kmsregions.audit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.kmsregions.KmsSettings;
import io.kmsregions.security.auth.Caller;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Iterator;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Extension;
import org.apache.pekko.actor.typed.ExtensionId;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The audit trail of one Region: every API call handled in this Region, and every replication or
 * synchronisation message it applied from another Region, appended as one JSON object per line
 * (JSON Lines) to {@code <data-dir>/<region>/audit.jsonl}, in the shape of a CloudTrail record
 * (AWS CloudTrail User Guide, "CloudTrail record contents": eventVersion, userIdentity, eventTime,
 * eventSource, eventName, awsRegion, requestParameters, responseElements, errorCode, errorMessage,
 * requestID, eventID, readOnly, resources, eventType, recipientAccountId).
 *
 * <p>Never in the log: plaintext, ciphertext, messages, signatures, MACs, data keys, private keys,
 * shared secrets, grant tokens, import material, custom key store passwords or external key store
 * proxy secrets ({@link #SECRET_FIELDS}, removed at any depth
 * of the request and the response, as CloudTrail omits them), and strings are cut at
 * {@value #MAX_STRING} characters so hostile input cannot bloat the log.
 *
 * <p>The caller's thread only enqueues the raw request and response; one daemon thread per Region
 * shapes and writes the records, so the hot path pays no JSON work. Times are on the cluster clock,
 * like every date a key shows. A record is flushed to the file (not fsynced) once the queue is
 * empty; an abrupt kill may lose the last records.
 */
public final class AuditLog implements Extension {
  private static final Logger log = LoggerFactory.getLogger(AuditLog.class);
  static final int MAX_STRING = 512;
  static final int MAX_PARSED_BODY = 64 * 1024;
  /** Request and response members that CloudTrail never records (case-insensitive). */
  public static final Set<String> SECRET_FIELDS = Set.of("plaintext", "ciphertextblob", "sourceciphertextblob",
      "message", "signature", "mac", "granttokens", "granttoken", "privatekeyplaintext", "privatekeyciphertextblob",
      "sharedsecret", "importtoken", "encryptedkeymaterial", "ciphertextforrecipient", "recipient", "publickey",
      "keymaterial", "secret", "keystorepassword", "rawsecretaccesskey");
  /** Members whose value is a map of the caller's own keys (not renamed to lowerCamelCase). */
  private static final Set<String> USER_MAPS = Set.of("EncryptionContext", "EncryptionContextSubset",
      "EncryptionContextEquals");
  private static final Set<String> READ_ONLY = Set.of("Encrypt", "Decrypt", "ReEncrypt", "GenerateDataKey",
      "GenerateDataKeyWithoutPlaintext", "GenerateDataKeyPair", "GenerateDataKeyPairWithoutPlaintext", "Sign", "Verify",
      "GenerateMac", "VerifyMac", "GenerateRandom", "DeriveSharedSecret");
  /**
   * Writes pure ASCII (every other character as a JSON escape), so that a lone surrogate a hostile
   * request smuggled into a string cannot make the UTF-8 encoding of a line fail (the fuzz test
   * found this: it stopped the writer).
   */
  private static final ObjectMapper JSON = com.fasterxml.jackson.databind.json.JsonMapper.builder()
      .enable(com.fasterxml.jackson.core.json.JsonWriteFeature.ESCAPE_NON_ASCII).build();

  /** The extension's id: one audit log per ActorSystem (Region). */
  public static final ExtensionId<AuditLog> ID = new ExtensionId<>() {
    @Override
    public AuditLog createExtension(ActorSystem<?> system) {
      AuditLog audit = new AuditLog(KmsSettings.from(system.settings().config()),
          Path.of(system.settings().config().getString("pekko.persistence.journal.leveldb.dir")).getParent()
              .resolve(FILE_NAME));
      system.getWhenTerminated().thenRun(audit::close);
      return audit;
    }
  };

  public static final String FILE_NAME = "audit.jsonl";

  public static AuditLog get(ActorSystem<?> system) {
    return ID.apply(system);
  }

  private sealed interface Entry {}

  private record ApiCall(long time, String operation, String requestId, Caller caller, byte[] request, int status,
      byte[] response) implements Entry {}

  private record ServiceEvent(long time, String eventName, String keyId, Map<String, String> details)
      implements Entry {}

  private record Stop() implements Entry {}

  private final KmsSettings settings;
  // The node's own clock once the node hands it over (useClock): the extension builds its settings
  // from the configuration, whose clock would not see the laboratory's clock fault.
  private volatile io.kmsregions.ClusterClock clock;
  private final Path file;
  private final BlockingQueue<Entry> queue = new LinkedBlockingQueue<>(200_000);
  private final Thread writer;
  private volatile boolean closed;

  AuditLog(KmsSettings settings, Path file) {
    this.settings = settings;
    this.clock = settings.clock();
    this.file = file;
    this.writer = new Thread(this::run, "kms-audit-" + settings.region());
    writer.setDaemon(true);
    writer.start();
  }

  /** Dates the records on {@code nodeClock}, the clock the node's keys use (called at node start). */
  public void useClock(io.kmsregions.ClusterClock nodeClock) {
    this.clock = nodeClock;
  }

  /** Where this Region's audit log is. */
  public Path file() {
    return file;
  }

  /**
   * Records one API call handled in this Region ({@code eventType AwsApiCall}). Calls the service
   * makes itself (no caller) are not recorded, as CloudTrail does not record KMS's internal checks.
   */
  public void apiCall(String operation, String requestId, Caller caller, byte[] request, int status, byte[] response) {
    if (caller == null) return;
    enqueue(new ApiCall(clock.now(), operation, requestId, caller, request, status, response));
  }

  /**
   * Records what the KMS service itself did to this Region's member of a multi-Region key on
   * behalf of another Region ({@code eventType AwsServiceEvent}, {@code invokedBy kms.amazonaws.com}):
   * ReplicateKey (the replica created here), UpdatePrimaryRegion (promoted here),
   * SynchronizeMultiRegionKey (shared properties or member list applied here).
   */
  public void serviceEvent(String eventName, String keyId, Map<String, String> details) {
    enqueue(new ServiceEvent(clock.now(), eventName, keyId, details));
  }

  private void enqueue(Entry e) {
    if (closed) return;
    // Never block a request on the audit trail: a full queue (the writer stalled) drops, loudly.
    if (queue.offer(e)) {
      enqueued.incrementAndGet();
    } else if (dropped.getAndIncrement() % 10_000 == 0) {
      log.error("The audit log of {} is not keeping up: {} records dropped", settings.region(), dropped.get());
    }
  }

  /** Waits (at most {@code millis}) until every record enqueued so far is written. */
  public boolean flush(long millis) throws InterruptedException {
    long deadline = System.currentTimeMillis() + millis;
    long target = enqueued.get();
    while (written.get() < target) {
      if (System.currentTimeMillis() > deadline) return false;
      Thread.sleep(5);
    }
    return true;
  }

  private final java.util.concurrent.atomic.AtomicLong dropped = new java.util.concurrent.atomic.AtomicLong();
  private final java.util.concurrent.atomic.AtomicLong enqueued = new java.util.concurrent.atomic.AtomicLong();
  private final java.util.concurrent.atomic.AtomicLong written = new java.util.concurrent.atomic.AtomicLong();

  void close() {
    if (closed) return;
    closed = true;
    queue.offer(new Stop());
    try {
      writer.join(5000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void run() {
    java.io.OutputStream out = null;
    try {
      while (true) {
        Entry e = queue.poll(1, TimeUnit.SECONDS);
        if (e == null) continue;
        if (e instanceof Stop) break;
        try {
          if (out == null) {
            Files.createDirectories(file.getParent());
            out = new java.io.BufferedOutputStream(Files.newOutputStream(file, StandardOpenOption.CREATE,
                StandardOpenOption.APPEND), 64 * 1024);
          }
          out.write(JSON.writeValueAsBytes(record(e)));
          out.write('\n');
          if (queue.isEmpty()) out.flush();
        } catch (IOException | RuntimeException failure) {
          // One bad record never stops the trail; the next one tries again.
          log.error("Cannot write an audit record of {}: {}", settings.region(), failure.toString());
        } finally {
          written.incrementAndGet();
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      if (out != null) {
        try {
          out.close();
        } catch (IOException e) {
          log.error("Cannot close the audit log {}: {}", file, e.toString());
        }
      }
    }
  }

  private ObjectNode record(Entry e) {
    ObjectNode r = JSON.createObjectNode();
    r.put("eventVersion", "1.08");
    if (e instanceof ApiCall c) {
      ObjectNode who = r.putObject("userIdentity");
      who.put("type", c.caller().type());
      who.put("principalId", c.caller().accountId() + ":" + c.caller().principalArn());
      who.put("arn", c.caller().principalArn());
      who.put("accountId", c.caller().accountId());
      if (c.caller().accessKeyId() != null) who.put("accessKeyId", cut(c.caller().accessKeyId()));
      who.put("signatureVerified", c.caller().verified());
      common(r, c.time(), c.operation());
      // Bodies larger than any legitimate request's parameters (the biggest, a 4 KiB plaintext or a
      // 32 KiB policy, are well below) are not parsed: the writer keeps pace under hostile input.
      boolean tooLarge = c.request() != null && c.request().length > MAX_PARSED_BODY;
      JsonNode request = tooLarge ? null : parse(c.request());
      JsonNode response = c.status() == 200 && c.response().length <= MAX_PARSED_BODY ? parse(c.response()) : null;
      if (tooLarge) {
        r.putObject("additionalEventData").put("requestBytes", c.request().length)
            .put("requestParameters", "not recorded: the body is over " + MAX_PARSED_BODY + " bytes");
      }
      r.set("requestParameters", request == null ? null : sanitize(request, false));
      r.set("responseElements", response == null || response.isEmpty() ? null : sanitize(response, false));
      if (c.status() != 200) {
        JsonNode error = parse(c.response());
        r.put("errorCode", error == null ? "HTTP" + c.status() : error.path("__type").asText("HTTP" + c.status()));
        if (error != null && error.hasNonNull("message")) r.put("errorMessage", cut(error.get("message").asText()));
      }
      r.put("requestID", c.requestId());
      r.put("eventID", UUID.randomUUID().toString());
      r.put("readOnly", READ_ONLY.contains(c.operation()) || c.operation().startsWith("Describe")
          || c.operation().startsWith("List") || c.operation().startsWith("Get"));
      resources(r, request, response);
      r.put("eventType", "AwsApiCall");
    } else if (e instanceof ServiceEvent s) {
      ObjectNode who = r.putObject("userIdentity");
      who.put("type", "AWSService");
      who.put("invokedBy", "kms.amazonaws.com");
      common(r, s.time(), s.eventName());
      r.put("sourceIPAddress", "kms.amazonaws.com");
      r.putNull("requestParameters");
      r.putNull("responseElements");
      ObjectNode extra = r.putObject("additionalEventData");
      s.details().forEach(extra::put);
      r.put("requestID", UUID.randomUUID().toString());
      r.put("eventID", UUID.randomUUID().toString());
      r.put("readOnly", false);
      ArrayNode resources = r.putArray("resources");
      resources.addObject().put("accountId", settings.accountId()).put("type", "AWS::KMS::Key")
          .put("ARN", settings.keyArn(settings.region(), s.keyId()));
      r.put("eventType", "AwsServiceEvent");
    }
    r.put("managementEvent", true);
    r.put("recipientAccountId", settings.accountId());
    r.put("eventCategory", "Management");
    return r;
  }

  private void common(ObjectNode r, long time, String eventName) {
    r.put("eventTime", Instant.ofEpochMilli(time).truncatedTo(ChronoUnit.SECONDS).toString());
    r.put("eventSource", "kms.amazonaws.com");
    r.put("eventName", cut(eventName));
    r.put("awsRegion", settings.region());
  }

  private void resources(ObjectNode r, JsonNode request, JsonNode response) {
    ArrayNode out = JSON.createArrayNode();
    java.util.LinkedHashSet<String> arns = new java.util.LinkedHashSet<>();
    if (response != null) {
      addArn(arns, response.path("KeyId").asText(null));
      addArn(arns, response.path("KeyMetadata").path("Arn").asText(null));
      addArn(arns, response.path("SourceKeyId").asText(null));
    }
    if (request != null && arns.isEmpty()) {
      for (String field : new String[] {"KeyId", "SourceKeyId", "DestinationKeyId", "TargetKeyId"}) {
        addArn(arns, request.path(field).isTextual() ? request.get(field).asText() : null);
      }
    }
    for (String arn : arns) {
      out.addObject().put("accountId", settings.accountId()).put("type", "AWS::KMS::Key").put("ARN", arn);
    }
    if (!out.isEmpty()) r.set("resources", out);
  }

  private void addArn(Set<String> arns, String keyIdOrArn) {
    if (keyIdOrArn == null || keyIdOrArn.length() > 256) return;
    if (keyIdOrArn.startsWith("arn:") && keyIdOrArn.contains(":key/")) arns.add(keyIdOrArn);
    else if (io.kmsregions.key.KeyArns.isKeyId(keyIdOrArn)) arns.add(settings.keyArn(settings.region(), keyIdOrArn));
  }

  private static JsonNode parse(byte[] body) {
    if (body == null || body.length == 0) return null;
    try {
      JsonNode n = io.kmsregions.api.Json.MAPPER.readTree(body);
      return n != null && n.isObject() ? n : null;
    } catch (IOException | RuntimeException e) {
      return null; // not JSON: nothing to record of it
    }
  }

  /**
   * A copy without secret members, member names in lowerCamelCase as CloudTrail writes them
   * (except inside the caller's own maps), strings cut to {@value #MAX_STRING} characters.
   */
  static JsonNode sanitize(JsonNode n, boolean userMap) {
    if (n.isObject()) {
      ObjectNode out = JSON.createObjectNode();
      Iterator<Map.Entry<String, JsonNode>> fields = n.fields();
      while (fields.hasNext()) {
        Map.Entry<String, JsonNode> f = fields.next();
        if (!userMap && SECRET_FIELDS.contains(f.getKey().toLowerCase(Locale.ROOT))) continue;
        String name = userMap ? cut(f.getKey()) : lowerCamel(cut(f.getKey()));
        out.set(name, sanitize(f.getValue(), !userMap && USER_MAPS.contains(f.getKey())));
      }
      return out;
    }
    if (n.isArray()) {
      ArrayNode out = JSON.createArrayNode();
      int i = 0;
      for (JsonNode e : n) {
        if (i++ >= 100) break;
        out.add(sanitize(e, false));
      }
      return out;
    }
    if (n.isTextual()) return JSON.getNodeFactory().textNode(cut(n.asText()));
    return n;
  }

  private static String lowerCamel(String s) {
    return s.isEmpty() ? s : Character.toLowerCase(s.charAt(0)) + s.substring(1);
  }

  private static String cut(String s) {
    return s.length() <= MAX_STRING ? s : s.substring(0, MAX_STRING) + "…";
  }
}
