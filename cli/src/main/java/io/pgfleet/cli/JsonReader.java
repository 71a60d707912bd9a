package io.pgfleet.cli;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * Reads the API's answers as plain values: a {@code Map} (in order), a {@code List}, a {@code String}, a
 * {@code Long} (a {@code BigInteger} past it), a {@code Double} (a fraction or an exponent), a {@code
 * Boolean}, or null. A cold {@code pgfleet db list} spends its time loading and initializing classes, and
 * Jackson costs it plenty: building an ObjectMapper (date formats, locale data), jackson-core's parser, and
 * any value node, whose class constants initialize {@code BigDecimal} (tens of ms on Java 25, interpreted).
 * Commands that want Jackson's tree get the same nodes {@code readTree} makes from {@link #toNode}.
 */
final class JsonReader {
    private final String text;
    private int at;

    private JsonReader(String text) {
        this.text = text;
    }

    /** The one JSON value {@code text} holds, white space around it allowed. */
    static Object read(String text) {
        JsonReader reader = new JsonReader(text);
        Object value = reader.value();
        reader.skipSpace();
        if (reader.at < text.length()) {
            throw reader.invalid("unexpected " + text.charAt(reader.at) + " after the value");
        }
        return value;
    }

    /** {@code field} of an object as text (a number or boolean as JSON writes it); null when absent or null. */
    static String text(Object object, String field) {
        Object value = object instanceof Map<?, ?> map ? map.get(field) : null;
        return value == null || value instanceof Map || value instanceof List ? null : value.toString();
    }

    /** {@code field} of an object when it is an array; else an empty list. */
    static List<?> array(Object object, String field) {
        Object value = object instanceof Map<?, ?> map ? map.get(field) : null;
        return value instanceof List<?> list ? list : List.of();
    }

    /** {@code field} of an object when it is an object; else an empty map. */
    static Map<?, ?> object(Object object, String field) {
        Object value = object instanceof Map<?, ?> map ? map.get(field) : null;
        return value instanceof Map<?, ?> map ? map : Map.of();
    }

    /** The nodes Jackson's {@code readTree} makes of the same text (an int that fits is an IntNode). */
    static JsonNode toNode(Object value) {
        JsonNodeFactory nodes = JsonNodeFactory.instance;
        if (value == null) {
            return nodes.nullNode();
        } else if (value instanceof Map<?, ?> map) {
            ObjectNode node = nodes.objectNode();
            map.forEach((k, v) -> node.set((String) k, toNode(v)));
            return node;
        } else if (value instanceof List<?> list) {
            ArrayNode node = nodes.arrayNode(list.size());
            list.forEach(v -> node.add(toNode(v)));
            return node;
        } else if (value instanceof String string) {
            return nodes.stringNode(string);
        } else if (value instanceof Boolean bool) {
            return nodes.booleanNode(bool);
        } else if (value instanceof Long number) {
            return number == number.intValue() ? nodes.numberNode(number.intValue()) : nodes.numberNode(number);
        } else if (value instanceof Double number) {
            return nodes.numberNode(number);
        } else if (value instanceof BigInteger number) {
            return nodes.numberNode(number);
        }
        throw new IllegalArgumentException("not a JSON value: " + value.getClass());
    }

    /** Input that is not JSON, with the offset where reading stopped. */
    static final class InvalidJson extends RuntimeException {
        InvalidJson(String message) {
            super(message);
        }
    }

    private Object value() {
        skipSpace();
        if (at >= text.length()) {
            throw invalid("the text ends where a value was expected");
        }
        char c = text.charAt(at);
        return switch (c) {
            case '{' -> object();
            case '[' -> array();
            case '"' -> string();
            case 't' -> literal("true", Boolean.TRUE);
            case 'f' -> literal("false", Boolean.FALSE);
            case 'n' -> literal("null", null);
            default -> {
                if (c == '-' || (c >= '0' && c <= '9')) {
                    yield number();
                }
                throw invalid("unexpected " + c);
            }
        };
    }

