#!/usr/bin/env bash
# One Airflow task: sync the data interval [START, END) and print the JSON summary as the last
# line of stdout (BashOperator pushes it to XCom). Exit codes are the CLI's:
#   0 done; 75 deferred (quota spent or export still processing: Airflow retries later);
#   1 a stream failed; 2 usage or config error.
# Usage: cxone-od-sync-task.sh START END [extra sync options...]
set -uo pipefail
start="${1:?data interval start}"
end="${2:?data interval end}"
shift 2
cli="${CXONE_OD_SYNC:-cxone-od-sync}"
config="${CXONE_OD_SYNC_CONFIG:-/etc/cxone-od-sync/cxone-od-sync.yaml}"

# shellcheck disable=SC2086
summary="$($cli sync --config "$config" --start "$start" --end "$end" --json "$@")"
rc=$?
echo "$summary"
case "$rc" in
  0) ;;
  75) echo "deferred: $(echo "$summary" | grep -o '"nextSlotAt":"[^"]*"' | head -n1); Airflow will retry" >&2 ;;
  *) echo "cxone-od-sync sync failed with exit code $rc" >&2 ;;
esac
exit "$rc"
