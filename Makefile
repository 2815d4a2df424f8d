# The course's two commands:  `make book`  builds the website,  `make test`  runs every test.
# Each creates .venv on first use and installs the pinned requirements into it.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.course-installed
# Threads for torch: the course targets 2 CPU cores.
export OMP_NUM_THREADS ?= 2
export PYTHONHASHSEED := 0
# Stored notebooks hold no progress bars; a student running a notebook sees them.
export COURSE_LIB_QUIET := 1
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: book test install browser-deps bench clean student student-book

install: $(STAMP)

$(STAMP): pyproject.toml requirements-lock.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip>=24" 2> >(grep -v "is ignored" >&2)
	$(PY) -m pip install --quiet -c requirements-lock.txt -e ".[pinned,book,test]" 2> >(grep -v "is ignored" >&2)
	$(PY) -m ipykernel install --sys-prefix --name python3 > /dev/null
	@touch $@

book: $(STAMP)
	$(VENV)/bin/jupyter-book build . -W -n --keep-going
	@echo "The website is in $(CURDIR)/_build/html (open _build/html/index.html)"

# For instructors (instructors.md): the student notebooks, and the website without solutions.
student: $(STAMP)
	$(PY) -m course_lib.assign chapters/ student/
	@echo "The student notebooks are in $(CURDIR)/student/"

student-book: $(STAMP)
	$(PY) -m course_lib.student_site --root . --out _build/student_html

# The browser tests (tests/browser) drive Debian's chromium; install it once if we are root.
browser-deps:
	@if ! command -v chromium > /dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get > /dev/null 2>&1; then \
	    echo "Installing chromium for the browser tests (apt-get)"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver > /dev/null) \
	      || echo "Could not install chromium: the browser tests will be skipped (or fail when CI is set)"; \
	  else \
	    echo "chromium is missing and we are not root: the browser tests will be skipped (or fail when CI is set)"; \
	  fi; \
	fi

test: $(STAMP) browser-deps
	$(VENV)/bin/ruff check course_lib tests benchmarks
	$(PY) -m pytest

bench: $(STAMP)
	$(PY) benchmarks/run_all.py

clean:
	rm -rf _build
