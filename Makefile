# helsemeldinger: `make help` lists the targets.
# The interpreter .venv is made from (PYTHON=... picks another): the system's /usr/bin/python3 when it is 3.11
# or newer and can make a venv, else the first python3 on the PATH. A distribution's Python (Debian, Ubuntu) is
# built with profile-guided and link-time optimisation; one that pyenv builds from source is not, unless asked
# (PYTHON_CONFIGURE_OPTS=--enable-optimizations). On the 2-core machine a pure-Python loop ran 1.8 times as fast
# on Debian's 3.11 as on pyenv's 3.11.7, and the test suite took about a tenth less time (README, Two commands).
PYTHON ?= $(shell for p in /usr/bin/python3 python3; do "$$p" -c 'import sys, ensurepip; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1 && { echo "$$p"; exit 0; }; done; echo python3)
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
KERNEL := helsemeldinger
DATA   ?=

.DEFAULT_GOAL := help
.PHONY: help setup report test lab bench lint clean

help: ## list the targets
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (set PYTHON=...)")'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	$(PY) -m ipykernel install --sys-prefix --name $(KERNEL) --display-name "Python (helsemeldinger)"
	@# nbstripout as a git filter (see .gitattributes): outputs saved in JupyterLab never reach a commit;
	@# --keep-id keeps the cells' ids (nbstripout --install would renumber them), so a clean file stays clean;
	@# the refresh records the filtered notebooks once, so later `git status` calls need not filter them again
	if git rev-parse --git-dir >/dev/null 2>&1; then \
	  git config filter.nbstripout.clean '"$(CURDIR)/$(PY)" -m nbstripout --keep-id' && \
	  git config filter.nbstripout.smudge cat && git config filter.nbstripout.required true && \
	  git config diff.ipynb.textconv '"$(CURDIR)/$(PY)" -m nbstripout --keep-id -t' && \
	  { git update-index -q --refresh >/dev/null || true; }; fi
	touch $(STAMP)

setup: $(STAMP) ## create .venv, install the package and its dependencies, register the Jupyter kernel

report: setup ## render every notebook into reports/, with the two-page briefing (its PDF needs Chromium) and the teaching pages (DATA=path/to/series.csv for your own data, SHEET=name for a workbook's sheet, ARGS="-p start=2019" for parameters)
	$(PY) -m analysis.pipeline --jobs $(or $(JOBS),2) $(if $(DATA),--data "$(DATA)") $(if $(SHEET),--sheet "$(SHEET)") $(ARGS)

.PHONY: check-browser example
bench: setup ## time the cold build (--jobs 2), a rebuild with nothing changed and with one notebook changed, against the naive papermill + nbconvert loop; load a 1M-row file (build/bench.json)
	$(PY) benchmarks/bench_build.py
	$(PY) benchmarks/bench_load.py

.PHONY: validate
validate: setup ## calibration: coverage of each trend model's 95 % prediction interval in seeded simulations (a few minutes)
	$(PY) benchmarks/validate.py

check-browser: setup ## open a briefing report in headless Chromium, network off; screenshot in build/ (skips without Chromium)
	$(PY) scripts/check_browser.py

.PHONY: check-lab
check-lab: setup ## open notebook 03 (nb, en) in JupyterLab in headless Chromium: table of contents, not modified on opening; screenshots in build/check-lab/
	$(PY) scripts/check_lab.py

example: setup ## write a SYNTHETIC example series to build/examples/ (then make report DATA=build/examples/synthetic_example_series.csv)
	$(PY) scripts/make_example_series.py

test: setup ## run the whole test suite (includes every notebook through papermill)
	$(PY) -m pytest

lab: setup ## open JupyterLab on notebooks/ with the project's kernel
	$(VENV)/bin/jupyter lab notebooks/

lint: setup ## ruff over src and tests
	$(VENV)/bin/ruff check src tests

clean: ## remove build products (executed notebooks, caches) and stop the lasting warm process; keeps .venv
	-test -x $(PY) && $(PY) -m analysis.pipeline.warm stop
	rm -rf build .pytest_cache .ruff_cache
