# Tocsin: every set-up step lives here, so a fresh machine needs only `make run` or `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
STATIC := tocsin/web/static/.vite/manifest.json
FRONT_SRC := $(shell find frontend/src frontend/public -type f 2>/dev/null) frontend/package-lock.json frontend/vite.config.ts

.PHONY: run install frontend browser test test-embedded test-cluster test-long lint bench clean demo serve lock audit audit-offline

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

frontend/node_modules/.package-lock.json: frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund
	touch $@

$(STATIC): frontend/node_modules/.package-lock.json $(FRONT_SRC)
	cd frontend && npm run build

frontend: $(STATIC)

# The newcomer's command: serve on :8000 and replay the evening of 13 November 2015 through the
# API (fresh var/demo.db each time); the banner prints each role's page and its demo account.
run: install frontend
	$(BIN)/tocsin serve --demo --host 127.0.0.1 --port 8000

# The same replay, with its options: make demo DEMO_ARGS="--speed 120 --scale 0.5"
demo: install frontend
	$(BIN)/tocsin demo $(DEMO_ARGS)

# Serve without the demo, on var/tocsin.db (or TOCSIN_DATABASE_URL).
serve: install frontend
	$(BIN)/tocsin db upgrade
	$(BIN)/tocsin serve --host 127.0.0.1 --port 8000

# The browser tests drive Debian's Chromium (tests/web/conftest.py). A fresh machine gets it
# here, as .ci/run does, instead of skipping every browser test; without root, sudo is used, and
# without either the install fails and says so.
CHROMIUM ?= /usr/bin/chromium
browser:
	@test -x $(CHROMIUM) || { \
	  echo "$(CHROMIUM) is missing: installing Debian's chromium for the browser tests"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && \
	  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core; \
	  test -x $(CHROMIUM); }

# The whole suite, both modes (embedded: SQLite + in-process bus; cluster: PostgreSQL + NATS).
test: install frontend lint browser
	$(BIN)/python -m pytest -m "not long" -p no:cacheprovider

test-embedded: install frontend browser
	TOCSIN_TEST_MODES=embedded $(BIN)/python -m pytest -m "not long"

test-cluster: install frontend browser
	TOCSIN_TEST_MODES=cluster $(BIN)/python -m pytest -m "not long"

# Fault tests (private PostgreSQL + NATS + 3 workers, SIGKILL / restarts under load) and the soak;
# -s shows the figures each prints (RELIABILITY.md records them).
test-long: install frontend
	$(BIN)/python -m pytest -m long -s -p no:cacheprovider

# The pinned set of every installed distribution, audited by `make audit`.
lock: install
	{ echo '# Every installed distribution, pinned (the venv of the last `make lock`): what `make audit` checks.'; \
	  echo '# Regenerate from a fresh `make install` with `make lock` after changing pyproject.toml.'; \
	  $(BIN)/pip freeze --exclude-editable; } > constraints.txt

# Known vulnerabilities in the pinned dependencies (pip-audit, PyPI advisory data). --strict: a
# package that could not be checked fails the audit rather than passing silently. Ignored
# advisories, each with its reason, are listed in RELIABILITY.md; add their ids here.
AUDIT_IGNORE :=
audit: install
	$(BIN)/pip-audit --strict --no-deps --disable-pip --progress-spinner off -r constraints.txt \
	  $(foreach id,$(AUDIT_IGNORE),--ignore-vuln $(id))

# The same question without network: constraints.txt against the committed PyPA advisory
# snapshot (tools/advisories/pypi.json; refresh: python -m tools.advisories_refresh REPO). It
# prints the snapshot's age: a pass means "nothing known on that date", not a live check.
audit-offline: install
	$(BIN)/python -m tools.audit_offline $(foreach id,$(AUDIT_IGNORE),--ignore $(id))

lint: install
	$(BIN)/ruff check tocsin tests bench tools
	$(BIN)/mypy
	$(BIN)/lint-imports

bench: install
	@ls bench/*.py >/dev/null 2>&1 && for b in bench/[a-z]*.py; do $(BIN)/python -m bench.$$(basename $$b .py) || exit 1; done || echo "no benchmarks yet"

clean:
	rm -rf $(VENV) frontend/node_modules tocsin/web/static/assets tocsin/web/static/.vite var
