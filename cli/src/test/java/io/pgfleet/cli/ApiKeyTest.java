package io.pgfleet.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Which key goes into Authorization: Bearer, in the order the issue gives. */
class ApiKeyTest {
    private static final URI LOCAL = URI.create("http://localhost:3000/");
    private static final URI REMOTE = URI.create("https://pgfleet.example.com/");

    @Test
    void theFlagWinsThenTheEnvironmentThenTheLocalAdminKeyFile(@TempDir Path home) throws Exception {
        Files.createDirectories(home.resolve("secrets"));
        Files.writeString(home.resolve("secrets/admin.key"), "pgf_admin_filesecret\n");
        Map<String, String> env = Map.of("PGFLEET_API_KEY", "pgf_env_secret");

        assertThat(ApiKey.resolve("pgf_flag_secret", env, home, LOCAL))
                .hasValue(new ApiKey("pgf_flag_secret", "--api-key"));
        assertThat(ApiKey.resolve(null, env, home, LOCAL)).hasValue(new ApiKey("pgf_env_secret", "PGFLEET_API_KEY"));
        assertThat(ApiKey.resolve(null, Map.of(), home, LOCAL).map(ApiKey::value))
                .hasValue("pgf_admin_filesecret");
        assertThat(ApiKey.resolve(
                                null,
                                Map.of("PGFLEET_HOME", home.toString()),
                                null,
                                URI.create("http://127.0.0.1:3000/"))
                        .map(ApiKey::value))
                .hasValue("pgf_admin_filesecret");
    }

    @Test
    void theAdminKeyFileIsNeverSentToAnotherMachine(@TempDir Path home) throws Exception {
        Files.createDirectories(home.resolve("secrets"));
        Files.writeString(home.resolve("secrets/admin.key"), "pgf_admin_filesecret");
        assertThat(ApiKey.resolve(null, Map.of(), home, REMOTE)).isEmpty();
    }

    @Test
    void noKeyAnywhereSendsNone(@TempDir Path home) {
        assertThat(ApiKey.resolve(null, Map.of(), home, LOCAL)).isEmpty();
        assertThat(ApiKey.resolve(" ", Map.of("PGFLEET_API_KEY", ""), home, LOCAL))
                .isEmpty();
    }

    @Test
    void itsTextNeverShowsTheSecret() {
        assertThat(new ApiKey("pgf_abc_secret", "--api-key").toString()).doesNotContain("secret");
    }
}
