package io.pgfleet.server.catalog;

import java.util.Map;
import org.springframework.stereotype.Component;
import tools.jackson.core.type.TypeReference;
import tools.jackson.databind.json.JsonMapper;

/** JSON for jsonb columns, with the API's snake_case naming so stored specs read like the API's. */
@Component
public class Json {
    private static final TypeReference<Map<String, Object>> OBJECT = new TypeReference<>() {};
    private static final TypeReference<Map<String, String>> STRINGS = new TypeReference<>() {};
    private static final TypeReference<java.util.List<String>> STRING_LIST = new TypeReference<>() {};
    private final JsonMapper mapper;

    public Json(JsonMapper mapper) {
        this.mapper = mapper;
    }

    public String write(Object value) {
        return mapper.writeValueAsString(value);
    }

    public <T> T read(String json, Class<T> type) {
        return mapper.readValue(json, type);
    }

    public Map<String, Object> readObject(String json) {
        return json == null ? Map.of() : mapper.readValue(json, OBJECT);
    }

    public java.util.List<String> readStringList(String json) {
        return json == null ? java.util.List.of() : mapper.readValue(json, STRING_LIST);
    }

    /** Converts a value to another shape through its JSON form (e.g. a task's request map to a record). */
    public <T> T convert(Object value, Class<T> type) {
        return mapper.convertValue(value, type);
    }

    public Map<String, Object> toMap(Object value) {
        return mapper.convertValue(value, OBJECT);
    }

    public Map<String, String> readStrings(String json) {
        return json == null ? Map.of() : mapper.readValue(json, STRINGS);
    }
}
