// What a reader of the open page gets, gathered for tests/docs/test_site_in_browser.py: the rendered text, the
// targets of the links, the ids that a #fragment can point at, how the images and the formulas came out, and
// which resources failed to load or came from outside the site.
//
// Run through WebDriver's executeAsyncScript: arguments[0] is how long to wait (ms) for the images to settle
// and for KaTeX to typeset the `.arithmatex` elements; the last argument is the callback taking the facts.
const [waitMs] = arguments;
const done = arguments[arguments.length - 1];
const deadline = performance.now() + waitMs;

const settled = () =>
  document.readyState === "complete" &&
  [...document.images].every((image) => image.complete) &&
  [...document.querySelectorAll(".arithmatex")].every((math) => math.querySelector(".katex, .katex-error"));

const gather = () => {
  const formulas = [...document.querySelectorAll(".arithmatex")];
  return {
    text: document.body.innerText,
    links: [...document.querySelectorAll("a[href]")].map((link) => ({
      href: link.href,
      written: link.getAttribute("href"),
    })),
    ids: [
      ...[...document.querySelectorAll("[id]")].map((element) => element.id),
      ...[...document.querySelectorAll("a[name]")].map((element) => element.name),
    ],
    images: [...document.images].map((image) => ({
      src: image.getAttribute("src"),
      complete: image.complete,
      naturalWidth: image.naturalWidth,
    })),
    formulas: formulas.length,
    typeset: formulas.filter((math) => math.querySelector(".katex")).length,
    katex: document.querySelectorAll(".katex").length,
    katexErrors: [...document.querySelectorAll(".katex-error")].map((error) => error.textContent),
    external: performance
      .getEntriesByType("resource")
      .map((entry) => entry.name)
      .filter((name) => new URL(name).origin !== location.origin),
    failedResources: performance
      .getEntriesByType("resource")
      .filter((entry) => new URL(entry.name).origin === location.origin && entry.responseStatus >= 400)
      .map((entry) => `HTTP ${entry.responseStatus}: ${new URL(entry.name).pathname}`),
  };
};

const poll = () => {
  if (settled() || performance.now() > deadline) {
    done(gather());
  } else {
    setTimeout(poll, 25);
  }
};
poll();
