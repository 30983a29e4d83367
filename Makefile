# Two commands: `make run` (install, migrate, seed the demo, serve) and `make test` (install, lint,
# type-check, the whole suite on SQLite, then on PostgreSQL when one answers).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
PG_URL ?= $(or $(CLINICORE_TEST_POSTGRES_URL),postgresql://postgres@127.0.0.1:5432/postgres)
ARTIFACTS := $(CURDIR)/.test-artifacts
PYTEST_WORKERS ?= 2
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run test install install-test lint typecheck test-sqlite test-postgres test-logs browser bench clean

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/pip install -q -e '.[test]'
	touch $@

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

run: install
	$(BIN)/clinicore migrate
	CLINICORE_BASE_URL=$${CLINICORE_BASE_URL:-http://$(HOST):$(PORT)} $(BIN)/clinicore demo
	CLINICORE_BASE_URL=$${CLINICORE_BASE_URL:-http://$(HOST):$(PORT)} $(BIN)/clinicore serve --host $(HOST) --port $(PORT)

browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing Debian's chromium for the browser tests"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "chromium is missing and we are not root: browser tests will be skipped"; fi; }

lint: install-test
	$(BIN)/ruff check src tests bench docs/examples
	$(BIN)/ruff format --check src tests bench docs/examples

typecheck: install-test
	$(BIN)/mypy

test-sqlite: install-test browser
	rm -rf $(ARTIFACTS)
	CLINICORE_TEST_ARTIFACTS=$(ARTIFACTS) $(BIN)/pytest -q -n $(PYTEST_WORKERS) -m "not logscan" -p no:cacheprovider

test-postgres: install-test browser
	@if $(BIN)/python -m tests.postgres_available "$(PG_URL)"; then \
	  echo "== the suite again on PostgreSQL ($(PG_URL))"; \
	  CLINICORE_TEST_ARTIFACTS=$(ARTIFACTS) CLINICORE_TEST_POSTGRES_URL="$(PG_URL)" \
	    $(BIN)/pytest -q -n $(PYTEST_WORKERS) -m "not logscan" -p no:cacheprovider; \
	elif [ -n "$$CLINICORE_REQUIRE_POSTGRES" ]; then \
	  echo "PostgreSQL is required but $(PG_URL) does not answer" >&2; exit 1; \
	else echo "== PostgreSQL does not answer at $(PG_URL): skipped the PostgreSQL run"; fi

test-logs: install-test
	CLINICORE_TEST_ARTIFACTS=$(ARTIFACTS) $(BIN)/pytest -q -m logscan -p no:cacheprovider

test: lint typecheck test-sqlite test-postgres test-logs

bench: install-test
	@command -v wrk >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	  apt-get install -y -qq wrk >/dev/null; } || echo "wrk is missing: the bench falls back to its Python load generator"
	$(BIN)/python -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) $(ARTIFACTS) build *.egg-info src/*.egg-info
