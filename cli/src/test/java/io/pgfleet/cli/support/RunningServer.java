package io.pgfleet.cli.support;

import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * Hands every IT the same {@link ServerProcess}, started on first use and stopped when the whole run
 * ends (the root store closes what it holds), so the suite pays one server start, not one per class.
 */
public final class RunningServer implements ParameterResolver {
    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        return parameter.getParameter().getType() == ServerProcess.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
        return context.getRoot()
                .getStore(ExtensionContext.Namespace.GLOBAL)
                .computeIfAbsent(ServerProcess.class, k -> ServerProcess.start(), ServerProcess.class);
    }
}
