package io.pgfleet.server.api;

import io.pgfleet.server.security.Caller;
import io.swagger.v3.core.jackson.ModelResolver;
import io.swagger.v3.oas.models.Components;
import io.swagger.v3.oas.models.OpenAPI;
import io.swagger.v3.oas.models.Operation;
import io.swagger.v3.oas.models.info.Info;
import io.swagger.v3.oas.models.media.ArraySchema;
import io.swagger.v3.oas.models.media.Content;
import io.swagger.v3.oas.models.media.IntegerSchema;
import io.swagger.v3.oas.models.media.MediaType;
import io.swagger.v3.oas.models.media.ObjectSchema;
import io.swagger.v3.oas.models.media.Schema;
import io.swagger.v3.oas.models.media.StringSchema;
import io.swagger.v3.oas.models.responses.ApiResponse;
import io.swagger.v3.oas.models.security.SecurityRequirement;
import io.swagger.v3.oas.models.security.SecurityScheme;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.springdoc.core.customizers.OpenApiCustomizer;
import org.springdoc.core.utils.SpringDocUtils;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.info.BuildProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * The OpenAPI document springdoc builds from the controllers (served at /v3/api-docs and
 * /v1/openapi.json), completed with what the code cannot say: snake_case names, the bearer key,
 * the problem+json errors every call may answer, and pgEdge-style examples.
 */
@Configuration(proxyBeanMethods = false)
public class OpenApiConfig {
    static final String BEARER = "bearer";
    static final String PROBLEM = "Problem";
    private static final Set<String> PUBLIC = Set.of("/v1/health", "/v1/openapi.json");

    static {
        // The caller is the API key's, resolved by ApiFilter: not a parameter a client sends.
        SpringDocUtils.getConfig().addRequestWrapperToIgnore(Caller.class);
    }

    /** The document's schemas use the JSON names the API really reads and writes. */
    @Bean
    ModelResolver snakeCaseModelResolver() {
        var mapper = io.swagger.v3.core.util.Json.mapper().copy();
        mapper.setPropertyNamingStrategy(com.fasterxml.jackson.databind.PropertyNamingStrategies.SNAKE_CASE);
        return new ModelResolver(mapper);
    }

    @Bean
    OpenAPI pgfleetOpenApi(ObjectProvider<BuildProperties> build) {
        BuildProperties props = build.getIfAvailable();
        return new OpenAPI()
                .info(new Info()
                        .title("pgfleet API v1")
                        .version(props == null ? "dev" : props.getVersion())
                        .description("A self-hosted control plane for PostgreSQL. Paths and shapes follow pgEdge"
                                + " Control Plane's v1 API; every call but /v1/health needs"
                                + " `Authorization: Bearer <api key>`. Asynchronous operations answer 202 with the"
                                + " task and a Location header; errors are RFC 9457 problem+json with pgEdge's"
                                + " `name` and `message` beside `code`."))
                .components(new Components()
                        .addSecuritySchemes(
                                BEARER,
                                new SecurityScheme()
                                        .type(SecurityScheme.Type.HTTP)
                                        .scheme("bearer")
                                        .bearerFormat("pgf_<key id>_<secret>")
                                        .description("An API key; the first admin key is in <home>/secrets/admin.key")))
                .addSecurityItem(new SecurityRequirement().addList(BEARER));
    }

    @Bean
    OpenApiCustomizer problemsAndExamples() {
        return openApi -> {
            if (openApi.getPaths() == null) {
                return;
            }
            // Here, not on the bean: springdoc fills components.schemas from the controllers' types.
            openApi.getComponents().addSchemas(PROBLEM, problemSchema());
            // A forward to springdoc's own endpoint, which springdoc does not list: described here.
            openApi.getPaths()
                    .addPathItem(
                            "/v1/openapi.json",
                            new io.swagger.v3.oas.models.PathItem()
                                    .get(
                                            new Operation()
                                                    .operationId("openApi")
                                                    .summary("This OpenAPI document (as /v3/api-docs); no key needed")
                                                    .addTagsItem("open-api-controller")
                                                    .responses(
                                                            new io.swagger.v3.oas.models.responses.ApiResponses()
                                                                    .addApiResponse(
                                                                            "200",
                                                                            new ApiResponse()
                                                                                    .description(
                                                                                            "The OpenAPI 3 document")
                                                                                    .content(
                                                                                            new Content()
                                                                                                    .addMediaType(
                                                                                                            "application/json",
                                                                                                            new MediaType()
                                                                                                                    .schema(
                                                                                                                            new ObjectSchema())))))));
            openApi.getPaths()
                    .forEach((path, item) -> item.readOperationsMap().forEach((method, operation) -> {
                        if (PUBLIC.contains(path)) {
                            operation.setSecurity(List.of());
                        } else {
                            addProblem(operation, "401", "No API key, or an unknown or revoked one");
                            addProblem(operation, "403", "The key's role does not allow this call");
                        }
                        addProblem(operation, "400", "A malformed body or parameter");
                        if (path.contains("{")) {
                            addProblem(operation, "404", "Not found (also another tenant's object)");
                        }
                        if (!method.name().equals("GET")) {
                            addProblem(operation, "409", "A conflict: state, port, or another update in progress");
                            addProblem(operation, "422", "Invalid input, with every field at fault in `errors`");
                        }
                    }));
            PgEdgeExamples.add(openApi);
        };
    }

    private static void addProblem(Operation operation, String status, String description) {
        if (operation.getResponses() == null || operation.getResponses().containsKey(status)) {
            return;
        }
        operation
                .getResponses()
                .addApiResponse(
                        status,
                        new ApiResponse()
                                .description(description)
                                .content(new Content()
                                        .addMediaType(
                                                "application/problem+json",
                                                new MediaType()
                                                        .schema(new Schema<>()
                                                                .$ref("#/components/schemas/" + PROBLEM)))));
    }

    @SuppressWarnings({"rawtypes", "unchecked"})
    private static Schema problemSchema() {
        Schema fieldError = new ObjectSchema()
                .addProperty("field", new StringSchema().example("spec.nodes[0].port"))
                .addProperty("message", new StringSchema().example("80 is privileged or invalid; use 1024-65535"));
        return new ObjectSchema()
                .description("RFC 9457 problem details, with pgfleet's stable `code` and pgEdge Control Plane's"
                        + " `name` (the same as `code`) and `message` (the same as `detail`).")
                .addProperty("type", new StringSchema().example("about:blank"))
                .addProperty("title", new StringSchema().example("Unprocessable Entity"))
                .addProperty("status", new IntegerSchema().example(422))
                .addProperty("detail", new StringSchema().example("spec.nodes[0].port: 80 is privileged or invalid"))
                .addProperty("instance", new StringSchema().example("/v1/databases"))
                .addProperty("code", new StringSchema().example("invalid_spec"))
                .addProperty("name", new StringSchema().example("invalid_spec"))
                .addProperty("message", new StringSchema().example("spec.nodes[0].port: 80 is privileged or invalid"))
                .addProperty("errors", new ArraySchema().items(fieldError))
                .required(List.of("status", "code", "name", "message"))
                .example(Map.of(
                        "type", "about:blank",
                        "title", "Unprocessable Entity",
                        "status", 422,
                        "detail", "spec.spock_version: pgfleet runs PostgreSQL without Spock",
                        "code", "invalid_spec",
                        "name", "invalid_spec",
                        "message", "spec.spock_version: pgfleet runs PostgreSQL without Spock"));
    }
}
