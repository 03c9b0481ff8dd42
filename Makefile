# behaviorbench: two entry points. `make demo` runs the main job on the embedded default (MuJoCo, CPU);
# `make test` runs lint + the test suite. Both create or reuse .venv.
PYTHON ?= python3
VENV   ?= .venv
PY      = $(VENV)/bin/python
PIP     = $(PY) -m pip
TORCH_PIN ?= torch==2.13.0
DEMO_DIR ?= demo-output

.PHONY: venv demo test lint bench clean

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	# torch first, pinned: a bare `torch` requirement would pull GBs of CUDA wheels on a CPU box.
	$(PY) -c "import torch" 2>/dev/null || $(PIP) install -q $(TORCH_PIN)
	$(PIP) install -q -e ".[test]"
	touch $@

venv: $(VENV)/.installed

demo: venv
	$(PY) -m behaviorbench.demo --out $(DEMO_DIR)

lint: venv
	$(VENV)/bin/ruff check behaviorbench tests benchmarks examples

test: venv lint
	bash tools/ensure_chromium.sh  # Debian chromium for the leaderboard page test (root; no-op if present)
	$(VENV)/bin/pytest -q tests

bench: venv
	for b in benchmarks/*.py; do $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) $(DEMO_DIR) .pytest_cache .ruff_cache
