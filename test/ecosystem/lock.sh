#!/usr/bin/env bash
# Re-resolves requirements.in into requirements.txt (run by hand after changing a version; the
# suite itself installs only requirements.txt, with --no-deps).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
dbt=(dbt-core==1.12.6 dbt-postgres==1.11.0 dbt-bigquery==1.12.1)
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"${CXONE_OD_SYNC_PYTHON:-python3}" -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.in"
"$work/venv/bin/pip" install --quiet --disable-pip-version-check --no-deps "${dbt[@]}"
{
  sed -n '/^#/p' "$here/requirements.txt"
  "$work/venv/bin/pip" freeze --exclude-editable | grep -vi '^dbt-core-experimental-parser=='
} >"$work/requirements.txt"
mv "$work/requirements.txt" "$here/requirements.txt"
echo "wrote $here/requirements.txt ($(grep -c '==' "$here/requirements.txt") packages)"
