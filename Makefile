# The course's commands. `make lab` sets everything up and opens the course;
# `make test` runs the whole test suite (what CI runs). Needs Python 3.11+ and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
ASSIGNMENTS := $(notdir $(wildcard solutions/*))
# nbgrader runs helpers such as `alembic` from PATH: the environment's scripts come first.
export PATH := $(abspath $(BIN)):$(PATH)
# nbgrader, started in half the time (tools/grading/nbgrader_app.py).
NBGRADER := $(BIN)/python -m tools.grading.nbgrader_app
# Jupyter refuses to start as root (containers, cloud VMs) unless told to: tell it only then.
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root)

.PHONY: lab test browser bench bench-class student weights standin diagrams toy-models clean release collect autograde feedback export

## Create the virtual environment and install what students need.
$(VENV)/.course-installed: requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

## ... plus what the tests need.
$(VENV)/.dev-installed: requirements-dev.txt $(VENV)/.course-installed
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

## Set up and open the course in JupyterLab (the first run downloads the weights on first use).
lab: $(VENV)/.course-installed
	$(BIN)/jupyter lab $(ALLOW_ROOT) notebooks/

## ... plus bubblewrap for the grading sandbox (instructors, and the grading tests).
$(VENV)/.grading-installed: tools/grading/requirements.txt $(VENV)/.course-installed
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r tools/grading/requirements.txt
	touch $@

## Run every test: unit tests, checks against wrong answers, generated notebooks, grading, nbval, the browser.
test: $(VENV)/.dev-installed $(VENV)/.grading-installed browser
	$(BIN)/python -m pytest

## The browser the student-path test drives: Debian's Chromium and its driver, with a Korean font for its
## screenshots; installed when missing (as root, as CI runs), else make stops and says what to install.
BROWSER_PACKAGES := chromium chromium-driver fonts-nanum
CHROMIUM ?= /usr/bin/chromium
CHROMEDRIVER ?= /usr/bin/chromedriver
browser:
	@if [ ! -x $(CHROMIUM) ] || [ ! -x $(CHROMEDRIVER) ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $(BROWSER_PACKAGES); \
	  else \
	    echo "make test needs $(CHROMIUM) and $(CHROMEDRIVER): install them as root," \
	         "e.g. 'sudo apt-get install $(BROWSER_PACKAGES)' (Debian, Ubuntu)" >&2; exit 1; \
	  fi; \
	fi

## Measure the methods, the notebooks and autograding (not a test); writes benchmarks/latest.json.
bench: $(VENV)/.dev-installed $(VENV)/.grading-installed
	$(BIN)/python -m tools.bench

## Grade a simulated class (STUDENTS=24) of every assignment with one worker and with two; writes benchmarks/class.json.
bench-class: $(VENV)/.dev-installed $(VENV)/.grading-installed
	$(BIN)/python -m tools.bench --class-size $(or $(STUDENTS),24)

## Regenerate the student notebooks (notebooks/) and the answers later notebooks import (coursekit/answers/)
## from the instructor versions (solutions/).
student: $(VENV)/.course-installed
	for a in $(ASSIGNMENTS); do $(NBGRADER) generate_assignment $$a --force --no-db --log-level=WARN || exit 1; done
	$(BIN)/python -m tools.answer_modules

# Instructors (README, 강사): A=<assignment>, LMS=<downloaded zip or folder>, EXCHANGE=<nbgrader exchange folder>,
# COURSE_URL=<where notebooks on Colab fetch the course: a git URL, or a .zip URL with {assignment}>.
A ?=
LMS ?=
EXCHANGE ?=
JOBS ?=
COURSE_URL ?=
NEED_A = @test -n "$(A)" || { echo "usage: make $@ A=<assignment>, one of: $(ASSIGNMENTS)"; exit 2; }

## Student versions, a zip per assignment in release_zips/ (and the exchange, if EXCHANGE is set), stamped with COURSE_URL if set.
release: $(VENV)/.grading-installed
	$(BIN)/python -m tools.grading.release $(if $(EXCHANGE),--exchange $(EXCHANGE)) $(if $(COURSE_URL),--course-url '$(COURSE_URL)')

## Submissions into submitted/: from an LMS download (LMS=...), else from the exchange.
collect: $(VENV)/.grading-installed
	$(NEED_A)
	$(BIN)/python -m tools.grading.collect $(A) $(if $(LMS),--lms $(LMS)) $(if $(EXCHANGE),--exchange $(EXCHANGE))

## Grade every submission of A in the sandbox, JOBS at a time (default: the cores, as memory allows); progress on screen, log in logs/.
autograde: $(VENV)/.grading-installed
	$(NEED_A)
	$(BIN)/python -m tools.grading.autograde $(A) $(if $(JOBS),--jobs $(JOBS))

## Feedback HTML without hidden tests in feedback/<student>/A/, a line per student (and the exchange, if set).
feedback: $(VENV)/.grading-installed
	$(NEED_A)
	$(BIN)/python -m tools.grading.feedback $(A) $(if $(EXCHANGE),--exchange $(EXCHANGE))

## Every assignment's grades as grades.csv.
export: $(VENV)/.grading-installed
	$(NBGRADER) export --to grades.csv --log-level=WARN

## Download the real pretrained weights into the libraries' caches (needs the internet once).
weights: $(VENV)/.course-installed
	$(BIN)/python -m tools.fetch_weights

## Write deterministic stand-in weights for offline work (tests do this themselves).
standin: $(VENV)/.course-installed
	$(BIN)/python -m tools.standin_weights .cache/standin

## Redraw the diagrams in resources/ and compose the two-object picture from the photos there.
diagrams: $(VENV)/.course-installed
	$(BIN)/python tools/make_diagrams.py
	$(BIN)/python -m tools.compose_photos

## Retrain the course's toy models (coursekit/toy_models.py) and write their weights to resources/.
toy-models: $(VENV)/.course-installed
	$(BIN)/python -m tools.train_toy_models

clean:
	rm -rf $(VENV) .cache
