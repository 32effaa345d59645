# `make demo` and `make test` work on a fresh machine with only python3 (>= 3.11).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint clean

$(STAMP): setup.cfg pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and \
		"lmsbridge needs Python >= 3.11; set PYTHON=python3.11 (or newer)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip setuptools wheel
	$(BIN)/pip install -q -e '.[test]'
	touch $@

# The main job on the embedded default (SQLite in a fresh folder). Until the sync engine
# lands it walks through setting up tenants; see README.
demo: $(STAMP)
	rm -rf .demo && mkdir .demo
	cd .demo && PATH="$(CURDIR)/$(BIN):$$PATH" sh ../scripts/demo.sh

lint: $(STAMP)
	$(BIN)/ruff check .

test: lint
	$(BIN)/pytest

clean:
	rm -rf $(VENV) .demo build dist *.egg-info .pytest_cache .ruff_cache
