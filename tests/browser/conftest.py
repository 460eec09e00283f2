"""Browser tests: Debian's Chromium, driven by Playwright, against the shop served by pytest-django's live server.

What only a browser shows: the shop's pages work under their Content Security Policy (any violation, script error or
missing stylesheet, script or image fails the test), forms post with the cookies a browser keeps, Bootstrap's
scripts run, and axe-core finds no accessibility violation. `make test` installs Chromium (`apt-get install
chromium`) and axe-core (`npm ci`); set SHOP_SCREENSHOTS to a folder to keep a screenshot of every page visited.
"""

import json
import os
from pathlib import Path

import pytest
from django.conf import settings

CHROMIUM = Path(os.environ.get("SHOP_CHROMIUM", "/usr/bin/chromium"))
AXE = Path(settings.BASE_DIR) / "node_modules" / "axe-core" / "axe.min.js"
# As the machines' own check starts it: no sandbox for root, and nothing that reaches for the network.
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# What axe checks: WCAG 2.1 A and AA, and its best practices (landmarks, one h1, heading order).
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
IMPACTS = ("minor", "moderate", "serious", "critical")


@pytest.fixture(scope="module")
def browser():
    """One Chromium per test module. Playwright's synchronous API keeps an event loop in this thread while it runs,
    which Django takes for async code; the tests' own ORM calls are synchronous, so its check is off meanwhile (and
    on again for the rest of the suite)."""
    for needed, how in ((CHROMIUM, "apt-get install chromium"), (AXE, "npm ci")):
        if not needed.exists():
            pytest.fail(f"{needed} is missing: `make test` installs it ({how})", pytrace=False)
    from playwright.sync_api import sync_playwright

    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
            yield chromium
            chromium.close()
    finally:
        del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]


class Visitor:
    """One browser (its own cookies) on the live shop, recording what went wrong on its pages: console errors
    (a CSP violation is one), uncaught script errors, and stylesheets, scripts, images or fonts that did not load."""

    ASSETS = {"stylesheet", "script", "image", "font"}

    def __init__(self, context, base_url: str) -> None:
        self.context, self.base_url = context, base_url
        self.problems: list[str] = []
        self.page = context.new_page()
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.problems.append(f"{self.page.url}: script error: {error}"))
        self.page.on("requestfailed", self._failed)
        self.page.on("response", self._response)
        self.shots = os.environ.get("SHOP_SCREENSHOTS", "")
        self.auditing = False

    def _console(self, message) -> None:
        # A page that answers 404 on purpose is logged as a failed resource: assets are checked by _response.
        if self.auditing:  # axe-core itself sets inline styles as it measures some pages
            return
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.problems.append(f"{self.page.url}: console: {message.text}")

    def _failed(self, request) -> None:
        # Aborted: the page was left before it finished loading (the test moved on); a missing file answers 404.
        if request.resource_type in self.ASSETS and "ERR_ABORTED" not in (request.failure or ""):
            self.problems.append(f"{request.resource_type} failed: {request.url} ({request.failure})")

    def _response(self, response) -> None:
        if response.request.resource_type in self.ASSETS and response.status >= 400:
            self.problems.append(f"{response.request.resource_type} {response.status}: {response.url}")

    def open(self, path: str, *, status: int = 200):
        """Goes to `path` and checks the answer's status."""
        response = self.page.goto(self.base_url + path)
        assert response is not None and response.status == status, f"{path}: {response and response.status}"
        self.snap()
        return response

    def snap(self, name: str = "") -> None:
        if self.shots:
            slug = name or self.page.url.removeprefix(self.base_url).strip("/").replace("/", "_") or "home"
            self.page.screenshot(path=str(Path(self.shots) / f"{slug[:80]}.png"), full_page=True)

    def accessibility_violations(self, *, impacts=IMPACTS) -> list[str]:
        """What axe-core finds on the page as it is now (of these impacts), one line per rule and element."""
        self.auditing = True
        try:
            self.page.evaluate(AXE.read_text())  # evaluated by the browser's devtools, which the page's CSP allows
            result = self.page.evaluate(
                "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
                AXE_TAGS,
            )
        finally:
            self.auditing = False
        return [
            f"{rule['id']} ({rule['impact']}): {rule['help']} at {json.dumps(node['target'])}"
            for rule in result["violations"]
            if rule["impact"] in impacts
            for node in rule["nodes"]
        ]


@pytest.fixture
def visit(browser, live_server, transactional_db):
    """`visit()` opens a new browser (no cookies) on the live shop; each one's problems fail the test at its end."""
    visitors: list[Visitor] = []

    def new(**options) -> Visitor:
        visitor = Visitor(browser.new_context(**options), live_server.url)
        visitors.append(visitor)
        return visitor

    yield new
    problems = [problem for visitor in visitors for problem in visitor.problems]
    for visitor in visitors:
        visitor.context.close()
    assert not problems, "\n".join(problems)
