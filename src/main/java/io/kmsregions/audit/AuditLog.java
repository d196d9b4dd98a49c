package io.kmsregions.audit;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.kmsregions.KmsSettings;
import io.kmsregions.security.auth.Caller;
import com.typesafe.config.Config;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
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
 * like every date a key shows. Records reach the file (not fsynced) in batches, at most
 * {@code kms.audit.flush-interval} after they were made; an abrupt kill may lose the last ones.
 * The file is rotated at {@code kms.audit.max-file-size}, keeping {@code kms.audit.max-files} old
 * ones ({@code audit.jsonl.1} the newest), so a load test cannot fill the disk.
 */
public final class AuditLog implements Extension {
  private static final Logger log = LoggerFactory.getLogger(AuditLog.class);
  static final int MAX_STRING = 512;
  static final int MAX_PARSED_BODY = 64 * 1024;
  /** Records waiting for the writer beyond which new ones are dropped (and counted). */
  static final int MAX_QUEUED = 200_000;
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
      Config config = system.settings().config();
      AuditLog audit = new AuditLog(KmsSettings.of(system),
          Path.of(config.getString("pekko.persistence.journal.leveldb.dir")).getParent().resolve(FILE_NAME),
          config.getDuration("kms.audit.flush-interval"), config.getBytes("kms.audit.max-file-size"),
          config.getInt("kms.audit.max-files"), config.getBoolean("kms.audit.read-only-events"));
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
  private final Path file;
  private final Duration flushInterval;
  private final long maxFileBytes;
  private final int maxFiles;
  private final boolean readOnlyEvents;
  // Lock-free and never signalled: a request pays one CAS, not a lock and a wake-up of the writer.
  private final ConcurrentLinkedQueue<Entry> queue = new ConcurrentLinkedQueue<>();
  private final AtomicInteger queued = new AtomicInteger();
  private final AtomicLong dropped = new AtomicLong();
  private final AtomicLong enqueued = new AtomicLong();
  /** Records enqueued so far that are written and flushed to the file (or failed). */
  private final AtomicLong flushed = new AtomicLong();
  private final Thread writer;
  private volatile boolean closed;

  /**
   * @param flushInterval how long a written record may wait in the buffer before it reaches the
   *     file ({@code kms.audit.flush-interval}); the writer sleeps this long when the queue is empty
   * @param maxFileBytes the size past which {@code audit.jsonl} is renamed {@code audit.jsonl.1}
   *     (older ones shifting to {@code .2}, …) and a new file begun ({@code kms.audit.max-file-size})
   * @param maxFiles how many renamed files are kept besides the current one ({@code kms.audit.max-files})
   */
  AuditLog(KmsSettings settings, Path file, Duration flushInterval, long maxFileBytes, int maxFiles) {
    this(settings, file, flushInterval, maxFileBytes, maxFiles, true);
  }

  /**
   * @param readOnlyEvents whether read-only calls (Encrypt, Decrypt, Describe…, List…, Get…) are
   *     recorded ({@code kms.audit.read-only-events}; CloudTrail's event selector ReadWriteType All
   *     when on, WriteOnly when off)
   */
  AuditLog(KmsSettings settings, Path file, Duration flushInterval, long maxFileBytes, int maxFiles,
      boolean readOnlyEvents) {
    this.readOnlyEvents = readOnlyEvents;
    this.settings = settings;
    this.file = file;
    this.flushInterval = flushInterval;
    this.maxFileBytes = maxFileBytes;
    this.maxFiles = maxFiles;
    this.writer = new Thread(this::run, "kms-audit-" + settings.region());
    writer.setDaemon(true);
    writer.start();
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
    if (caller == null || (!readOnlyEvents && readOnly(operation))) return;
    enqueue(new ApiCall(settings.clock().now(), operation, requestId, caller, request, status, response));
  }

  /**
   * Records what the KMS service itself did to this Region's member of a multi-Region key on
   * behalf of another Region ({@code eventType AwsServiceEvent}, {@code invokedBy kms.amazonaws.com}):
   * ReplicateKey (the replica created here), UpdatePrimaryRegion (promoted here),
   * SynchronizeMultiRegionKey (shared properties or member list applied here).
   */
  public void serviceEvent(String eventName, String keyId, Map<String, String> details) {
    enqueue(new ServiceEvent(settings.clock().now(), eventName, keyId, details));
  }

  private void enqueue(Entry e) {
    if (closed) return;
    // Never block a request on the audit trail: a full queue (the writer stalled) drops, loudly.
    if (queued.incrementAndGet() > MAX_QUEUED) {
      queued.decrementAndGet();
      if (dropped.getAndIncrement() % 10_000 == 0) {
        log.error("The audit log of {} is not keeping up: {} records dropped", settings.region(), dropped.get());
      }
      return;
    }
    queue.offer(e);
    enqueued.incrementAndGet();
  }

