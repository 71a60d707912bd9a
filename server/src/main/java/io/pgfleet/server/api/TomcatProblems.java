package io.pgfleet.server.api;

import org.apache.catalina.core.StandardHost;
import org.springframework.boot.tomcat.servlet.TomcatServletWebServerFactory;
import org.springframework.boot.web.server.WebServerFactoryCustomizer;
import org.springframework.stereotype.Component;

/**
 * Puts {@link ProblemErrorValve} in place of Tomcat's HTML error report, and keeps TRACE off (it echoes
 * the request, headers and key included).
 */
@Component
public class TomcatProblems implements WebServerFactoryCustomizer<TomcatServletWebServerFactory> {
    @Override
    public void customize(TomcatServletWebServerFactory factory) {
        factory.addContextCustomizers(context -> {
            if (context.getParent() instanceof StandardHost host) {
                host.setErrorReportValveClass("");
                host.getPipeline().addValve(new ProblemErrorValve());
            }
        });
        factory.addConnectorCustomizers(connector -> connector.setAllowTrace(false));
    }
}
