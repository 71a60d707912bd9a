package io.pgfleet.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgfleet.server.support.Api;
import io.pgfleet.server.support.Browser;
import io.pgfleet.server.support.ServerUnderTest;
import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.openqa.selenium.By;
import org.openqa.selenium.Cookie;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.Keys;
import org.openqa.selenium.WebElement;
import tools.jackson.databind.JsonNode;

/**
 * The web console in a real headless Chromium against a real server: one server and one browser for
 * the class. Pages are driven by labels, roles and visible text, as a person would use them.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ConsoleIT {
    /** The README shows these two pictures; the tests remake them on every run. */
    static final Path DOCS = Path.of(System.getProperty("user.dir")).getParent().resolve("docs");

    private Path home;
    private ServerUnderTest server;
    private Api admin;
    private Browser browser;
    private String base;

    @BeforeAll
    void start() {
        assertThat(Browser.isInstalled())
                .as(
                        "/usr/bin/chromium and /usr/bin/chromedriver: apt-get install chromium chromium-driver (.ci/run does)")
                .isTrue();
        home = ServerUnderTest.newHome("con");
        server = ServerUnderTest.start(home, 7800, 7829);
        admin = server.api();
        base = admin.base();
        browser = new Browser(1280, 900);
        JsonNode created = admin.post("/v1/databases", """
                        {"id": "shop", "labels": {"team": "billing"},
                         "spec": {"database_name": "shop", "nodes": [{"name": "n1"}, {"name": "n2"}],
                                  "database_users": [{"username": "admin", "db_owner": true}, {"username": "app"}]}}""").expect(202).body();
        admin.awaitTask("shop", created);
    }

    @AfterAll
    void stop() {
        if (browser != null) {
            browser.close();
        }
        if (server != null) {
            server.close();
        }
        if (home != null) {
            ServerUnderTest.cleanUp(home);
        }
    }

    @BeforeEach
    void freshBrowser() {
        browser.open(base + "/v1/health");
        browser.driver().manage().deleteAllCookies();
        browser.open(base + "/");
    }

    private void logIn(String key) {
        browser.script("location.hash = '#/'"); // after logging in, the console shows the page of the address
        browser.field("API key").sendKeys(key);
        browser.button("Log in").click();
        browser.until(
                "the fleet page",
                () -> browser.driver().findElement(By.tagName("h1")).getText().equals("Fleet"));
    }

    private String createKey(String role, String tenant) {
        String body = "{\"name\": \"console " + role + "\", \"role\": \"" + role + "\""
                + (tenant == null ? "" : ", \"tenant\": \"" + tenant + "\"") + "}";
        return admin.post("/v1/api-keys", body).expect(201).body().path("key").asString();
    }

    @Test
    @Order(1)
    void logInAndSeeADatabaseCreatedThroughTheApi() {
        logIn(admin.key());
        WebElement shop = browser.row("Databases", "shop");
        assertThat(browser.cell(shop, "State")).isEqualTo("available");
        assertThat(browser.cell(shop, "Labels")).isEqualTo("team=billing");
        assertThat(browser.cell(shop, "Nodes")).contains("n1").contains("n2");
        WebElement host = browser.row("Hosts", "host-1");
        assertThat(browser.cell(host, "Instances")).isEqualTo("2");

        // The key went into a session: an HttpOnly, SameSite=Strict cookie the page's scripts cannot read.
        Cookie cookie = browser.driver().manage().getCookieNamed("pgfleet_session");
        assertThat(cookie.isHttpOnly()).isTrue();
        assertThat(cookie.getSameSite()).isEqualTo("Strict");
        assertThat((String) browser.script("return document.cookie")).doesNotContain("pgfleet_session");
        assertThat((Long) browser.script("return localStorage.length + sessionStorage.length"))
                .isZero();
        assertThat(browser.driver().getPageSource()).doesNotContain(admin.key());

        browser.field("Filter").sendKeys("nothing-like-this");
        browser.until("the filter hides shop", () -> !browser.text().contains("shop"));
        browser.field("Filter").sendKeys(Keys.chord(Keys.CONTROL, "a"), Keys.BACK_SPACE);
    }

    @Test
    @Order(2)
    void stopN1FromItsRowAndWatchItBecomeStoppedWithoutAReload() {
        logIn(admin.key());
        browser.link("shop").click();
        WebElement n1 = browser.row("Instances of shop", "n1");
        assertThat(browser.cell(n1, "State")).isEqualTo("available");
        browser.script("window.notReloaded = true");

        browser.button(n1, "Stop").click();
        WebElement dialog = browser.driver().findElement(By.id("confirm"));
        assertThat(dialog.getText()).contains("Stop n1 of shop?");
        browser.button(dialog, "Stop").click();

        browser.until(
                "n1 stopped",
                () -> browser.cell(browser.row("Instances of shop", "n1"), "State")
                        .equals("stopped"));
        assertThat(browser.script("return window.notReloaded")).isEqualTo(true);
        assertThat(browser.cell(browser.row("Instances of shop", "n2"), "State"))
                .isEqualTo("available");
        assertThat(admin.instanceState("shop", "n1")).isEqualTo("stopped");
        browser.until(
                "the stop task completed in the task table",
                () -> browser.text().contains("stop_instance"));
        browser.until(
                "its log followed live",
                () -> browser.driver()
                        .findElement(By.cssSelector(".tasklog"))
                        .getText()
                        .contains("completed"));

        // Start it again from its row; the state follows the event stream back to available.
        browser.button(browser.row("Instances of shop", "n1"), "Start").click();
        browser.button(browser.driver().findElement(By.id("confirm")), "Start").click();
        browser.until(
                "n1 available again",
                () -> browser.cell(browser.row("Instances of shop", "n1"), "State")
                        .equals("available"));
        // The agent samples what the page looks at: n2's chart shows a measured rate within a few rounds.
        browser.until(
                "n2's chart shows a rate",
                () -> browser.cell(browser.row("Instances of shop", "n2"), "Activity")
                        .matches("[0-9.]+ tps · [0-9]+ conn"));
        browser.driver().manage().window().setSize(new Dimension(1280, 1500));
        browser.screenshot(DOCS.resolve("console-database.png"));
        browser.driver().manage().window().setSize(new Dimension(1280, 900));
    }

    @Test
    @Order(3)
    void createADatabaseFromTheFormWithAFieldErrorShownInPlace() {
        logIn(admin.key());
        browser.link("Create database").click();
        browser.field("Database id").sendKeys("formdb");
        browser.field("Port of node 1").sendKeys("80");
        browser.field("Username 1").clear();
        browser.field("Username 1").sendKeys("owner");
        browser.field("Labels").sendKeys("team=web");
        browser.button("Create database").click();

        WebElement port = browser.field("Port of node 1");
        browser.until("the port marked invalid", () -> "true".equals(port.getDomAttribute("aria-invalid")));
        String describedBy = port.getDomAttribute("aria-describedby");
        String error = browser.driver().findElement(By.id(describedBy)).getText();
        assertThat(error).contains("80").contains("1024-65535");
        // in place: the message is inside the port's own field, not only in a summary
        assertThat(port.findElement(By.xpath("ancestor::div[contains(@class,'field')]"))
                        .getText())
                .contains(error);
        assertThat(admin.get("/v1/databases/formdb").status()).isEqualTo(404);

        port.clear();
        browser.button("Create database").click();
        browser.until(
                "the new database's page",
                () -> browser.driver().getCurrentUrl().endsWith("#/databases/formdb"));
        browser.until(
                "formdb available",
                () -> browser.cell(browser.row("Instances of formdb", "n1"), "State")
                        .equals("available"));
        assertThat(admin.database("formdb").path("labels").path("team").asString())
                .isEqualTo("web");
    }

    @Test
    @Order(4)
    void aViewersSessionCannotAct() {
        logIn(createKey("viewer", null));
        assertThat(browser.text()).contains("viewer").doesNotContain("Create database");
        browser.link("shop").click();
        WebElement n1 = browser.row("Instances of shop", "n1");
        assertThat(browser.text()).contains("Read only");
        assertThat(browser.buttons(n1, "Stop")).isEmpty();
        assertThat(browser.buttons(browser.driver().findElement(By.tagName("main")), "Delete"))
                .isEmpty();

        // Even a hand-made request with the session and its CSRF token is refused by the server.
        Object status = browser.asyncScript("""
                const done = arguments[arguments.length - 1];
                fetch('/v1/session').then(r => r.json()).then(s => fetch(
                    '/v1/databases/shop/instances/n1/stop',
                    {method: 'POST', headers: {'X-CSRF-Token': s.csrf_token, 'Content-Type': 'application/json'},
                     body: '{}'})).then(r => done(r.status), e => done(String(e)));""");
        assertThat(status).isEqualTo(403L);
        assertThat(admin.instanceState("shop", "n1")).isEqualTo("available");
    }

    @Test
    @Order(5)
    void anotherTenantsDatabaseIsNotShown() {
        admin.post("/v1/tenants", "{\"name\": \"other\"}").expect(201);
        Api other = admin.withKey(createKey("operator", "other"));
        other.post("/v1/databases", """
                        {"id": "their-db", "spec": {"database_name": "theirs", "nodes": [{"name": "n1"}]}}""").expect(202);

        logIn(other.key());
        browser.row("Databases", "their-db");
        assertThat(browser.text()).contains("tenant other").doesNotContain("shop");
        browser.open(base + "/#/databases/shop");
        browser.until("shop is not found", () -> browser.text().contains("not found"));

        browser.button("Log out").click();
        logIn(admin.key());
        browser.row("Databases", "shop");
        assertThat(browser.text()).doesNotContain("their-db");
    }

    @Test
    @Order(6)
    void logoutEndsTheSessionOnTheServer() {
        logIn(admin.key());
        browser.screenshotAfter(() -> browser.row("Databases", "formdb"), DOCS.resolve("console-fleet.png"));
        String cookie =
                browser.driver().manage().getCookieNamed("pgfleet_session").getValue();
        assertThat(session(cookie)).isEqualTo(200);

        browser.button("Log out").click();
        browser.field("API key");
        assertThat(browser.text()).contains("You are logged out");
        // The old cookie is worthless now, even replayed by hand.
        assertThat(session(cookie)).isEqualTo(401);
        browser.open(base + "/#/databases/shop");
        browser.driver().navigate().refresh();
        browser.field("API key");
        assertThat(browser.text()).doesNotContain("Instances of shop");
    }

    @Test
    @Order(7)
    void aWrongKeyIsRefusedWithTheProblemsSentence() {
        browser.field("API key").sendKeys("pgf_aaaaaaaaaaaa_" + "x".repeat(43));
        browser.button("Log in").click();
        browser.until("the refusal", () -> browser.text().contains("the API key is malformed, unknown or revoked"));
        assertThat(browser.driver().manage().getCookieNamed("pgfleet_session")).isNull();
    }

    private int session(String cookie) {
        return admin.withKey(null)
                .send(HttpRequest.newBuilder(URI.create(base + "/v1/session"))
                        .header("Cookie", "pgfleet_session=" + cookie)
                        .GET())
                .status();
    }
}
