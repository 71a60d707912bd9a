package io.pgfleet.cli;

import java.math.BigInteger;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * Reads the API's answers into Jackson's tree, the same nodes {@code ObjectMapper.readTree} makes (an int
 * that fits is an IntNode, then LongNode, BigIntegerNode; a fraction or exponent is a DoubleNode), without
 * building a mapper: its construction and jackson-core's parser cost a cold {@code pgfleet db list} about
 * 50 ms (date formats, locale data, BigDecimal constants) for a few kilobytes of JSON.
 */
final class JsonReader {
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    private final String text;
    private int at;

    private JsonReader(String text) {
        this.text = text;
    }

    /** The one JSON value {@code text} holds, white space around it allowed. */
    static JsonNode read(String text) {
        JsonReader reader = new JsonReader(text);
        JsonNode value = reader.value();
        reader.skipSpace();
        if (reader.at < text.length()) {
            throw reader.invalid("unexpected " + text.charAt(reader.at) + " after the value");
        }
        return value;
    }

    /** Input that is not JSON, with the offset where reading stopped. */
    static final class InvalidJson extends RuntimeException {
        InvalidJson(String message) {
            super(message);
        }
    }

    private JsonNode value() {
        skipSpace();
        if (at >= text.length()) {
            throw invalid("the text ends where a value was expected");
        }
        char c = text.charAt(at);
        return switch (c) {
            case '{' -> object();
            case '[' -> array();
            case '"' -> NODES.stringNode(string());
            case 't' -> literal("true", NODES.booleanNode(true));
            case 'f' -> literal("false", NODES.booleanNode(false));
            case 'n' -> literal("null", NODES.nullNode());
            default -> {
                if (c == '-' || (c >= '0' && c <= '9')) {
                    yield number();
                }
                throw invalid("unexpected " + c);
            }
        };
    }

    private ObjectNode object() {
        ObjectNode node = NODES.objectNode();
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
            node.set(name, value());
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

    private ArrayNode array() {
        ArrayNode node = NODES.arrayNode();
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

    private JsonNode number() {
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
            return NODES.numberNode(Double.parseDouble(n));
        }
        // 18 digits always fit a long; longer ones may need a BigInteger, as Jackson's parser decides.
        if (digits <= 18) {
            long value = Long.parseLong(n);
            return value == (int) value ? NODES.numberNode((int) value) : NODES.numberNode(value);
        }
        BigInteger big = new BigInteger(n);
        return big.bitLength() < 64 ? NODES.numberNode(big.longValue()) : NODES.numberNode(big);
    }

    private int digits() {
        int start = at;
        while (at < text.length() && text.charAt(at) >= '0' && text.charAt(at) <= '9') {
            at++;
        }
        return at - start;
    }

    private JsonNode literal(String word, JsonNode node) {
        if (!text.startsWith(word, at)) {
            throw invalid("unexpected " + text.charAt(at));
        }
        at += word.length();
        return node;
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
