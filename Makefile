# make demo: set up and run the whole pipeline on the embedded local sheet.
# make test: set up and run every test (Python, browser, Apps Script).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test test-py test-js test-windows-like bench bench-national lint lint-imports setup node clean messages

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

test: setup node lint-imports test-js test-py test-windows-like

test-py: setup
	$(PY) -m pytest

test-js:
	node --test collector/apps_script/tests/

# the parts that start processes (build, qr, posters, score, publish, the pools' orphans) under a
# Windows-like process model: no os.fork/forkpty/killpg/fchmod, spawn the only start method, in
# every Python process the tests start (tests/windows_like/sitecustomize.py). Not Windows itself.
WINDOWS_LIKE_TESTS = tests/test_build.py tests/test_qr.py tests/test_posters.py \
	tests/test_pipeline_score.py tests/test_publish_summary.py tests/test_withhold_reference.py \
	tests/test_procpool.py tests/test_golive.py tests/test_windows_like.py
test-windows-like: setup
	HAILONG_WINDOWS_LIKE=1 PYTHONPATH=$(CURDIR)/tests/windows_like:$(CURDIR) \
		$(PY) -m pytest -p no:cacheprovider -q $(WINDOWS_LIKE_TESTS)

bench: setup
	$(PY) bench/score_bench.py
	$(PY) bench/site_bench.py
	$(PY) bench/pull_bench.py
	$(PY) bench/publish_bench.py
	$(PY) bench/first_paint_bench.py
	$(PY) bench/deploy_bench.py
	$(PY) bench/tickets_bench.py
	$(PY) bench/rank_range_bench.py
	$(PY) bench/coverage.py
	$(PY) bench/damaged_bench.py
	$(PY) bench/kit_bench.py
	node bench/apps_script_bench.js
	$(PY) bench/national_bench.py

# the 10,000,000-row score figure (issue 10): about 1.1 GB of CSV, minutes of generating
bench-national: setup
	$(PY) bench/score_bench.py --responses 10000000 --no-stages
	$(PY) bench/withhold_bench.py

lint: setup lint-imports
	$(VENV)/bin/ruff check .

# the stages depend one way (pyproject.toml [tool.importlinter]); a wrong import fails the tests
lint-imports: setup
	$(VENV)/bin/lint-imports

# the message catalogs: extract every _() of hailong (and click's own texts, which hailong's
# catalog translates too) into a template, merge it into each .po, compile the .mo files
# that are committed beside them (so a fresh clone needs no build step)
CLICK_DIR = $(shell $(PY) -c "import click, os; print(os.path.dirname(click.__file__))" 2>/dev/null)
CLICK_MESSAGES = $(addprefix $(CLICK_DIR)/,core.py decorators.py exceptions.py formatting.py parser.py termui.py types.py utils.py)
messages: setup
	$(VENV)/bin/pybabel extract -k _ -k N_ -k ngettext:1,2 --no-location --sort-output \
		--omit-header -o hailong/locale/hailong.pot hailong $(CLICK_MESSAGES)
	$(VENV)/bin/pybabel update -i hailong/locale/hailong.pot -d hailong/locale -D hailong \
		--no-fuzzy-matching --ignore-obsolete
	# no dates in the header: a catalog changes only when a message does (merges stay clean)
	sed -i '/^"POT-Creation-Date: /d; /^"PO-Revision-Date: /d' hailong/locale/*/LC_MESSAGES/hailong.po
	$(PY) scripts/compile_messages.py
	rm -f hailong/locale/hailong.pot

clean:
	rm -rf output $(VENV) node_modules
