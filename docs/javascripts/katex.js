// Typeset the formulas that pymdownx.arithmatex (generic mode) wraps in `.arithmatex` elements:
// `\( ... \)` inline and `\[ ... \]` as a block. Only those elements are rendered, so a backslash or a
// dollar sign elsewhere in the prose is left alone. `document$` fires on every page load, instant
// navigation included.
document$.subscribe(({ body }) => {
  for (const element of body.querySelectorAll(".arithmatex")) {
    renderMathInElement(element, {
      delimiters: [
        { left: "\\(", right: "\\)", display: false },
        { left: "\\[", right: "\\]", display: true },
      ],
      throwOnError: false,
    });
  }
});
