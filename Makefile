# outdial — the two commands users need: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test check sysdeps install install-test pjsua2 clean

run: install  ## create the venv, install outdial, create the embedded database, start the server
	$(BIN)/outdial db upgrade
	$(BIN)/outdial serve

test: sysdeps install-test check  ## install what the tests need, run the checks, run every test
	$(BIN)/pytest

check:  ## lint, format, types, import contracts
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

sysdeps:  ## Debian packages the tests use (SIPp, PostgreSQL, espeak-ng, sox)
	scripts/install-system-deps.sh

install: $(VENV)/.installed pjsua2
install-test: $(VENV)/.installed-test pjsua2

# pjsua2 built from the pjproject tarball with sip/pjproject/config_site.h (issue 12); cached in
# ~/.cache/outdial (OUTDIAL_BUILD_CACHE), so only the first run compiles (a few minutes).
pjsua2: | $(VENV)/bin/python
	PYTHON=$(BIN)/python scripts/install-system-deps.sh --build
	$(BIN)/python scripts/build_pjsua2.py --install

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(VENV)/bin/python
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(VENV)/bin/python
	$(BIN)/pip install -q -e '.[test]'
	touch $(VENV)/.installed $@

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
