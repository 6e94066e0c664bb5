# The two commands of the README. Both set everything up on a fresh Debian machine.
#   make demo   installs and runs `portal demo` (SQLite under var/, http://127.0.0.1:8000)
#   make test   installs and runs the whole test suite (what CI runs through .ci/run)

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: demo test install install-test system-packages

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install --quiet -e .

install-test: $(BIN)/python
	$(BIN)/pip install --quiet -e ".[test]"

# Debian packages the tests drive: Chromium (browser tests), poppler's pdfsig and qpdf
# (independent PDF checks). Installed only when missing; needs root (CI runs as root).
system-packages:
	@missing=""; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	command -v pdfsig >/dev/null || missing="$$missing poppler-utils"; \
	command -v qpdf >/dev/null || missing="$$missing qpdf"; \
	command -v certutil >/dev/null || missing="$$missing libnss3-tools"; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

demo: install
	$(BIN)/portal demo

test: system-packages install-test
	$(BIN)/python -m pytest
