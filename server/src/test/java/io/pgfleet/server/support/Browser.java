package io.pgfleet.server.support;

import static org.awaitility.Awaitility.await;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;

/**
 * Debian's headless Chromium driven through its own chromedriver ({@code apt-get install chromium
 * chromium-driver}); both paths are given, so Selenium Manager never looks for (or downloads) a
 * browser. Pages are found the way a person finds them: by label, role and visible text.
 */
public final class Browser implements AutoCloseable {
    public static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    public static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
    private static final Duration WAIT = Duration.ofSeconds(30);

    private final ChromeDriver driver;
    private final Path profile;

    public Browser(int width, int height) {
        try {
            profile = Files.createTempDirectory("pgfleet-chromium");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM.toFile());
        options.addArguments(
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--user-data-dir=" + profile,
                "--window-size=" + width + "," + height);
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(CHROMEDRIVER.toFile())
                // A port the kernel picks from its ephemeral range: Selenium's own "any free port" may land
                // in the instance port ranges of the tests running beside this one in the other fork.
                .usingPort(io.pgfleet.testkit.Ports.free())
                .build();
        driver = new ChromeDriver(service, options);
        driver.manage().timeouts().scriptTimeout(Duration.ofSeconds(20));
    }

    public static boolean isInstalled() {
        return Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER);
    }

    public ChromeDriver driver() {
        return driver;
    }

    public void open(String url) {
        driver.get(url);
    }

    /** The form control whose label says {@code label}, found through the label's {@code for}. */
    public WebElement field(String label) {
        return eventually(() -> {
            for (WebElement l : driver.findElements(By.tagName("label"))) {
                if (l.isDisplayed() && l.getText().trim().equals(label)) {
                    return driver.findElement(By.id(l.getDomAttribute("for")));
                }
            }
            throw new AssertionError("no field labelled '" + label + "'");
        });
    }

    /** A displayed, enabled button (or link styled as one) inside {@code scope} whose text is {@code text}. */
    public WebElement button(WebElement scope, String text) {
        return eventually(() -> {
            for (WebElement b : scope.findElements(By.cssSelector("button, a.button"))) {
                if (b.isDisplayed() && b.getText().trim().equals(text)) {
                    return b;
                }
            }
            throw new AssertionError("no button '" + text + "'");
        });
    }

    public WebElement button(String text) {
        return button(driver.findElement(By.tagName("body")), text);
    }

    public List<WebElement> buttons(WebElement scope, String text) {
        return scope.findElements(By.cssSelector("button, a.button")).stream()
                .filter(b -> b.isDisplayed() && b.getText().trim().equals(text))
                .toList();
    }

    public WebElement link(String text) {
        return eventually(() -> driver.findElement(By.linkText(text)));
    }

    /** The table row whose header cell (or first cell) reads {@code text}, in the table captioned {@code caption}. */
    public WebElement row(String caption, String text) {
        return eventually(() -> {
            for (WebElement table : driver.findElements(By.tagName("table"))) {
                if (!caption.equals(table.findElement(By.tagName("caption")).getDomProperty("textContent"))) {
                    continue;
                }
                for (WebElement tr : table.findElements(By.cssSelector("tbody tr"))) {
                    List<WebElement> cells = tr.findElements(By.cssSelector("th, td"));
                    if (!cells.isEmpty() && cells.get(0).getText().trim().equals(text)) {
                        return tr;
                    }
                }
                throw new AssertionError("no row '" + text + "' in table '" + caption + "'");
            }
            throw new AssertionError("no table captioned '" + caption + "'");
        });
    }

    /** The text of the cell of {@code row} under the column headed {@code column}. */
    public String cell(WebElement row, String column) {
        WebElement table = row.findElement(By.xpath("ancestor::table"));
        List<WebElement> headers = table.findElements(By.cssSelector("thead th"));
        for (int i = 0; i < headers.size(); i++) {
            if (headers.get(i).getText().trim().equalsIgnoreCase(column)) {
                return row.findElements(By.cssSelector("th, td"))
                        .get(i)
                        .getText()
                        .trim();
            }
        }
        throw new AssertionError("no column '" + column + "'");
    }

    public String text() {
        return driver.findElement(By.tagName("body")).getText();
    }

    public Object script(String js, Object... args) {
        return driver.executeScript(js, args);
    }

    public Object asyncScript(String js, Object... args) {
        return driver.executeAsyncScript(js, args);
    }

    public void screenshot(Path file) {
        try {
            Files.createDirectories(file.getParent());
            File shot = driver.getScreenshotAs(OutputType.FILE);
            Files.copy(shot.toPath(), file, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            Files.setPosixFilePermissions(file, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Waits for {@code lookup} (the page has what the picture should show), then saves a PNG of the window. */
    public void screenshotAfter(Callable<?> lookup, Path file) {
        eventually(lookup);
        screenshot(file);
    }

    /** Retries {@code lookup} until it returns without throwing, for at most 30 s. */
    public <T> T eventually(Callable<T> lookup) {
        Object[] found = new Object[1];
        Throwable[] last = new Throwable[1];
        try {
            await().atMost(WAIT).pollInterval(Duration.ofMillis(100)).until(() -> {
                try {
                    found[0] = lookup.call();
                    return true;
                } catch (Exception | AssertionError e) {
                    last[0] = e;
                    return false;
                }
            });
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            throw new AssertionError(
                    "not found within " + WAIT.toSeconds() + " s: " + (last[0] == null ? "" : last[0].getMessage())
                            + "\n--- the page at " + driver.getCurrentUrl() + " reads:\n" + text(),
                    last[0]);
        }
        @SuppressWarnings("unchecked")
        T result = (T) found[0];
        return result;
    }

    /** Waits until {@code condition} holds, for at most 30 s (page content that follows the event stream). */
    public void until(String what, Callable<Boolean> condition) {
        try {
            await(what)
                    .atMost(WAIT)
                    .pollInterval(Duration.ofMillis(100))
                    .ignoreExceptions()
                    .until(condition);
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            throw new AssertionError(
                    e.getMessage() + "\n--- the page at " + driver.getCurrentUrl() + " reads:\n" + text(), e);
        }
    }

    @Override
    public void close() {
        try {
            driver.quit();
        } finally {
            ServerUnderTest.deleteTree(profile);
        }
    }
}
