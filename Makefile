# Myelin: the commands a person needs. Everything installs into .venv.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
CONFIG ?= data/myelin.yaml
SERVER_NAME ?= localhost

.PHONY: install run test test-sqlite test-postgres lint conformance bench bench-quick clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test,bench]'
	touch $(STAMP)

install: $(STAMP)

# Set up and serve on 127.0.0.1:8008 with SQLite under ./data.
run: $(STAMP)
	@test -f $(CONFIG) || $(VENV)/bin/myelin generate-config --server-name $(SERVER_NAME) --data-dir data
	$(VENV)/bin/myelin run -c $(CONFIG)

# The whole suite. MYELIN_TEST_DATABASE=postgres runs storage and API tests on PostgreSQL only;
# by default storage tests run on both engines.
test: $(STAMP)
	$(PY) -m pytest -q $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/lint-imports

conformance: $(STAMP)
	MYELIN_CONFORMANCE=long $(PY) -m pytest -q tests/conformance $(PYTEST_ARGS)

bench: $(STAMP)
	$(PY) bench/run.py $(BENCH_ARGS)

bench-quick: $(STAMP)
	$(PY) bench/run.py --quick $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .bench
