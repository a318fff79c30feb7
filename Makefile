# Hài Lòng: `make run` for a demo on this machine, `make test` for the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
SECRET_FILE := instance/secret_key
DEMO_RESPONSES ?= 5000
DEMO_DAYS ?= 60

.PHONY: run test install translations update-translations browsers bench lint clean

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

run: translations $(SECRET_FILE)
	@export SECRET_KEY=$$(cat $(SECRET_FILE)); \
	$(FLASK) db upgrade && \
	$(FLASK) seed-demo --responses $(DEMO_RESPONSES) --days $(DEMO_DAYS) && \
	echo "" && echo "  Serving on http://127.0.0.1:5000 (Ctrl+C stops)" && \
	$(FLASK) run --host 127.0.0.1 --port 5000

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

bench: translations
	$(BIN)/python -m benchmarks.run

lint: install
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache
