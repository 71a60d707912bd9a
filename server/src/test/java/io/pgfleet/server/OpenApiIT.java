package io.pgfleet.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgfleet.server.support.Api;
import io.pgfleet.server.support.ServerUnderTest;
import io.swagger.v3.oas.models.OpenAPI;
import io.swagger.v3.oas.models.PathItem;
import io.swagger.v3.parser.OpenAPIV3Parser;
import io.swagger.v3.parser.core.models.SwaggerParseResult;
import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.springframework.web.bind.annotation.RequestMethod;
import org.springframework.web.servlet.mvc.method.RequestMappingInfo;
import org.springframework.web.servlet.mvc.method.annotation.RequestMappingHandlerMapping;

/** The OpenAPI document: valid OpenAPI 3, every /v1 route in it, served without a key, and its reference page. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class OpenApiIT {
    private Path home;
    private ServerUnderTest server;
    private Api anonymous;

    @BeforeAll
    void startServer() {
        home = ServerUnderTest.newHome("oapi");
        server = ServerUnderTest.start(home, 7730, 7739);
        anonymous = server.api().withKey(null);
    }

    @AfterAll
    void stopServer() {
        if (server != null) {
            server.close();
        }
        ServerUnderTest.cleanUp(home);
    }

    private String document(String path) {
        return Api.raw(HttpRequest.newBuilder(URI.create(anonymous.base() + path))
                .GET()
                .build());
    }

    private OpenAPI parse(String json) {
        SwaggerParseResult result = new OpenAPIV3Parser().readContents(json);
        assertThat(result.getMessages()).as("OpenAPI 3 validation messages").isEmpty();
        assertThat(result.getOpenAPI()).isNotNull();
        assertThat(result.getOpenAPI().getOpenapi()).startsWith("3.");
        return result.getOpenAPI();
    }

    @Test
    void theDocumentIsValidOpenApi3AndServedWithoutAKeyAtBothPaths() {
        anonymous.get("/v1/openapi.json").expect(200);
        anonymous.get("/v3/api-docs").expect(200);
        OpenAPI v1 = parse(document("/v1/openapi.json"));
        OpenAPI v3 = parse(document("/v3/api-docs"));
        assertThat(v1.getPaths().keySet()).isEqualTo(v3.getPaths().keySet());
    }

    @Test
    void everyV1RouteIsInTheDocument() {
        OpenAPI doc = parse(document("/v1/openapi.json"));
        RequestMappingHandlerMapping mapping =
                server.bean("requestMappingHandlerMapping", RequestMappingHandlerMapping.class);
        List<String> missing = new ArrayList<>();
        int routes = 0;
        for (RequestMappingInfo info : mapping.getHandlerMethods().keySet()) {
            for (String pattern : info.getPatternValues()) {
                if (!pattern.startsWith("/v1/")) {
                    continue;
                }
                PathItem item = doc.getPaths().get(pattern);
                var methods = info.getMethodsCondition().getMethods();
                for (RequestMethod method : methods.isEmpty() ? List.of(RequestMethod.GET) : methods) {
                    routes++;
                    if (item == null
                            || item.readOperationsMap().get(PathItem.HttpMethod.valueOf(method.name())) == null) {
                        missing.add(method + " " + pattern);
                    }
                }
            }
        }
        assertThat(routes).as("the /v1 routes Spring serves").isGreaterThan(30);
        assertThat(missing).as("/v1 routes missing from the OpenAPI document").isEmpty();
    }

    @Test
    void theDocumentHasTheProblemAndSpecSchemasExamplesAndTheBearerScheme() {
        OpenAPI doc = parse(document("/v1/openapi.json"));
        assertThat(doc.getComponents().getSecuritySchemes().get("bearer").getScheme())
                .isEqualTo("bearer");
        assertThat(doc.getComponents().getSchemas().get("Problem").getProperties())
                .containsKeys("code", "name", "message", "detail", "errors");
        assertThat(doc.getComponents().getSchemas().get("DatabaseSpec").getProperties())
                .as("snake_case, as the API reads it")
                .containsKeys("database_name", "postgres_version", "postgresql_conf", "cpus", "memory", "nodes");
        assertThat(doc.getComponents().getSchemas().get("NodeSpec").getProperties())
                .containsKeys("host_ids", "source_node", "postgresql_conf");
        var create = doc.getPaths().get("/v1/databases").getPost();
        assertThat(create.getRequestBody().getContent().get("application/json").getExamples())
                .containsKeys("minimal", "tuned");
        assertThat(create.getResponses().get("422").getContent()).containsKey("application/problem+json");
        assertThat(doc.getPaths().get("/v1/health").getGet().getSecurity()).isEmpty();
        assertThat(doc.getSecurity().get(0)).containsKey("bearer");
    }

    @Test
    void theReferencePageIsServedFromThisServerWithoutACdn() {
        String page = document("/swagger-ui/index.html");
        assertThat(page).contains("swagger-ui-bundle.js").doesNotContain("https://", "http://cdn");
        assertThat(document("/swagger-ui/swagger-ui-bundle.js")).hasSizeGreaterThan(100_000);
        assertThat(document("/v3/api-docs/swagger-config")).contains("/v3/api-docs");
    }
}
