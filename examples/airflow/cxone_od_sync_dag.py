"""Daily CXone Observability Dashboard sync, one task per data interval.

The CLI is idempotent per window: a rerun of a loaded interval spends no export, and a retry
after a crash resumes the unfinished export instead of requesting it again. Exit code 75 means
"deferred" (the vendor's 3-exports-per-24h quota is spent, or the export is still processing):
the task fails with that code and Airflow retries it later, as configured below. The JSON
summary is the last line of stdout, pushed to XCom.
"""
from datetime import timedelta

import pendulum
from airflow import DAG
from airflow.operators.bash import BashOperator

try:  # Airflow 2.x provider import path
    from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
except ImportError:  # pragma: no cover
    KubernetesPodOperator = None

INTERVAL = "{{ data_interval_start.isoformat() }} {{ data_interval_end.isoformat() }}"

default_args = {
    # Deferred runs wait for a quota slot, which frees within 24 hours.
    "retries": 12,
    "retry_delay": timedelta(hours=2),
    "retry_exponential_backoff": False,
}

with DAG(
    dag_id="cxone_od_sync",
    schedule="@daily",
    start_date=pendulum.datetime(2026, 11, 1, tz="UTC"),
    catchup=True,
    max_active_runs=1,  # one interval at a time: 3 exports a day are shared by all streams
    default_args=default_args,
    tags=["cxone", "elt"],
) as dag:
    # The streams share one quota; a task per stream group keeps a deferred stream from
    # blocking the others. Each task still serves its streams stalest first.
    for group, streams in {"copilot": ["copilot_kb", "copilot_as", "copilot_aq"], "autopilot": ["autopilot_gr"]}.items():
        stream_args = " ".join(f"--stream {s}" for s in streams)
        BashOperator(
            task_id=f"sync_{group}",
            bash_command=f"examples/airflow/cxone-od-sync-task.sh {INTERVAL} {stream_args}",
            env={
                "CXONE_OD_SYNC_CONFIG": "/etc/cxone-od-sync/cxone-od-sync.yaml",
                "CXONE_CLIENT_ID": "{{ var.value.cxone_client_id }}",
                "CXONE_CLIENT_SECRET": "{{ var.value.cxone_client_secret }}",
                "CXONE_ACCESS_KEY": "{{ var.value.cxone_access_key }}",
                "CXONE_ACCESS_SECRET": "{{ var.value.cxone_access_secret }}",
                "DATABASE_URL": "{{ conn.warehouse.get_uri() }}",
            },
            append_env=True,
            do_xcom_push=True,  # the JSON summary (last stdout line)
        )

    if KubernetesPodOperator is not None:
        KubernetesPodOperator(
            task_id="sync_all_in_pod",
            name="cxone-od-sync",
            image="ghcr.io/your-org/cxone-od-sync:0.1.0",  # built from this repository's Dockerfile
            cmds=["cxone-od-sync"],
            arguments=[
                "sync", "--json", "--config", "/config/cxone-od-sync.yaml",
                "--start", "{{ data_interval_start.isoformat() }}",
                "--end", "{{ data_interval_end.isoformat() }}",
            ],
            env_vars={"DATABASE_URL": "{{ conn.warehouse.get_uri() }}"},
            # Secrets come from a Kubernetes secret mounted as environment variables.
            do_xcom_push=False,
            get_logs=True,
        )
