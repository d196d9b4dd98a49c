package io.kmsregions.security.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The in-place scan of the Authorization header ({@link SigV4Verifier#parse}) against the split
 * and map version it replaced, kept here as the oracle: on the published forms and on thousands
 * of mangled ones, both give the same parts or the same error type and message.
 */
class SigV4ParseTest {
  static final String ALGORITHM = SigV4Verifier.ALGORITHM;
  static final Pattern AMZ_DATE = Pattern.compile("\\d{8}T\\d{6}Z");

  /** The parser as it was before the in-place scan (commit 044f129), verbatim but for its name. */
  static SigV4Verifier.Authorization oracle(String header, String amzDate) throws AuthenticationException {
    String h = header.trim();
    Map<String, String> params = new LinkedHashMap<>();
    StringBuilder missing = new StringBuilder();
    if (h.startsWith(ALGORITHM + " ")) {
      for (String part : h.substring(ALGORITHM.length() + 1).split(",")) {
        int eq = part.indexOf('=');
        if (eq > 0) params.putIfAbsent(part.substring(0, eq).trim(), part.substring(eq + 1).trim());
      }
    } else if (h.startsWith("AWS4-") || h.startsWith("AWS ")) {
      int space = h.indexOf(' ');
      throw AuthenticationException.incomplete("Unsupported AWS 'algorithm': '"
          + (space < 0 ? h : h.substring(0, space)) + "'");
    }
    for (String p : new String[] {"Credential", "Signature", "SignedHeaders"}) {
      if (params.get(p) == null || params.get(p).isEmpty()) {
        missing.append("Authorization header requires '").append(p).append("' parameter. ");
      }
    }
    if (amzDate == null) {
      missing.append("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. ");
    }
    if (missing.length() > 0) throw AuthenticationException.incomplete(missing + "Authorization=" + header);
    if (!AMZ_DATE.matcher(amzDate.trim()).matches()) {
      throw AuthenticationException.incomplete("Date must be in ISO-8601 'basic format'. Got '" + amzDate
          + "'. See http://en.wikipedia.org/wiki/ISO_8601");
    }
    String credential = params.get("Credential");
    String[] scope = credential.split("/", -1);
    if (scope.length != 5) {
      throw AuthenticationException.incomplete("Credential must have exactly 5 slash-delimited elements, e.g. "
          + "keyid/date/region/service/term, got '" + credential + "'");
    }
    if (!scope[4].equals("aws4_request")) {
      throw AuthenticationException.incomplete("Credential should be scoped with a valid terminator: "
          + "'aws4_request', not '" + scope[4] + "'. ");
    }
    List<String> signed = new ArrayList<>();
    for (String s : params.get("SignedHeaders").split(";")) {
      if (!s.isEmpty()) signed.add(s.toLowerCase(Locale.ROOT));
    }
    return new SigV4Verifier.Authorization(scope[0], scope[1], scope[2], scope[3], List.copyOf(signed),
        params.get("Signature"));
  }

  static String outcome(boolean scan, String header, String amzDate) {
    try {
      return (scan ? SigV4Verifier.parse(header, amzDate) : oracle(header, amzDate)).toString();
    } catch (AuthenticationException e) {
      return e.error().type() + ": " + e.error().message();
    }
  }

  static void assertSame(String header, String amzDate) {
    assertEquals(outcome(false, header, amzDate), outcome(true, header, amzDate), () -> header + " / " + amzDate);
  }

  static final String GOOD = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/kms/aws4_request, "
      + "SignedHeaders=content-type;host;x-amz-date;x-amz-target, "
      + "Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b";

  @Test
  void publishedAndHandPickedFormsParseAsBefore() {
    String[] headers = {
        GOOD,
        "  " + GOOD + "  ",
        GOOD.replace(", ", ","),
        GOOD.replace("Credential=", " Credential = "),
        GOOD + ", Credential=OTHER/20150830/us-east-1/kms/aws4_request", // the first one counts
        "AWS4-HMAC-SHA256 Credential=, SignedHeaders=host, Signature=00, Credential=A/2/r/s/aws4_request",
        GOOD.replace("SignedHeaders=content-type;host", "SignedHeaders=;;Content-Type;;HOST;"),
        GOOD.replace("aws4_request", "aws4_request/"),
        GOOD.replace("/aws4_request", ""),
        GOOD.replace("aws4_request", "aws5_request"),
        GOOD.replace("Signature=", "Signature ="),
        GOOD.replace("Signature=", "=Signature"),
        GOOD.replace("Signature=", "Signature"),
        GOOD + ",",
        GOOD + ",,,",
        ",," + GOOD,
        "AWS4-HMAC-SHA256 ",
        "AWS4-HMAC-SHA256 ,,=,",
        "AWS4-HMAC-SHA256",
        "AWS4-HMAC-SHA1 Credential=x",
        "AWS4-X",
        "AWS Credential=x",
        "Bearer abc",
        "",
        "AWS4-HMAC-SHA256 Credential=A/B/C/D/aws4_request,SignedHeaders=h,Signature=\u00e9\u212a",
    };
    for (String h : headers) {
      for (String date : new String[] {"20150830T123600Z", " 20150830T123600Z ", null, "2015-08-30T12:36:00Z",
          "20150830T123600", "20150830t123600Z", "2015083OT123600Z", "\u0661\u0662015083T123600Z"}) {
        assertSame(h, date);
      }
    }
  }

  @Test
  void mangledHeadersParseAsBefore() {
    Random random = new Random(42);
    String alphabet = "=,;/ \tAWS4-HMAC-SHA256CredentialSignedHeadersSignatureaws4_request0123456789abcdef\u00e9";
    for (int i = 0; i < 20_000; i++) {
      StringBuilder h = new StringBuilder(GOOD);
      int edits = 1 + random.nextInt(4);
      for (int e = 0; e < edits; e++) {
        int at = random.nextInt(h.length() + 1);
        switch (random.nextInt(3)) {
          case 0 -> h.insert(at, alphabet.charAt(random.nextInt(alphabet.length())));
          case 1 -> { if (at < h.length()) h.deleteCharAt(at); }
          default -> { if (at < h.length()) h.setCharAt(at, alphabet.charAt(random.nextInt(alphabet.length()))); }
        }
      }
      assertSame(h.toString(), "20150830T123600Z");
    }
  }

  @Test
  void amzDateCheckIsTheRegexOfBefore() {
    Random random = new Random(7);
    String alphabet = "0123456789TZtz-: \u0661";
    for (int i = 0; i < 50_000; i++) {
      char[] c = "20150830T123600Z".toCharArray();
      int edits = random.nextInt(3);
      for (int e = 0; e < edits; e++) c[random.nextInt(c.length)] = alphabet.charAt(random.nextInt(alphabet.length()));
      String s = new String(c);
      String t = random.nextInt(10) == 0 ? s.substring(0, random.nextInt(s.length())) : s;
      assertEquals(AMZ_DATE.matcher(t).matches(), SigV4Verifier.isAmzDate(t), t);
    }
  }

  @Test
  void signaturesCompareIgnoringTheCaseOfHexLettersOnly() {
    String expected = "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b";
    assertTrue(SigV4Verifier.sameHex(expected, expected));
    assertTrue(SigV4Verifier.sameHex(expected, expected.toUpperCase(Locale.ROOT)));
    assertFalse(SigV4Verifier.sameHex(expected, expected.substring(1)));
    assertFalse(SigV4Verifier.sameHex(expected, expected + "0"));
    assertFalse(SigV4Verifier.sameHex(expected, expected.replace('5', '6')));
    assertFalse(SigV4Verifier.sameHex(expected, ""));
    // Characters that lower-case to a hex letter outside ASCII (KELVIN SIGN is not one, but the
    // rule is ASCII letters only) and any non-hex text are refused.
    assertFalse(SigV4Verifier.sameHex(expected, expected.replace('d', '\u212a')));
    assertFalse(SigV4Verifier.sameHex("ab", "\u0141b"));
  }

  @Test
  void textIsHashedAndMacedAsItsUtf8Bytes() throws Exception {
    java.security.MessageDigest md = java.security.MessageDigest.getInstance("SHA-256");
    javax.crypto.Mac mac = javax.crypto.Mac.getInstance("HmacSHA256");
    javax.crypto.spec.SecretKeySpec key = new javax.crypto.spec.SecretKeySpec(new byte[32], "HmacSHA256");
    StringBuilder longAscii = new StringBuilder();
    for (int i = 0; i < 1000; i++) longAscii.append((char) (' ' + i % 95)); // several chunks, a partial last
    for (String text : new String[] {"", "a", longAscii.toString(), "host:caf\u00e9\n", longAscii + "\u20ac"}) {
      byte[] utf8 = text.getBytes(java.nio.charset.StandardCharsets.UTF_8);
      assertEquals(java.util.HexFormat.of().formatHex(md.digest(utf8)),
          java.util.HexFormat.of().formatHex(SigV4Verifier.digest(md, new StringBuilder(text))), text);
      mac.init(key);
      byte[] expected = mac.doFinal(utf8);
      mac.init(key);
      assertEquals(java.util.HexFormat.of().formatHex(expected),
          java.util.HexFormat.of().formatHex(SigV4Verifier.macOf(mac, text)), text);
    }
  }
}
