# `make demo` and `make test` work on a fresh machine with only python3 (>= 3.11).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint browser clean

$(STAMP): setup.cfg pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and \
		"lmsbridge needs Python >= 3.11; set PYTHON=python3.11 (or newer)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip setuptools wheel
	$(BIN)/pip install -q -e '.[test]'
	touch $@

# The main job on the embedded default: mock provider and LMSs on loopback, real SSO
# launches and a deep link, two nightly syncs; SQLite in a fresh .demo/ folder.
demo: $(STAMP)
	rm -rf .demo
	$(BIN)/lmsbridge demo --dir .demo

# Layer rules: .importlinter.
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-cache --no-logo

# Debian's Chromium for the deep-linking picker's browser test; never a browser a tool
# downloads by itself. Without root or apt the browser test skips and says why.
browser:
	@test -x /usr/bin/chromium || { \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			echo "installing Debian's chromium for the browser test"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
		else echo "note: /usr/bin/chromium missing; the browser test will be skipped" >&2; fi; }

test: lint browser
	$(BIN)/pytest

clean:
	rm -rf $(VENV) .demo build dist *.egg-info .pytest_cache .ruff_cache
