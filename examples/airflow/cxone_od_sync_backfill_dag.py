"""Backfill one stream's explicit window (Airflow 3), triggered by hand with parameters.

Each window is one export: it spends one of the account's 3 daily slots, which the incremental
DAG (`cxone_od_sync_dag.py`) would otherwise have used. A window already loaded is not requested
again (`replay --export ID` reloads it from the archive). A window further back than the
vendor's 4-month horizon is refused before any request unless `account.historyAuthorized`.
Exit 75 (no quota slot free now) fails the task and is retried two hours later.
"""
from datetime import timedelta

import pendulum
from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import DAG, Param

with DAG(
    dag_id="cxone_od_sync_backfill",
    schedule=None,
    start_date=pendulum.datetime(2026, 11, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    params={
        "config": Param("/etc/cxone-od-sync/main.yaml", type="string"),
        "stream": Param("copilot_kb", enum=["copilot_kb", "copilot_as", "copilot_aq", "autopilot_gr"]),
        "start": Param(type="string", format="date-time"),
        "end": Param(type="string", format="date-time"),
    },
    tags=["cxone", "elt", "backfill"],
) as dag:
    BashOperator(
        task_id="sync_window",
        bash_command=(
            "examples/airflow/cxone-od-sync-task.sh --stream {{ params.stream }}"
            " --start {{ params.start }} --end {{ params.end }}"
        ),
        env={
            "CXONE_OD_SYNC_CONFIG": "{{ params.config }}",
            "DATABASE_URL": "{{ conn.warehouse.get_uri() }}",
            # The load's lineage run is a child of this task's (see cxone_od_sync_dag.py).
            "OPENLINEAGE_PARENT_ID": "{{ macros.OpenLineageProviderPlugin.lineage_parent_id(task_instance) }}",
        },
        append_env=True,
        retries=12,
        retry_delay=timedelta(hours=2),
        do_xcom_push=True,
    )
