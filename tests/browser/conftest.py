"""Fixtures for the real-browser tests of the built website.

The site is built once per test session with notebook execution switched off (nbval executes every
notebook in the same `make test`), served from 127.0.0.1, and opened in Debian's chromium through
Playwright. Every request that would leave 127.0.0.1 is blocked and recorded, so a test can assert
that none was attempted. Set COURSE_TEST_SITE=/path/to/html to test an already built site instead.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
SITE_OUT = ROOT / "_build" / "test-site"
LOCAL_HOSTS = {"127.0.0.1", "localhost"}
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


# ---------------------------------------------------------------- pages of the book


def book_config() -> dict:
    return yaml.safe_load((ROOT / "_config.yml").read_text())


def toc_docnames() -> list[str]:
    """Every document the table of contents lists, root first, as Sphinx docnames."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    names = [toc["root"]]
    for part in toc.get("parts", []):
        names += [entry["file"] for entry in part.get("chapters", [])]
    return [str(Path(name).with_suffix("")) if name.endswith((".md", ".ipynb")) else name for name in names]


def source_of(docname: str) -> Path | None:
    for ext in (".ipynb", ".md"):
        path = ROOT / f"{docname}{ext}"
        if path.is_file():
            return path
    return None


def numbered_docnames() -> list[str]:
    """The documents of the parts of the table of contents marked ``numbered: true`` (the chapters)."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    return [entry["file"] for part in toc.get("parts", []) if part.get("numbered")
            for entry in part.get("chapters", [])]


def notebook_docnames() -> list[str]:
    return [d for d in toc_docnames() if (src := source_of(d)) is not None and src.suffix == ".ipynb"]


# The pages every test visits: the documents of the table of contents plus Sphinx's own pages.
PAGES = [f"{d}.html" for d in toc_docnames()] + ["genindex.html", "search.html"]
CHAPTER_PAGES = [f"{d}.html" for d in notebook_docnames()]
# The chapter pages Sphinx numbers ("1. ..."); the appendix is a chapter page without a number.
NUMBERED_PAGES = [f"{d}.html" for d in numbered_docnames()]


# ---------------------------------------------------------------- the built site


@dataclass
class Site:
    html: Path
    returncode: int | None  # None when an already built site was given
    log: str
    seconds: float


def _build_config() -> Path:
    """The book's _config.yml with notebook execution switched off."""
    config = book_config()
    config.setdefault("execute", {})["execute_notebooks"] = "off"
    # Jupyter Book resolves local extension folders relative to the config file: make them absolute.
    local = (config.get("sphinx") or {}).get("local_extensions") or {}
    for name, folder in local.items():
        local[name] = str((ROOT / folder).resolve())
    path = ROOT / "_build" / "test-site-config.yml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


@pytest.fixture(scope="session")
def site() -> Site:
    given = os.environ.get("COURSE_TEST_SITE")
    if given:
        return Site(Path(given).resolve(), None, "", 0.0)
    shutil.rmtree(SITE_OUT, ignore_errors=True)
    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    cmd = [str(jupyter_book), "build", str(ROOT), "--path-output", str(SITE_OUT),
           "--config", str(_build_config()), "-W", "-n", "--keep-going"]
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "NO_COLOR": "1"})
    seconds = time.perf_counter() - start
    log = proc.stdout + proc.stderr
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "test-site-build.log").write_text(log)
    html = SITE_OUT / "_build" / "html"
    if not (html / "index.html").is_file():
        pytest.fail(f"the test build of the site produced no index.html (exit {proc.returncode}):\n{log[-3000:]}")
    return Site(html, proc.returncode, log, seconds)


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the base class's signature
        pass


@pytest.fixture(scope="session")
def base_url(site: Site):
    handler = functools.partial(_QuietHandler, directory=str(site.html))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


# ---------------------------------------------------------------- the browser


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="session")
def browser():
    path = chromium_path()
    if path is None:
        reason = ("chromium is not installed, so the browser tests cannot run; `make test` installs it "
                  "with apt-get when run as root (apt-get install chromium chromium-driver)")
        if os.environ.get("CI"):
            pytest.fail(reason + " [CI is set: the browser tests are required]")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=path, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@dataclass
class Traffic:
    """What the pages of one browser context asked for."""

    external: list[str] = field(default_factory=list)


def _route_locally(context, traffic: Traffic) -> None:
    def handle(route):
        url = route.request.url
        if urlsplit(url).hostname in LOCAL_HOSTS:
            route.continue_()
        else:
            traffic.external.append(url)
            route.abort("blockedbyclient")

    context.route("**/*", handle)


@pytest.fixture(scope="session")
def desktop(browser):
    context = browser.new_context(viewport=DESKTOP, service_workers="block")
    traffic = Traffic()
    _route_locally(context, traffic)
    context.traffic = traffic
    yield context
    context.close()


@pytest.fixture(scope="session")
def new_context(browser):
    """Makes browser contexts like `desktop` and `phone` for any viewport and colour scheme.

    A viewport narrower than 600 px gets a phone's settings (scale 2, mobile, touch). Every context
    routes its requests as the others do and is closed at the end of the session.
    """
    made = []

    def make(viewport: dict, dark: bool = False):
        options = {"viewport": viewport, "service_workers": "block", "color_scheme": "dark" if dark else "light"}
        if viewport["width"] < 600:
            options.update(device_scale_factor=2, is_mobile=True, has_touch=True)
        context = browser.new_context(**options)
        traffic = Traffic()
        _route_locally(context, traffic)
        context.traffic = traffic
        made.append(context)
        return context

    yield make
    for context in made:
        context.close()


@pytest.fixture(scope="session")
def phone(browser):
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True,
                                  service_workers="block")
    traffic = Traffic()
    _route_locally(context, traffic)
    context.traffic = traffic
    yield context
    context.close()
