#!/usr/bin/env bash
# Provision the pinned MLflow server into a project-local virtualenv (.venv, git-ignored), with
# psycopg2 for a PostgreSQL backend store (`--backend-store-uri postgresql://...`). Reused when
# it already holds both. Prints the path of the `mlflow` executable.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
venv="${CHARMORY_MLFLOW_VENV:-$here/.venv}"
pin="3.18.0"
psycopg2_pin="2.9.13"
py="${PYTHON:-python3}"
# Spec files that start in parallel on a fresh machine all ask for it: one installs, the others wait.
if command -v flock >/dev/null; then
  exec 9>"$venv.lock"
  flock 9
fi
ready() { "$venv/bin/python" -c "import mlflow,psycopg2,sys; sys.exit(mlflow.__version__!='$pin')" 2>/dev/null; }
# Every spec process that needs a server asks, so the reuse check reads the installed versions
# instead of importing mlflow (1.5 s of CPU each time); a fresh install is checked by importing.
installed() {
  "$venv/bin/python" -c "import importlib.metadata as m, importlib.util as u, sys; sys.exit(m.version('mlflow') != '$pin' or u.find_spec('psycopg2') is None)" 2>/dev/null
}
if [ -x "$venv/bin/mlflow" ] && installed; then
  echo "$venv/bin/mlflow"; exit 0
fi
command -v "$py" >/dev/null || { echo "python3 not found: install Python 3.10+ to run the MLflow server" >&2; exit 1; }
[ -x "$venv/bin/python" ] || "$py" -m venv "$venv" >&2
pip=("$venv/bin/python" -m pip install -q --disable-pip-version-check)
# The ordinary route first; when the registry cannot resolve mlflow's own pinned sub-packages,
# install the complete mlflow wheel without them and its declared requirements beside it.
if ! "$venv/bin/python" -c "import mlflow,sys; sys.exit(mlflow.__version__!='$pin')" 2>/dev/null \
  && ! "${pip[@]}" "mlflow[auth]==$pin" >&2 2>/dev/null; then
  echo "pip could not resolve mlflow[auth]==$pin with its pinned sub-packages; installing the full wheel with --no-deps and its requirements" >&2
  "${pip[@]}" -r "$here/scripts/mlflow-requirements.txt" >&2
  "${pip[@]}" --no-deps "mlflow==$pin" >&2
fi
# MLflow's SQL store reaches PostgreSQL through psycopg2 (a wheel with libpq inside)
"$venv/bin/python" -c "import psycopg2" 2>/dev/null || "${pip[@]}" "psycopg2-binary==$psycopg2_pin" >&2
ready || { echo "mlflow $pin or psycopg2 did not install into $venv" >&2; exit 1; }
echo "$venv/bin/mlflow"
