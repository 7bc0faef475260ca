# TailTracker. Two commands do everything on a fresh machine with python3 (3.11+), make and git:
#   make run    set up, migrate, seed demo data and serve the API on the embedded default
#   make test   set up and run the whole test suite (lint, types, import contracts, tests)

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
HOST   ?= 127.0.0.1
PORT   ?= 8000
PYTEST_ARGS ?=

.PHONY: run test lint typecheck contracts pytest openapi bench bench-reminders clean help

help:
	@echo "make run   - serve the API with demo data on http://$(HOST):$(PORT) (SQLite, no services)"
	@echo "make test  - lint, type-check, import contracts and the whole pytest suite"
	@echo "make bench - the benchmarks (see docs/performance.md)"
	@echo "make bench-reminders - care schedule and reminder scheduler benchmarks"

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "TailTracker needs Python 3.11+"'
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/tailtracker serve --seed-demo --host $(HOST) --port $(PORT)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy --strict tailtracker_core

contracts: $(STAMP)
	$(BIN)/lint-imports --config importlinter.ini

pytest: $(STAMP)
	$(BIN)/pytest $(PYTEST_ARGS)

test: lint typecheck contracts pytest

openapi: $(STAMP)
	$(BIN)/python -m entrypoints.http.openapi > docs/openapi.json

bench: $(STAMP)
	$(BIN)/python -m benchmarks.run

bench-reminders: $(STAMP)
	$(BIN)/python -m benchmarks.reminders

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache .hypothesis
