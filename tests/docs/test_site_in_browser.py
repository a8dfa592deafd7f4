"""The built documentation site, as a reader's browser shows it.

``mkdocs build --strict`` checks what Markdown can see; this checks what only a browser sees. The site is
built once into a temporary folder, served on localhost and opened page by page in headless Chromium
(Selenium with the system's chromedriver). On every page: no formula left as raw LaTeX and no Sphinx role
left as text, no internal link to a missing page or anchor, no image that failed to load, no error from the
site's own resources or scripts, and KaTeX output wherever the page has formulas. Screenshots of three pages
are saved in the test's temporary folder, and into ``$CONDGAN_SCREENSHOTS`` when that is set.

The browser tests skip when Chromium, chromedriver or Selenium is not installed (``.ci/run`` installs
Chromium and chromedriver with apt); the checkers themselves are tested without a browser.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
PAGE_FACTS_JS = (Path(__file__).with_name("page_facts.js")).read_text(encoding="utf-8")

# Pages photographed, as URL paths below the site root, with the file names of their screenshots.
SCREENSHOTS = {
    "": "home.png",
    "guide-compositional/": "guide-compositional.png",
    "api/layers/": "api-layers.png",
}

# Without the background-networking, sync and component-update switches Chromium keeps trying to reach its
# services and hangs on a closed network; the resolver rule answers every host but localhost at once with
# "not found", so a page never waits on the network. A fresh profile keeps each run independent of the last.
CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,1000",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
)

RAW_LATEX = re.compile(
    r"\\[\[\]()]|\$\$|\\(?:frac|sum|prod|int|sqrt|mathrm|mathbb|mathcal|text|cdot|odot|times|partial|"
    r"begin|end|left|right|tanh|downarrow|qquad|quad|alpha|beta|lambda|sigma|mu|in|notin|le|ge)(?![A-Za-z])"
)
# In rendered text a role has lost its backticks to the code span after it: ":func:" then the name.
SPHINX_ROLE = re.compile(r":(?:py:)?(?:func|class|meth|mod|attr|data|exc|obj):")
# Formulas in Markdown, once code blocks and code spans are removed: $$...$$, \(...\), \[...\], $...$.
MARKDOWN_MATH = re.compile(r"\$\$|\\\(|\\\[|\\begin\{|(?<![\\$])\$(?=\S)[^$\n]*?\S\$")
MARKDOWN_CODE = re.compile(r"^[ \t]*(```|~~~).*?^[ \t]*\1|`+[^`\n]*`+", re.S | re.M)


# Checkers: pure functions of what the browser reported, tested below without a browser.


def matches_in_context(pattern: re.Pattern, text: str, width: int = 30) -> list[str]:
    """The matches of ``pattern`` in ``text`` with ``width`` characters either side, each on one line.

    Matches whose surroundings overlap share one snippet, so one formula gives one line, not one per command.

    Example:
        >>> matches_in_context(re.compile(r"\\$\\$"), "before $$ x $$ after and $$ y $$", width=3)
        ['re $$ x $$ af', 'nd $$ y $$']
    """
    windows: list[list[int]] = []
    for match in pattern.finditer(text):
        start, end = max(0, match.start() - width), match.end() + width
        if windows and start <= windows[-1][1]:
            windows[-1][1] = end
        else:
            windows.append([start, end])
    return [" ".join(text[start:end].split()) for start, end in windows]


def markdown_has_math(source: str) -> bool:
    """Whether Markdown ``source`` has a formula outside its code blocks and code spans.

    Example:
        >>> [markdown_has_math(text) for text in ("Region $k$ of $K$.", "Run `echo $HOME`.", "10$ or 20$")]
        [True, False, False]
    """
    return bool(MARKDOWN_MATH.search(MARKDOWN_CODE.sub("", source)))


def site_pages(site_dir: Path) -> list[str]:
    """The URL paths (below the site root) of every HTML page in a built site, in file order.

    ``index.html`` files are addressed by their folder (``api/layers/``), the root one by ``""``.

    Example:
        >>> import tempfile
        >>> site = Path(tempfile.mkdtemp())
        >>> for name in ("index.html", "api/layers/index.html", "404.html", "assets/logo.svg"):
        ...     (site / name).parent.mkdir(parents=True, exist_ok=True)
        ...     _ = (site / name).write_text("<html></html>")
        >>> site_pages(site)
        ['', '404.html', 'api/layers/']
    """
    pages = []
    for path in sorted(site_dir.rglob("*.html")):
        relative = path.relative_to(site_dir).as_posix()
        pages.append(relative.removesuffix("index.html"))
    return sorted(pages)


def page_source(page: str, docs_dir: Path = DOCS) -> Path | None:
    """The Markdown file that the page at URL path ``page`` was built from, or ``None`` (e.g. ``404.html``).

    Example:
        >>> page_source("api/layers/").relative_to(DOCS).as_posix(), page_source("").name
        ('api/layers.md', 'index.md')
        >>> page_source("404.html") is None
        True
    """
    stem = page.removesuffix("/")
    candidates = (
        [docs_dir / "index.md"] if not stem else [docs_dir / f"{stem}.md", docs_dir / stem / "index.md"]
    )
    return next((path for path in candidates if path.is_file()), None)


def served_file(site_dir: Path, path: str) -> Path:
    """The file that a static server of ``site_dir`` answers for URL ``path`` (a folder serves its index)."""
    target = site_dir / unquote(path).lstrip("/")
    return target / "index.html" if target.is_dir() else target


def broken_links(facts: dict[str, dict], site_dir: Path, origin: str) -> list[str]:
    """Links into the site whose page is missing or whose ``#fragment`` names no element there.

    Args:
        facts: per URL path of a page, what ``page_facts.js`` gathered there (``links`` and ``ids`` are read).
        site_dir: the built site, for the targets that are not pages (pictures, downloads).
        origin: the served site's ``scheme://host:port``; links elsewhere are not checked.

    Returns:
        One line per broken link: the page it is on, the link as written, and what is missing.

    Example:
        >>> import tempfile
        >>> site = Path(tempfile.mkdtemp()); (site / "a").mkdir()
        >>> _ = (site / "index.html").write_text(""); _ = (site / "a" / "index.html").write_text("")
        >>> o = "http://127.0.0.1:8000"
        >>> facts = {
        ...     "": {"links": [{"href": f"{o}/a/#x", "written": "a/#x"}, {"href": f"{o}/b/", "written": "b/"},
        ...                    {"href": "https://example.org/#y", "written": "https://example.org/#y"}],
        ...          "ids": []},
        ...     "a/": {"links": [{"href": f"{o}/a/#gone", "written": "#gone"}], "ids": ["x"]},
        ... }
        >>> for line in broken_links(facts, site, o):
        ...     print(line)
        (home) -> b/: no page b/
        a/ -> #gone: a/ has no element with id 'gone'
    """
    broken = []
    for page, page_facts in facts.items():
        for link in page_facts["links"]:
            target = urlsplit(link["href"])
            if f"{target.scheme}://{target.netloc}" != origin:
                continue
            where = f"{page or '(home)'} -> {link['written']}"
            file = served_file(site_dir, target.path)
            if not file.is_file():
                broken.append(f"{where}: no page {target.path.lstrip('/') or '(home)'}")
                continue
            fragment = unquote(target.fragment)
            if not fragment or file.suffix != ".html":
                continue
            target_page = file.relative_to(site_dir).as_posix().removesuffix("index.html")
            if fragment not in facts.get(target_page, {}).get("ids", ()):
                broken.append(f"{where}: {target_page or '(home)'} has no element with id {fragment!r}")
    return broken


def unloaded_images(facts: dict[str, dict]) -> list[str]:
    """Images that did not load (not complete, or no pixels): one line per image, with its page and src.

    Example:
        >>> facts = {"data/": {"images": [{"src": "../img/a.png", "complete": True, "naturalWidth": 64},
        ...                               {"src": "../img/b.png", "complete": True, "naturalWidth": 0}]}}
        >>> unloaded_images(facts)
        ['data/: ../img/b.png (complete=True, naturalWidth=0)']
    """
    return [
        f"{page or '(home)'}: {image['src']} "
        f"(complete={image['complete']}, naturalWidth={image['naturalWidth']})"
        for page, page_facts in facts.items()
        for image in page_facts["images"]
        if not (image["complete"] and image["naturalWidth"] > 0)
    ]


def untypeset_math(facts: dict[str, dict], math_sources: set[str]) -> list[str]:
    """Pages with formulas (in the Markdown source or as ``.arithmatex`` elements) that KaTeX did not typeset.

    Example:
        >>> facts = {"a/": {"formulas": 2, "typeset": 2, "katex": 2, "katexErrors": []},
        ...          "b/": {"formulas": 2, "typeset": 1, "katex": 1, "katexErrors": ["\\\\fracc"]},
        ...          "c/": {"formulas": 0, "typeset": 0, "katex": 0, "katexErrors": []}}
        >>> for line in untypeset_math(facts, {"a/", "c/"}):
        ...     print(line)
        b/: 1 of 2 formulas typeset; KaTeX errors: ['\\\\fracc']
        c/: its source has formulas but the page has no .arithmatex element
    """
    problems = []
    for page, page_facts in facts.items():
        name = page or "(home)"
        if page_facts["formulas"] == 0:
            if page in math_sources:
                problems.append(f"{name}: its source has formulas but the page has no .arithmatex element")
            continue
        if (
            page_facts["typeset"] < page_facts["formulas"]
            or page_facts["katexErrors"]
            or not page_facts["katex"]
        ):
            problem = f"{name}: {page_facts['typeset']} of {page_facts['formulas']} formulas typeset"
            if page_facts["katexErrors"]:
                problem += f"; KaTeX errors: {page_facts['katexErrors']}"
            problems.append(problem)
    return problems


def site_errors(facts: dict[str, dict]) -> list[str]:
    """The site's own resources that failed and its script errors, each once, with the pages it happened on.

    Example:
        >>> facts = {"": {"failedResources": ["HTTP 404: /a.js"], "consoleErrors": []},
        ...          "b/": {"failedResources": ["HTTP 404: /a.js"], "consoleErrors": ["b.js 3:1 TypeError"]}}
        >>> for line in site_errors(facts):
        ...     print(line)
        HTTP 404: /a.js (2 pages: (home), b/)
        b.js 3:1 TypeError (1 page: b/)
    """
    pages_of: dict[str, list[str]] = {}
    for page, page_facts in facts.items():
        for error in (*page_facts["failedResources"], *page_facts["consoleErrors"]):
            pages_of.setdefault(error, []).append(page or "(home)")
    return [
        f"{error} ({len(pages)} page{'s' * (len(pages) > 1)}: {', '.join(pages)})"
        for error, pages in pages_of.items()
    ]


def text_matches(facts: dict[str, dict], pattern: re.Pattern) -> list[str]:
    """Every match of ``pattern`` in the rendered text of every page, as ``page: ...context...``.

    Example:
        >>> text_matches({"a/": {"text": "See :func:one_hot for it."}, "b/": {"text": "clean"}}, SPHINX_ROLE)
        ['a/: See :func:one_hot for it.']
    """
    return [
        f"{page or '(home)'}: {snippet}"
        for page, page_facts in facts.items()
        for snippet in matches_in_context(pattern, page_facts["text"])
    ]


def test_raw_latex_pattern_finds_delimiters_and_commands_only():
    found = ["\\(x\\)", "\\[ y \\]", "$$ z $$", "\\frac{a}{b}", "\\sum_k", "\\downarrow_m(S_0)", "a \\in B"]
    for text in found:
        assert RAW_LATEX.search(text), text
    for text in ("a (b) [c]", "costs $5", "C:\\Windows\\infinity", "\\n and \\t", "\\index"):
        assert not RAW_LATEX.search(text), text


def test_markdown_math_ignores_code_blocks():
    fenced = "Text.\n\n```bash\necho $$ $HOME \\(x\\)\n```\n\nMore text.\n"
    assert not markdown_has_math(fenced)
    assert markdown_has_math(fenced + "\n$$ I = \\sum_k S_k $$\n")
    assert markdown_has_math("A heading \\(d\\)")


def test_broken_links_resolves_relative_paths_folders_and_encoded_fragments(tmp_path):
    (tmp_path / "api" / "layers").mkdir(parents=True)
    (tmp_path / "api" / "layers" / "index.html").write_text("")
    (tmp_path / "img.png").write_bytes(b"\x89PNG")
    origin = "http://127.0.0.1:1"
    facts = {
        "api/layers/": {"ids": ["condgan.layers.one_hot", "é"], "links": []},
        "": {
            "ids": [],
            "links": [
                {
                    "href": f"{origin}/api/layers#condgan.layers.one_hot",
                    "written": "api/layers#condgan.layers.one_hot",
                },
                {"href": f"{origin}/api/layers/#%C3%A9", "written": "api/layers/#é"},
                {"href": f"{origin}/img.png#anything", "written": "img.png#anything"},
                {"href": f"{origin}/img.jpg", "written": "img.jpg"},
                {"href": f"{origin}/api/layers/#condgan.layers.two_hot", "written": "api/layers/#two_hot"},
            ],
        },
    }
    assert broken_links(facts, tmp_path, origin) == [
        "(home) -> img.jpg: no page img.jpg",
        "(home) -> api/layers/#two_hot: api/layers/ has no element with id 'condgan.layers.two_hot'",
    ]


def test_untypeset_math_needs_katex_output_even_without_error():
    facts = {"a/": {"formulas": 1, "typeset": 1, "katex": 0, "katexErrors": []}}
    assert untypeset_math(facts, set()) == ["a/: 1 of 1 formulas typeset"]


# The browser.


@dataclass
class BuiltSite:
    """A built and browsed site: where it lies, where it was served, and what the browser saw on each page."""

    folder: Path
    origin: str
    facts: dict[str, dict]
    screenshots: list[Path]


def browser_tools() -> tuple[str, str]:
    """Paths of Chromium and chromedriver; skips the calling test when either, or Selenium, is missing."""
    pytest.importorskip("selenium", reason="selenium is not installed (pip install -e '.[dev]')")
    chromium = next(filter(None, map(shutil.which, ("chromium", "chromium-browser", "google-chrome"))), None)
    chromedriver = shutil.which("chromedriver")
    if chromium is None or chromedriver is None:
        missing = " and ".join(
            name for name, path in (("chromium", chromium), ("chromedriver", chromedriver)) if not path
        )
        pytest.skip(f"{missing} not installed (Debian: apt-get install chromium chromium-driver)")
    return chromium, chromedriver


def build_site(folder: Path) -> None:
    """``mkdocs build --strict`` into ``folder``; fails the test with mkdocs' output when the build fails."""
    command = [sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "-d", str(folder)]
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    if result.returncode != 0:
        pytest.fail(
            f"mkdocs build --strict failed (exit {result.returncode}):\n{result.stdout}{result.stderr}"
        )


