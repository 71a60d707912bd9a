package io.pgfleet.server.api;

import java.time.Instant;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.info.BuildProperties;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

/** {@code GET /v1/version}, in pgEdge Control Plane's shape: what a client polls to see the server is up. */
@RestController
public class VersionController {
    private final VersionInfo info;

    public VersionController(ObjectProvider<BuildProperties> build) {
        BuildProperties props = build.getIfAvailable();
        String version = props != null && props.getVersion() != null
                ? props.getVersion()
                : String.valueOf(VersionController.class.getPackage().getImplementationVersion());
        Instant time = props != null ? props.getTime() : null;
        String revision = props != null && props.get("revision") != null ? props.get("revision") : "unknown";
        this.info = new VersionInfo(version, revision, time, arch());
    }

    /** pgEdge's VersionInfo: {@code version}, {@code revision}, {@code revision_time}, {@code arch}. */
    public record VersionInfo(String version, String revision, Instant revisionTime, String arch) {}

    @GetMapping("/v1/version")
    public VersionInfo version() {
        return info;
    }

    // Go's names, as pgEdge reports them: amd64, arm64.
    private static String arch() {
        String arch = System.getProperty("os.arch");
        return switch (arch) {
            case "x86_64", "amd64" -> "amd64";
            case "aarch64", "arm64" -> "arm64";
            default -> arch;
        };
    }
}
