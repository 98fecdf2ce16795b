# The course's commands. `make lab` sets everything up and opens the course;
# `make test` runs the whole test suite (what CI runs). Needs Python 3.11+ and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
ASSIGNMENTS := $(notdir $(wildcard solutions/*))
# nbgrader runs helpers such as `alembic` from PATH: the environment's scripts come first.
export PATH := $(abspath $(BIN)):$(PATH)

.PHONY: lab test bench student weights standin diagrams clean release collect autograde feedback export

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
	$(BIN)/jupyter lab notebooks/

## ... plus bubblewrap for the grading sandbox (instructors, and the grading tests).
$(VENV)/.grading-installed: tools/grading/requirements.txt $(VENV)/.course-installed
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r tools/grading/requirements.txt
	touch $@

## Run every test: unit tests, checks against wrong answers, generated notebooks, grading, nbval.
test: $(VENV)/.dev-installed $(VENV)/.grading-installed
	$(BIN)/python -m pytest

## Measure the methods, the notebooks and autograding (not a test); writes benchmarks/latest.json.
bench: $(VENV)/.dev-installed $(VENV)/.grading-installed
	$(BIN)/python -m tools.bench

## Regenerate the student notebooks (notebooks/) from the instructor versions (solutions/).
student: $(VENV)/.course-installed
	for a in $(ASSIGNMENTS); do $(BIN)/nbgrader generate_assignment $$a --force --no-db --log-level=WARN || exit 1; done

# Instructors (README, 강사): A=<assignment>, LMS=<downloaded zip or folder>, EXCHANGE=<nbgrader exchange folder>.
A ?=
LMS ?=
EXCHANGE ?=
NEED_A = @test -n "$(A)" || { echo "usage: make $@ A=<assignment>, one of: $(ASSIGNMENTS)"; exit 2; }

## Student versions, a zip per assignment in release_zips/ (and the exchange, if EXCHANGE is set).
release: $(VENV)/.grading-installed
	$(BIN)/python -m tools.grading.release $(if $(EXCHANGE),--exchange $(EXCHANGE))

## Submissions into submitted/: from an LMS download (LMS=...), else from the exchange.
collect: $(VENV)/.grading-installed
	$(NEED_A)
	$(BIN)/python -m tools.grading.collect $(A) $(if $(LMS),--lms $(LMS)) $(if $(EXCHANGE),--exchange $(EXCHANGE))

## Grade every submission of A in the sandbox (progress on screen, log in logs/).
autograde: $(VENV)/.grading-installed
	$(NEED_A)
	$(BIN)/python -m tools.grading.autograde $(A)

## Feedback HTML without hidden tests in feedback/<student>/A/, a log line per student (and the exchange, if set).
feedback: $(VENV)/.grading-installed
	$(NEED_A)
	$(BIN)/nbgrader generate_feedback $(A) --force
	$(if $(EXCHANGE),$(BIN)/nbgrader release_feedback $(A) --Exchange.root=$(EXCHANGE) --log-level=WARN)

## Every assignment's grades as grades.csv.
export: $(VENV)/.grading-installed
	$(BIN)/nbgrader export --to grades.csv --log-level=WARN

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

clean:
	rm -rf $(VENV) .cache