@contextlib.contextmanager
def serve(folder: Path):
    """Serve ``folder`` over HTTP on a free localhost port, in a thread; yields ``http://127.0.0.1:PORT``."""

    class QuietHandler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format, *args):
            pass

    handler = functools.partial(QuietHandler, directory=str(folder))
    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_port}"
        finally:
            server.shutdown()
            thread.join()


@contextlib.contextmanager
def headless_chromium(chromium: str, chromedriver: str, profile: Path):
    """A Selenium driver of headless Chromium with a fresh profile in ``profile``; it records the console."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for argument in (*CHROMIUM_ARGS, f"--user-data-dir={profile}"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=chromedriver), options=options)
    try:
        driver.set_page_load_timeout(30)
        driver.set_script_timeout(15)
        yield driver
    finally:
        driver.quit()


def browse_site(workdir: Path, chromium: str, chromedriver: str) -> BuiltSite:
    """Build the site into ``workdir/site``, serve it, and gather what the browser sees on every page.

    Screenshots of the pages in ``SCREENSHOTS`` go to ``workdir``, and are copied into
    ``$CONDGAN_SCREENSHOTS`` when that is set.
    """
    folder = workdir / "site"
    build_site(folder)
    copies = Path(os.environ["CONDGAN_SCREENSHOTS"]) if os.environ.get("CONDGAN_SCREENSHOTS") else None
    facts, screenshots = {}, []
    with serve(folder) as origin, headless_chromium(chromium, chromedriver, workdir / "profile") as driver:
        for page in site_pages(folder):
            driver.get(f"{origin}/{page}")
            facts[page] = driver.execute_async_script(PAGE_FACTS_JS, 5000)
            # Script errors; failed fetches are read from the page's resource timing instead, which also
            # tells the site's own resources from outside ones (the theme's web fonts) that cannot load here.
            facts[page]["consoleErrors"] = [
                entry["message"].replace(origin, "")
                for entry in driver.get_log("browser")
                if entry["level"] == "SEVERE" and entry["source"] != "network"
            ]
            if page in SCREENSHOTS:
                path = workdir / SCREENSHOTS[page]
                driver.save_screenshot(str(path))
                screenshots.append(path)
                if copies is not None:
                    copies.mkdir(parents=True, exist_ok=True)
                    shutil.copy(path, copies / path.name)
    return BuiltSite(folder, origin, facts, screenshots)


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> BuiltSite:
    from filelock import FileLock

    chromium, chromedriver = browser_tools()
    # pytest-xdist workers share the parent of their base folders: the first worker to get here builds and
    # browses the site, the others read what it saw, so a parallel run pays for one build and one walk.
    base = tmp_path_factory.getbasetemp()
    workdir = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "site_in_browser"
    record = workdir / "browsed.json"
    with FileLock(f"{workdir}.lock"):
        if not record.is_file():
            workdir.mkdir(exist_ok=True)
            browsed = browse_site(workdir, chromium, chromedriver)
            seen = {"origin": browsed.origin, "facts": browsed.facts}
            seen["screenshots"] = [path.name for path in browsed.screenshots]
            record.write_text(json.dumps(seen), encoding="utf-8")
        seen = json.loads(record.read_text(encoding="utf-8"))
    screenshots = [workdir / name for name in seen["screenshots"]]
    return BuiltSite(workdir / "site", seen["origin"], seen["facts"], screenshots)


def test_every_page_was_browsed(site):
    assert set(SCREENSHOTS) <= set(site.facts), (
        f"pages missing from the site: {set(SCREENSHOTS) - set(site.facts)}"
    )
    empty = [
        page or "(home)" for page, page_facts in site.facts.items() if len(page_facts["text"].strip()) < 100
    ]
    assert not empty, f"pages whose rendered text is (nearly) empty: {empty}"


def test_no_raw_latex_in_rendered_text(site):
    hits = text_matches(site.facts, RAW_LATEX)
    assert not hits, f"{len(hits)} pieces of LaTeX shown as text instead of typeset:\n" + "\n".join(hits)


def test_formulas_are_typeset_by_katex(site):
    sources = {page: page_source(page) for page in site.facts}
    math_sources = {
        page for page, path in sources.items() if path and markdown_has_math(path.read_text("utf-8"))
    }
    problems = untypeset_math(site.facts, math_sources)
    assert not problems, "pages whose formulas KaTeX did not typeset:\n" + "\n".join(problems)
    assert math_sources, "no page source has formulas: the math check checked nothing"


def test_internal_links_resolve_to_existing_pages_and_anchors(site):
    broken = broken_links(site.facts, site.folder, site.origin)
    assert not broken, (
        f"{len(broken)} broken links (page -> link as written: what is missing):\n" + "\n".join(broken)
    )


def test_every_image_loads(site):
    failed = unloaded_images(site.facts)
    assert not failed, f"{len(failed)} images did not load:\n" + "\n".join(failed)


def test_site_resources_and_scripts_raise_no_errors(site):
    errors = site_errors(site.facts)
    assert not errors, "resources of the site that failed to load, and script errors:\n" + "\n".join(errors)


def test_screenshots_show_a_rendered_page(site):
    image_module = pytest.importorskip("PIL.Image")
    assert sorted(path.name for path in site.screenshots) == sorted(SCREENSHOTS.values())
    for path in site.screenshots:
        with image_module.open(path) as image:
            width, height = image.size
            assert width == 1280 and height >= 600, (
                f"{path}: {width} x {height}, expected the 1280-wide window"
            )
            # Anti-aliased text alone gives hundreds of shades; a blank or failed page gives a handful.
            colours = image.convert("RGB").getcolors(maxcolors=1 << 20)
            assert colours is None or len(colours) > 50, f"{path}: only {len(colours)} colours, a blank page?"


def test_no_sphinx_roles_in_rendered_text(site):
    hits = text_matches(site.facts, SPHINX_ROLE)
    advice = "write mkdocstrings cross-references in the docstrings instead"
    assert not hits, f"{len(hits)} Sphinx roles shown as text ({advice}):\n" + "\n".join(hits)
