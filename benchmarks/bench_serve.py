"""The web demo's speed: page load in headless Chromium and single redresses over HTTP, on a run folder.

    python benchmarks/bench_serve.py --run runs/demo [--repeats 20]

Serves the run with the real server (uvicorn in a thread, models loaded once), then
- page load: headless Chromium opens the page until the gallery is drawn (skipped without Chromium/Selenium);
- redress: ``POST /api/redress`` for one test person and one sentence, ``--repeats`` times after one warm-up,
  timed at the client (the whole request: form parsing, both stages, PNG encoding, JSON).
Prints a table and the median/max in seconds. Timing does not depend on how long the run was trained, only on
its configuration (image size, widths), so a run trained for a few steps at the demo preset measures the demo.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import time
from pathlib import Path


def page_load_seconds(url: str, screenshot: Path | None = None) -> float | None:
    """Seconds until headless Chromium shows the gallery of ``url``; None without a browser.

    With ``screenshot``, it then picks the second person, types the default sentence, redresses and saves a
    screenshot of the page there (for the docs).
    """
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
        from selenium.webdriver.support.ui import WebDriverWait
    except ModuleNotFoundError:
        return None
    chromium, driver_path = shutil.which("chromium"), shutil.which("chromedriver")
    if chromium is None or driver_path is None:
        return None
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    arguments = ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--window-size=1100,1300")
    for argument in arguments:
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    try:
        start = time.perf_counter()
        driver.get(url + "/")
        WebDriverWait(driver, 30).until(lambda d: d.find_elements("css selector", "#gallery button.person"))
        seconds = time.perf_counter() - start
        if screenshot is not None:
            driver.find_elements("css selector", "#gallery button.person")[1].click()
            box = driver.find_element("id", "sentence")
            box.clear()
            box.send_keys("the lady wore a red long-sleeved dress.")
            status, run = driver.find_element("id", "sentence-status"), driver.find_element("id", "run")
            WebDriverWait(driver, 30).until(lambda d: status.text.startswith("all ") and run.is_enabled())
            run.click()
            try:
                WebDriverWait(driver, 30).until(
                    lambda d: d.find_element("id", "result-section").is_displayed()
                )
            except Exception as err:
                driver.save_screenshot(str(screenshot))
                raise RuntimeError(
                    f"no result on the page; it says {driver.find_element('id', 'error').text!r}"
                ) from err
            time.sleep(0.5)  # the data-URL pictures decode
            driver.save_screenshot(str(screenshot))
        return seconds
    finally:
        driver.quit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", type=Path, required=True, help="a trained run folder")
    parser.add_argument("--repeats", type=int, default=20, help="timed redresses (default 20)")
    parser.add_argument("--sentence", default="the lady wore a red long-sleeved dress.")
    parser.add_argument("--screenshot", type=Path, help="also save a screenshot of a redress on the page")
    args = parser.parse_args()

    import httpx
    from fashion_gan.cli.commands import DEMO_SENTENCES, redress_grid
    from fashion_gan.serve.app import create_app
    from fashion_gan.serve.server import background_server

    start = time.perf_counter()
    app = create_app(args.run, draw_grid=redress_grid, grid_sentences=DEMO_SENTENCES)
    load_models = time.perf_counter() - start
    size = app.state.demo.cfg.data.image_size
    with background_server(app) as url, httpx.Client(base_url=url, timeout=60) as client:
        first_page = page_load_seconds(url)
        page = page_load_seconds(url, args.screenshot)  # a second visit (and the screenshot)
        form = {"person": "1", "sentence": args.sentence, "model": "compositional", "identity": "structural"}
        client.post("/api/redress", data=form).raise_for_status()  # warm-up
        times = []
        for seed in range(args.repeats):
            t0 = time.perf_counter()
            client.post("/api/redress", data={**form, "seed": str(seed)}).raise_for_status()
            times.append(time.perf_counter() - t0)
    print(f"run {args.run} ({size}x{size}); models loaded in {load_models:.2f} s")
    print("| measure | seconds |\n|---|---|")
    if first_page is None:
        print("| page load (headless Chromium) | skipped: no chromium/chromedriver/selenium |")
    else:
        print(f"| page load, first visit (headless Chromium, until the gallery shows) | {first_page:.3f} |")
        print(f"| page load, second visit | {page:.3f} |")
    print(f"| redress over HTTP, median of {len(times)} | {statistics.median(times):.3f} |")
    print(f"| redress over HTTP, slowest | {max(times):.3f} |")


if __name__ == "__main__":
    main()
