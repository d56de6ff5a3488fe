"""CXone Observability Dashboard sync for Airflow 3: incremental, hourly, one mapped task per account.

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

Many accounts: one config file lists them under `accounts:` (README, "Many accounts"); the
`account_keys` task reads its keys and the sync task is mapped over them (dynamic task mapping),
one `sync --account KEY` each. Accounts are independent (each its own quota, ledger, claims and
watermarks in the shared state store), so the mapped tasks run in parallel on any executor
(Celery, Kubernetes), bounded by `max_active_tis_per_dagrun`. Each account's secrets are the
`${VAR}`s its entry names, given to the workers as environment variables or `VAR_FILE` files.
A config with a single `account:` runs as one mapped task without `--account`.
The JSON summary (last stdout line) of each account is pushed to XCom.
"""
from datetime import timedelta

import pendulum
import yaml
from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import DAG, task

# The config of every account (see README, Configuration and "Many accounts").
CONFIG = "/etc/cxone-od-sync/cxone-od-sync.yaml"


@task
def account_keys() -> list[str]:
    """The keys of the config's `accounts:` map ("" for a config with one `account:`)."""
    with open(CONFIG) as f:
        doc = yaml.safe_load(f)
    return sorted(doc.get("accounts") or {}) or [""]


def sync_command(key: str) -> str:
    # The trailing space keeps Airflow from reading the .sh path as a Jinja template file.
    return f"examples/airflow/cxone-od-sync-task.sh {'--account ' + key if key else ''} "


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
    BashOperator.partial(
        task_id="sync",
        env={
            "CXONE_OD_SYNC_CONFIG": CONFIG,
            "DATABASE_URL": "{{ conn.warehouse.get_uri() }}",
            "OPENLINEAGE_PARENT_ID": OPENLINEAGE_PARENT_ID,
        },
        append_env=True,
        skip_on_exit_code=75,  # deferred: the next hourly run picks it up
        execution_timeout=timedelta(minutes=50),
        max_active_tis_per_dagrun=8,  # accounts synced at once; each holds up to 6 DB connections
        do_xcom_push=True,
    ).expand(bash_command=account_keys().map(sync_command))
