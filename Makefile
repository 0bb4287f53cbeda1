# studiocrm — `make run` and `make test` are the two commands; the rest are their parts.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
VENDOR := src/studiocrm/static/vendor
HOST ?= 127.0.0.1
PORT ?= 8000
# The web server and the worker read HOST and PORT: links in emails follow where we serve.
export HOST PORT
export PYTHONPATH := $(CURDIR)/src

.PHONY: install run test lint check-deploy messages system-deps clean bench

install: $(STAMP) $(VENDOR)/.installed messages

# Re-installs only when the dependency files change.
$(STAMP): pyproject.toml constraints.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

# Front-end assets come from the npm registry, pinned in package-lock.json.
$(VENDOR)/.installed: package.json package-lock.json scripts/vendor_assets.sh
	bash scripts/vendor_assets.sh $(VENDOR)
	@touch $@

messages: $(STAMP)
	@$(PY) scripts/compile_messages.py

# Packages from Debian that the PDF renderer and the browser tests need.
system-deps:
	@bash scripts/system_deps.sh

run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	@echo "studiocrm: $$($(PY) manage.py shell -v 0 -c 'from django.conf import settings; print(settings.BASE_URL)')/  (serving on $(HOST):$(PORT); worker runs beside it; Ctrl-C stops both)"
	@trap 'kill 0' EXIT INT TERM; \
	  $(PY) manage.py worker & \
	  $(PY) manage.py runserver $(HOST):$(PORT)

test: install system-deps
	$(PY) -m pytest -q $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check src tests bench scripts
	$(VENV)/bin/ruff format --check src tests bench scripts
	$(VENV)/bin/lint-imports
	$(PY) manage.py makemigrations --check --dry-run
	$(MAKE) --no-print-directory check-deploy

# Production settings must pass Django's deployment checks with no warnings.
check-deploy: install
	DEBUG=false SECRET_KEY=ci-check-deploy-$$(date +%s)-0123456789abcdefghijklmnopqrstuvwxyz \
	  FIELD_ENCRYPTION_KEY=$$($(PY) -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())') \
	  ALLOWED_HOSTS=crm.example.com BASE_URL=https://crm.example.com \
	  $(PY) manage.py check --deploy --fail-level WARNING

bench: install
	@for script in bench/[!_]*.py; do $(PY) $$script --quick || exit 1; done

clean:
	rm -rf $(VENV) $(VENDOR) build src/*.egg-info

# Back up the database and every stored file into one archive (OUT=path, default
# DATA_DIR/backups/); restore one into an EMPTY database: make restore BACKUP=path [FORCE=1].
.PHONY: backup restore
backup: install
	$(PY) manage.py backup $(if $(OUT),--output "$(OUT)")

restore: install
	@test -n "$(BACKUP)" || { echo "usage: make restore BACKUP=path/to/backup.tar.gz [FORCE=1]" >&2; exit 2; }
	$(PY) manage.py restore "$(BACKUP)" $(if $(FORCE),--force)
