package io.kmsregions.security.auth;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.time.DateTimeException;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Verifies AWS Signature Version 4 in the {@code Authorization} header form
 * ({@code AWS4-HMAC-SHA256 Credential=AKID/DATE/REGION/SERVICE/aws4_request, SignedHeaders=...,
 * Signature=...}), as the AWS General Reference describes it ("Create a signed AWS API request":
 * canonical request, string to sign, signing key, signature) and as AWS's published test suite
 * (aws-sig-v4-test-suite) checks it.
 *
 * <p>On top of the signature it checks what a real AWS endpoint checks, with AWS's error types and
 * messages: the credential scope's shape, date (equal to {@code X-Amz-Date}'s date), Region (one of
 * the cluster's) and service; {@code X-Amz-Date} within the allowed skew (15 minutes at AWS) of
 * this server's clock; {@code host} among the signed headers. Stricter than AWS in one point, on
 * purpose: {@code x-amz-date} must be signed too, or a captured request could be replayed all day
 * with a fresh date (every AWS SDK and the CLI sign it). Session tokens are not issued here, so a
 * request carrying {@code X-Amz-Security-Token} is an unrecognised client. Query-string
 * (presigned) authentication is not supported; the KMS JSON protocol does not use it.
 *
 * <p>Thread-safe. The signing key is derived once per access key, day, Region and service.
 */
public final class SigV4Verifier {
  public static final String ALGORITHM = "AWS4-HMAC-SHA256";
  private static final DateTimeFormatter AMZ_DATE_FORMAT =
      DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'", Locale.ROOT);
  private static final HexFormat HEX = HexFormat.of();
  private static final String MISMATCH = "The request signature we calculated does not match the signature you "
      + "provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";

  private final Function<String, Credential> credentials;
  private final String service;
  private final Collection<String> regions;
  private final Duration maxSkew;
  private final Map<String, SecretKeySpec> signingKeys = new ConcurrentHashMap<>();

  /**
   * @param credentials the credential of an access key id, or null when unknown
   * @param service the service name the credential scope must name ({@code kms})
   * @param regions the Regions a credential scope may name; empty accepts any
   * @param maxSkew how far {@code X-Amz-Date} may be from now (AWS: 15 minutes)
   */
  public SigV4Verifier(Function<String, Credential> credentials, String service, Collection<String> regions,
      Duration maxSkew) {
    this.credentials = credentials;
    this.service = service;
    this.regions = List.copyOf(regions);
    this.maxSkew = maxSkew;
  }

  /** The parts of an {@code Authorization} header. */
  record Authorization(String accessKeyId, String date, String region, String service, List<String> signedHeaders,
      String signature) {}

  /**
   * Verifies {@code request} at time {@code now}.
   *
   * @return the credential that signed it
   * @throws AuthenticationException with AWS's error type and message
   */
  public Credential verify(SignedRequest request, Instant now) throws AuthenticationException {
    String header = request.header("authorization");
    if (header == null || header.isBlank()) throw AuthenticationException.missingToken();
    Authorization auth = parse(header, request.header("x-amz-date"));
    String amzDate = request.header("x-amz-date").trim();
    Credential credential = credentials.apply(auth.accessKeyId());
    if (credential == null || request.header("x-amz-security-token") != null) {
      throw AuthenticationException.unrecognized();
    }
    if (!auth.date().equals(amzDate.substring(0, 8))) {
      throw AuthenticationException.invalid("Date in Credential scope does not match YYYYMMDD from ISO-8601 version "
          + "of date from HTTP: '" + auth.date() + "' != '" + amzDate.substring(0, 8) + "', from '" + amzDate + "'.");
    }
    if (!regions.isEmpty() && !regions.contains(auth.region())) {
      throw AuthenticationException.invalid("Credential should be scoped to a valid region. '" + auth.region()
          + "' is not a Region of this cluster " + regions + ".");
    }
    if (!auth.service().equals(service)) {
      throw AuthenticationException.invalid("Credential should be scoped to correct service: '" + service + "'. ");
    }
    checkSkew(amzDate, now);
    if (!auth.signedHeaders().contains("host")) {
      throw AuthenticationException.invalid("'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.");
    }
    if (!auth.signedHeaders().contains("x-amz-date")) {
      throw AuthenticationException.invalid("'X-Amz-Date' must be a 'SignedHeader' in the AWS Authorization.");
    }
    String expected = signature(request, auth, amzDate, credential.secretAccessKey());
    if (!sameHex(expected, auth.signature())) {
      throw AuthenticationException.invalid(MISMATCH);
    }
    return credential;
  }

  /**
   * The Authorization header's parameters, or IncompleteSignatureException naming every missing
   * one (AWS's wording, which echoes the header: it holds no secret, the signature being one-way).
   */
  static Authorization parse(String header, String amzDate) throws AuthenticationException {
    // Scanned in place rather than split into a map: this runs for every request, and the split
    // version allocated 2.6 KB per call, now 1.0 KB (BENCHMARKS.md, "p99 at half").
    String h = header.trim();
    String credential = null, signature = null, signedHeaders = null; // the first of each counts
    if (h.startsWith(ALGORITHM + " ")) {
      int from = ALGORITHM.length() + 1;
      while (from <= h.length()) {
        int comma = h.indexOf(',', from);
        int to = comma < 0 ? h.length() : comma;
        int eq = h.indexOf('=', from);
        if (eq >= 0 && eq < to && eq > from) { // a name before '=' (possibly blank, like split's)
          int ns = trimStart(h, from, eq), ne = trimEnd(h, from, eq);
          if (credential == null && is(h, ns, ne, "Credential")) credential = trimmed(h, eq + 1, to);
          else if (signature == null && is(h, ns, ne, "Signature")) signature = trimmed(h, eq + 1, to);
          else if (signedHeaders == null && is(h, ns, ne, "SignedHeaders")) signedHeaders = trimmed(h, eq + 1, to);
        }
        if (comma < 0) break;
        from = comma + 1;
      }
    } else if (h.startsWith("AWS4-") || h.startsWith("AWS ")) {
      int space = h.indexOf(' ');
      throw AuthenticationException.incomplete("Unsupported AWS 'algorithm': '"
          + (space < 0 ? h : h.substring(0, space)) + "'");
    }
    String missing = missing("Credential", credential) + missing("Signature", signature)
        + missing("SignedHeaders", signedHeaders)
        + (amzDate == null ? "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. " : "");
    if (!missing.isEmpty()) throw AuthenticationException.incomplete(missing + "Authorization=" + header);
    if (!isAmzDate(amzDate.trim())) {
      throw AuthenticationException.incomplete("Date must be in ISO-8601 'basic format'. Got '" + amzDate
          + "'. See http://en.wikipedia.org/wiki/ISO_8601");
    }
    String[] scope = new String[5];
    int parts = 0;
    for (int from = 0; ; ) {
      int slash = credential.indexOf('/', from);
      if (parts < 5) scope[parts] = credential.substring(from, slash < 0 ? credential.length() : slash);
      parts++;
      if (slash < 0) break;
      from = slash + 1;
    }
    if (parts != 5) {
      throw AuthenticationException.incomplete("Credential must have exactly 5 slash-delimited elements, e.g. "
          + "keyid/date/region/service/term, got '" + credential + "'");
    }
    if (!scope[4].equals("aws4_request")) {
      throw AuthenticationException.incomplete("Credential should be scoped with a valid terminator: "
          + "'aws4_request', not '" + scope[4] + "'. ");
    }
    List<String> signed = new ArrayList<>(8);
    for (int from = 0; from < signedHeaders.length(); ) {
      int semicolon = signedHeaders.indexOf(';', from);
      int to = semicolon < 0 ? signedHeaders.length() : semicolon;
      if (to > from) signed.add(signedHeaders.substring(from, to).toLowerCase(Locale.ROOT));
      from = to + 1;
    }
    return new Authorization(scope[0], scope[1], scope[2], scope[3], List.copyOf(signed), signature);
  }

  /**
   * Whether {@code given} is the lower-case hex {@code expected}, ignoring the case of ASCII
   * letters, in time independent of where they differ (as MessageDigest.isEqual).
   */
  static boolean sameHex(String expected, String given) {
    if (expected.length() != given.length()) return false;
    int diff = 0;
    for (int i = 0; i < expected.length(); i++) {
      char c = given.charAt(i);
      diff |= expected.charAt(i) ^ (c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
    }
    return diff == 0;
  }

  /** AWS's sentence for a parameter the header lacks (or leaves empty); "" when present. */
  private static String missing(String parameter, String value) {
    return value == null || value.isEmpty() ? "Authorization header requires '" + parameter + "' parameter. " : "";
  }

  /** {@code s[from, to)} trimmed as {@link String#trim()} trims. */
  private static String trimmed(String s, int from, int to) {
    return s.substring(trimStart(s, from, to), trimEnd(s, from, to));
  }

  private static int trimStart(String s, int from, int to) {
    while (from < to && s.charAt(from) <= ' ') from++;
    return from;
  }

  private static int trimEnd(String s, int from, int to) {
    while (to > from && s.charAt(to - 1) <= ' ') to--;
    return to;
  }

  private static boolean is(String s, int from, int to, String name) {
    return to - from == name.length() && s.startsWith(name, from);
  }

  /** {@code yyyyMMdd'T'HHmmss'Z'}: eight digits, T, six digits, Z. */
  static boolean isAmzDate(String s) {
    if (s.length() != 16 || s.charAt(8) != 'T' || s.charAt(15) != 'Z') return false;
    for (int i = 0; i < 15; i++) {
      if (i != 8 && (s.charAt(i) < '0' || s.charAt(i) > '9')) return false;
    }
    return true;
  }

  private void checkSkew(String amzDate, Instant now) throws AuthenticationException {
    Instant signed;
    try {
      signed = parseAmzDate(amzDate);
    } catch (DateTimeException | IndexOutOfBoundsException | NumberFormatException e) {
      throw AuthenticationException.incomplete("Date must be in ISO-8601 'basic format'. Got '" + amzDate
          + "'. See http://en.wikipedia.org/wiki/ISO_8601");
    }
    long minutes = maxSkew.toMinutes();
    if (signed.isBefore(now.minus(maxSkew))) {
      throw AuthenticationException.invalid("Signature expired: " + amzDate + " is now earlier than "
          + format(now.minus(maxSkew)) + " (" + format(now) + " - " + minutes + " min.)");
    }
    if (signed.isAfter(now.plus(maxSkew))) {
      throw AuthenticationException.invalid("Signature not yet current: " + amzDate + " is still later than "
          + format(now.plus(maxSkew)) + " (" + format(now) + " + " + minutes + " min.)");
    }
  }

  /**
   * {@code yyyyMMdd'T'HHmmss'Z'} (already checked by {@link #isAmzDate}) as an instant, by hand:
   * {@code DateTimeFormatter} parsing cost more than the signature on every request.
   *
   * @throws DateTimeException for a field out of range (month 13, second 61, ...)
   */
  static Instant parseAmzDate(String amzDate) {
    return LocalDateTime.of(digits(amzDate, 0, 4), digits(amzDate, 4, 6), digits(amzDate, 6, 8),
        digits(amzDate, 9, 11), digits(amzDate, 11, 13), digits(amzDate, 13, 15)).toInstant(ZoneOffset.UTC);
  }

  private static int digits(String s, int from, int to) {
    int v = 0;
    for (int i = from; i < to; i++) {
      char c = s.charAt(i);
      if (c < '0' || c > '9') throw new NumberFormatException(s);
      v = v * 10 + (c - '0');
    }
    return v;
  }

  private static String format(Instant t) {
    return AMZ_DATE_FORMAT.format(t.atOffset(ZoneOffset.UTC));
  }

  /** The hex signature the request should carry. */
  String signature(SignedRequest request, Authorization auth, String amzDate, String secret) {
    // Hashed and MACed from one reused builder, without the canonical request and the string to
    // sign as Strings and then as byte arrays (0.5 KB allocated per call, BENCHMARKS.md).
    StringBuilder text = TEXT.get();
    if (text.capacity() > 16_384) TEXT.set(text = new StringBuilder(1024)); // after a request with huge headers
    text.setLength(0);
    appendCanonicalRequest(text, request, auth.signedHeaders());
    byte[] canonicalHash = digest(SHA256.get(), text);
    text.setLength(0);
    String scope = text.append(auth.date()).append('/').append(auth.region()).append('/').append(auth.service())
        .append("/aws4_request").toString();
    text.setLength(0);
    text.append(ALGORITHM).append('\n').append(amzDate).append('\n').append(scope).append('\n');
    HEX.formatHex(text, canonicalHash);
    // Keyed by access key and scope: the secret of an access key is fixed for the node's lifetime.
    SecretKeySpec key = signingKeys.computeIfAbsent(auth.accessKeyId() + "/" + scope,
        k -> new SecretKeySpec(signingKey(secret, auth.date(), auth.region(), auth.service()), "HmacSHA256"));
    if (signingKeys.size() > 10_000) signingKeys.clear(); // one entry per key, day and Region: bound it anyway
    try {
      Mac mac = HMAC.get();
      mac.init(key);
      return HEX.formatHex(macOf(mac, text));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * The canonical request: method, canonical URI, canonical query string, canonical headers (the
   * signed ones, lowercased, values trimmed with inner runs of spaces folded, repeated headers
   * joined by commas), the signed header list, and the hex SHA-256 of the payload.
   */
  public static String canonicalRequest(SignedRequest request, List<String> signedHeaders) {
    StringBuilder out = new StringBuilder(512);
    appendCanonicalRequest(out, request, signedHeaders);
    return out.toString();
  }

  private static void appendCanonicalRequest(StringBuilder out, SignedRequest request, List<String> signedHeaders) {
    out.append(request.method()).append('\n')
        .append(canonicalUri(request.rawPath())).append('\n').append(canonicalQuery(request.rawQuery())).append('\n');
    for (String name : signedHeaders) {
      out.append(name).append(':');
      List<String> values = request.headers().getOrDefault(name, List.of());
      for (int i = 0; i < values.size(); i++) {
        if (i > 0) out.append(',');
        out.append(fold(values.get(i)));
      }
      out.append('\n');
    }
    out.append('\n');
    for (int i = 0; i < signedHeaders.size(); i++) {
      if (i > 0) out.append(';');
      out.append(signedHeaders.get(i));
    }
    out.append('\n');
    HEX.formatHex(out, sha256(request.body()));
  }

  /** The text of one signature (the canonical request, then the string to sign), reused per thread. */
  private static final ThreadLocal<StringBuilder> TEXT = ThreadLocal.withInitial(() -> new StringBuilder(1024));

  /** Bytes of ASCII text, in chunks: the text of a signature is ASCII but for odd header values. */
  private static final ThreadLocal<byte[]> CHUNK = ThreadLocal.withInitial(() -> new byte[256]);

  /** SHA-256 of {@code text}'s UTF-8 bytes. */
  static byte[] digest(MessageDigest md, CharSequence text) {
    feed(text, md::update);
    return md.digest();
  }

  /** HMAC of {@code text}'s UTF-8 bytes with the initialised {@code mac}. */
  static byte[] macOf(Mac mac, CharSequence text) {
    feed(text, mac::update);
    return mac.doFinal();
  }

  /** A digest's or a MAC's {@code update(bytes, offset, length)}. */
  private interface Update {
    void update(byte[] bytes, int offset, int length);
  }

  /** Feeds {@code text}'s UTF-8 bytes to {@code sink}: ASCII text in chunks, without a copy of it all. */
  private static void feed(CharSequence text, Update sink) {
    if (!isAscii(text)) {
      byte[] bytes = text.toString().getBytes(StandardCharsets.UTF_8);
      sink.update(bytes, 0, bytes.length);
      return;
    }
    byte[] chunk = CHUNK.get();
    for (int from = 0; from < text.length(); from += chunk.length) {
      sink.update(chunk, 0, ascii(text, from, chunk));
    }
  }

  private static boolean isAscii(CharSequence text) {
    for (int i = 0; i < text.length(); i++) if (text.charAt(i) >= 0x80) return false;
    return true;
  }

  private static int ascii(CharSequence text, int from, byte[] into) {
    int n = Math.min(into.length, text.length() - from);
    for (int i = 0; i < n; i++) into[i] = (byte) text.charAt(from + i);
    return n;
  }

  /** Trims a header value and folds every run of whitespace (including line folds) into one space. */
  static String fold(String value) {
    String t = value.trim();
    boolean plain = true;
    for (int i = 0; i < t.length() && plain; i++) {
      char c = t.charAt(i);
      if (Character.isWhitespace(c) && (c != ' ' || (i + 1 < t.length() && Character.isWhitespace(t.charAt(i + 1))))) {
        plain = false;
      }
    }
    return plain ? t : t.replaceAll("\\s+", " "); // the common case allocates nothing more
  }

  /**
   * The canonical URI of a service other than S3: the path with dot segments removed (RFC 3986
   * §5.2.4), then URI-encoded once more, slashes kept (so each segment ends up encoded twice).
   */
  static String canonicalUri(String rawPath) {
    if (rawPath == null || rawPath.isEmpty() || rawPath.equals("/")) return "/"; // every KMS call
    String normalized;
    try {
      normalized = java.net.URI.create("http://h").resolve(rawPath).getRawPath();
    } catch (IllegalArgumentException e) {
      normalized = rawPath; // not a valid URI path: signed as it stands (and then most likely refused)
    }
    if (normalized == null || normalized.isEmpty()) normalized = "/";
    StringBuilder out = new StringBuilder();
    for (char c : normalized.toCharArray()) {
      if (c == '/') out.append('/');
      else out.append(encode(String.valueOf(c)));
    }
    return out.toString();
  }

  /** Query parameters decoded, re-encoded the SigV4 way, sorted by name then value, joined by '&'. */
  static String canonicalQuery(String rawQuery) {
    if (rawQuery == null || rawQuery.isEmpty()) return "";
    List<String[]> pairs = new ArrayList<>();
    for (String p : rawQuery.split("&")) {
      if (p.isEmpty()) continue;
      int eq = p.indexOf('=');
      String name = eq < 0 ? p : p.substring(0, eq);
      String value = eq < 0 ? "" : p.substring(eq + 1);
      pairs.add(new String[] {encode(decode(name)), encode(decode(value))});
    }
    pairs.sort((a, b) -> a[0].equals(b[0]) ? a[1].compareTo(b[1]) : a[0].compareTo(b[0]));
    StringBuilder out = new StringBuilder();
    for (String[] p : pairs) {
      if (out.length() > 0) out.append('&');
      out.append(p[0]).append('=').append(p[1]);
    }
    return out.toString();
  }

  private static String decode(String s) {
    try {
      return URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      return s; // a malformed escape is signed as it stands
    }
  }

  /** RFC 3986 encoding as SigV4 wants it: unreserved characters kept, everything else %XX (upper case). */
  static String encode(String s) {
    StringBuilder out = new StringBuilder();
    for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
      char c = (char) (b & 0xff);
      if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
          || c == '-' || c == '_' || c == '.' || c == '~') {
        out.append(c);
      } else {
        out.append('%').append(Character.toUpperCase(Character.forDigit((b >> 4) & 0xf, 16)))
            .append(Character.toUpperCase(Character.forDigit(b & 0xf, 16)));
      }
    }
    return out.toString();
  }

  /** The SigV4 signing key: HMAC-SHA256 chain "AWS4"+secret → date → region → service → "aws4_request". */
  static byte[] signingKey(String secret, String date, String region, String service) {
    byte[] k = hmac(("AWS4" + secret).getBytes(StandardCharsets.UTF_8), date);
    k = hmac(k, region);
    k = hmac(k, service);
    return hmac(k, "aws4_request");
  }

  // Provider look-ups cost more than the hashing of a small request: one instance per thread.
  private static final ThreadLocal<MessageDigest> SHA256 = ThreadLocal.withInitial(() -> {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  });
  private static final ThreadLocal<Mac> HMAC = ThreadLocal.withInitial(() -> {
    try {
      return Mac.getInstance("HmacSHA256");
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  });

  static byte[] sha256(byte[] data) {
    return SHA256.get().digest(data);
  }

  static byte[] hmac(byte[] key, String data) {
    return hmac(new SecretKeySpec(key, "HmacSHA256"), data);
  }

  private static byte[] hmac(SecretKeySpec key, String data) {
    try {
      Mac mac = HMAC.get();
      mac.init(key);
      return mac.doFinal(data.getBytes(StandardCharsets.UTF_8));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }
}
