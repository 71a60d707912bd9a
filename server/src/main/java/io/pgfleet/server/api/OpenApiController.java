package io.pgfleet.server.api;

import org.springframework.stereotype.Controller;
import org.springframework.web.bind.annotation.GetMapping;

/**
 * {@code GET /v1/openapi.json}: where pgEdge Control Plane serves its document. The same document as
 * springdoc's {@code /v3/api-docs}; both, like the reference page at {@code /swagger-ui/index.html},
 * need no key (they hold no tenant's data).
 */
@Controller
public class OpenApiController {
    @GetMapping(value = "/v1/openapi.json", produces = "application/json")
    public String openApi() {
        return "forward:/v3/api-docs";
    }
}
