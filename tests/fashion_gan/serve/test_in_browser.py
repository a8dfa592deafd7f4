"""The web demo in a real browser: headless Chromium loads the page, picks a person, types a sentence, runs it
and sees the three pictures; an unknown word is named on the page before anything runs.

Skips with the reason when Chromium, chromedriver or Selenium is missing (``.ci/run`` installs Debian's
``chromium`` and ``chromium-driver``). The screenshot is kept in the test's temporary folder.
"""

from __future__ import annotations

import shutil
import time

import pytest

CHROMIUM_ARGS = ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--window-size=1280,1400")


@pytest.fixture(scope="module")
def page(demo_app, tmp_path_factory):
    """(driver, base URL, seconds the first page load took) of the tiny run's demo in headless Chromium."""
    pytest.importorskip("selenium", reason="selenium is not installed (pip install -e '.[dev]')")
    from fashion_gan.serve.server import background_server
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium = next(filter(None, map(shutil.which, ("chromium", "chromium-browser", "google-chrome"))), None)
    chromedriver = shutil.which("chromedriver")
    if chromium is None or chromedriver is None:
        pytest.skip(
            "chromium or chromedriver not installed (Debian: apt-get install chromium chromium-driver)"
        )
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    profile = tmp_path_factory.mktemp("chromium-profile")
    for argument in (*CHROMIUM_ARGS, f"--user-data-dir={profile}"):
        options.add_argument(argument)
    with background_server(demo_app) as url:
        driver = webdriver.Chrome(service=Service(executable_path=chromedriver), options=options)
        try:
            driver.set_page_load_timeout(30)
            start = time.perf_counter()
            driver.get(url + "/")
            wait_for(driver, lambda d: d.find_elements("css selector", "#gallery button.person"))
            yield driver, url, time.perf_counter() - start
        finally:
            driver.quit()


def wait_for(driver, condition, timeout: float = 30.0):
    """``condition(driver)`` once it is truthy; fails the test with the page's error box after ``timeout``."""
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.support.ui import WebDriverWait

    try:
        return WebDriverWait(driver, timeout).until(condition)
    except TimeoutException:
        error = driver.find_element("id", "error").text
        pytest.fail(f"the page did not get there in {timeout} s; its error box says {error!r}")


def type_sentence(driver, sentence: str) -> str:
    """Type ``sentence`` into the sentence box; return the status line once the server has checked it."""
    box, status = driver.find_element("id", "sentence"), driver.find_element("id", "sentence-status")
    # Blank the status first: the page's own check of this sentence is what sets it again.
    driver.execute_script("arguments[0].textContent = ''; arguments[0].className = '';", status)
    box.clear()
    box.send_keys(sentence)
    wait_for(driver, lambda d: status.get_attribute("class") in ("ok", "bad") and status.text)
    return status.text


def test_pick_a_person_type_a_sentence_and_see_the_redress(page, tmp_path):
    driver, _, load_seconds = page
    assert load_seconds < 10  # the page and its gallery (the models were loaded before the server started)
    driver.find_elements("css selector", "#gallery button.person")[1].click()
    assert "nobody" not in driver.find_element("id", "chosen-name").text
    assert type_sentence(driver, "the lady wore a red long-sleeved dress.").startswith("all ")
    run = driver.find_element("id", "run")
    wait_for(driver, lambda d: run.is_enabled())
    run.click()
    wait_for(driver, lambda d: d.find_element("id", "result-section").is_displayed())
    for image_id in ("out-input", "out-input-labels", "out-segmentation", "out-output"):
        image = driver.find_element("id", image_id)
        wait_for(driver, lambda d, im=image: d.execute_script("return arguments[0].naturalWidth", im) > 0)
        assert image.get_attribute("src").startswith("data:image/png"), image_id
    assert "red long-sleeved dress" in driver.find_element("id", "result-caption").text
    assert driver.find_elements("css selector", "#downloads a")  # the PNG downloads
    assert driver.find_element("id", "error").text == ""
    shot = tmp_path / "serve.png"
    assert driver.save_screenshot(str(shot)) and shot.stat().st_size > 10_000


def test_an_unknown_word_is_named_and_nothing_runs(page):
    driver, _, _ = page
    driver.find_elements("css selector", "#gallery button.person")[0].click()
    status = type_sentence(driver, "the lady wore a zebraskin dress.")
    assert "zebraskin" in status
    assert driver.find_element("id", "sentence-status").get_attribute("class") == "bad"
    assert not driver.find_element("id", "run").is_enabled()
