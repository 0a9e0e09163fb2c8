# Tianwen: the two commands are `make demo` and `make test`. Each sets itself up.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# No telemetry, anywhere.
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export DO_NOT_TRACK := 1
export DAGSTER_HOME := $(CURDIR)/.dagster_home

PYTHON ?= python3
# uv comes from the package registry; installed into .tools/ when the machine lacks it.
UV := $(or $(shell command -v uv 2>/dev/null),.tools/bin/uv)

.PHONY: help setup demo test lint run ui browser clean

help:
	@echo "make demo   set up, generate 10,000 people, load, build on DuckDB, print a summary"
	@echo "make test   set up, run the tests (DuckDB and a real PostgreSQL server)"
	@echo "make run    the whole pipeline on CDP_LANDING_DIR into CDP_TARGET (duckdb or postgres)"
	@echo "make lint   ruff and sqlfluff (dbt templater)"
	@echo "make ui     the Dagster UI on http://127.0.0.1:3000 (CDP_UI_PORT)"

.tools/bin/uv:
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet uv

.venv/.installed: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen
	@touch $@

setup: .venv/.installed

demo: setup
	.venv/bin/tianwen demo

run: setup
	.venv/bin/tianwen run

# The UI test drives Debian's Chromium (Playwright never downloads a browser here).
browser:
	@command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium)

test: setup browser
	.venv/bin/pytest

ui: setup
	.venv/bin/python -m orchestration.ui

lint: setup
	.venv/bin/ruff check .
	CDP_DUCKDB_PATH=:memory: .venv/bin/sqlfluff lint models

clean:
	rm -rf target warehouse data .venv .tools
