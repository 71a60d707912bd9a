package io.pgfleet.server.api;

import org.springframework.boot.jackson.autoconfigure.JsonMapperBuilderCustomizer;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import tools.jackson.core.JsonParser;
import tools.jackson.databind.DeserializationContext;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.cfg.CoercionAction;
import tools.jackson.databind.cfg.CoercionInputShape;
import tools.jackson.databind.deser.jdk.StringDeserializer;
import tools.jackson.databind.deser.std.StdScalarDeserializer;
import tools.jackson.databind.exc.MismatchedInputException;
import tools.jackson.databind.module.SimpleModule;
import tools.jackson.databind.type.LogicalType;

/**
 * JSON types are strict: a number where a string belongs (an id, a password, a reason), a fraction
 * for a port, an empty string for a time are 400s naming the field, never quietly coerced into
 * something the caller did not write. The one exception is a {@code postgresql_conf} value, which
 * pgEdge's API (and PostgreSQL's own syntax) gives as a number or boolean as readily as a string.
 */
@Configuration(proxyBeanMethods = false)
public class StrictJson {

    @Bean
    JsonMapperBuilderCustomizer strictJsonTypes() {
        SimpleModule noControlCharacters = new SimpleModule("pgfleet-strings");
        noControlCharacters.addDeserializer(String.class, new PlainStrings());
        return builder -> builder.addModule(noControlCharacters)
                .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
                .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
                .withCoercionConfig(
                        LogicalType.Textual,
                        text -> text.setCoercion(CoercionInputShape.Integer, CoercionAction.Fail)
                                .setCoercion(CoercionInputShape.Float, CoercionAction.Fail)
                                .setCoercion(CoercionInputShape.Boolean, CoercionAction.Fail))
                .withCoercionConfig(
                        LogicalType.Integer,
                        number -> number.setCoercion(CoercionInputShape.String, CoercionAction.Fail)
                                .setCoercion(CoercionInputShape.Float, CoercionAction.Fail)
                                .setCoercion(CoercionInputShape.Boolean, CoercionAction.Fail)
                                .setCoercion(CoercionInputShape.EmptyString, CoercionAction.Fail))
                .withCoercionConfig(
                        LogicalType.Boolean,
                        bool -> bool.setCoercion(CoercionInputShape.String, CoercionAction.Fail)
                                .setCoercion(CoercionInputShape.Integer, CoercionAction.Fail)
                                .setCoercion(CoercionInputShape.EmptyString, CoercionAction.Fail))
                .withCoercionConfig(
                        LogicalType.DateTime,
                        time -> time.setCoercion(CoercionInputShape.EmptyString, CoercionAction.Fail)
                                .setCoercion(CoercionInputShape.Integer, CoercionAction.Fail)
                                .setCoercion(CoercionInputShape.Float, CoercionAction.Fail))
                .withCoercionConfig(
                        LogicalType.Collection,
                        list -> list.setCoercion(CoercionInputShape.EmptyString, CoercionAction.Fail))
                .withCoercionConfig(
                        LogicalType.Map, map -> map.setCoercion(CoercionInputShape.EmptyString, CoercionAction.Fail))
                .withCoercionConfig(
                        LogicalType.POJO,
                        object -> object.setCoercion(CoercionInputShape.EmptyString, CoercionAction.Fail));
    }

    /**
     * Strings as the default deserializer reads them, refusing NUL: PostgreSQL cannot store it, so it
     * would otherwise surface as a 500 from the catalog (or end a string early in a file pgfleet writes).
     */
    static final class PlainStrings extends StdScalarDeserializer<String> {
        PlainStrings() {
            super(String.class);
        }

        @Override
        public LogicalType logicalType() {
            return LogicalType.Textual;
        }

        @Override
        public String deserialize(JsonParser parser, DeserializationContext context) {
            if (isSettingValue(parser)) {
                // pgEdge's postgresql_conf takes any JSON scalar ({"max_connections": 50}); its text is the setting.
                return parser.getString();
            }
            String value = StringDeserializer.instance.deserialize(parser, context);
            if (value != null && value.indexOf('\0') >= 0) {
                throw new ControlCharacterException(parser, "contains a NUL character; remove it");
            }
            return value;
        }
    }

    /** A number or boolean given as the value of a {@code postgresql_conf} entry. */
    private static boolean isSettingValue(JsonParser parser) {
        tools.jackson.core.JsonToken token = parser.currentToken();
        if (token == null || !(token.isNumeric() || token.isBoolean())) {
            return false;
        }
        tools.jackson.core.TokenStreamContext entry = parser.streamReadContext();
        tools.jackson.core.TokenStreamContext owner = entry == null ? null : entry.getParent();
        return owner != null && "postgresql_conf".equals(owner.currentName());
    }

    /** A string the API refuses for a character in it; {@link ProblemHandler} shows its message as is. */
    static final class ControlCharacterException extends MismatchedInputException {
        ControlCharacterException(JsonParser parser, String message) {
            super(parser, message, String.class);
        }
    }
}
