# One entry point for developers, CI and the README. Every target creates the venv if needed.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PY := $(BIN)/python

.PHONY: all install format lint typecheck test test-fast bench demo ui-screenshots clean

all: lint typecheck test

$(BIN)/activate: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(BIN)/activate

install: $(BIN)/activate

format: install
	$(BIN)/ruff format src tests benchmarks examples README.md
	$(BIN)/ruff check --fix src tests benchmarks examples

lint: install
	$(BIN)/ruff check src tests benchmarks examples
	$(BIN)/ruff format --check src tests benchmarks examples README.md

typecheck: install
	$(BIN)/mypy

# The README's test command: lint, strict typing, then the whole suite with branch coverage.
# `coverage run` (not pytest-cov): our pytest plugin imports the package before pytest-cov starts.
test: lint typecheck
	rm -f .coverage .coverage.*
	$(BIN)/coverage run -m pytest
	$(BIN)/coverage combine --quiet
	$(BIN)/coverage report

test-fast: install
	$(BIN)/pytest -x -q -m "not slow"

bench: install
	$(PY) benchmarks/run.py

demo: install
	$(PY) examples/demo.py

# PNGs of every page of `flext-observability ui` over a fresh demo store (headless Chromium).
ui-screenshots: install
	$(PY) examples/ui_screenshots.py --out docs/screenshots

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .coverage htmlcov build dist
