# The shop's commands. `make run` serves the demo shop; `make test` runs every check CI runs.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
# xstatic-bootstrap ships only a source archive that needs setuptools<81 to build (pip >= 25.3 reads this).
export PIP_BUILD_CONSTRAINT := $(CURDIR)/build-constraints.txt
export PIP_DISABLE_PIP_VERSION_CHECK := 1
DEV := DJANGO_DEBUG=1
HOST ?= 127.0.0.1
PORT ?= 8000
GUNICORN := $(VENV)/bin/gunicorn shop.wsgi --workers 2 --bind $(HOST):$(PORT) --no-control-socket --access-logfile -
# The background worker (outbox: emails, gateway calls; periodic jobs) runs beside gunicorn and stops with it.
WITH_WORKER := $(DEV) $(PY) manage.py run_worker & worker=$$!; trap 'kill $$worker 2>/dev/null' EXIT INT TERM;

.PHONY: install install-dev browser-tools run run-mongo serve test test-sqlite test-mongo lint migrations check-migrations bench clean

$(VENV)/.installed: requirements.txt build-constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade "pip>=25.3"
	$(PIP) install -q -r requirements.txt
	touch $@

$(VENV)/.dev-installed: requirements-dev.txt $(VENV)/.installed
	$(PIP) install -q -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.dev-installed

# The browser tests (tests/browser) drive Debian's Chromium (installed as root, once) and load axe-core from npm.
CHROMIUM ?= /usr/bin/chromium
$(CHROMIUM):
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null

node_modules/.installed: package.json package-lock.json
	command -v npm >/dev/null || (apt-get update -qq && apt-get install -y -qq npm >/dev/null)
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

browser-tools: $(CHROMIUM) node_modules/.installed

## Serve the shop with demo data on the embedded SQLite database.
run: install
	$(DEV) $(PY) manage.py migrate --noinput
	$(DEV) $(PY) manage.py load_demo
	$(DEV) $(PY) manage.py collectstatic --noinput -v0
	$(WITH_WORKER) $(DEV) $(GUNICORN)

## The same on MongoDB: MONGODB_URI when set, else a SecantusDB test server started for the occasion.
run-mongo: install-dev
	$(DEV) $(PY) -m devtools.with_mongo $(MAKE) --no-print-directory serve

serve:
	$(DEV) $(PY) manage.py migrate --noinput
	$(DEV) $(PY) manage.py load_demo
	$(DEV) $(PY) manage.py collectstatic --noinput -v0
	$(WITH_WORKER) $(DEV) $(GUNICORN)

## Every check: lint, layers, Django checks, both migration trees, the suite on SQLite and on MongoDB.
test: install-dev browser-tools lint check-migrations test-sqlite
	$(PY) -m devtools.with_mongo $(PY) -m pytest -q $(PYTEST_ARGS)

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	env -u MONGODB_URI $(DEV) $(PY) manage.py check
	$(DEV) DJANGO_SETTINGS_MODULE=devtools.settings_mongo_offline $(PY) manage.py check

check-migrations: install-dev
	env -u MONGODB_URI $(DEV) $(PY) manage.py makemigrations --check --dry-run
	$(DEV) DJANGO_SETTINGS_MODULE=devtools.settings_mongo_offline $(PY) manage.py makemigrations --check --dry-run

## Write new migrations into both trees after a model change.
migrations: install-dev
	env -u MONGODB_URI $(DEV) $(PY) manage.py makemigrations $(APPS)
	$(DEV) DJANGO_SETTINGS_MODULE=devtools.settings_mongo_offline $(PY) manage.py makemigrations $(APPS)

test-sqlite: install-dev browser-tools
	env -u MONGODB_URI $(PY) -m pytest -q $(PYTEST_ARGS)

## The suite against a real MongoDB (replica set or Atlas) named by MONGODB_URI.
test-mongo: install-dev browser-tools
	@test -n "$(MONGODB_URI)" || (echo "Set MONGODB_URI to a MongoDB you may wipe (its test_shop database)." && exit 2)
	$(PY) -m pytest -q $(PYTEST_ARGS)

bench: install-dev
	$(PY) bench/storefront.py $(BENCH_ARGS)
	$(PY) bench/checkout.py
	$(PY) bench/import.py

clean:
	rm -rf $(VENV) staticfiles db.sqlite3 db.sqlite3-* media/items/demo var
