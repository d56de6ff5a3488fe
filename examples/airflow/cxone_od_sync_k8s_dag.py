"""The incremental hourly sync (see `cxone_od_sync_dag.py`), each account in its own pod.

Uses the image built from this repository's Dockerfile. Credentials come from a Kubernetes
secret exposed as environment variables (CXONE_* and DATABASE_URL, read by the config's
`${VAR}`). Exit 75 (deferred) leaves the task skipped; the next hourly run picks it up.
"""
from datetime import timedelta

import pendulum
from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
from airflow.providers.cncf.kubernetes.secret import Secret
from airflow.sdk import DAG
from kubernetes.client import models as k8s

ACCOUNTS = ["main"]

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
    for account in ACCOUNTS:
        KubernetesPodOperator(
            task_id=f"sync_{account}",
            name=f"cxone-od-sync-{account}",
            image="ghcr.io/your-org/cxone-od-sync:0.1.0",
            cmds=["cxone-od-sync"],
            arguments=["sync", "--json", "--config", f"/config/{account}.yaml"],
            secrets=[Secret("env", None, f"cxone-od-sync-{account}")],  # CXONE_* and DATABASE_URL
            container_resources=RESOURCES,
            skip_on_exit_code=75,
            get_logs=True,
            do_xcom_push=False,
        )
