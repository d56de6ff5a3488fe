#!/usr/bin/env bash
# One Airflow task: one `cxone-od-sync sync --json` with the options given, the JSON summary as
# the last line of stdout (BashOperator pushes it to XCom). Exit codes are the CLI's:
#   0  done, or nothing due yet (the summary says when the next export is due);
#   75 deferred: a stream is due and waits for a quota slot or an export still processing;
#      retrying later gets it done (the DAGs map 75 to "skipped": the next hourly run picks it up);
#   1  a stream failed; 2 usage, config or credentials.
# Usage: cxone-od-sync-task.sh [sync options...]
#   incremental (the normal case):  cxone-od-sync-task.sh
#   one stream's explicit window:   cxone-od-sync-task.sh --stream copilot_kb --start S --end E
set -uo pipefail
cli="${CXONE_OD_SYNC:-cxone-od-sync}"
config="${CXONE_OD_SYNC_CONFIG:-/etc/cxone-od-sync/cxone-od-sync.yaml}"

# shellcheck disable=SC2086
summary="$($cli sync --config "$config" --json "$@")"
rc=$?
echo "$summary"
case "$rc" in
  0) ;;
  75) echo "deferred: $(echo "$summary" | grep -o '"nextSlotAt":"[^"]*"' | head -n1); the next run picks it up" >&2 ;;
  *) echo "cxone-od-sync sync failed with exit code $rc" >&2 ;;
esac
exit "$rc"
