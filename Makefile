# Giliran: the two commands are `make run` and `make test` (see README.md).
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
export ESCPOS_CAPABILITIES_PICKLE_DIR := $(CURDIR)/var/cache/escpos

.PHONY: run test bench lint types unit venv vendor services demo clean

$(BIN)/giliran: pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(BIN)/giliran

venv: $(BIN)/giliran

# Front-end libraries from npm, copied into the product's own static files.
shared/static/vendor/.stamp: package.json package-lock.json
	command -v npm >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm)
	npm ci --no-audit --no-fund --loglevel=error
	npm run --silent vendor
	touch $@

vendor: shared/static/vendor/.stamp

run: venv vendor
	mkdir -p var
	$(BIN)/giliran secrets init
	$(BIN)/giliran db upgrade
	@clock="$${GILIRAN_CLOCK:-$$($(BIN)/giliran demo clock)}"; \
	if [ -n "$$clock" ]; then echo "Office closed now: demo clock at $$clock (office time; it runs on across restarts, see var/demo-clock.json)"; fi; \
	export GILIRAN_CLOCK="$$clock"; \
	$(BIN)/giliran demo seed && $(BIN)/giliran serve

# Debian packages the tests need when missing: Chromium, PostgreSQL, Redis, espeak-ng, sox.
services:
	@missing=""; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	command -v pg_ctlcluster >/dev/null || missing="$$missing postgresql"; \
	command -v redis-server >/dev/null || missing="$$missing redis-server"; \
	command -v espeak-ng >/dev/null || missing="$$missing espeak-ng"; \
	command -v sox >/dev/null || missing="$$missing sox"; \
	fc-list 2>/dev/null | grep -qi dejavu || missing="$$missing fonts-dejavu-core"; \
	if [ -n "$$missing" ]; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; fi

lint: venv
	$(BIN)/ruff check .

types: venv
	$(BIN)/mypy shared kiosk display counter hardware bench

test: venv vendor services lint types
	$(BIN)/python -m pytest -q -n 2 --dist worksteal

bench: venv vendor services
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) node_modules shared/static/vendor var
