"""What the three example DAGs share (not a DAG itself): the worker's interface, the operator that
reads the CLI's exit codes, the accounts of the config and the OpenLineage macros.

The worker's environment gives (defaults in brackets):

- ``CXONE_OD_SYNC_CONFIG``: the config file [/etc/cxone-od-sync/cxone-od-sync.yaml];
- ``CXONE_OD_SYNC``: the command that runs the CLI [cxone-od-sync], for example
  ``node /opt/cxone-od-sync/dist/src/cli/main.js``;
- the variables the config names (``${VAR}`` or ``VAR_FILE``): secrets and the warehouse's
  ``DATABASE_URL``. The warehouse comes from the config; an Airflow connection is an option
  (``"DATABASE_URL": "{{ conn.warehouse.get_uri() }}"`` in the task's ``env``), not a requirement.

The task script, ``cxone-od-sync-task.sh``, lies next to this file and is found from here, never
through the working directory (BashOperator runs in a temporary one).
"""
from __future__ import annotations

import os

import yaml
from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk.exceptions import AirflowException, AirflowFailException

DAG_DIR = os.path.dirname(os.path.abspath(__file__))
DEFAULT_CONFIG = "/etc/cxone-od-sync/cxone-od-sync.yaml"

# The task script's folder goes through the environment, not into the command line: Airflow reads
# a templated value ending in `.sh` as the name of a template file.
TASK_ENV = {"CXONE_OD_SYNC_DAG_DIR": DAG_DIR}
TASK_SCRIPT = 'bash "$CXONE_OD_SYNC_DAG_DIR/cxone-od-sync-task.sh"'

try:
    # OpenLineage: the task's run, `{namespace}/{job name}/{run id}`, becomes the parent of the
    # connector's load runs, so that a lineage UI shows them under the task. Registered as the
    # DAGs' own macros: `macros.OpenLineageProviderPlugin` exists only when the provider has a
    # transport configured, and a template naming it fails every task otherwise.
    from airflow.providers.openlineage.plugins.macros import lineage_parent_id, lineage_root_parent_id
except ImportError:  # apache-airflow-providers-openlineage not installed: no parent run

    def lineage_parent_id(task_instance) -> str:
        return ""

    def lineage_root_parent_id(task_instance) -> str:
        return ""


LINEAGE_MACROS = {"lineage_parent_id": lineage_parent_id, "lineage_root_parent_id": lineage_root_parent_id}
LINEAGE_ENV = {
    "OPENLINEAGE_PARENT_ID": "{{ lineage_parent_id(task_instance) }}",
    "OPENLINEAGE_ROOT_PARENT_ID": "{{ lineage_root_parent_id(task_instance) }}",
}


def config_path() -> str:
    return os.environ.get("CXONE_OD_SYNC_CONFIG") or DEFAULT_CONFIG


def config_account_keys() -> list[str]:
    """The keys of the config's `accounts:` map ("" for a config with one `account:`)."""
    with open(config_path()) as f:
        doc = yaml.safe_load(f) or {}
    return sorted(doc.get("accounts") or {}) or [""]


class SyncOperator(BashOperator):
    """A BashOperator that reads the CLI's exit codes: 2 (usage, config or credentials) fails the
    task at once, since no retry can help; 75 skips it where ``skip_on_exit_code=75``; 1 (a stream
    failed) fails it and leaves the retries to the task's settings."""

    def execute(self, context):
        try:
            return super().execute(context)
        except AirflowException:
            process = self.subprocess_hook.sub_process
            if process is not None and process.returncode == 2:
                raise AirflowFailException(
                    "cxone-od-sync exited 2 (usage, config or credentials): fix the setting its log names; not retried"
                ) from None
            raise
