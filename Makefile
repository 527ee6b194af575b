# Care Portal: building the front-end assets and the translations.
# Every rule is file-based, so a second `make assets` or `make translations` does nothing when up to date.

VENV ?= .venv
PYBABEL ?= $(VENV)/bin/pybabel
NPM ?= npm

# --- Front-end assets -------------------------------------------------------------------------------------
# GOV.UK Frontend comes from npm (package.json pins the version govuk-frontend-jinja targets). We compile its
# Sass with the council's brand and copy the images, manifest and JavaScript it needs under static/govuk/.
# static/dist/ and static/govuk/ are built, never committed.

NODE_STAMP := node_modules/.care-portal-installed
GOVUK_DIST := node_modules/govuk-frontend/dist/govuk
SASS := node_modules/.bin/sass
SCSS_SOURCES := $(wildcard static/src/*.scss)
GOVUK_OUT := static/govuk
DIST_OUT := static/dist

.PHONY: assets
assets: $(DIST_OUT)/portal.css $(DIST_OUT)/init.js $(GOVUK_OUT)/govuk-frontend.min.js \
	$(GOVUK_OUT)/manifest.json $(GOVUK_OUT)/images/.copied

# `npm ci` installs exactly what package-lock.json says; without a lock file, install and write one.
$(NODE_STAMP): package.json $(wildcard package-lock.json)
	if [ -f package-lock.json ]; then \
		$(NPM) ci --no-audit --no-fund --loglevel=error; \
	else \
		$(NPM) install --no-audit --no-fund --loglevel=error; \
	fi
	touch $@

$(DIST_OUT)/portal.css: $(SCSS_SOURCES) $(NODE_STAMP)
	mkdir -p $(DIST_OUT)
	$(SASS) --pkg-importer=node --load-path=static/src --style=compressed --no-source-map \
		--quiet-deps static/src/portal.scss $@

$(DIST_OUT)/init.js: static/src/init.js
	mkdir -p $(DIST_OUT)
	cp $< $@

$(GOVUK_OUT)/govuk-frontend.min.js: $(NODE_STAMP)
	mkdir -p $(GOVUK_OUT)
	cp $(GOVUK_DIST)/govuk-frontend.min.js $@

$(GOVUK_OUT)/manifest.json: $(NODE_STAMP)
	mkdir -p $(GOVUK_OUT)
	cp $(GOVUK_DIST)/assets/manifest.json $@

$(GOVUK_OUT)/images/.copied: $(NODE_STAMP)
	mkdir -p $(GOVUK_OUT)/images
	cp $(GOVUK_DIST)/assets/images/* $(GOVUK_OUT)/images/
	touch $@

# --- Translations -----------------------------------------------------------------------------------------
# Extract every marked string (Python `_`/`_l`, templates `_()`), merge into the Welsh catalogue (created on
# first run), compile it. The .mo file is built, never committed; the .po file is the translators' work.

TRANSLATIONS_DIR := portal/translations
POT := $(TRANSLATIONS_DIR)/messages.pot
WELSH_PO := $(TRANSLATIONS_DIR)/cy/LC_MESSAGES/messages.po
WELSH_MO := $(TRANSLATIONS_DIR)/cy/LC_MESSAGES/messages.mo
TRANSLATABLE_SOURCES := $(shell find portal search -name '*.py' -not -path '*/__pycache__/*' 2>/dev/null) \
	$(shell find templates -name '*.html' 2>/dev/null)

.PHONY: translations
translations: $(WELSH_MO)

$(POT): babel.cfg $(TRANSLATABLE_SOURCES)
	mkdir -p $(TRANSLATIONS_DIR)
	$(PYBABEL) -q extract -F babel.cfg -k _l -c "Translators:" --add-location=file --sort-by-file \
		--project="Care Portal" --copyright-holder="The council" -o $@ .

$(WELSH_PO): $(POT)
	$(PYBABEL) -q update --no-fuzzy-matching --init-missing --width=120 -i $(POT) -d $(TRANSLATIONS_DIR) -l cy
	touch $@

$(WELSH_MO): $(WELSH_PO)
	$(PYBABEL) compile --statistics -d $(TRANSLATIONS_DIR) -l cy
	touch $@

# --- Python environment -----------------------------------------------------------------------------------

PYTHON ?= python3
VENV_STAMP := $(VENV)/.care-portal-installed
FLASK := FLASK_APP=wsgi.py $(VENV)/bin/flask
PYTEST_WORKERS ?= 2

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

$(VENV_STAMP): pyproject.toml | $(VENV)/bin/python
	$(VENV)/bin/pip install --quiet --disable-pip-version-check --upgrade pip
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $@

.PHONY: install
install: $(VENV_STAMP)

# --- System packages: Node/npm for assets, Chromium for browser tests, PostgreSQL for the second database ----

APT_INSTALL = DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: system-packages
system-packages:
	@missing=""; \
	command -v npm >/dev/null || missing="$$missing nodejs npm"; \
	[ -x /usr/bin/chromium ] || missing="$$missing chromium chromium-driver"; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	if [ -n "$$missing" ]; then \
		echo "Installing Debian packages:$$missing"; \
		$(SUDO) apt-get update -qq && $(SUDO) $(APT_INSTALL) $$missing; \
	fi

.PHONY: setup
setup: system-packages $(VENV_STAMP)
	$(MAKE) --no-print-directory assets translations

# --- The two commands -------------------------------------------------------------------------------------

.PHONY: run
run: setup
	$(FLASK) db upgrade
	$(FLASK) demo load --if-empty
	$(FLASK) search rebuild
	$(FLASK) dev-server

.PHONY: test
test: setup
	$(VENV)/bin/pytest -n $(PYTEST_WORKERS) --dist loadgroup -p no:cacheprovider

.PHONY: lint
lint: $(VENV_STAMP)
	$(VENV)/bin/ruff check portal search tests bench

.PHONY: clean
clean:
	rm -rf static/dist static/govuk node_modules $(VENV) instance/search-index

# --- Benchmarks (not tests: they print figures) --------------------------------------------------------------
# Whoosh beside SQLite FTS5 and PostgreSQL full-text search on one generated corpus, then the search page under
# gunicorn. `make bench` runs 10,000 listings (under ~10 minutes); `make bench SIZE=50000` or SIZE=1000,10000.
SIZE ?= 10000
BENCH_ARGS ?=

.PHONY: bench
bench: $(VENV_STAMP)
	$(VENV)/bin/python -m bench.search_bench --size $(SIZE) $(BENCH_ARGS)
	$(VENV)/bin/python -m bench.checkout_bench $(CHECKOUT_BENCH_ARGS)
