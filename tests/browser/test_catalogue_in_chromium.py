"""A citizen in a real headless Chromium: home page → search → a procedure's page.

Runs the portal as `portal serve` in a subprocess on a seeded SQLite file, and
drives Debian's Chromium with Playwright (no browser download). Screenshots are
kept under test-artifacts/ for a person to look at.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import ADMIN_PASSWORD, ARTIFACTS, DEMO_PASSWORD, IN_CI

pytestmark = pytest.mark.browser
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
PORTAL = str(Path(sys.executable).parent / "portal")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    if not CHROMIUM:
        if IN_CI:
            pytest.fail("Chromium is not installed (apt-get install chromium)")
        pytest.skip("Chromium is not installed; `make test` installs it")
    workdir = tmp_path_factory.mktemp("browser")
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{workdir / 'portal.sqlite3'}",
        "PORTAL_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "PORTAL_DEMO_PASSWORD": DEMO_PASSWORD,
    }
    subprocess.run([PORTAL, "seed"], env=env, check=True, capture_output=True, timeout=120)
    port = _free_port()
    log = open(workdir / "server.log", "wb")
    process = subprocess.Popen([PORTAL, "serve", "--port", str(port)], env=env, stdout=log, stderr=log)
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(base + "/health", timeout=1)
            break
        except OSError:
            time.sleep(0.1)
    else:
        process.kill()
        pytest.fail("the portal did not start: " + (workdir / "server.log").read_text())
    yield base
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture(scope="module")
def page(server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        context = browser.new_context(locale="vi-VN", viewport={"width": 1280, "height": 900})
        yield context.new_page()
        browser.close()


def test_a_citizen_finds_a_procedure_and_reads_what_to_prepare(server, page):
    ARTIFACTS.mkdir(exist_ok=True)
    page.goto(server + "/")
    assert "Cổng Dịch vụ công" in page.title()
    page.screenshot(path=str(ARTIFACTS / "01-home.png"), full_page=True)

    page.fill("#q", "chung thuc")  # typed without diacritics, as many people do
    page.click("button[type=submit]")
    page.wait_for_url("**/thu-tuc?q=chung+thuc")
    results = page.locator("#results .card")
    assert results.count() >= 2
    # Matched on the name or on the field (lĩnh vực) shown under it.
    assert all("Chứng thực" in t for t in results.all_inner_texts())
    assert sum("Chứng thực" in t for t in results.locator(".card__title").all_inner_texts()) >= 2

    # The filters refresh the results in place (htmx) and keep the address shareable.
    page.select_option("#level", "commune")
    page.wait_for_function("() => location.search.includes('level=commune')")
    page.fill("#q", "khai sinh")
    page.wait_for_function(
        "() => [...document.querySelectorAll('#results .card__title')]"
        ".some(a => a.textContent.includes('khai sinh'))"
    )
    page.screenshot(path=str(ARTIFACTS / "02-catalogue-search.png"), full_page=True)

    page.locator("#results .card__title", has_text="Đăng ký khai sinh").first.click()
    page.wait_for_url("**/thu-tuc/*")
    assert page.locator("h1").inner_text().startswith("Đăng ký khai sinh")
    assert page.locator("text=Thành phần hồ sơ").count() == 1
    page.screenshot(path=str(ARTIFACTS / "03-procedure.png"), full_page=True)
