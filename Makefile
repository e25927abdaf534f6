# The two commands: `make run` (demo on the embedded default) and `make test` (the whole suite).
VENV ?= .venv
PY := $(VENV)/bin/python
PYTHON ?= python3
DEMO_SCALE ?= small
# `make run PORT=8080` when 8000 is taken.
PORT ?= 8000

.PHONY: run test lint install messages fuzz bench clean constraints

$(VENV)/.installed: pyproject.toml constraints.txt
	# A venv without pip (made while python3-venv was missing) is made again, not used forever.
	$(PY) -m pip --version >/dev/null 2>&1 || { rm -rf $(VENV); $(PYTHON) -m venv $(VENV); }
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[dev]" -c constraints.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

install: $(VENV)/.installed node_modules/.installed

# Embedded default: SQLite in var/, eager Celery, DEBUG on, demo data and logins printed.
run: install
	env -u DATABASE_URL -u REDIS_URL $(PY) manage.py migrate --noinput
	env -u DATABASE_URL -u REDIS_URL $(PY) manage.py load_holidays
	env -u DATABASE_URL -u REDIS_URL $(PY) manage.py seed_demo --scale $(DEMO_SCALE)
	env -u DATABASE_URL -u REDIS_URL $(PY) manage.py runserver 127.0.0.1:$(PORT)

# Tests talk to the real services; .ci/run starts them and sets these, local defaults below.
# The suite runs in one pytest-xdist worker per core (at most 4), each with its own PostgreSQL and
# Redis database (tests/conftest.py); `make test TEST_WORKERS=0` runs it in one process.
TEST_WORKERS ?= auto
test: export DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/governance
test: export REDIS_URL ?= redis://127.0.0.1:6379/0
test: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check governance grids mediation petitions dashboards tests bench
	$(PY) manage.py makemigrations --check --dry-run
	$(VENV)/bin/pytest -n $(TEST_WORKERS) --maxprocesses 4 --dist worksteal $(PYTEST_ARGS)

# Deeper schemathesis run against the OpenAPI schema (make test runs 8 examples per operation).
fuzz: export DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/governance
fuzz: export REDIS_URL ?= redis://127.0.0.1:6379/0
fuzz: install
	FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-200} $(VENV)/bin/pytest tests/api/test_schema_fuzz.py -q

# City-scale benchmarks (docs/benchmarks.md): generates ~8 M records in a throw-away PostgreSQL
# database (created if missing, wiped: its name must contain "bench"), times the rollup, then the
# statistics API on the result. BENCH_ARGS=--reuse keeps the data of the previous run.
bench: export DATABASE_URL = $(or $(BENCH_DATABASE_URL),postgres://postgres@127.0.0.1:5432/gov_bench)
bench: install
	$(PY) bench/rollup_bench.py $(BENCH_ARGS)
	$(PY) bench/stats_api_bench.py

# After upgrading a dependency in .venv (and the suite passing): pin what was tested. Not after
# install, which would put the pinned versions back first.
constraints:
	{ sed -n '1,/^[^#]/{/^#/p}' constraints.txt; $(PY) -m pip freeze --exclude-editable; } > constraints.txt.new
	mv constraints.txt.new constraints.txt

lint: install
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check governance grids mediation petitions dashboards tests bench

# Recompile the translation catalogues (needs gettext); compiled .mo files are committed.
messages: install
	$(PY) manage.py makemessages -l zh_Hans -l en --ignore=.venv --ignore=node_modules
	$(PY) manage.py compilemessages --ignore=.venv --ignore=node_modules

clean:
	rm -rf var/db.sqlite3 staticfiles
