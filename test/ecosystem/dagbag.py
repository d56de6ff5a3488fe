"""Loads a DAGs folder in a real DagBag and prints what Airflow found: the DAG ids, the import
errors and the warnings raised while importing (DagBag.captured_warnings), as one JSON line."""
import json
import sys
import warnings

from airflow.dag_processing.dagbag import DagBag

warnings.simplefilter("always")
bag = DagBag(dag_folder=sys.argv[1])
print(
    json.dumps(
        {
            "dag_ids": sorted(bag.dag_ids),
            "import_errors": bag.import_errors,
            "warnings": {path: [str(w) for w in ws] for path, ws in bag.captured_warnings.items()},
        }
    )
)
