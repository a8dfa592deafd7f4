# Two entry points do all the set-up: `make demo` and `make test`. Each creates .venv on first use.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
export NO_MKDOCS_2_WARNING := 1

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade --quiet pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

.PHONY: install demo quality test docs lint bench clean
install: $(VENV)/.installed

demo: $(VENV)/.installed
	$(PY) -m fashion_gan demo --out runs/demo

# The demo's networks at the paper's 128x128 (batch 8), from the 128x128 teacher: 24.6 minutes on 2 idle
# cores (2026-12-08); writes runs/quality/.
quality: $(VENV)/.installed
	$(PY) -m fashion_gan demo --preset quality --out runs/quality

test: $(VENV)/.installed
	$(PY) -m pytest -q -n 2

docs: $(VENV)/.installed
	$(VENV)/bin/mkdocs build --strict

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .

bench: $(VENV)/.installed
	$(PY) benchmarks/run_all.py

clean:
	rm -rf $(VENV) site runs
