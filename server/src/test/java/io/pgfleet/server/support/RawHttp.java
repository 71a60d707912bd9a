package io.pgfleet.server.support;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Map;

/**
 * HTTP/1.1 over a plain socket, byte for byte as given: what java.net.URI refuses to build (a {@code %zz}
 * in a query, a NUL, a TRACE, an 8 KB request line) is exactly what a hostile client sends.
 */
public final class RawHttp {
    private static final int MAX_BODY = 64 * 1024;

    /** Status, Content-Type and the start of the body (a stream is cut after its headers). */
    public record Answer(int status, String contentType, String body) {}

    private RawHttp() {}

    public static Answer send(int port, String method, String target, Map<String, String> headers, byte[] body) {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", port), 2000);
            socket.setSoTimeout(10_000);
            ByteArrayOutputStream request = new ByteArrayOutputStream();
            request.writeBytes((method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n")
                    .getBytes(StandardCharsets.UTF_8));
            for (Map.Entry<String, String> h : headers.entrySet()) {
                request.writeBytes((h.getKey() + ": " + h.getValue() + "\r\n").getBytes(StandardCharsets.UTF_8));
            }
            if (body != null) {
                request.writeBytes(("Content-Length: " + body.length + "\r\n").getBytes(StandardCharsets.UTF_8));
            }
            request.writeBytes("\r\n".getBytes(StandardCharsets.UTF_8));
            if (body != null) {
                request.writeBytes(body);
            }
            OutputStream out = socket.getOutputStream();
            try {
                out.write(request.toByteArray());
                out.flush();
            } catch (IOException e) {
                // The server may answer and close before reading a body it refused (413): read what it said.
            }
            return read(socket.getInputStream());
        } catch (IOException e) {
            throw new UncheckedIOException(method + " " + abbreviate(target), e);
        }
    }

    private static Answer read(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int matched = 0;
        while (matched < 4) {
            int b = in.read();
            if (b < 0) {
                break;
            }
            head.write(b);
            matched = (b == '\r' || b == '\n') && "\r\n\r\n".charAt(matched) == b ? matched + 1 : 0;
        }
        String[] lines = head.toString(StandardCharsets.ISO_8859_1).split("\r\n");
        if (lines.length == 0 || !lines[0].startsWith("HTTP/1.1 ")) {
            throw new IOException("no HTTP answer: " + abbreviate(head.toString(StandardCharsets.ISO_8859_1)));
        }
        int status = Integer.parseInt(lines[0].substring(9, 12));
        String contentType = "";
        for (String line : lines) {
            if (line.toLowerCase(Locale.ROOT).startsWith("content-type:")) {
                contentType = line.substring("content-type:".length()).trim();
            }
        }
        if (contentType.startsWith("text/event-stream")) {
            return new Answer(status, contentType, "");
        }
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        byte[] buffer = new byte[8192];
        try {
            int n;
            while (body.size() < MAX_BODY && (n = in.read(buffer)) >= 0) {
                body.write(buffer, 0, n);
            }
        } catch (SocketTimeoutException e) {
            // A body that does not end within the timeout: what arrived is enough to judge.
        }
        return new Answer(status, contentType, body.toString(StandardCharsets.UTF_8));
    }

    private static String abbreviate(String s) {
        return s.length() > 120 ? s.substring(0, 120) + "…" : s;
    }
}
