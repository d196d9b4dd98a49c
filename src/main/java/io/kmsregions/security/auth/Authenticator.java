package io.kmsregions.security.auth;

import com.typesafe.config.Config;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Who may call one Region node's HTTP front ({@code kms.auth} in conf/application.conf).
 *
 * <p>Two modes. {@code sigv4} (the default) verifies every request's AWS Signature Version 4 with
 * {@link SigV4Verifier} against the configured credentials. {@code open} accepts any request, as
 * LocalStack does, and attributes it to the configured principal of its access key id when it has
 * one, or else to the account's root. Secure by default: {@code open} is accepted only while the
 * HTTP listener binds a loopback address; on any other address the node refuses to start in
 * {@code open} mode unless the operator gave {@code --auth open} on the command line
 * ({@code kms.auth.allow-open-on-any-address}), and then it logs a warning.
 */
public final class Authenticator {
  private static final Logger log = LoggerFactory.getLogger(Authenticator.class);

  /** The two modes. */
  public enum Mode { SIGV4, OPEN }

  private final Mode mode;
  private final String accountId;
  private final String partition;
  private final Map<String, Credential> credentials;
  private final SigV4Verifier verifier;

  private Authenticator(Mode mode, String accountId, String partition, Map<String, Credential> credentials,
      List<String> regions, Duration maxSkew) {
    this.mode = mode;
    this.accountId = accountId;
    this.partition = partition;
    this.credentials = credentials;
    this.verifier = new SigV4Verifier(credentials::get, "kms", regions, maxSkew);
  }

  /**
   * The authenticator of a node whose HTTP listener binds {@code httpHost}.
   *
   * @throws IllegalStateException if {@code open} is configured for a non-loopback listener without
   *     the operator's explicit {@code --auth open}, or the mode is unknown
   */
  public static Authenticator create(Config config, String httpHost) {
    Config auth = config.getConfig("kms.auth");
    String accountId = config.getString("kms.account-id");
    String partition = config.getString("kms.partition");
    String configured = auth.getString("mode").trim().toLowerCase(Locale.ROOT);
    Mode mode = switch (configured) {
      case "sigv4" -> Mode.SIGV4;
      case "open" -> Mode.OPEN;
      default -> throw new IllegalStateException("kms.auth.mode must be sigv4 or open, not '" + configured + "'");
    };
    if (mode == Mode.OPEN && !isLoopback(httpHost)) {
      if (!auth.getBoolean("allow-open-on-any-address")) {
        throw new IllegalStateException("kms.auth.mode = open is refused: the HTTP listener binds " + httpHost
            + ", which is not a loopback address, so anyone who reaches it could use every key. Use sigv4, "
            + "or give --auth open on the command line to accept the risk explicitly.");
      }
      log.warn("Authentication is OFF (--auth open) on {}: a non-loopback address. Any client that reaches it "
          + "can use every key of {}.", httpHost, config.getString("kms.region"));
    }
    Map<String, Credential> creds = new HashMap<>();
    for (Config c : auth.getConfigList("credentials")) {
      String akid = c.getString("access-key-id");
      String account = c.hasPath("account-id") ? c.getString("account-id") : accountId;
      String principal = c.hasPath("principal-arn") ? c.getString("principal-arn")
          : "arn:" + partition + ":iam::" + account + ":user/" + akid;
      creds.put(akid, new Credential(akid, c.getString("secret-access-key"), account, principal));
    }
    if (mode == Mode.SIGV4 && creds.isEmpty()) {
      throw new IllegalStateException("kms.auth.mode = sigv4 needs at least one entry in kms.auth.credentials");
    }
    return new Authenticator(mode, accountId, partition, Map.copyOf(creds),
        config.getStringList("kms.regions"), auth.getDuration("max-clock-skew"));
  }

  /** True if {@code host} is a loopback address (127.0.0.0/8, ::1, or a name resolving only to one). */
  public static boolean isLoopback(String host) {
    try {
      InetAddress[] all = InetAddress.getAllByName(host);
      for (InetAddress a : all) if (!a.isLoopbackAddress()) return false;
      return all.length > 0;
    } catch (UnknownHostException e) {
      return false;
    }
  }

  public Mode mode() {
    return mode;
  }

  /**
   * The caller of an HTTP request whose body is {@code body}.
   *
   * @throws AuthenticationException in {@code sigv4} mode, when the request is not properly signed
   */
  public Caller authenticate(HttpRequest request, byte[] body) throws AuthenticationException {
    if (mode == Mode.OPEN) return openCaller(request.getHeader("Authorization").map(HttpHeader::value).orElse(null));
    return verifier.verify(signedRequest(request, body), Instant.now()).caller(true);
  }

  private Caller openCaller(String authorization) {
    String akid = null;
    if (authorization != null) {
      int at = authorization.indexOf("Credential=");
      if (at >= 0) {
        int slash = authorization.indexOf('/', at);
        if (slash > at) akid = authorization.substring(at + "Credential=".length(), slash).trim();
      }
    }
    Credential known = akid == null ? null : credentials.get(akid);
    if (known != null) return known.caller(false);
    return new Caller("Root", "arn:" + partition + ":iam::" + accountId + ":root", accountId, akid, false);
  }

  /**
   * The request as signed. Pekko HTTP models Content-Type and Content-Length as properties of the
   * entity, not as headers, so they are put back from the entity (its rendering of the content type
   * equals what AWS clients send, {@code application/x-amz-json-1.1}). Public for the other
   * SigV4-verified front, the XKS proxy ({@code io.kmsregions.keystore.xks.XksProxy}).
   */
  public static SignedRequest signedRequest(HttpRequest request, byte[] body) {
    Map<String, List<String>> headers = new HashMap<>(32);
    for (HttpHeader h : request.getHeaders()) {
      // One value per name is the rule: an immutable one-element list, a list only for repeats.
      headers.merge(h.lowercaseName(), List.of(h.value()), Authenticator::joined);
    }
    headers.putIfAbsent("content-type", List.of(request.entity().getContentType().toString()));
    headers.putIfAbsent("content-length", List.of(Long.toString(body.length)));
    String query = request.getUri().rawQueryString().orElse("");
    return new SignedRequest(request.method().value(), request.getUri().path(), query, headers, body);
  }

  private static List<String> joined(List<String> first, List<String> more) {
    List<String> all = new ArrayList<>(first);
    all.addAll(more);
    return all;
  }
}
