package io.pgfleet.server;

import static com.tngtech.archunit.library.Architectures.layeredArchitecture;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;

/**
 * The server's packages point one way: api → ha → tasks → fleet → security, events → catalog → agent →
 * config (fleet: the hosts of one catalog, between the task layer and what it uses; ha: replicas and
 * switchover, workflows above the task layer that runs them).
 * A new cycle, or a lower layer reaching up, fails the build (README: "Where changes go").
 */
@AnalyzeClasses(packages = "io.pgfleet.server", importOptions = ImportOption.DoNotIncludeTests.class)
class ServerLayersTest {

    @ArchTest
    static final ArchRule noCycleBetweenPackages = slices().matching("io.pgfleet.server.(*)..")
            .should()
            .beFreeOfCycles()
            .because("a cycle blurs where a change goes");

    @ArchTest
    static final ArchRule layersPointOneWay = layeredArchitecture()
            .consideringOnlyDependenciesInLayers()
            .layer("entry")
            .definedBy("io.pgfleet.server")
            .layer("api")
            .definedBy("io.pgfleet.server.api..")
            .layer("ha")
            .definedBy("io.pgfleet.server.ha..")
            .layer("tasks")
            .definedBy("io.pgfleet.server.tasks..")
            .layer("fleet")
            .definedBy("io.pgfleet.server.fleet..")
            .layer("security")
            .definedBy("io.pgfleet.server.security..")
            .layer("events")
            .definedBy("io.pgfleet.server.events..")
            .layer("catalog")
            .definedBy("io.pgfleet.server.catalog..")
            .layer("agent")
            .definedBy("io.pgfleet.server.agent..")
            .layer("config")
            .definedBy("io.pgfleet.server.config..")
            .whereLayer("entry")
            .mayNotBeAccessedByAnyLayer()
            .whereLayer("api")
            .mayOnlyBeAccessedByLayers("entry")
            .whereLayer("ha")
            .mayOnlyBeAccessedByLayers("api")
            .whereLayer("tasks")
            .mayOnlyBeAccessedByLayers("api", "ha")
            .whereLayer("fleet")
            .mayOnlyBeAccessedByLayers("api", "ha", "tasks")
            .whereLayer("security")
            .mayOnlyBeAccessedByLayers("api", "ha", "tasks", "fleet")
            .whereLayer("events")
            .mayOnlyBeAccessedByLayers("api", "ha", "tasks")
            .whereLayer("catalog")
            .mayOnlyBeAccessedByLayers("api", "ha", "tasks", "fleet", "security", "events")
            .whereLayer("agent")
            .mayOnlyBeAccessedByLayers("api", "ha", "tasks", "fleet", "security", "events", "catalog")
            .because(
                    "api → ha → tasks → fleet → security, events → catalog → agent → config; core under them" + " all");
}
