# Sourced by scripts/serve, scripts/test and scripts/bench: make a virtualenv and install the project
# into it. ensure_venv EXTRAS [DIR] (DIR defaults to .venv). Re-installs only when pyproject.toml
# changed since the last install.
ensure_venv() {
  local extras="$1" venv="${2:-.venv}" python="${PYTHON:-python3}"
  if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "Neuronhub needs Python 3.11 or newer as '$python' (set PYTHON=/path/to/python3.11)" >&2
    exit 1
  fi
  [ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
  local stamp="$venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)${extras:+-$extras}"
  # a virtualenv with the test extras has everything the service needs too
  if [ ! -e "$stamp" ] && { [ -n "$extras" ] || [ ! -e "$stamp-test" ]; }; then
    "$venv/bin/python" -m pip install --quiet --upgrade pip
    "$venv/bin/python" -m pip install --quiet -e ".${extras:+[$extras]}"
    if [ "$extras" = test ]; then "$venv/bin/python" -m pip install --quiet -e sdk; fi
    touch "$stamp"
  fi
}
