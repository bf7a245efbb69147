# Every target works from a clean clone: the first one run creates .venv. `make run` installs
# only what chatting needs; the targets that test or check install the dev tools too.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
RUN_STAMP := $(VENV)/.installed-run
DEV_STAMP := $(VENV)/.installed-dev

.DEFAULT_GOAL := help
.PHONY: help install run test docs-check picture lint format bench bench-reference-env clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-19s %s\n", $$1, $$2}'

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(RUN_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

# The dev set holds the run set, so after it `make run` has nothing to install.
$(DEV_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@ $(RUN_STAMP)

install: $(DEV_STAMP)  ## create .venv and install dcaf with every extra and the dev tools

# `make run` works on a copy of the example, so chatting never dirties the checkout;
# `rm -r .run` starts the chat over.
run: $(RUN_STAMP)  ## chat with the shop agent on a copy of sessions/shop.json, offline model
	@mkdir -p .run && [ -f .run/shop.json ] || cp sessions/shop.json .run/shop.json
	$(BIN)/dcaf run dcaf_cli.examples.shop --session .run/shop.json --model offline

# On every core (xdist; one document's commands stay in one worker), with the coverage
# gate of pyproject.toml. The run's temporary files and coverage data go to a folder of its
# own, so runs side by side never combine, erase or prune each other's; its short name
# keeps the paths the REPL prints on one line.
test: $(DEV_STAMP)  ## run the test suite on every core, with the coverage gate
	@data=$$(mktemp -d /tmp/dcaf.XXXXXX) && trap 'rm -rf "$$data"' EXIT && set -x && \
	COVERAGE_FILE="$$data/coverage" $(BIN)/python -m pytest -n auto --dist loadgroup \
		--basetemp="$$data/t" --cov --cov-report=term:skip-covered $(PYTEST_ARGS) \
	|| { status=$$?; [ $$status -ne 5 ] || echo "pytest collected no tests: the suite is broken" >&2; exit $$status; }

docs-check: $(DEV_STAMP)  ## run every command shown in README.md and docs/ (make test runs it too)
	$(BIN)/python -m pytest tests/test_docs.py

picture: $(RUN_STAMP)  ## redraw docs/turn.svg, the README's picture, from the program itself
	$(BIN)/python docs/picture.py docs/turn.svg

lint: $(DEV_STAMP)  ## ruff, mypy (strict on dcaf_cli, tests too) and the layers contract
	$(BIN)/ruff check dcaf_cli tests benchmarks docs
	$(BIN)/ruff format --check dcaf_cli tests benchmarks docs
	$(BIN)/mypy
	$(BIN)/lint-imports

format: $(DEV_STAMP)  ## apply ruff's fixes and formatting
	$(BIN)/ruff check --fix dcaf_cli tests benchmarks docs
	$(BIN)/ruff format dcaf_cli tests benchmarks docs

# The server benchmark drives the servers with wrk (apt-get install wrk; without it, a
# slower Python client stands in, with a note). It also measures the reference DCAF server
# when DCAF_BENCH_REFERENCE names a python that has dcaf installed: `make
# bench-reference-env` builds one in .bench/reference, which `make bench` then uses.
BENCH_DIR := .bench
REFERENCE_PYTHON := $(BENCH_DIR)/reference/bin/python
DCAF_BENCH_REFERENCE ?= $(wildcard $(REFERENCE_PYTHON))
DCAF_REV ?= HEAD

bench: $(DEV_STAMP)  ## measure speed against baselines taken in the same run
	DCAF_BENCH_REFERENCE=$(DCAF_BENCH_REFERENCE) $(BIN)/python -m benchmarks

# DCAF is installed from a git repository of its source (bare or not): DCAF_SRC=PATH,
# at DCAF_REV (default HEAD). The install is large (its model SDKs come along).
bench-reference-env:  ## build .bench/reference, a venv with DCAF (DCAF_SRC=its git repository)
	@[ -n "$(DCAF_SRC)" ] || { echo "make bench-reference-env: say where DCAF's source is: DCAF_SRC=PATH (a git repository)" >&2; exit 2; }
	rm -rf $(BENCH_DIR)/dcaf-src $(BENCH_DIR)/reference
	mkdir -p $(BENCH_DIR)/dcaf-src
	git -C "$(DCAF_SRC)" archive $(DCAF_REV) | tar -x -C $(BENCH_DIR)/dcaf-src
	$(PYTHON) -m venv $(BENCH_DIR)/reference
	$(REFERENCE_PYTHON) -m pip install --quiet --upgrade pip
	$(REFERENCE_PYTHON) -m pip install --quiet $(BENCH_DIR)/dcaf-src
	@echo "built $(REFERENCE_PYTHON); make bench measures the reference server with it"

clean:  ## remove the virtualenv and caches
	rm -rf $(VENV) $(BENCH_DIR) .pytest_cache .mypy_cache .ruff_cache
