"""The incremental hourly sync (see `cxone_od_sync_dag.py`), each account in its own pod.

Uses the image built from this repository's Dockerfile. The `account_keys` task reads the keys
of the config's `accounts:` map and the pod task is mapped over them (dynamic task mapping):
one pod per account, `sync --account KEY`, in parallel up to `max_active_tis_per_dagrun`. The
config comes from a ConfigMap mounted at /config; the accounts' secrets from a Kubernetes secret
mounted as files, which the config reads through `VAR_FILE` (README, "Secrets from files").
Exit 75 (deferred) leaves the task skipped; the next hourly run picks it up.
"""
from datetime import timedelta

import pendulum
import yaml
from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
from airflow.providers.cncf.kubernetes.secret import Secret
from airflow.sdk import DAG, task
from kubernetes.client import models as k8s

# The same file as the ConfigMap the pods mount, readable by the Airflow worker.
CONFIG = "/etc/cxone-od-sync/cxone-od-sync.yaml"


@task
def account_keys() -> list[str]:
    """The keys of the config's `accounts:` map."""
    with open(CONFIG) as f:
        return sorted(yaml.safe_load(f)["accounts"])


def pod_arguments(key: str) -> list[str]:
    return ["sync", "--json", "--config", "/config/cxone-od-sync.yaml", "--account", key]


# Sized from `npm run bench` on the image's Node and NODE_OPTIONS (README, Docker: memory): a
# sync into PostgreSQL peaks at 131 MiB whatever the export's size, and the limit holds V8's
# capped heap (128 MiB) and the rest of the process. For a BigQuery destination, request 256Mi
# and limit 384Mi.
RESOURCES = k8s.V1ResourceRequirements(
    requests={"memory": "160Mi"},
    limits={"memory": "256Mi"},
)

with DAG(
    dag_id="cxone_od_sync_k8s",
    schedule="@hourly",
    start_date=pendulum.datetime(2026, 11, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 2, "retry_delay": timedelta(minutes=5)},
    tags=["cxone", "elt"],
) as dag:
    KubernetesPodOperator.partial(
        task_id="sync",
        name="cxone-od-sync",
        image="ghcr.io/your-org/cxone-od-sync:0.1.0",
        cmds=["cxone-od-sync"],
        # Files such as /run/secrets/cxone-od-sync/east_client_secret, named by the config's
        # `${EAST_CLIENT_SECRET}` with EAST_CLIENT_SECRET_FILE set in the ConfigMap's env.
        secrets=[
            Secret("volume", "/run/secrets/cxone-od-sync", "cxone-od-sync-accounts"),
            Secret("env", "DATABASE_URL", "cxone-od-sync-database", "url"),
        ],
        # The loads' lineage runs are children of this task's (see cxone_od_sync_dag.py); the
        # backend is OPENLINEAGE_URL (add it here or to a secret) or lineage.url.
        env_vars={
            "OPENLINEAGE_PARENT_ID": "{{ macros.OpenLineageProviderPlugin.lineage_parent_id(task_instance) }}",
        },
        container_resources=RESOURCES,
        skip_on_exit_code=75,
        termination_grace_period=45,  # sync exits within 30 s of SIGTERM
        max_active_tis_per_dagrun=8,
        get_logs=True,
        do_xcom_push=False,
    ).expand(arguments=account_keys().map(pod_arguments))
