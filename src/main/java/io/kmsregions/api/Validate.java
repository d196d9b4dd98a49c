package io.kmsregions.api;

import io.kmsregions.key.KmsError;
import io.kmsregions.key.Tag;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The shape constraints of the KMS service model, with AWS's ValidationException wording
 * ({@code 1 validation error detected: Value 'x' at 'field' failed to satisfy constraint: ...},
 * kms-api.md §1). Field paths are lowerCamelCase, as AWS writes them.
 */
final class Validate {
  static final Pattern REGION = Pattern.compile("^([a-z]+-){2,3}\\d+$");
  private static final Pattern POLICY_CHARS = Pattern.compile("[\\u0009\\u000A\\u000D\\u0020-\\u00FF]+");

  private Validate() {}

  static <T> T required(T value, String field) {
    if (value == null) {
      throw new KmsException(KmsError.constraint("null", field, "Member must not be null"));
    }
    return value;
  }

  static void length(String value, String field, int min, int max) {
    if (value == null) return;
    int n = value.codePointCount(0, value.length());
    if (n < min) {
      throw new KmsException(KmsError.constraint(value, field,
          "Member must have length greater than or equal to " + min));
    }
    if (n > max) {
      throw new KmsException(KmsError.constraint(abbreviate(value), field,
          "Member must have length less than or equal to " + max));
    }
  }

  /** Blob lengths; AWS does not echo blob values. */
  static void blobLength(byte[] value, String field, int min, int max) {
    if (value == null) return;
    if (value.length < min) {
      throw new KmsException(KmsError.constraint(null, field,
          "Member must have length greater than or equal to " + min));
    }
    if (value.length > max) {
      throw new KmsException(KmsError.constraint(null, field,
          "Member must have length less than or equal to " + max));
    }
  }

  static void range(Integer value, String field, int min, int max) {
    if (value == null) return;
    if (value < min) {
      throw new KmsException(KmsError.constraint(String.valueOf(value), field,
          "Member must have value greater than or equal to " + min));
    }
    if (value > max) {
      throw new KmsException(KmsError.constraint(String.valueOf(value), field,
          "Member must have value less than or equal to " + max));
    }
  }

  static <E extends Enum<E>> E enumValue(String value, String field, Class<E> type) {
    if (value == null) return null;
    try {
      return Enum.valueOf(type, value);
    } catch (IllegalArgumentException e) {
      throw new KmsException(KmsError.constraint(value, field,
          "Member must satisfy enum value set: " + Arrays.toString(type.getEnumConstants())));
    }
  }

  static String oneOf(String value, String field, List<String> allowed) {
    if (value != null && !allowed.contains(value)) {
      throw new KmsException(KmsError.constraint(value, field,
          "Member must satisfy enum value set: " + allowed));
    }
    return value;
  }

  static void region(String value, String field) {
    required(value, field);
    length(value, field, 1, 32);
    if (!REGION.matcher(value).matches()) {
      throw new KmsException(KmsError.constraint(value, field,
          "Member must satisfy regular expression pattern: ^([a-z]+-){2,3}\\d+$"));
    }
  }

  static void grantTokens(List<String> tokens) {
    if (tokens == null) return;
    if (tokens.size() > 10) {
      throw new KmsException(KmsError.constraint(null, "grantTokens",
          "Member must have length less than or equal to 10"));
    }
    for (int i = 0; i < tokens.size(); i++) {
      required(tokens.get(i), "grantTokens." + (i + 1) + ".member");
      length(tokens.get(i), "grantTokens." + (i + 1) + ".member", 1, 8192);
    }
  }

  static void encryptionContext(Map<String, String> context, String field) {
    if (context == null) return;
    for (Map.Entry<String, String> e : context.entrySet()) {
      if (e.getValue() == null) {
        throw new KmsException(KmsError.constraint("null", field + ".value", "Member must not be null"));
      }
    }
  }

  /** Tags of CreateKey, ReplicateKey and TagResource: lengths, then AWS's TagException rules. */
  static List<Tag> tags(List<Tag> tags) {
    if (tags == null) return List.of();
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < tags.size(); i++) {
      Tag t = tags.get(i);
      String at = "tags." + (i + 1) + ".member";
      if (t == null) throw new KmsException(KmsError.constraint("null", at, "Member must not be null"));
      required(t.tagKey(), at + ".tagKey");
      required(t.tagValue(), at + ".tagValue");
      length(t.tagKey(), at + ".tagKey", 1, 128);
      length(t.tagValue(), at + ".tagValue", 0, 256);
    }
    for (Tag t : tags) {
      if (t.tagKey().toLowerCase(Locale.ROOT).startsWith("aws:")) {
        throw new KmsException(new KmsError("TagException", "Tags beginning with aws: are reserved"));
      }
      if (!seen.add(t.tagKey())) {
        throw new KmsException(new KmsError("TagException", "Duplicate tag keys"));
      }
    }
    if (tags.size() > 50) throw new KmsException(new KmsError("TagException", "Too many tags"));
    return List.copyOf(tags);
  }

  /**
   * A key policy: 1..131072 characters of the model's character set, at most 32 KB (the service
   * quota, LimitExceededException), a JSON object (else MalformedPolicyDocumentException).
   */
  static void policy(String policy) {
    if (policy == null) return;
    length(policy, "policy", 1, 131072);
    if (!POLICY_CHARS.matcher(policy).matches()) {
      throw new KmsException(KmsError.constraint(null, "policy",
          "Member must satisfy regular expression pattern: [\\u0009\\u000A\\u000D\\u0020-\\u00FF]+"));
    }
    if (policy.getBytes(StandardCharsets.UTF_8).length > 32768) {
      throw new KmsException(new KmsError("LimitExceededException",
          "The policy document exceeds the maximum size of 32768 bytes."));
    }
    try {
      var tree = Json.MAPPER.readTree(policy);
      if (tree == null || !tree.isObject() || !tree.has("Statement")) {
        throw new KmsException(new KmsError("MalformedPolicyDocumentException",
            "The new key policy must be a JSON object with a Statement."));
      }
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new KmsException(new KmsError("MalformedPolicyDocumentException",
          "The new key policy is not valid JSON."));
    }
  }

  private static String abbreviate(String s) {
    return s.length() > 256 ? s.substring(0, 256) + "…" : s;
  }
}
