package io.pgfleet.core;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;

/** Dependencies point inward (CONVENTIONS.md): the domain knows no framework, no I/O, no outer module. */
@AnalyzeClasses(packages = "io.pgfleet.core", importOptions = ImportOption.DoNotIncludeTests.class)
class CoreDependenciesTest {

    @ArchTest
    static final ArchRule coreUsesNoFramework = noClasses()
            .that()
            .resideInAPackage("io.pgfleet.core..")
            .should()
            .dependOnClassesThat()
            .resideInAnyPackage("org.springframework..")
            .because("core is plain Java; Spring lives in server");

    @ArchTest
    static final ArchRule coreDoesNoIo = noClasses()
            .that()
            .resideInAPackage("io.pgfleet.core..")
            .should()
            .dependOnClassesThat()
            .resideInAnyPackage("java.sql..", "javax.sql..", "java.net..", "java.nio.file..")
            .orShould()
            .dependOnClassesThat()
            .belongToAnyOf(ProcessBuilder.class)
            .because("core decides, server acts: no JDBC, sockets, files or processes in the domain");

    @ArchTest
    static final ArchRule coreKnowsNoOuterModule = noClasses()
            .that()
            .resideInAPackage("io.pgfleet.core..")
            .should()
            .dependOnClassesThat()
            .resideInAnyPackage("io.pgfleet.server..", "io.pgfleet.cli..")
            .because("dependencies point inward: server and cli use core, never the reverse");
}
