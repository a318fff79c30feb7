# Hài Lòng: `make run` for a demo on this machine, `make test` for the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
SECRET_FILE := instance/secret_key
DEMO_RESPONSES ?= 5000
DEMO_DAYS ?= 60

.PHONY: screenshots run test install translations update-translations browsers bench bench-scale bench-load wrk fault-cluster lint clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/activate
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed

translations: install
	$(BIN)/pybabel compile --use-fuzzy -d kiosk/translations -D messages 2>&1 | grep -v '^compiling' || true

# Re-extract the strings and merge them into the catalogs (then translate the new ones).
update-translations: install
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --ignore-dirs '.* node_modules __pycache__ instance' -o kiosk/translations/messages.pot --no-location --sort-output .
	$(BIN)/pybabel update -i kiosk/translations/messages.pot -d kiosk/translations --no-fuzzy-matching

$(SECRET_FILE):
	mkdir -p instance
	$(PYTHON) -c 'import secrets; print(secrets.token_hex(32))' > $@
	chmod 600 $@

# Where `make run` listens; the printed URLs (and the QR codes' PUBLIC_BASE_URL, unless it is
# set) follow. HOST=0.0.0.0 serves the local network: the URLs then name this machine's address.
PORT ?= 5000
HOST ?= 127.0.0.1
URL_HOST := $(if $(filter 0.0.0.0 ::,$(HOST)),$(or $(firstword $(shell hostname -I 2>/dev/null)),127.0.0.1),$(HOST))
PUBLIC_BASE_URL ?= http://$(URL_HOST):$(PORT)

# The demo's administrator signs in with a password alone: the second factor that
# MFA_REQUIRED_ROLES asks of administrators in production is switched off for this demo.
run: translations $(SECRET_FILE)
	@export SECRET_KEY=$$(cat $(SECRET_FILE)) PUBLIC_BASE_URL='$(PUBLIC_BASE_URL)' FLASK_MFA_REQUIRED_ROLES="$${FLASK_MFA_REQUIRED_ROLES-}"; \
	$(FLASK) db upgrade && \
	$(FLASK) seed-demo --responses $(DEMO_RESPONSES) --days $(DEMO_DAYS) && \
	echo "" && echo "  Serving on http://$(URL_HOST):$(PORT), with one worker printing e-mails here (Ctrl+C stops)" && \
	echo "  Demo only: no second factor is required (FLASK_MFA_REQUIRED_ROLES=$$FLASK_MFA_REQUIRED_ROLES);" && \
	echo "  in production administrators must set one up (MFA_REQUIRED_ROLES, README)." && \
	{ FLASK_MAIL_BACKEND=console $(FLASK) worker & worker=$$!; trap "kill $$worker 2>/dev/null" EXIT; \
	  $(FLASK) run --host '$(HOST)' --port '$(PORT)'; }

# Debian's Chromium for the browser tests (Playwright drives it; it never downloads a browser),
# and axe-core from the npm registry for the accessibility checks.
browsers:
	@test -x /usr/bin/chromium || { apt-get update -q && apt-get install -y -q chromium; }
	@test -f node_modules/axe-core/axe.min.js || npm install --no-audit --no-fund --silent

test: translations browsers
	@echo "== test suite on SQLite"
	env -u TEST_DATABASE_URL $(BIN)/pytest -q
	@if [ -n "$$TEST_DATABASE_URL" ]; then \
		echo "== test suite again on PostgreSQL ($$TEST_DATABASE_URL)"; \
		$(BIN)/pytest -q; \
	fi

# Each benchmark rewrites its own "## ..." section of docs/performance.md (about 8 minutes in all).
bench: translations
	$(BIN)/python -m benchmarks.run
	$(BIN)/python -m benchmarks.org_import
	$(BIN)/python -m benchmarks.public_page
	$(MAKE) bench-load

# The dashboards at 1 M and 10 M responses over two years, on PostgreSQL (BENCH_DATABASE_URL or
# TEST_DATABASE_URL); SCALE=100000 for a quick look. About 45 minutes at the default scales.
SCALE ?= 1000000 10000000
bench-scale: translations
	$(BIN)/python -m benchmarks.scale $(foreach n,$(SCALE),--scale $(n))

# Debian's wrk, the load generator of benchmarks/throughput.py.
wrk:
	@command -v wrk >/dev/null || { apt-get update -q && apt-get install -y -q wrk; }

# A PostgreSQL cluster of our own (port 5433) that the fault test may restart: never the shared
# server on 5432, where other test runs live.
PG_VERSION ?= $(shell ls /usr/lib/postgresql 2>/dev/null | sort -n | tail -1)
FAULT_PORT ?= 5433
fault-cluster:
	@sh benchmarks/fault-cluster.sh $(PG_VERSION) fault $(FAULT_PORT)

# The app under gunicorn against a bare Flask floor (SQLite, and PostgreSQL when
# BENCH_DATABASE_URL or TEST_DATABASE_URL is set), then the fault test: on the own cluster when
# Debian's PostgreSQL tools are here, else on SQLite with worker kills only.
bench-load: translations wrk
	$(BIN)/python -m benchmarks.throughput
	@if [ -n "$(PG_VERSION)" ] && command -v pg_createcluster >/dev/null; then \
		$(MAKE) --no-print-directory fault-cluster && \
		$(BIN)/python -m benchmarks.fault \
			--database-url postgresql://postgres@127.0.0.1:$(FAULT_PORT)/postgres \
			--restart-command "pg_ctlcluster --skip-systemctl-redirect $(PG_VERSION) fault restart"; \
	else \
		$(BIN)/python -m benchmarks.fault --database-url sqlite; \
	fi

lint: install
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache

# Retake the README's and docs' screenshots from a fresh demo city (Debian's Chromium).
screenshots: translations browsers
	$(BIN)/python docs/screenshots/take.py
