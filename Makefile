# Two commands do all set-up on a fresh machine:
#   make demo   the CPU mini-reproduction (the main job)
#   make test   the linter, then the whole test suite (what CI runs)
# and, for a developer's loop, `make test-fast`: the linter and the tests not marked slow.
# Both build .venv once (the mmcv build, ~9 min on 2 cores, is cached as a wheel in
# $(MMCV_WHEEL_DIR)) and reuse it; any failing step stops make with its error.
# `make test-stack TORCH=2.1.2` builds a second venv on another torch (.venv-torch2.1.2,
# mmcv compiled against that torch) and runs the tests marked `stack` there (CI runs it
# after `make test`).
# (linux_x86_64: the platform this Makefile builds on; elsewhere follow docs/get_started.md, "Install".)
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
PYTHON ?= python3
# The torch the stack is built on: requirements/build.txt's pin, or another release given
# as TORCH=..., which gets its own venv and its own mmcv build.
TORCH_PIN := $(shell sed -n 's/^torch==//p' requirements/build.txt)
TORCH ?= $(TORCH_PIN)
ifeq ($(TORCH),$(TORCH_PIN))
VENV := .venv
else
VENV := .venv-torch$(TORCH)
endif
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
MMCV_VERSION := 2.1.0
# The mmcv wheel is only good for the torch and Python it was compiled with: one folder
# per torch release under MMCV_WHEEL_CACHE (which may be set; the folder may not).
PYTAG := $(shell $(PYTHON) -c 'import sys; print("cp%d%d" % sys.version_info[:2])')
MMCV_WHEEL_CACHE ?= $(HOME)/.cache/mmrethink/wheels
MMCV_WHEEL_DIR := $(MMCV_WHEEL_CACHE)/torch-$(TORCH)
PACKAGE_FILES := $(shell find mmrethink configs tools -type f -not -path '*/__pycache__/*' -not -name '*.pyc') pyproject.toml setup.py model-index.yml _mmrethink_scope.py mmrethink-config-scope.pth
DEMO_ARGS ?=
# The suite runs in TEST_WORKERS pytest-xdist processes, torch on one thread in each test
# and in each process it starts (torchrun's own default for its workers): on the 2-core
# machine that halves the suite's time; two processes on torch's default two threads
# each was slower than one (docs/development.md, "Tests and CI").
TEST_WORKERS ?= 2
PYTEST := OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 $(PY) -m pytest -n $(TEST_WORKERS) --dist loadgroup

.PHONY: demo test test-fast test-stack stack-torch lint stack install clean-venv

demo: $(VENV)/.mmrethink
	$(PY) tools/demo.py $(DEMO_ARGS)

lint: $(VENV)/.stack
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

test: lint $(VENV)/.mmrethink
	$(PYTEST) tests -q --durations=15

test-fast: lint $(VENV)/.mmrethink
	$(PYTEST) tests -q -m "not slow" --durations=5

# The users' older stack (docs/get_started.md, "Supported versions"): the tests marked
# `stack`, on the venv of TORCH (2.1.2 in CI: the newest torch with OpenMMLab's prebuilt
# mmcv 2.1.0), with .venv's interpreter as the other torch for the cross-torch resume.
# The linter ran with `make test`; it does not depend on torch.
test-stack: stack-torch $(VENV)/.mmrethink
	$(MAKE) --no-print-directory install TORCH=$(TORCH_PIN)  # .venv: the other torch of the cross-torch resume
	$(PY) -c 'import torch; print("test-stack on torch", torch.__version__)'
	MMRETHINK_TORCH=$(TORCH) MMRETHINK_OTHER_PYTHON=$(abspath .venv)/bin/python \
	  $(PYTEST) tests -q -m stack --durations=10

stack-torch:
	if [ "$(TORCH)" = "$(TORCH_PIN)" ]; then \
	  echo "test-stack runs on another torch than $(TORCH_PIN) (make test): make test-stack TORCH=2.1.2" >&2; exit 2; \
	fi

stack: $(VENV)/.stack
install: $(VENV)/.mmrethink

# torch first, then the rest of requirements/build.txt with its torch pin swapped for TORCH.
$(VENV)/.build: requirements/build.txt
	$(PYTHON) -m venv $(VENV)
	grep -v '^torch==' requirements/build.txt > $(VENV)/build-requirements.txt
	$(PIP) install -q torch==$(TORCH) -r $(VENV)/build-requirements.txt
	touch $@

# mmcv's ops are compiled against the torch above (PyPI has no mmcv 2.x wheels); the
# wheel is kept in $(MMCV_WHEEL_DIR) between venvs and reused.
MMCV_WHEEL = $(MMCV_WHEEL_DIR)/mmcv-$(MMCV_VERSION)-$(PYTAG)-$(PYTAG)-linux_x86_64.whl

$(VENV)/.mmcv-wheel: $(VENV)/.build
	if [ ! -f "$(MMCV_WHEEL)" ]; then \
	  echo "Building mmcv $(MMCV_VERSION) with ops (about 9 minutes on 2 cores)"; \
	  MMCV_WITH_OPS=1 $(PIP) wheel --no-cache-dir --no-build-isolation --no-deps mmcv==$(MMCV_VERSION) -w $(MMCV_WHEEL_DIR); \
	fi
	touch $@

# One resolver call: the local mmcv wheel satisfies requirements/runtime.txt's mmcv==2.1.0;
# torch==$(TORCH) and numpy<2 in the same call keep the resolver from moving either.
$(VENV)/.stack: $(VENV)/.mmcv-wheel requirements.txt requirements/build.txt requirements/runtime.txt requirements/tests.txt
	$(PIP) install -q $(MMCV_WHEEL) torch==$(TORCH) 'numpy<2' -r requirements/runtime.txt -r requirements/tests.txt
	$(PY) -c 'import mmcv.ops'
	touch $@

# A regular (non-editable) install: `mim` finds packages through pkg_resources, which
# does not see PEP 660 editable installs. Reinstalled whenever a packaged file changes.
$(VENV)/.mmrethink: $(VENV)/.stack $(PACKAGE_FILES)
	$(PIP) install -q --no-deps --no-build-isolation .
	rm -rf build mmrethink.egg-info
	touch $@

clean-venv:
	rm -rf $(VENV)
