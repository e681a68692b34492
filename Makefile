# shopseg: `make build` runs the demo end to end, `make test` runs every check.
SHELL := /bin/bash
.ONESHELL:
.SHELLFLAGS := -eu -o pipefail -c

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_CUSTOMERS ?= 5000
DEMO_DIR ?= data/demo
export DBT_PROFILES_DIR := $(CURDIR)/profiles
export SHOPSEG_DUCKDB_PATH ?= $(CURDIR)/warehouse/shopseg.duckdb
export SHOPSEG_INPUT_PATH ?= $(CURDIR)/$(DEMO_DIR)
export SHOPSEG_PUBLISH_PATH ?= $(CURDIR)/warehouse/shopseg_published.duckdb
export DBT_SEND_ANONYMOUS_USAGE_STATS := false

.PHONY: build test setup demo dbt-build summary lint pytest clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "shopseg needs $(PYTHON) on PATH"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

## build: install, generate the demo shop, run dbt build on DuckDB, print a summary
build: setup demo dbt-build summary

demo: setup
	@if [ ! -f $(DEMO_DIR)/orders.parquet ] || [ ! -f $(DEMO_DIR)/.customers-$(DEMO_CUSTOMERS) ]; then \
	  rm -rf $(DEMO_DIR) && $(BIN)/python -m shopseg.demo --customers $(DEMO_CUSTOMERS) --out $(DEMO_DIR) \
	  && touch $(DEMO_DIR)/.customers-$(DEMO_CUSTOMERS); \
	else echo "demo data already in $(DEMO_DIR) ($(DEMO_CUSTOMERS) customers)"; fi

dbt-build: setup
	mkdir -p $(dir $(SHOPSEG_DUCKDB_PATH))
	$(BIN)/dbt build

summary: setup
	$(BIN)/shopseg summary --db $(SHOPSEG_PUBLISH_PATH)

## test: install, lint Python and SQL, run pytest (library and real dbt builds)
test: setup lint pytest

lint: setup
	$(BIN)/ruff check src python_models tests
	$(BIN)/ruff format --check src python_models tests
	$(BIN)/sqlfluff lint models macros tests --processes 2

pytest: setup
	$(BIN)/python -m pytest -q -n 2 --dist loadfile

clean:
	rm -rf target logs warehouse data dbt_packages

## bench: time dbt build and a naive pandas baseline on 10k, 100k and 1M demo customers
## (issue #8); BENCH_ARGS adds flags, e.g. BENCH_ARGS="--scales 10k,100k --skip-baseline"
BENCH_CUSTOMERS ?= 10000,100000,1000000
BENCH_EVENTS ?= 50
BENCH_ARGS ?=
.PHONY: bench
bench: setup
	$(BIN)/shopseg bench --customers $(BENCH_CUSTOMERS) --events-per-customer $(BENCH_EVENTS) \
	  --out bench/out --results bench/results.md $(BENCH_ARGS)
