package io.kmsregions.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.cfg.CoercionAction;
import com.fasterxml.jackson.databind.cfg.CoercionInputShape;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.type.LogicalType;
import io.kmsregions.key.KmsError;
import java.io.IOException;
import java.util.stream.Collectors;

/**
 * The JSON of the AWS JSON 1.1 protocol (kms-api.md §1): member names in UpperCamelCase, blobs in
 * base64, no coercion between types (a number where a string belongs is a SerializationException,
 * as in AWS), absent fields omitted on output, nesting depth bounded.
 */
public final class Json {
  public static final ObjectMapper MAPPER = build();

  private Json() {}

  private static ObjectMapper build() {
    JsonFactory factory = JsonFactory.builder()
        .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(64).build())
        .build();
    JsonMapper mapper = JsonMapper.builder(factory)
        .propertyNamingStrategy(PropertyNamingStrategies.UPPER_CAMEL_CASE)
        .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
        .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
        .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
        .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
        .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
        .serializationInclusion(JsonInclude.Include.NON_NULL)
        .build();
    for (LogicalType type : new LogicalType[] {LogicalType.Textual, LogicalType.Integer, LogicalType.Boolean,
        LogicalType.Float, LogicalType.Map, LogicalType.Collection, LogicalType.POJO, LogicalType.Binary}) {
      mapper.coercionConfigFor(type)
          .setCoercion(CoercionInputShape.Integer, type == LogicalType.Integer ? CoercionAction.TryConvert : CoercionAction.Fail)
          .setCoercion(CoercionInputShape.Float, type == LogicalType.Float ? CoercionAction.TryConvert : CoercionAction.Fail)
          .setCoercion(CoercionInputShape.Boolean, CoercionAction.Fail)
          .setCoercion(CoercionInputShape.EmptyString, CoercionAction.Fail);
    }
    mapper.coercionConfigFor(LogicalType.Textual).setCoercion(CoercionInputShape.EmptyString, CoercionAction.TryConvert);
    mapper.coercionConfigFor(LogicalType.Binary).setCoercion(CoercionInputShape.EmptyString, CoercionAction.TryConvert);
    return mapper;
  }

  /**
   * Reads a request body into {@code type}; an empty body is {@code {}}.
   *
   * @throws KmsException SerializationException for malformed JSON, a non-object body, or a field
   *     of the wrong type (including invalid base64 in a blob)
   */
  public static <T> T read(byte[] body, Class<T> type) {
    try {
      if (body.length == 0) return MAPPER.readValue("{}", type);
      JsonNode tree = tree(body);
      if (tree == null || !tree.isObject()) {
        throw new KmsException(KmsError.serialization("The request body must be a JSON object."));
      }
      return MAPPER.treeToValue(tree, type);
    } catch (JsonMappingException e) {
      String path = e.getPath().stream()
          .map(r -> r.getFieldName() != null ? r.getFieldName() : "[" + r.getIndex() + "]")
          .collect(Collectors.joining("."));
      throw new KmsException(KmsError.serialization(path.isEmpty()
          ? "The request body is not valid JSON for this operation."
          : describe(path, e)));
    } catch (JsonProcessingException e) {
      throw new KmsException(KmsError.serialization("Malformed JSON: " + firstLine(e.getOriginalMessage())));
    } catch (IOException e) {
      throw new KmsException(KmsError.serialization("Unreadable request body."));
    }
  }

  /** The last body this thread parsed, and its tree (never modified: callers only read trees). */
  private record Parsed(byte[] body, JsonNode tree) {}

  private static final ThreadLocal<Parsed> LAST_PARSED = new ThreadLocal<>();

  /**
   * {@code MAPPER.readTree(body)}, parsed once per request: authorisation reads the request's tree
   * and then the operation reads its record from the same body, usually on the same thread; the
   * second look finds the tree of that very array (by identity) instead of parsing it again.
   *
   * @throws IOException when the body is not JSON (never remembered: every caller sees the failure)
   */
  static JsonNode tree(byte[] body) throws IOException {
    Parsed last = LAST_PARSED.get();
    if (last != null && last.body() == body) return last.tree();
    JsonNode tree = MAPPER.readTree(body);
    LAST_PARSED.set(new Parsed(body, tree));
    return tree;
  }

  public static byte[] bytes(Object value) {
    try {
      return MAPPER.writeValueAsBytes(value);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot write JSON", e);
    }
  }

  private static String describe(String path, JsonMappingException e) {
    String m = String.valueOf(e.getOriginalMessage());
    if (m.contains("base64")) return "The value of '" + path + "' is not valid base64.";
    if (m.contains("Duplicate field")) return "Duplicate field '" + path + "'.";
    return "The value of '" + path + "' has the wrong type.";
  }

  private static String firstLine(String s) {
    if (s == null) return "";
    int nl = s.indexOf('\n');
    return nl < 0 ? s : s.substring(0, nl);
  }
}
