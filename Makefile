# shopseg: `make build` runs the demo end to end, `make test` runs every check.
SHELL := /bin/bash
.ONESHELL:
.SHELLFLAGS := -eu -o pipefail -c

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SPARK_STAMP := $(VENV)/.installed-spark
DEMO_CUSTOMERS ?= 5000
DEMO_DIR ?= data/demo
export DBT_PROFILES_DIR := $(CURDIR)/profiles
export SHOPSEG_DUCKDB_PATH ?= $(CURDIR)/warehouse/shopseg.duckdb
export SHOPSEG_INPUT_PATH ?= $(CURDIR)/$(DEMO_DIR)
export SHOPSEG_PUBLISH_PATH ?= $(CURDIR)/warehouse/shopseg_published.duckdb
export DBT_SEND_ANONYMOUS_USAGE_STATS := false

.PHONY: build test setup demo dbt-build summary lint pytest clean test-spark java

# Installs come from the lock files in requirements/ (exact versions with their hashes, the
# same on every machine): dev.lock for make build, dev-spark.lock (dev.lock plus the spark
# extra) for make test. `make lock` rewrites them from pyproject.toml's ranges, keeping every
# pin that still fits (LOCK_ARGS=--upgrade, or --upgrade-package NAME, moves them).
# The installer is uv (from PyPI, pinned here, installed into .venv by pip); plain pip is the
# fallback: SHOPSEG_INSTALLER=pip make build. Both install shopseg itself editable.
SHOPSEG_INSTALLER ?= uv
UV_VERSION := 0.13.9
DEV_LOCK := requirements/dev.lock
SPARK_LOCK := requirements/dev-spark.lock
LOCK_ARGS ?=

# $(call install,LOCK FILE): the venv, the locked packages, then shopseg editable (no deps:
# the lock holds them). uv writes the packages' bytecode at install (--compile-bytecode, as
# pip does by default): where PYTHONDONTWRITEBYTECODE is set, every dbt invocation would
# otherwise compile dbt, pandas and scikit-learn again (about 10 s each)
define install
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	case "$(SHOPSEG_INSTALLER)" in
	  uv)
	    $(BIN)/python -m pip install --quiet uv==$(UV_VERSION)
	    $(BIN)/uv pip install --quiet --python $(BIN)/python --compile-bytecode --require-hashes -r $(1)
	    $(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e . ;;
	  pip)
	    # --no-deps: the lock is complete, and pip refuses its extras (mashumaro[msgpack])
	    # as unpinned in hash-checking mode
	    $(BIN)/python -m pip install --quiet --no-deps --require-hashes -r $(1)
	    $(BIN)/python -m pip install --quiet --no-deps -e . ;;
	  *) echo "SHOPSEG_INSTALLER must be uv or pip, not $(SHOPSEG_INSTALLER)"; exit 1 ;;
	esac
endef

setup: $(STAMP)

$(STAMP): pyproject.toml $(DEV_LOCK)
	@command -v $(PYTHON) >/dev/null || { echo "shopseg needs $(PYTHON) on PATH"; exit 1; }
	# an install with the spark extra (make test) holds everything setup installs
	if [ -f $(SPARK_STAMP) ] && [ $(SPARK_STAMP) -nt pyproject.toml ] \
	  && [ $(SPARK_STAMP) -nt $(DEV_LOCK) ]; then touch $(STAMP); exit 0; fi
	$(call install,$(DEV_LOCK))
	touch $(STAMP)

## lock: rewrite requirements/*.lock from pyproject.toml (needs PyPI); LOCK_ARGS=--upgrade
## moves every pin to the newest version the ranges allow. dev.lock takes dev-spark.lock's
## versions, so make build and make test install the same ones.
# one lock for Python 3.11 to 3.13 on every platform (--universal)
UV_COMPILE = $(BIN)/uv pip compile pyproject.toml --universal --python-version 3.11 \
  --generate-hashes --custom-compile-command 'make lock' --quiet
