# Two commands do all the set-up on a fresh machine with Python 3.11+:
#   make run   - install into .venv and run the demo on the embedded broker
#   make test  - install into .venv and run the whole test suite
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: install run test lint schemas clean

$(STAMP): pyproject.toml
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Pantau needs Python 3.11+"'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: install
	$(VENV)/bin/pantau demo

test: install
	$(PY) -m pytest

lint: install
	$(VENV)/bin/ruff check streams tests benchmarks
	$(VENV)/bin/ruff format --check streams tests benchmarks

schemas: install
	$(VENV)/bin/pantau schemas

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
