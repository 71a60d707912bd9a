package io.pgfleet.server;

import io.pgfleet.server.config.ServerOptions;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.ConfigurationPropertiesScan;
import picocli.CommandLine;

/** Entry point: {@code pgfleet server [options]} parses options, checks the host, then starts Spring. */
@SpringBootApplication
@ConfigurationPropertiesScan
public class PgfleetServer {
    public static void main(String[] args) {
        int exit = new CommandLine(new ServerOptions(PgfleetServer.class)).execute(args);
        if (exit != 0) {
            System.exit(exit);
        }
    }
}
