# The README's two commands: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: mutation run serve worker cluster cluster-stop cluster-test test install translations extract-messages lint bench bench-search bench-ocr bench-records load faults fonts fonts-required

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/activate
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[test]"
	touch $@

install: $(VENV)/.installed

translations: install
	$(BIN)/pybabel compile -d translations --use-fuzzy >/dev/null

# PDFs embed a Chinese TrueType font; install Debian's WenQuanYi Zen Hei when none is there.
CJK_FONT := /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc
fonts:
	@if [ -z "$$DOCMGMT_CJK_FONT" ] && [ ! -f $(CJK_FONT) ]; then \
	  if command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
	    echo "Installing Debian's fonts-wqy-zenhei (PDFs embed a Chinese TrueType font)"; \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -q fonts-wqy-zenhei >/dev/null 2>&1 || \
	      (apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q fonts-wqy-zenhei >/dev/null); \
	  else \
	    echo "No Chinese TrueType font: PDFs cannot be printed until you run"; \
	    echo "  sudo apt-get install fonts-wqy-zenhei   (or set DOCMGMT_CJK_FONT to a .ttf/.ttc)"; \
	  fi; \
	fi

# The tests print PDFs and read them back: without the font they cannot pass, so say what to
# install instead of failing a dozen tests with 503.
fonts-required: fonts
	@if [ -z "$$DOCMGMT_CJK_FONT" ] && [ ! -f $(CJK_FONT) ]; then \
	  echo "make test needs a Chinese TrueType font. Run (as root):"; \
	  echo "  apt-get install fonts-wqy-zenhei"; \
	  echo "or set DOCMGMT_CJK_FONT to a TrueType .ttf/.ttc with Chinese glyphs."; \
	  exit 1; \
	fi

# The development server on your own machine: the only place the development secret key is
# accepted (everything else is production unless DOCMGMT_ENV=development is set).
DEV := DOCMGMT_ENV=development
run: translations fonts
	$(DEV) $(FLASK) db upgrade heads
	$(DEV) $(FLASK) demo load --if-empty
	$(DEV) $(FLASK) search check --fix
	@# Background work (large imports, evidence packs, the daily jobs) runs in a worker on a
	@# SQLite queue file in instance/: no server to install; it stops with the dev server.
	$(DEV) $(FLASK) jobs worker >instance/worker.log 2>&1 & echo $$! >instance/worker.pid; \
	  trap 'kill $$(cat instance/worker.pid) 2>/dev/null; rm -f instance/worker.pid' EXIT INT TERM; \
	  $(DEV) $(FLASK) run --host $(HOST) --port $(PORT)

# Production: gunicorn with several workers, always DOCMGMT_ENV=production (it refuses to start
# without a SECRET_KEY of 32 bytes or more). Set SECRET_KEY, DATABASE_URL and
# DOCMGMT_STORAGE_DIR first (see README "Production").
WORKERS ?= 4
PROD := DOCMGMT_ENV=production
serve: translations fonts
	$(PROD) $(FLASK) db upgrade heads
	$(PROD) $(BIN)/gunicorn --workers $(WORKERS) --bind $(HOST):$(PORT) --access-logfile - wsgi:app

# The job worker for `make serve` (run one or more, on any machine sharing the database, the
# queue's broker DOCMGMT_QUEUE_URL and the file store).
worker: translations
	$(PROD) $(FLASK) jobs worker

test: translations fonts-required
	$(BIN)/ruff check .
	$(BIN)/python -m pytest $(PYTEST_ARGS)

extract-messages: install
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k said -k N_ -o translations/messages.pot --no-location --sort-output .
	$(BIN)/pybabel update -i translations/messages.pot -d translations --no-fuzzy-matching

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Mutation testing of the rule modules, each against its own tests (README "Mutation
# testing"); MODULES=versions,... picks some. Minutes, not in CI.
mutation: install
	$(BIN)/pip install -q -e ".[mutation]"
	$(BIN)/python scripts/mutation.py $(subst $(comma), ,$(MODULES))

comma := ,

# Benchmarks (figures in the README). LibreOffice (apt-get install libreoffice-writer-nogui)
# is compared when installed.
bench: translations
	$(BIN)/python benchmarks/bench_printing.py

# Load test: gunicorn (2 workers) on loopback, 30 users for 60 s; LOAD_DB=postgresql for PG.
LOAD_DB ?= sqlite
load: translations
	$(BIN)/pip install -q -e ".[load]"
	benchmarks/load/run.sh $(LOAD_DB) 30 60

# Fault injection: SIGKILL during a publish, an import and a disposal (about a minute).
faults: translations
	$(BIN)/python scripts/fault_test.py

# About a minute: a 100,000-row CSV import and the disposal queue among 1,000,000 records.
bench-records: translations
	$(BIN)/python benchmarks/bench_records.py $(BENCH_ARGS)

# Text recognition: each engine on the same scans of service forms (tests/scans.py), accuracy
# and seconds per page; Tesseract is compared when installed (apt-get install tesseract-ocr
# tesseract-ocr-chi-sim).
bench-ocr: translations
	$(BIN)/python benchmarks/bench_ocr.py $(BENCH_ARGS)

# About 6 minutes: builds a 101,000-entry index and an FTS5 table, then times the queries.
bench-search: translations
	$(BIN)/python benchmarks/bench_search.py $(BENCH_ARGS)

# Several app servers on one machine (README "Running on several servers"): Debian's
# PostgreSQL (database CLUSTER_DB, default docmgmt_cluster), Redis for the job queue, two
# gunicorn servers on 127.0.0.1:5001/5002, a job worker and nginx on 127.0.0.1:8080. Needs
# apt-get install postgresql redis-server nginx. Settings: instance/cluster.env.
cluster: translations fonts
	BIN=$(abspath $(BIN)) scripts/cluster.sh start

cluster-stop:
	BIN=$(abspath $(BIN)) scripts/cluster.sh stop

# The cluster test (tests/cluster): filing on one server and reading on the other, log-in
# through nginx, SIGKILL of an app server under load and of the worker during a large import.
cluster-test: cluster
	CLUSTER_TESTS=1 BIN=$(abspath $(BIN)) $(BIN)/python -m pytest -q -p no:cacheprovider tests/cluster