  /** Waits (at most {@code millis}) until every record enqueued so far is written and flushed to the file. */
  public boolean flush(long millis) throws InterruptedException {
    long deadline = System.currentTimeMillis() + millis;
    long target = enqueued.get();
    while (flushed.get() < target) {
      if (System.currentTimeMillis() > deadline) return false;
      LockSupport.unpark(writer); // no need to wait out the flush interval
      Thread.sleep(2);
    }
    return true;
  }

  void close() {
    if (closed) return;
    closed = true;
    queue.offer(new Stop());
    LockSupport.unpark(writer);
    try {
      writer.join(5000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * The writer: every flush interval (or when woken by {@link #flush}/{@link #close}) it writes
   * whatever is queued and flushes once, so under load a write system call carries many records.
   */
  private void run() {
    OutputStream out = null;
    java.io.ByteArrayOutputStream line = new java.io.ByteArrayOutputStream(2048);
    long bytes = 0;
    long done = 0;
    try {
      while (true) {
        Entry e = queue.poll();
        if (e == null) {
          if (out != null) {
            try {
              out.flush();
            } catch (IOException failure) {
              log.error("Cannot flush the audit log of {}: {}", settings.region(), failure.toString());
            }
          }
          flushed.set(done);
          LockSupport.parkNanos(flushInterval.toNanos());
          continue;
        }
        queued.decrementAndGet();
        if (e instanceof Stop) break;
        try {
          if (out == null) {
            Files.createDirectories(file.getParent());
            out = new BufferedOutputStream(Files.newOutputStream(file, StandardOpenOption.CREATE,
                StandardOpenOption.APPEND), 64 * 1024);
            bytes = Files.size(file);
          }
          encode(e, line);
          line.writeTo(out);
          bytes += line.size();
          if (bytes > maxFileBytes) {
            out.close();
            out = null;
            rotate();
          }
        } catch (IOException | RuntimeException failure) {
          // One bad record never stops the trail; the next one tries again.
          log.error("Cannot write an audit record of {}: {}", settings.region(), failure.toString());
        } finally {
          done++;
        }
      }
    } finally {
      if (out != null) {
        try {
          out.close();
        } catch (IOException e) {
          log.error("Cannot close the audit log {}: {}", file, e.toString());
        }
      }
      flushed.set(done);
    }
  }

  /** One record as a line of {@code line} (reset first), newline included. */
  private void encode(Entry e, java.io.ByteArrayOutputStream line) throws IOException {
    line.reset();
    try (JsonGenerator g = JSON.createGenerator(line)) {
      write(e, g);
    }
    line.write('\n');
  }

  /**
   * The line the writer makes of one API call, for tests and benchmarks (the writer's own path:
   * {@link #apiCall} only enqueues).
   */
  byte[] encodeApiCall(long time, String operation, String requestId, Caller caller, byte[] request, int status,
      byte[] response) throws IOException {
    java.io.ByteArrayOutputStream line = new java.io.ByteArrayOutputStream(2048);
    encode(new ApiCall(time, operation, requestId, caller, request, status, response), line);
    return line.toByteArray();
  }

  /** audit.jsonl becomes audit.jsonl.1, .1 becomes .2, …; the oldest past {@code maxFiles} is deleted. */
  private void rotate() throws IOException {
    Files.deleteIfExists(rotated(maxFiles));
    for (int i = maxFiles - 1; i >= 1; i--) {
      if (Files.exists(rotated(i))) Files.move(rotated(i), rotated(i + 1), StandardCopyOption.REPLACE_EXISTING);
    }
    if (maxFiles >= 1) Files.move(file, rotated(1), StandardCopyOption.REPLACE_EXISTING);
    else Files.deleteIfExists(file);
  }

  private Path rotated(int n) {
    return file.resolveSibling(file.getFileName() + "." + n);
  }

  /**
   * Writes one record straight to {@code g} (no tree of the record is built: the writer's cost per
   * call is most of the audit trail's), members in CloudTrail's order.
   */
  private void write(Entry e, JsonGenerator g) throws IOException {
    g.writeStartObject();
    g.writeStringField("eventVersion", "1.08");
    if (e instanceof ApiCall c) {
      g.writeObjectFieldStart("userIdentity");
      g.writeStringField("type", c.caller().type());
      g.writeStringField("principalId", c.caller().accountId() + ":" + c.caller().principalArn());
      g.writeStringField("arn", c.caller().principalArn());
      g.writeStringField("accountId", c.caller().accountId());
      if (c.caller().accessKeyId() != null) g.writeStringField("accessKeyId", cut(c.caller().accessKeyId()));
      g.writeBooleanField("signatureVerified", c.caller().verified());
      g.writeEndObject();
      common(g, c.time(), c.operation());
      // Bodies larger than any legitimate request's parameters (the biggest, a 4 KiB plaintext or a
      // 32 KiB policy, are well below) are not parsed: the writer keeps pace under hostile input.
      boolean tooLarge = c.request() != null && c.request().length > MAX_PARSED_BODY;
      JsonNode request = tooLarge ? null : sanitized(c.request());
      JsonNode response = c.status() == 200 && c.response().length <= MAX_PARSED_BODY ? sanitized(c.response()) : null;
      if (tooLarge) {
        g.writeObjectFieldStart("additionalEventData");
        g.writeNumberField("requestBytes", c.request().length);
        g.writeStringField("requestParameters", "not recorded: the body is over " + MAX_PARSED_BODY + " bytes");
        g.writeEndObject();
      }
      writeTreeField(g, "requestParameters", request);
      writeTreeField(g, "responseElements", response == null || response.isEmpty() ? null : response);
      if (c.status() != 200) {
        JsonNode error = parse(c.response());
        g.writeStringField("errorCode", error == null ? "HTTP" + c.status() : error.path("__type").asText("HTTP" + c.status()));
        if (error != null && error.hasNonNull("message")) g.writeStringField("errorMessage", cut(error.get("message").asText()));
      }
      g.writeStringField("requestID", c.requestId());
      g.writeStringField("eventID", eventId());
      g.writeBooleanField("readOnly", readOnly(c.operation()));
      List<String> arns = resources(request, response);
      if (!arns.isEmpty()) writeResources(g, arns);
      g.writeStringField("eventType", "AwsApiCall");
    } else if (e instanceof ServiceEvent s) {
      g.writeObjectFieldStart("userIdentity");
      g.writeStringField("type", "AWSService");
      g.writeStringField("invokedBy", "kms.amazonaws.com");
      g.writeEndObject();
      common(g, s.time(), s.eventName());
      g.writeStringField("sourceIPAddress", "kms.amazonaws.com");
      g.writeNullField("requestParameters");
      g.writeNullField("responseElements");
      g.writeObjectFieldStart("additionalEventData");
      for (Map.Entry<String, String> d : s.details().entrySet()) g.writeStringField(d.getKey(), d.getValue());
      g.writeEndObject();
      g.writeStringField("requestID", eventId());
      g.writeStringField("eventID", eventId());
      g.writeBooleanField("readOnly", false);
      writeResources(g, List.of(settings.keyArn(settings.region(), s.keyId())));
      g.writeStringField("eventType", "AwsServiceEvent");
    }
    g.writeBooleanField("managementEvent", true);
    g.writeStringField("recipientAccountId", settings.accountId());
    g.writeStringField("eventCategory", "Management");
    g.writeEndObject();
  }

  private static void writeTreeField(JsonGenerator g, String name, JsonNode value) throws IOException {
    g.writeFieldName(name);
    if (value == null) g.writeNull();
    else g.writeTree(value);
  }

  private void writeResources(JsonGenerator g, List<String> arns) throws IOException {
    g.writeArrayFieldStart("resources");
    for (String arn : arns) {
      g.writeStartObject();
      g.writeStringField("accountId", settings.accountId());
      g.writeStringField("type", "AWS::KMS::Key");
      g.writeStringField("ARN", arn);
      g.writeEndObject();
    }
    g.writeEndArray();
  }

  // The writer thread's last eventTime: records of one second share the formatted string.
  private long lastSecond = Long.MIN_VALUE;
  private String lastEventTime;

  private void common(JsonGenerator g, long time, String eventName) throws IOException {
    long second = Math.floorDiv(time, 1000);
    if (second != lastSecond) {
      lastEventTime = Instant.ofEpochSecond(second).toString();
      lastSecond = second;
    }
    g.writeStringField("eventTime", lastEventTime);
    g.writeStringField("eventSource", "kms.amazonaws.com");
    g.writeStringField("eventName", cut(eventName));
    g.writeStringField("awsRegion", settings.region());
  }

  /** The key ARNs a call names: from its answer if any, else from its request (both sanitised). */
  private List<String> resources(JsonNode request, JsonNode response) {
    List<String> arns = new ArrayList<>(2); // at most a few, kept in order without duplicates
    // Both are sanitised copies: member names in lowerCamelCase, strings cut (ids are far shorter).
    if (response != null) {
      addArn(arns, response.path("keyId").asText(null));
      addArn(arns, response.path("keyMetadata").path("arn").asText(null));
      addArn(arns, response.path("sourceKeyId").asText(null));
    }
    if (request != null && arns.isEmpty()) {
      for (String field : new String[] {"keyId", "sourceKeyId", "destinationKeyId", "targetKeyId"}) {
        addArn(arns, request.path(field).isTextual() ? request.get(field).asText() : null);
      }
    }
    return arns;
  }

  private void addArn(List<String> arns, String keyIdOrArn) {
    if (keyIdOrArn == null || keyIdOrArn.length() > 256) return;
    String arn = null;
    if (keyIdOrArn.startsWith("arn:") && keyIdOrArn.contains(":key/")) arn = keyIdOrArn;
    else if (io.kmsregions.key.KeyArns.isKeyId(keyIdOrArn)) arn = settings.keyArn(settings.region(), keyIdOrArn);
    if (arn != null && !arns.contains(arn)) arns.add(arn);
  }

  /** Reads one member's value in place (the end of the whole body is checked separately). */
  private static final com.fasterxml.jackson.databind.ObjectReader MEMBER_READER = io.kmsregions.api.Json.MAPPER.reader()
      .without(com.fasterxml.jackson.databind.DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

  /**
   * {@code sanitize(parse(body), false)} in one pass that never decodes a top-level secret member:
   * the plaintext and ciphertext of every Encrypt and Decrypt are skipped by the parser instead of
   * being read into strings and dropped (the writer's main cost in the profile). Null when the body
   * is empty, not a JSON object, or not valid JSON (duplicate members and trailing tokens included,
   * as {@link #parse} refuses them).
   */
  static JsonNode sanitized(byte[] body) {
    if (body == null || body.length == 0) return null;
    try (com.fasterxml.jackson.core.JsonParser p = io.kmsregions.api.Json.MAPPER.createParser(body)) {
      if (p.nextToken() != com.fasterxml.jackson.core.JsonToken.START_OBJECT) return null;
      ObjectNode out = JSON.createObjectNode();
      while (p.nextToken() == com.fasterxml.jackson.core.JsonToken.FIELD_NAME) {
        String name = p.currentName();
        com.fasterxml.jackson.core.JsonToken token = p.nextToken();
        if (isSecret(name)) {
          p.skipChildren(); // a string is skipped unread by the next nextToken()
          continue;
        }
        JsonNode value;
        if (token == com.fasterxml.jackson.core.JsonToken.VALUE_STRING) {
          value = JSON.getNodeFactory().textNode(cut(p.getText())); // what sanitize makes of it, without a reader
        } else {
          JsonNode read = MEMBER_READER.readTree(p);
          value = sanitize(read == null ? JSON.nullNode() : read, USER_MAPS.contains(name));
        }
        out.set(lowerCamel(cut(name)), value);
      }
      if (p.nextToken() != null) return null; // trailing tokens: not a JSON object
      return out;
    } catch (IOException | RuntimeException e) {
      return null; // not JSON: nothing to record of it
    }
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
        if (!userMap && isSecret(f.getKey())) continue;
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

  /**
   * Whether CloudTrail marks {@code operation} read-only ({@code readOnly: true}): the cryptographic
   * operations and every Describe, List and Get.
   */
  static boolean readOnly(String operation) {
    return READ_ONLY.contains(operation) || operation.startsWith("Describe") || operation.startsWith("List")
        || operation.startsWith("Get");
  }

  /** A random version-4 UUID; unique, not secret, so not from SecureRandom (a lock per call). */
  private static String eventId() {
    java.util.concurrent.ThreadLocalRandom random = java.util.concurrent.ThreadLocalRandom.current();
    long high = (random.nextLong() & ~0xF000L) | 0x4000L;
    long low = (random.nextLong() & 0x3FFFFFFFFFFFFFFFL) | 0x8000000000000000L;
    return new UUID(high, low).toString();
  }

  /** Whether a member is one of {@link #SECRET_FIELDS}, in any case, without a lower-cased copy of its name. */
  static boolean isSecret(String name) {
    for (String secret : SECRET_FIELDS) {
      if (secret.length() == name.length() && secret.equalsIgnoreCase(name)) return true;
    }
    return false;
  }

  // Member names are few (the API's own); a bound keeps hostile bodies from growing it.
  private static final Map<String, String> LOWER_CAMEL = new java.util.concurrent.ConcurrentHashMap<>();

  private static String lowerCamel(String s) {
    if (s.isEmpty() || Character.isLowerCase(s.charAt(0))) return s;
    String known = LOWER_CAMEL.get(s);
    if (known != null) return known;
    String converted = Character.toLowerCase(s.charAt(0)) + s.substring(1);
    if (LOWER_CAMEL.size() < 1024) LOWER_CAMEL.put(s, converted);
    return converted;
  }

  private static String cut(String s) {
    return s.length() <= MAX_STRING ? s : s.substring(0, MAX_STRING) + "…";
  }
}
