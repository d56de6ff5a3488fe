"""Builds the pod the Kubernetes DAG would start for one account, with the operator's own
pod-building method (no cluster), and prints it as Kubernetes' JSON."""
import json
import sys

from airflow.dag_processing.dagbag import DagBag
from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
from kubernetes.client import ApiClient

bag = DagBag(dag_folder=sys.argv[1])
dag = bag.get_dag("cxone_od_sync_k8s")
mapped = dag.get_task("sync")
module = next(m for name, m in sys.modules.items() if getattr(m, "__file__", "") == dag.fileloc)
operator = KubernetesPodOperator(
    task_id="sync_one", arguments=module.pod_arguments(sys.argv[2]), **mapped.partial_kwargs
)
pod = operator.build_pod_request_obj(context=None, dry_run=True)
print(json.dumps(ApiClient().sanitize_for_serialization(pod)))
