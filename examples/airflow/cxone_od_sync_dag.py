"""CXone Observability Dashboard sync for Airflow 3: incremental, hourly, one mapped task per account.

The vendor allows 3 export requests per rolling 24 hours per account, shared by the four
streams: the connector's scheduler, not Airflow, decides which stream spends the next slot
(about one every 8 hours, each stream refreshed about every 32 hours). So Airflow only has to
give it frequent chances: an hourly incremental `sync`. Most runs send nothing and exit 0
("nothing due yet"); a run that finds a stream due but the quota slot not yet free exits 75,
which is mapped to *skipped*: the next hourly run picks it up, nothing is lost. Exit 1 (a stream
failed) fails the task and a short retry covers passing faults; exit 2 (usage, config or
credentials) fails it at once, with no retry.

Why not one task per day's data interval and stream: 4 one-day windows a day against 3 exports a
day can never keep up (each day adds a backlog of one window; retries only spend the day's slots
earlier). For a backfill of one stream, use `cxone_od_sync_backfill_dag.py`.

Many accounts: one config file lists them under `accounts:` (docs/accounts.md); the
`account_keys` task reads its keys and the sync task is mapped over them (dynamic task mapping),
one `sync --account KEY` each. Accounts are independent (each its own quota, ledger, claims and
watermarks in the shared state store), so the mapped tasks run in parallel on any executor
(Celery, Kubernetes), bounded by `max_active_tis_per_dagrun`. A config with a single `account:`
runs as one mapped task without `--account`. The JSON summary (last stdout line) of each account
is pushed to XCom. The worker's environment: `cxone_od_sync_common.py` (CXONE_OD_SYNC_CONFIG,
CXONE_OD_SYNC, and the variables the config names).
"""
import os
import sys
from datetime import timedelta

import pendulum
from airflow.sdk import DAG, task

# cxone_od_sync_common.py lies next to this file: importable whatever folder of the DAGs folder
# holds the two (Airflow puts only the DAGs folder itself on sys.path).
if os.path.dirname(os.path.abspath(__file__)) not in sys.path:
    sys.path.append(os.path.dirname(os.path.abspath(__file__)))
from cxone_od_sync_common import (
    LINEAGE_ENV,
    LINEAGE_MACROS,
    TASK_ENV,
    TASK_SCRIPT,
    SyncOperator,
    config_account_keys,
)


@task
def account_keys() -> list[str]:
    """The keys of the config's `accounts:` map ("" for a config with one `account:`)."""
    return config_account_keys()


def sync_command(key: str) -> str:
    return f"{TASK_SCRIPT} --account {key}" if key else TASK_SCRIPT


with DAG(
    dag_id="cxone_od_sync",
    schedule="@hourly",
    start_date=pendulum.datetime(2026, 11, 1, tz="UTC"),
    catchup=False,  # incremental: the connector tracks what is loaded, not Airflow's intervals
    max_active_runs=1,
    default_args={"retries": 2, "retry_delay": timedelta(minutes=5)},
    user_defined_macros=LINEAGE_MACROS,
    tags=["cxone", "elt"],
) as dag:
    SyncOperator.partial(
        task_id="sync",
        env={**TASK_ENV, **LINEAGE_ENV},
        append_env=True,  # the worker's CXONE_OD_SYNC_CONFIG, CXONE_OD_SYNC and secrets
        skip_on_exit_code=75,  # deferred: the next hourly run picks it up
        execution_timeout=timedelta(minutes=50),
        max_active_tis_per_dagrun=8,  # accounts synced at once; each holds up to 6 DB connections
        do_xcom_push=True,
    ).expand(bash_command=account_keys().map(sync_command))
