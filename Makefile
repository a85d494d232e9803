# papertrend: `make run` serves the site on SQLite, `make test` runs the whole suite.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: install run test test-fast lint format bench browser clean

$(BIN)/papertrend: pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install -e '.[test]'
	@touch $(BIN)/papertrend

install: $(BIN)/papertrend ## create .venv and install the project with its test extras

run: install ## migrate, load the demo data if the database is empty, serve http://127.0.0.1:8000
	$(BIN)/papertrend init
	$(BIN)/papertrend demo
	$(BIN)/papertrend run --host 127.0.0.1 --port 8000

test: install browser ## the whole suite, SQLite and PostgreSQL
	$(BIN)/python -m pytest -n 2 --dist loadgroup

test-fast: install ## everything but the slow end-to-end tests
	$(BIN)/python -m pytest -n 2 --dist loadgroup -m "not slow"

lint: install ## ruff, mypy, the import rules and the route rules (scripts/check_routes.py)
	$(BIN)/ruff check app tests bench migrations scripts
	$(BIN)/ruff format --check app tests bench scripts
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/python scripts/check_routes.py

format: install
	$(BIN)/ruff format app tests bench
	$(BIN)/ruff check --fix app tests bench

bench: install ## benchmark scripts; figures land in docs/BENCHMARKS.md
	$(BIN)/python bench/run_all.py $(BENCHMARKS)

browser: ## Debian's chromium for the browser tests (installed when missing)
	@test -x /usr/bin/chromium || (command -v apt-get >/dev/null && \
		(apt-get install -y chromium || (apt-get update && apt-get install -y chromium))) || \
		echo "chromium is not installed: browser tests will skip"

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
