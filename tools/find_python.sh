# Sourced by the launch scripts: the Python to run, in this order: $PYTHON; the
# activated virtualenv or conda environment; this checkout's .venv (what `make` builds),
# so the scripts work right after `make demo` without activating it; `python`.
if [ -z "${PYTHON:-}" ]; then
  if [ -z "${VIRTUAL_ENV:-}${CONDA_PREFIX:-}" ] && [ -x "$ROOT/.venv/bin/python" ]; then
    PYTHON="$ROOT/.venv/bin/python"
  else
    PYTHON=python
  fi
fi
