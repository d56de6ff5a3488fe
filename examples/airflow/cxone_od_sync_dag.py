"""CXone Observability Dashboard sync for Airflow 3: incremental, hourly, one task per account.

The vendor allows 3 export requests per rolling 24 hours per account, shared by the four
streams: the connector's scheduler, not Airflow, decides which stream spends the next slot
(about one every 8 hours, each stream refreshed about every 32 hours). So Airflow only has to
give it frequent chances: an hourly incremental `sync`. Most runs send nothing and exit 0
("nothing due yet"); a run that finds a stream due but the quota slot not yet free exits 75,
which is mapped to *skipped*: the next hourly run picks it up, nothing is lost. Exit 1 (a stream
failed) and 2 (config or credentials) fail the task; a short retry covers passing faults.

Why not one task per day's data interval and stream: 4 one-day windows a day against 3 exports a
day can never keep up (each day adds a backlog of one window; retries only spend the day's slots
earlier). For a backfill of one stream, use `cxone_od_sync_backfill_dag.py`.

Each account is its own CXone tenant with its own quota and config file; the accounts' tasks
are independent and may run in parallel. They share the state store, which keeps each account's
ledger. The JSON summary (last stdout line) is pushed to XCom.
"""
from datetime import timedelta

import pendulum
from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import DAG

# One entry per CXone account: its key and its config file (see README, Configuration).
ACCOUNTS = {
    "main": "/etc/cxone-od-sync/main.yaml",
}

# OpenLineage (README, Lineage): the task's run, `{namespace}/{job name}/{run id}`, becomes the
# parent of the connector's load runs, so that a lineage UI shows them under the task. Needs the
# apache-airflow-providers-openlineage package (drop the line without it); the backend is the
# task's OPENLINEAGE_URL (Airflow's own environment, passed on by append_env) or lineage.url.
OPENLINEAGE_PARENT_ID = "{{ macros.OpenLineageProviderPlugin.lineage_parent_id(task_instance) }}"

with DAG(
    dag_id="cxone_od_sync",
    schedule="@hourly",
    start_date=pendulum.datetime(2026, 11, 1, tz="UTC"),
    catchup=False,  # incremental: the connector tracks what is loaded, not Airflow's intervals
    max_active_runs=1,
    default_args={"retries": 2, "retry_delay": timedelta(minutes=5)},
    tags=["cxone", "elt"],
) as dag:
    for account, config in ACCOUNTS.items():
        BashOperator(
            task_id=f"sync_{account}",
            # The trailing space keeps Airflow from reading the .sh path as a Jinja template file.
            bash_command="examples/airflow/cxone-od-sync-task.sh ",
            env={
                "CXONE_OD_SYNC_CONFIG": config,
                "CXONE_CLIENT_ID": f"{{{{ var.value.cxone_{account}_client_id }}}}",
                "CXONE_CLIENT_SECRET": f"{{{{ var.value.cxone_{account}_client_secret }}}}",
                "CXONE_ACCESS_KEY": f"{{{{ var.value.cxone_{account}_access_key }}}}",
                "CXONE_ACCESS_SECRET": f"{{{{ var.value.cxone_{account}_access_secret }}}}",
                "DATABASE_URL": "{{ conn.warehouse.get_uri() }}",
                "OPENLINEAGE_PARENT_ID": OPENLINEAGE_PARENT_ID,
            },
            append_env=True,
            skip_on_exit_code=75,  # deferred: the next hourly run picks it up
            execution_timeout=timedelta(minutes=50),
            do_xcom_push=True,
        )
