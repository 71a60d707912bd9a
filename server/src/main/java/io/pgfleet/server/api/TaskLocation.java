package io.pgfleet.server.api;

import io.pgfleet.server.api.Views.TaskView;
import java.net.URI;
import org.springframework.core.MethodParameter;
import org.springframework.http.MediaType;
import org.springframework.http.converter.HttpMessageConverter;
import org.springframework.http.server.ServerHttpRequest;
import org.springframework.http.server.ServerHttpResponse;
import org.springframework.http.server.ServletServerHttpResponse;
import org.springframework.web.bind.annotation.ControllerAdvice;
import org.springframework.web.servlet.mvc.method.annotation.ResponseBodyAdvice;

/**
 * Every accepted asynchronous operation (202) carries a {@code Location} header pointing at its task,
 * so a client can follow it without reading the body.
 */
@ControllerAdvice
public class TaskLocation implements ResponseBodyAdvice<Object> {
    @Override
    public boolean supports(MethodParameter returnType, Class<? extends HttpMessageConverter<?>> converterType) {
        return true;
    }

    @Override
    public Object beforeBodyWrite(
            Object body,
            MethodParameter returnType,
            MediaType contentType,
            Class<? extends HttpMessageConverter<?>> converterType,
            ServerHttpRequest request,
            ServerHttpResponse response) {
        TaskView task = body instanceof Views.TaskEnvelope e
                ? e.task()
                : body instanceof Views.CreatedEnvelope c
                        ? c.task()
                        : body instanceof Views.UpdateEnvelope u ? u.task() : null;
        if (task != null
                && response instanceof ServletServerHttpResponse servlet
                && servlet.getServletResponse().getStatus() == 202) {
            response.getHeaders()
                    .setLocation(URI.create("/v1/databases/" + task.databaseId() + "/tasks/" + task.taskId()));
        }
        return body;
    }
}
