package lakehouse.udf;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.io.StringWriter;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.api.java.UDF2;

/**
 * One strict pass over a Kafka value: is it UTF-8, is it exactly one JSON object, does it repeat a
 * top-level key, and, for each requested top-level field, the JSON type and the text of its value.
 *
 * <p>SQL: {@code lakehouse_json_scan(value binary, fields string)} with {@code fields} the
 * comma-separated names wanted. Returns null for a null value, else struct&lt;error: string,
 * duplicate_key: boolean, kinds: array&lt;string&gt;, texts: array&lt;string&gt;&gt;, the arrays
 * aligned with {@code fields}:
 *
 * <ul>
 *   <li>error: null, "invalid_utf8" or "malformed_json" (then kinds and texts are all null);
 *   <li>kind: null when the field is absent, else "null", "string", "number", "boolean", "object"
 *       or "array";
 *   <li>text: the string's content, the number as written (exact, for decimals), "true"/"false",
 *       compact JSON for objects and arrays (as Spark's from_json renders them), null for null.
 * </ul>
 *
 * <p>Strict JSON only (Jackson's defaults): UTF-8 without a byte order mark, no single quotes,
 * comments, NaN, leading zeros or trailing commas, and nothing but whitespace after the object.
 */
public final class JsonScan implements UDF2<byte[], String, Row> {
  private static final long serialVersionUID = 1L;
  private static final JsonFactory FACTORY = new JsonFactory();
  static final String INVALID_UTF8 = "invalid_utf8";
  static final String MALFORMED_JSON = "malformed_json";

  /** Field positions by `fields` argument; one instance serves one task, so no locking. */
  private transient Map<String, Map<String, Integer>> positions;

  @Override
  public Row call(byte[] value, String fields) {
    if (value == null) {
      return null;
    }
    Map<String, Integer> wanted = positionsOf(fields);
    if (!Utf8.isValid(value)) {
      return failed(INVALID_UTF8, wanted.size());
    }
    if (!isPlainUtf8Text(value)) {
      return failed(MALFORMED_JSON, wanted.size());
    }
    String[] kinds = new String[wanted.size()];
    String[] texts = new String[wanted.size()];
    boolean duplicate = false;
    try (JsonParser parser = FACTORY.createParser(value)) {
      if (parser.nextToken() != JsonToken.START_OBJECT) {
        return failed(MALFORMED_JSON, kinds.length);
      }
      Set<String> seen = new HashSet<>();
      JsonToken token;
      while ((token = parser.nextToken()) == JsonToken.FIELD_NAME) {
        String name = parser.getCurrentName();
        duplicate |= !seen.add(name);
        JsonToken valueToken = parser.nextToken();
        Integer position = wanted.get(name);
        if (position == null) {
          parser.skipChildren();
        } else {
          kinds[position] = kind(valueToken);
          texts[position] = text(parser, valueToken);
        }
      }
      if (token != JsonToken.END_OBJECT || parser.nextToken() != null) {
        return failed(MALFORMED_JSON, kinds.length);
      }
    } catch (JsonProcessingException e) {
      return failed(MALFORMED_JSON, kinds.length);
    } catch (IOException e) {
      throw new IllegalStateException("reading an in-memory value failed", e);
    }
    return RowFactory.create(null, duplicate, Arrays.asList(kinds), Arrays.asList(texts));
  }

  /**
   * No byte order mark and no NUL byte. Jackson would skip a UTF-8 mark, and read text whose first bytes
   * hold NULs as UTF-16 or UTF-32; JSON text is UTF-8 without a mark (RFC 8259), and a NUL can be neither
   * JSON syntax nor an unescaped character of a string.
   */
  private static boolean isPlainUtf8Text(byte[] value) {
    if (value.length >= 3 && (value[0] & 0xFF) == 0xEF && (value[1] & 0xFF) == 0xBB && (value[2] & 0xFF) == 0xBF) {
      return false;
    }
    for (byte b : value) {
      if (b == 0) {
        return false;
      }
    }
    return true;
  }

  private Map<String, Integer> positionsOf(String fields) {
    if (positions == null) {
      positions = new HashMap<>();
    }
    return positions.computeIfAbsent(fields, names -> {
      String[] list = names.split(",", -1);
      Map<String, Integer> map = new HashMap<>();
      for (int i = 0; i < list.length; i++) {
        map.put(list[i], i);
      }
      return map;
    });
  }

  private static Row failed(String error, int size) {
    List<String> nothing = Arrays.asList(new String[size]);
    return RowFactory.create(error, false, nothing, nothing);
  }

  private static String kind(JsonToken token) {
    switch (token) {
      case VALUE_NULL:
        return "null";
      case VALUE_STRING:
        return "string";
      case VALUE_NUMBER_INT:
      case VALUE_NUMBER_FLOAT:
        return "number";
      case VALUE_TRUE:
      case VALUE_FALSE:
        return "boolean";
      case START_OBJECT:
        return "object";
      default:
        return "array";
    }
  }

  private static String text(JsonParser parser, JsonToken token) throws IOException {
    switch (token) {
      case VALUE_NULL:
        return null;
      case START_OBJECT:
      case START_ARRAY:
        StringWriter out = new StringWriter();
        try (JsonGenerator generator = FACTORY.createGenerator(out)) {
          generator.copyCurrentStructure(parser);
        }
        return out.toString();
      default:
        return parser.getText();
    }
  }
}
