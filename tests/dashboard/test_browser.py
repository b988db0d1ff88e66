"""The dashboard in a real browser: headless Chromium (Debian's package) driven by Selenium.

A user logs in, a job submitted through the SDK shows up and completes, and its histogram
shows the outcomes the job's counts hold. An admin sees the users and can disable a QPU.
Skipped only when no Chromium with its chromedriver is installed (`.ci/run` installs them).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from qpi import QPIClient
from qpi.server import LocalServer

webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is in the test extra")
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as EC  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
SCREENSHOTS = os.environ.get("QPI_SCREENSHOTS")  # a directory: save the docs' screenshots there

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        CHROMIUM is None or CHROMEDRIVER is None,
        reason="no Chromium/chromedriver installed (apt-get install chromium chromium-driver)",
    ),
]

BELL = (
    'OPENQASM 3.0;\ninclude "stdgates.inc";\nbit[2] c;\nqubit[2] q;\n'
    "h q[0];\ncx q[0], q[1];\nc = measure q;\n"
)


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    with LocalServer(seed=3) as srv:
        yield srv


@pytest.fixture(scope="module")
def browser() -> Iterator[webdriver.Chrome]:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"):
        options.add_argument(flag)
    options.add_argument("--window-size=1200,900")
    service = webdriver.ChromeService(executable_path=CHROMEDRIVER)
    driver = webdriver.Chrome(options=options, service=service)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


def wait(driver: webdriver.Chrome, seconds: float = 20) -> WebDriverWait:
    return WebDriverWait(driver, seconds)


def credentials(server: LocalServer) -> dict[str, str]:
    import json

    return json.loads(Path(server.credentials_path).read_text())


def log_in(driver: webdriver.Chrome, url: str, email: str, password: str, admin: bool) -> None:
    driver.get(url + "/")
    driver.execute_script("sessionStorage.clear()")
    driver.refresh()  # a full load: the page starts logged out
    form = wait(driver).until(EC.visibility_of_element_located((By.ID, "login-form")))
    form.find_element(By.NAME, "email").send_keys(email)
    form.find_element(By.NAME, "password").send_keys(password)
    if admin:
        form.find_element(By.NAME, "admin").click()
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait(driver).until(EC.visibility_of_element_located((By.ID, "nav")))


def shot(driver: webdriver.Chrome, name: str) -> None:
    if SCREENSHOTS:
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(Path(SCREENSHOTS) / f"{name}.png"))


def test_a_user_sees_a_job_complete_with_its_histogram(server, browser) -> None:
    creds = credentials(server)
    log_in(browser, server.url, creds["user_email"], creds["user_password"], admin=False)
    rows = wait(browser).until(
        EC.presence_of_all_elements_located((By.CSS_SELECTOR, "#qpu-rows tr"))
    )
    assert "mock" in [r.find_elements(By.TAG_NAME, "td")[0].text for r in rows]
    shot(browser, "qpus")

    with server.client(cache=False) as client:
        job = client.run(BELL, shots=500, qpu="mock")
        counts = job.result().get_counts()

    browser.get(server.url + "/#jobs")
    row = wait(browser).until(
        EC.presence_of_element_located((By.CSS_SELECTOR, f'#job-rows tr[data-job="{job.id}"]'))
    )
    wait(browser).until(
        lambda d: "completed" in d.find_element(By.CSS_SELECTOR, f'tr[data-job="{job.id}"]').text
    )
    row = browser.find_element(By.CSS_SELECTOR, f'tr[data-job="{job.id}"]')
    row.find_element(By.XPATH, ".//button[text()='Show']").click()
    bars = wait(browser).until(
        EC.presence_of_all_elements_located((By.CSS_SELECTOR, "#detail-histograms rect.bar"))
    )
    drawn = {
        bar.get_attribute("data-outcome"): int(bar.get_attribute("data-count")) for bar in bars
    }
    assert drawn == counts  # the Bell state: '00' and '11', as the SDK read them
    assert "OPENQASM 3.0;" in browser.find_element(By.ID, "detail-circuits").text
    shot(browser, "job")

    Select(browser.find_element(By.ID, "job-filter")).select_by_visible_text("failed")
    wait(browser).until(lambda d: not d.find_elements(By.CSS_SELECTOR, f'tr[data-job="{job.id}"]'))


def test_a_user_creates_and_revokes_a_token(server, browser) -> None:
    creds = credentials(server)
    log_in(browser, server.url, creds["user_email"], creds["user_password"], admin=False)
    browser.get(server.url + "/#tokens")
    form = wait(browser).until(EC.visibility_of_element_located((By.ID, "token-form")))
    form.find_element(By.NAME, "name").send_keys("from-the-browser")
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    token = (
        wait(browser)
        .until(EC.visibility_of_element_located((By.CSS_SELECTOR, "#new-token code")))
        .text
    )
    with QPIClient(server.url, api_token=token, cache=False, profile=False) as client:
        assert client.list_jobs(limit=1) is not None  # the new token works
    row = wait(browser).until(
        EC.presence_of_element_located(
            (By.XPATH, "//tbody[@id='token-rows']/tr[td[1][text()='from-the-browser']]")
        )
    )
    shot(browser, "tokens")
    row.find_element(By.XPATH, ".//button[text()='Revoke']").click()
    wait(browser).until(EC.staleness_of(row))
    assert "from-the-browser" not in browser.find_element(By.ID, "token-rows").text
    browser.get(server.url + "/#account")
    wait(browser).until(lambda d: d.find_element(By.ID, "balance").text.strip())


def test_an_admin_sees_users_and_disables_a_qpu(server, browser) -> None:
    log_in(browser, server.url, server.admin_email, server.admin_password, admin=True)
    browser.get(server.url + "/#users")
    wait(browser).until(
        lambda d: credentials(server)["user_email"] in d.find_element(By.ID, "user-rows").text
    )
    browser.get(server.url + "/#admin-qpus")
    form = wait(browser).until(EC.visibility_of_element_located((By.ID, "qpu-form")))
    form.find_element(By.NAME, "name").send_keys("spare")
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    row = wait(browser).until(
        EC.presence_of_element_located(
            (By.XPATH, "//tbody[@id='admin-qpu-rows']/tr[td[1][text()='spare']]")
        )
    )
    assert "offline" in row.text  # created, but no driver has connected it yet
    row.find_element(By.XPATH, ".//button[text()='Disable']").click()
    spare = "//tbody[@id='admin-qpu-rows']/tr[td[1][text()='spare']]"
    wait(browser).until(lambda d: d.find_elements(By.XPATH, spare + "//button[text()='Enable']"))
    shot(browser, "admin-qpus")
    with QPIClient(server.url, cache=False, profile=False) as admin:
        admin.auth_with_password(server.admin_email, server.admin_password, superuser=True)
        assert admin.get_qpu("spare")["enabled"] is False


def test_the_api_docs_load_without_a_network(server, browser) -> None:
    browser.get(server.url + "/docs")
    wait(browser).until(EC.presence_of_element_located((By.CSS_SELECTOR, ".swagger-ui .opblock")))
    sources = browser.execute_script(
        "return [...document.querySelectorAll('script[src],link[href]')].map(e => e.src || e.href)"
    )
    assert sources and all(s.startswith(server.url) for s in sources), sources
