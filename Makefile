# service-hall: `make demo` runs the demo hall, `make test` runs every check, `make bench` the benchmarks.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DURATION ?= 0

.PHONY: demo test bench lint typecheck unit setup clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed-build: pyproject.toml | $(BIN)/python
	sh scripts/setup-system.sh build
	$(BIN)/pip install -q -U pip
	$(BIN)/pip install -q -e '.[test]'
	touch $@

setup: $(VENV)/.installed-build

demo: setup
	$(BIN)/hall demo --duration $(DURATION)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: setup
	$(BIN)/mypy

unit: setup
	$(BIN)/pytest -q --durations=15

test: setup
	sh scripts/setup-system.sh test
	$(MAKE) --no-print-directory lint typecheck unit

bench: setup
	sh scripts/setup-system.sh test
	$(BIN)/python -m bench --out bench-results

clean:
	rm -rf $(VENV) var bench-results test-artifacts .mypy_cache .ruff_cache .pytest_cache
