package io.pgfleet.cli.support;

import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * Hands every IT of this JVM the same {@link ServerProcess}, started on first use and stopped when the
 * JVM exits, so a test fork pays one server start, not one per class. (JUnit's root store would not do:
 * Failsafe runs each class of a fork as a launch of its own, and the root store closes after each.)
 */
public final class RunningServer implements ParameterResolver {
    private static ServerProcess shared;

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        return parameter.getParameter().getType() == ServerProcess.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
        return shared();
    }

    private static synchronized ServerProcess shared() {
        if (shared == null) {
            ServerProcess started = ServerProcess.start();
            Runtime.getRuntime().addShutdownHook(new Thread(started::close, "stop-cli-it-server"));
            shared = started;
        }
        return shared;
    }
}
