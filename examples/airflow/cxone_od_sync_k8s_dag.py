"""The incremental hourly sync (see `cxone_od_sync_dag.py`), each account in its own pod.

Uses the image built from this repository's Dockerfile. The `account_keys` task reads the keys
of the config's `accounts:` map and the pod task is mapped over them (dynamic task mapping):
one pod per account, `sync --account KEY`, in parallel up to `max_active_tis_per_dagrun`.

What the cluster holds:
- the ConfigMap `cxone-od-sync-config`, key `cxone-od-sync.yaml`: the config, mounted at /config
  (the worker reads the same file through CXONE_OD_SYNC_CONFIG, for the account keys);
- the secret `cxone-od-sync-accounts`: one key per variable the config names (`EAST_CLIENT_SECRET`,
  ...), all of them given to the pod as environment variables;
- the secret `cxone-od-sync-database`, key `url`: the warehouse's DATABASE_URL.
Exit 75 (deferred) leaves the task skipped; the next hourly run picks it up.
"""
import os
import sys
from datetime import timedelta

import pendulum
from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
from airflow.providers.cncf.kubernetes.secret import Secret
from airflow.sdk import DAG, task

# cxone_od_sync_common.py lies next to this file: importable whatever folder of the DAGs folder
# holds the two (Airflow puts only the DAGs folder itself on sys.path).
if os.path.dirname(os.path.abspath(__file__)) not in sys.path:
    sys.path.append(os.path.dirname(os.path.abspath(__file__)))
from cxone_od_sync_common import LINEAGE_ENV, LINEAGE_MACROS, config_account_keys
from kubernetes.client import models as k8s


@task
def account_keys() -> list[str]:
    """The keys of the config's `accounts:` map ("" for a config with one `account:`)."""
    return config_account_keys()


def pod_arguments(key: str) -> list[str]:
    account = ["--account", key] if key else []
    return ["sync", "--json", "--config", "/config/cxone-od-sync.yaml", *account]


# Sized from `npm run bench` on the image's Node and NODE_OPTIONS (docs/airflow.md, Memory): a
# sync into PostgreSQL peaks at 131 MiB whatever the export's size, and the limit holds V8's
# capped heap (128 MiB) and the rest of the process. For a BigQuery destination, request 256Mi
# and limit 384Mi.
RESOURCES = k8s.V1ResourceRequirements(
    requests={"memory": "160Mi"},
    limits={"memory": "256Mi"},
)

CONFIG_VOLUME = k8s.V1Volume(
    name="config", config_map=k8s.V1ConfigMapVolumeSource(name="cxone-od-sync-config")
)
CONFIG_MOUNT = k8s.V1VolumeMount(name="config", mount_path="/config", read_only=True)

with DAG(
    dag_id="cxone_od_sync_k8s",
    schedule="@hourly",
    start_date=pendulum.datetime(2026, 11, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 2, "retry_delay": timedelta(minutes=5)},
    user_defined_macros=LINEAGE_MACROS,
    tags=["cxone", "elt"],
) as dag:
    KubernetesPodOperator.partial(
        task_id="sync",
        name="cxone-od-sync",
        image="ghcr.io/your-org/cxone-od-sync:0.1.0",
        cmds=["cxone-od-sync"],
        volumes=[CONFIG_VOLUME],
        volume_mounts=[CONFIG_MOUNT],
        secrets=[
            Secret("env", None, "cxone-od-sync-accounts"),  # every key as a variable
            Secret("env", "DATABASE_URL", "cxone-od-sync-database", "url"),
        ],
        # The loads' lineage runs are children of this task's (see cxone_od_sync_common.py); the
        # backend is OPENLINEAGE_URL (add it here or to a secret) or lineage.url.
        env_vars=LINEAGE_ENV,
        container_resources=RESOURCES,
        skip_on_exit_code=75,
        termination_grace_period=45,  # sync exits within 30 s of SIGTERM
        max_active_tis_per_dagrun=8,
        get_logs=True,
        do_xcom_push=False,
    ).expand(arguments=account_keys().map(pod_arguments))
