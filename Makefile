# The course's two commands:  `make book`  builds the website,  `make test`  runs every test.
# Each creates .venv on first use and installs the pinned requirements into it.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.course-installed
# otter-grader lives in its own environment (it pins wrapt<2; the lock has 2.5.2), which sees the course's packages.
OTTER_VENV := .venv-otter
OTTER_STAMP := $(OTTER_VENV)/.otter-installed
# Threads for torch: the course targets 2 CPU cores.
export OMP_NUM_THREADS ?= 2
export PYTHONHASHSEED := 0
# Stored notebooks hold no progress bars; a student running a notebook sees them.
export COURSE_LIB_QUIET := 1
export PIP_DISABLE_PIP_VERSION_CHECK := 1

# Emulated CPUs for the notebook tests. Training floats depend on the instruction set PyTorch's,
# oneDNN's and MKL's kernels use and on the thread count, so nbval also runs every chapter with these
# capped: an AVX2 laptop with one thread, and an old CPU without AVX at all.
EMULATE_LAPTOP := ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2 MKL_ENABLE_INSTRUCTIONS=AVX2 OMP_NUM_THREADS=1
EMULATE_OLD_CPU := ATEN_CPU_CAPABILITY=default ONEDNN_MAX_CPU_ISA=SSE41 MKL_ENABLE_INSTRUCTIONS=SSE4_2 OMP_NUM_THREADS=2
NBVAL := $(PY) -m pytest chapters

.PHONY: book test test-portable install browser-deps grade-deps otter-deps otter bench clean student student-book notebooks

install: $(STAMP)

$(STAMP): pyproject.toml requirements-lock.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2> /dev/null || { \
	  echo "The course needs Python 3.11 or newer; '$(PYTHON)' is $$($(PYTHON) --version 2>&1)."; \
	  echo "Install Python 3.11 (e.g. apt-get install python3.11-venv) or run: make PYTHON=/path/to/python3.11"; \
	  exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip>=24" 2> >(grep -v "is ignored" >&2)
	$(PY) -m pip install --quiet -c requirements-lock.txt -e ".[pinned,book,test,instructor]" 2> >(grep -v "is ignored" >&2)
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
	$(PY) -m course_lib.instructor.student_site --root . --out _build/student_html

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

# otter-grader for the otter export and tests/test_otter_export.py (downloads only here, at install time).
otter-deps: $(OTTER_STAMP)

$(OTTER_STAMP): requirements-otter.txt scripts/make_otter_venv.py $(STAMP)
	$(PY) scripts/make_otter_venv.py $(OTTER_VENV)
	@touch $@

# For instructors (instructors.md): each chapter as an otter-grader autograder, in otter/<chapter>/autograder.zip.
otter: $(STAMP) otter-deps
	$(PY) -m course_lib.instructor.otter_export chapters/ otter/

# ruff; unit, property, site and browser tests with nbval on every chapter natively; then nbval on
# every chapter again under the emulated AVX2 laptop.
# The grader (course_lib.instructor.grade, tests/test_grade*.py) runs each submission in a bubblewrap sandbox;
# tests/test_otter_export.py also needs otter-grader (otter-deps).
grade-deps:
	@if ! command -v bwrap > /dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get > /dev/null 2>&1; then \
	    echo "Installing bubblewrap for the grader (apt-get)"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap > /dev/null) \
	      || echo "Could not install bubblewrap: the grading tests will be skipped (or fail when CI is set)"; \
	  else \
	    echo "bubblewrap is missing and we are not root: the grading tests will be skipped (or fail when CI is set)"; \
	  fi; \
	fi

test: $(STAMP) browser-deps grade-deps otter-deps
	$(VENV)/bin/ruff check course_lib tests benchmarks scripts conftest.py
	$(PY) -m pytest
	env $(EMULATE_LAPTOP) $(NBVAL)

# Everything `make test` runs, plus nbval under the emulated old CPU: all three configurations.
test-portable: test
	env $(EMULATE_OLD_CPU) $(NBVAL)

# Re-execute every chapter and store its outputs (maintainers, on a quiet machine).
notebooks: $(STAMP)
	$(PY) scripts/execute_chapters.py

bench: $(STAMP)
	$(PY) benchmarks/run_all.py

clean:
	rm -rf _build
