# Sourced by the launch scripts: the Python to run, in this order: $PYTHON; the
# activated virtualenv or conda environment (not conda's base, which shells activate by
# default); this checkout's .venv (what `make` builds), so the scripts work right after
# `make demo` without activating it; `python`.
if [ -z "${PYTHON:-}" ]; then
  ACTIVE_ENV=${VIRTUAL_ENV:-}
  if [ -n "${CONDA_PREFIX:-}" ] && [ "${CONDA_DEFAULT_ENV:-}" != base ]; then
    ACTIVE_ENV=$CONDA_PREFIX
  fi
  if [ -z "$ACTIVE_ENV" ] && [ -x "$ROOT/.venv/bin/python" ]; then
    PYTHON="$ROOT/.venv/bin/python"
  else
    PYTHON=python
  fi
fi
