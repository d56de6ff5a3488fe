#!/usr/bin/env bash
# Prints the path of a virtual environment holding requirements.txt, creating it the first time:
# ${XDG_CACHE_HOME:-~/.cache}/cxone-od-sync/venv-<sha256 of the file and the Python version>, so
# that a changed pin or Python makes a new one and an unchanged one is reused. Parallel callers
# wait on a lock; a half-built venv (a killed install) is rebuilt. CXONE_OD_SYNC_PYTHON names the
# interpreter (default python3).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
python="${CXONE_OD_SYNC_PYTHON:-python3}"
key="$( { "$python" --version 2>&1; cat "$here/requirements.txt"; } | sha256sum | cut -c1-16)"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/cxone-od-sync"
venv="$cache/venv-$key"
mkdir -p "$cache"
exec 9>"$venv.lock"
flock 9
if [ ! -f "$venv/.complete" ]; then
  rm -rf "$venv"
  echo "python-env: creating $venv from test/ecosystem/requirements.txt" >&2
  "$python" -m venv "$venv" >&2
  # (pip's notes on configured find-links folders that do not exist are dropped)
  "$venv/bin/pip" install --quiet --disable-pip-version-check --no-deps -r "$here/requirements.txt" \
    2> >(grep -v 'is ignored: it is neither a file nor a directory' >&2) >&2
  touch "$venv/.complete"
fi
echo "$venv"