.PHONY: lock
lock:
	@command -v $(PYTHON) >/dev/null || { echo "shopseg needs $(PYTHON) on PATH"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/uv --version 2>/dev/null | grep -qx 'uv $(UV_VERSION)' \
	  || $(BIN)/python -m pip install --quiet uv==$(UV_VERSION)
	mkdir -p requirements
	$(UV_COMPILE) --extra dev --extra spark $(LOCK_ARGS) -o $(SPARK_LOCK)
	$(UV_COMPILE) --extra dev -c $(SPARK_LOCK) $(LOCK_ARGS) -o $(DEV_LOCK)

## build: install, generate the demo shop, run dbt build on DuckDB, print a summary
build: setup demo dbt-build summary

demo: setup
	$(BIN)/python -m shopseg.demo --customers $(DEMO_CUSTOMERS) --out $(DEMO_DIR) --reuse

# the production selection (selectors.yml): every model and data test, no unit tests (make
# test and make test-fast run those); one dbt thread per core unless SHOPSEG_THREADS is set
# (profiles.yml's default is 2)
CORES := $(shell getconf _NPROCESSORS_ONLN 2>/dev/null || echo 2)
dbt-build: setup
	mkdir -p $(dir $(SHOPSEG_DUCKDB_PATH))
	SHOPSEG_THREADS="$${SHOPSEG_THREADS:-$(CORES)}" $(BIN)/dbt build --selector production

summary: setup
	$(BIN)/shopseg summary --db $(SHOPSEG_PUBLISH_PATH)

## test: install, lint Python and SQL, run pytest (library and real dbt builds), then test-spark
test: $(SPARK_STAMP) browser lint pytest test-spark

# the Python that ruff lints and format-checks, in `make lint` and `make test-fast`
RUFF_PATHS := src python_models tests integration_tests bench

lint: setup
	$(BIN)/ruff check $(RUFF_PATHS)
	$(BIN)/ruff format --check $(RUFF_PATHS)
	$(BIN)/sqlfluff lint models macros tests --processes 2
	$(BIN)/dbt parse --quiet --target-path target/lint
	$(BIN)/dbt-score lint --manifest target/lint/manifest.json --fail-project-under 9.5

# three workers on two cores: the dbt builds wait on files and subprocesses a third of the time;
# the files in conftest.py's LONGEST_FIRST start first (--no-loadscope-reorder keeps that order)
pytest: setup cdnow-wheel
	$(BIN)/python -m pytest -q -n 3 --dist loadfile --no-loadscope-reorder -m "not spark"

## test-fast: the few-minute tier for developers: ruff, the library tests (pytest -m "not e2e":
## no dbt, mf, PostgreSQL, Spark or Chromium) and one real `dbt build` of the whole project,
## its unit tests included, on FAST_CUSTOMERS demo customers in a temporary folder (kept and
## named when the build fails). `make test` stays the full suite.
FAST_CUSTOMERS ?= 300
# a few hundred customers cannot train a classifier to the demo's floors (as test_bad_input.py)
FAST_VARS := {"shop_min_classifier_f1": 0, "shop_min_rule_fidelity": 0}
.PHONY: test-fast
test-fast: setup cdnow-wheel
	$(BIN)/ruff check $(RUFF_PATHS)
	$(BIN)/ruff format --check $(RUFF_PATHS)
	$(BIN)/python -m pytest -q -n 2 --dist loadfile -m "not e2e and not spark"
	tmp=$$(mktemp -d "$${TMPDIR:-/tmp}/shopseg-test-fast.XXXXXX")
	trap 'status=$$?; if [ $$status -eq 0 ]; then rm -rf "$$tmp"; \
	  else echo "test-fast: the build is kept in $$tmp"; fi' EXIT
	$(BIN)/python -m shopseg.demo --customers $(FAST_CUSTOMERS) --out "$$tmp/input"
	SHOPSEG_TARGET=duckdb SHOPSEG_INPUT_PATH="$$tmp/input" \
	  SHOPSEG_DUCKDB_PATH="$$tmp/shopseg.duckdb" SHOPSEG_PUBLISH_PATH="$$tmp/shopseg_published.duckdb" \
	  DBT_TARGET_PATH="$$tmp/target" DBT_LOG_PATH="$$tmp/logs" \
	  $(BIN)/dbt build --vars '$(FAST_VARS)'

## test-spark: the Spark checks: the SQL layer built by dbt-spark on a local Spark
## equals DuckDB's, and distributed scoring (mapInPandas) equals the pandas scoring. Installs
## the `spark` extra (pyspark, dbt-spark[session]) into .venv, and Java 17 when java is missing.
test-spark: $(SPARK_STAMP) java
	$(BIN)/python -m pytest -q -m spark tests/python/test_spark.py

# one install for make test: the dev and spark extras together
$(SPARK_STAMP): pyproject.toml $(SPARK_LOCK)
	@command -v $(PYTHON) >/dev/null || { echo "shopseg needs $(PYTHON) on PATH"; exit 1; }
	$(call install,$(SPARK_LOCK))
	touch $(SPARK_STAMP) $(STAMP)

## java: install Debian's Java 17 runtime (for Spark) when no java is on PATH
java:
	@command -v java >/dev/null || { \
	  if [ "$$(id -u)" -eq 0 ]; then sudo=""; \
	  elif command -v sudo >/dev/null; then sudo="sudo"; \
	  else echo "java is missing and this user cannot install it: install Java 17"; exit 1; fi; \
	  $$sudo apt-get update -qq && $$sudo apt-get install -y -qq openjdk-17-jre-headless; }

clean:
	rm -rf target logs warehouse data dbt_packages

## bench: time the production dbt build, a naive pandas baseline and the floor (one DuckDB
## query) on 10k, 100k, 200k and 1M customers of the demo and of a second family
## (developer tooling in bench/, not installed); BENCH_ARGS adds flags, e.g.
## BENCH_ARGS="--skip-baseline"
BENCH_CUSTOMERS ?= 10000,100000,200000,1000000
BENCH_FAMILIES ?= demo,fashion_no_events
BENCH_EVENTS ?= 50
BENCH_ARGS ?=
.PHONY: bench
bench: setup
	$(BIN)/python -m bench --customers $(BENCH_CUSTOMERS) --families $(BENCH_FAMILIES) \
	  --events-per-customer $(BENCH_EVENTS) --out bench/out --results bench/results.md $(BENCH_ARGS)

## report: static HTML segment report (inline SVG charts) of the published DuckDB file;
## REPORT_ARGS adds flags, e.g. REPORT_ARGS="--screenshot warehouse/report.png"
REPORT ?= warehouse/report.html
REPORT_ARGS ?=
.PHONY: report browser
report: setup
	$(BIN)/shopseg report --db $(SHOPSEG_PUBLISH_PATH) --out $(REPORT) $(REPORT_ARGS)

## browser: install Debian's chromium (headless screenshots and the browser test) when missing
browser:
	@command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" -eq 0 ]; then sudo=""; \
	  elif command -v sudo >/dev/null; then sudo="sudo"; \
	  else echo "chromium is missing and this user cannot install it: run as root or install sudo"; exit 1; fi; \
	  $$sudo apt-get update -qq && $$sudo apt-get install -y -qq chromium; }

## metrics: query the semantic layer with MetricFlow on the warehouse `make build` wrote;
## METRICS and GROUP_BY choose, MF_ARGS adds flags, e.g. MF_ARGS="--order -shopseg_revenue --csv m.csv".
## mf reads target/semantic_manifest.json of the project (not DBT_TARGET_PATH): parse writes it.
METRICS ?= shopseg_customers,shopseg_revenue,shopseg_orders,shopseg_average_order_value,shopseg_segment_share,shopseg_at_risk_revenue
GROUP_BY ?= shopseg_customer__segment_name
MF_ARGS ?= --decimals 3
.PHONY: metrics
metrics: setup
	$(BIN)/dbt parse --quiet --target-path target
	$(BIN)/mf query --metrics $(METRICS) --group-by $(GROUP_BY) --quiet $(MF_ARGS)

## eval: segment quality on data the project did not shape: dbt build on the demo,
## three other synthetic families and the real CDNOW shop, one table in docs/eval.md. Setup, like
## pip install: the CDNOW file ships in the lifetimes 0.11.3 wheel, fetched once into bench/cache/
## (the harness itself downloads nothing). EVAL_ARGS adds flags, e.g. EVAL_ARGS="--customers 2000"
EVAL_CACHE ?= bench/cache
EVAL_ARGS ?=
.PHONY: eval cdnow-wheel
## cdnow-wheel: the lifetimes 0.11.3 wheel that holds the CDNOW file, fetched once like a
## pip install (make eval, and the tests of the predictions against its published estimates)
cdnow-wheel: setup
	ls $(EVAL_CACHE)/[Ll]ifetimes-0.11.3-*.whl >/dev/null 2>&1 || \
	  $(BIN)/python -m pip download --quiet --no-deps lifetimes==0.11.3 -d $(EVAL_CACHE)
eval: setup cdnow-wheel
	$(BIN)/shopseg eval --cdnow-wheel $(EVAL_CACHE) --out docs/eval.md $(EVAL_ARGS)
