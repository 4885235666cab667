# One command per intent. `make test` and `make serve` install what they need first.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed-dev

.PHONY: install serve test lint pytest bench bench-scale clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

serve: $(STAMP)
	$(BIN)/partnercart serve $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

pytest: $(STAMP)
	scripts/ensure-postgres
	scripts/ensure-browser
	$(BIN)/python -m pytest -n 2 $(ARGS)

test: lint pytest

bench: $(STAMP)
	$(BIN)/python bench/run.py $(ARGS)

bench-scale: $(STAMP)
	$(BIN)/python bench/scale.py $(ARGS)

clean:
	rm -rf $(VENV) .partnercart .pytest_cache .mypy_cache .ruff_cache
