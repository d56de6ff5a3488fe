"""Backfill one stream's explicit window (Airflow 3), triggered by hand with parameters.

Each window is one export: it spends one of the account's 3 daily slots, which the incremental
DAG (`cxone_od_sync_dag.py`) would otherwise have used. A window already loaded is not requested
again (`replay --export ID` reloads it from the archive). A window further back than the
vendor's 4-month horizon is refused before any request unless `account.historyAuthorized`.
Exit 75 (no quota slot free now) fails the task and is retried two hours later; exit 2 (usage,
config or credentials) fails it at once. `account` names one key of the config's `accounts:`
(empty for a config with one `account:`); the config is the worker's CXONE_OD_SYNC_CONFIG
(`cxone_od_sync_common.py`).
"""
import os
import sys
from datetime import timedelta

import pendulum
from airflow.sdk import DAG, Param

# cxone_od_sync_common.py lies next to this file: importable whatever folder of the DAGs folder
# holds the two (Airflow puts only the DAGs folder itself on sys.path).
if os.path.dirname(os.path.abspath(__file__)) not in sys.path:
    sys.path.append(os.path.dirname(os.path.abspath(__file__)))
from cxone_od_sync_common import LINEAGE_ENV, LINEAGE_MACROS, TASK_ENV, TASK_SCRIPT, SyncOperator

with DAG(
    dag_id="cxone_od_sync_backfill",
    schedule=None,
    start_date=pendulum.datetime(2026, 11, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    params={
        "account": Param("", type="string", description="a key of the config's accounts: (empty: its one account)"),
        "stream": Param("copilot_kb", enum=["copilot_kb", "copilot_as", "copilot_aq", "autopilot_gr"]),
        "start": Param(type="string", format="date-time"),
        "end": Param(type="string", format="date-time"),
    },
    user_defined_macros=LINEAGE_MACROS,
    tags=["cxone", "elt", "backfill"],
) as dag:
    SyncOperator(
        task_id="sync_window",
        # The params reach the script through the environment, never parsed by the shell.
        bash_command=(
            TASK_SCRIPT + ' ${BACKFILL_ACCOUNT:+--account "$BACKFILL_ACCOUNT"}'
            ' --stream "$BACKFILL_STREAM" --start "$BACKFILL_START" --end "$BACKFILL_END"'
        ),
        env={
            **TASK_ENV,
            **LINEAGE_ENV,  # the load's lineage run is a child of this task's
            "BACKFILL_ACCOUNT": "{{ params.account }}",
            "BACKFILL_STREAM": "{{ params.stream }}",
            "BACKFILL_START": "{{ params.start }}",
            "BACKFILL_END": "{{ params.end }}",
        },
        append_env=True,
        skip_on_exit_code=None,  # 75 is retried here: the window waits for a slot
        retries=12,
        retry_delay=timedelta(hours=2),
        do_xcom_push=True,
    )
