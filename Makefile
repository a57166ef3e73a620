# make demo: set up and run the whole pipeline on the embedded local sheet.
# make test: set up and run every test (Python, browser, Apps Script).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test test-py test-js bench lint lint-imports setup node clean

setup: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	$(PY) -m pip install --quiet --no-deps -e .
	touch $(STAMP)

node: node_modules/.installed

node_modules/.installed: package.json
	npm install --no-audit --no-fund --silent
	touch node_modules/.installed

demo: setup
	$(PY) -m hailong demo

test: setup node lint-imports test-js test-py

test-py: setup
	$(PY) -m pytest

test-js:
	node --test collector/apps_script/tests/

bench: setup
	$(PY) bench/score_bench.py
	$(PY) bench/site_bench.py
	$(PY) bench/pull_bench.py
	$(PY) bench/publish_bench.py
	$(PY) bench/withhold_bench.py

lint: setup lint-imports
	$(VENV)/bin/ruff check .

# the stages depend one way (pyproject.toml [tool.importlinter]); a wrong import fails the tests
lint-imports: setup
	$(VENV)/bin/lint-imports

clean:
	rm -rf output $(VENV) node_modules
