# Two commands do all set-up on a fresh machine:
#   make demo   the CPU mini-reproduction (the main job)
#   make test   the test suite
# Both build .venv once (the mmcv build, ~9 min on 2 cores, is cached as a wheel in
# $(MMCV_WHEEL_DIR)) and reuse it; any failing step stops make with its error.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
MMCV_VERSION := 2.1.0
MMCV_WHEEL_DIR ?= $(HOME)/.cache/mmrethink/wheels
PACKAGE_FILES := $(shell find mmrethink configs tools -type f -not -path '*/__pycache__/*' -not -name '*.pyc') pyproject.toml model-index.yml
DEMO_ARGS ?=

.PHONY: demo test stack install clean-venv

demo: $(VENV)/.mmrethink
	$(PY) tools/demo.py $(DEMO_ARGS)

test: $(VENV)/.mmrethink
	$(PY) -m pytest tests -q

stack: $(VENV)/.stack
install: $(VENV)/.mmrethink

$(VENV)/.build: requirements/build.txt
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q -r requirements/build.txt
	touch $@

# mmcv's ops are compiled against the torch above; the wheel is kept between venvs.
$(VENV)/.mmcv: $(VENV)/.build
	if ! $(PY) -c 'import mmcv.ops' 2>/dev/null; then \
	  wheel=$$(ls $(MMCV_WHEEL_DIR)/mmcv-$(MMCV_VERSION)-*.whl 2>/dev/null | head -n 1); \
	  if [ -z "$$wheel" ]; then \
	    echo "Building mmcv $(MMCV_VERSION) with ops (about 9 minutes on 2 cores)"; \
	    MMCV_WITH_OPS=1 $(PIP) wheel --no-build-isolation --no-deps mmcv==$(MMCV_VERSION) -w $(MMCV_WHEEL_DIR); \
	    wheel=$$(ls $(MMCV_WHEEL_DIR)/mmcv-$(MMCV_VERSION)-*.whl | head -n 1); \
	  fi; \
	  $(PIP) install -q --no-deps "$$wheel"; \
	fi
	$(PY) -c 'import mmcv.ops'
	touch $@

$(VENV)/.stack: $(VENV)/.mmcv requirements.txt requirements/runtime.txt requirements/tests.txt
	$(PIP) install -q -r requirements.txt
	touch $@

# A regular (non-editable) install: `mim` finds packages through pkg_resources, which
# does not see PEP 660 editable installs. Reinstalled whenever a packaged file changes.
$(VENV)/.mmrethink: $(VENV)/.stack $(PACKAGE_FILES)
	$(PIP) install -q --no-deps --no-build-isolation .
	rm -rf build mmrethink.egg-info
	touch $@

clean-venv:
	rm -rf $(VENV)