    private Map<String, Object> object() {
        Map<String, Object> node = new LinkedHashMap<>();
        at++; // {
        skipSpace();
        if (peek() == '}') {
            at++;
            return node;
        }
        while (true) {
            skipSpace();
            if (peek() != '"') {
                throw invalid("a field name in quotes expected");
            }
            String name = string();
            skipSpace();
            expect(':');
            node.put(name, value());
            skipSpace();
            char c = next();
            if (c == '}') {
                return node;
            }
            if (c != ',') {
                throw invalid("',' or '}' expected");
            }
        }
    }

    private List<Object> array() {
        List<Object> node = new ArrayList<>();
        at++; // [
        skipSpace();
        if (peek() == ']') {
            at++;
            return node;
        }
        while (true) {
            node.add(value());
            skipSpace();
            char c = next();
            if (c == ']') {
                return node;
            }
            if (c != ',') {
                throw invalid("',' or ']' expected");
            }
        }
    }

    private String string() {
        at++; // "
        StringBuilder sb = null;
        int start = at;
        while (true) {
            if (at >= text.length()) {
                throw invalid("the text ends inside a string");
            }
            char c = text.charAt(at);
            if (c == '"') {
                String s = sb == null
                        ? text.substring(start, at)
                        : sb.append(text, start, at).toString();
                at++;
                return s;
            }
            if (c < 0x20) {
                throw invalid("a control character inside a string");
            }
            if (c != '\\') {
                at++;
                continue;
            }
            if (sb == null) {
                sb = new StringBuilder();
            }
            sb.append(text, start, at);
            at++;
            char e = next();
            switch (e) {
                case '"', '\\', '/' -> sb.append(e);
                case 'b' -> sb.append('\b');
                case 'f' -> sb.append('\f');
                case 'n' -> sb.append('\n');
                case 'r' -> sb.append('\r');
                case 't' -> sb.append('\t');
                case 'u' -> {
                    if (at + 4 > text.length()) {
                        throw invalid("a \\u escape needs four hex digits");
                    }
                    int code = 0;
                    for (int i = 0; i < 4; i++) {
                        int digit = Character.digit(text.charAt(at++), 16);
                        if (digit < 0) {
                            throw invalid("a \\u escape needs four hex digits");
                        }
                        code = code * 16 + digit;
                    }
                    sb.append((char) code);
                }
                default -> throw invalid("unknown escape \\" + e);
            }
            start = at;
        }
    }

    private Object number() {
        int start = at;
        if (peek() == '-') {
            at++;
        }
        int digits = digits();
        if (digits == 0 || (digits > 1 && text.charAt(at - digits) == '0')) {
            throw invalid("a number needs digits and no leading zero");
        }
        boolean integral = true;
        if (peek() == '.') {
            at++;
            integral = false;
            if (digits() == 0) {
                throw invalid("a digit expected after '.'");
            }
        }
        if (peek() == 'e' || peek() == 'E') {
            at++;
            integral = false;
            if (peek() == '+' || peek() == '-') {
                at++;
            }
            if (digits() == 0) {
                throw invalid("a digit expected in the exponent");
            }
        }
        String n = text.substring(start, at);
        if (!integral) {
            return Double.parseDouble(n);
        }
        // 18 digits always fit a long; longer ones may need a BigInteger.
        if (digits <= 18) {
            return Long.parseLong(n);
        }
        BigInteger big = new BigInteger(n);
        return big.bitLength() < 64 ? (Object) big.longValue() : big;
    }

    private int digits() {
        int start = at;
        while (at < text.length() && text.charAt(at) >= '0' && text.charAt(at) <= '9') {
            at++;
        }
        return at - start;
    }

    private Object literal(String word, Object value) {
        if (!text.startsWith(word, at)) {
            throw invalid("unexpected " + text.charAt(at));
        }
        at += word.length();
        return value;
    }

    private void expect(char c) {
        if (next() != c) {
            throw invalid("'" + c + "' expected");
        }
    }

    private char next() {
        if (at >= text.length()) {
            throw invalid("the text ends too early");
        }
        return text.charAt(at++);
    }

    private char peek() {
        return at < text.length() ? text.charAt(at) : '\0';
    }

    private void skipSpace() {
        while (at < text.length()) {
            char c = text.charAt(at);
            if (c != ' ' && c != '\n' && c != '\r' && c != '\t') {
                return;
            }
            at++;
        }
    }

    private InvalidJson invalid(String why) {
        return new InvalidJson(why + " at offset " + Math.min(at, text.length()));
    }
}
