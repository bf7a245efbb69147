# Every target works from a clean clone: `make install` creates .venv on first use.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.DEFAULT_GOAL := help
.PHONY: help install run test docs-check picture lint format bench clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)  ## create .venv and install dcaf with every extra and the dev tools

# `make run` works on a copy of the example, so chatting never dirties the checkout.
run: $(STAMP)  ## chat with the shop agent on a copy of sessions/shop.json, offline model
	@mkdir -p .run && [ -f .run/shop.json ] || cp sessions/shop.json .run/shop.json
	$(BIN)/dcaf run dcaf_cli.examples.shop --session .run/shop.json --model offline

test: $(STAMP)  ## run the test suite
	$(BIN)/python -m pytest $(PYTEST_ARGS)

docs-check: $(STAMP)  ## run every command shown in README.md and docs/ (make test runs it too)
	$(BIN)/python -m pytest tests/test_docs.py

picture: $(STAMP)  ## redraw docs/turn.svg, the README's picture, from the program itself
	$(BIN)/python docs/picture.py docs/turn.svg

lint: $(STAMP)  ## ruff and mypy
	$(BIN)/ruff check dcaf_cli tests benchmarks docs
	$(BIN)/ruff format --check dcaf_cli tests benchmarks docs
	$(BIN)/mypy

format: $(STAMP)  ## apply ruff's fixes and formatting
	$(BIN)/ruff check --fix dcaf_cli tests benchmarks docs
	$(BIN)/ruff format dcaf_cli tests benchmarks docs

bench: $(STAMP)  ## measure speed against baselines taken in the same run
	$(BIN)/python -m benchmarks

clean:  ## remove the virtualenv and caches
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
