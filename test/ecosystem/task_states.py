"""Prints the task instances of a DAG's latest run, read from the Airflow metadata database
(SQLite under AIRFLOW_HOME), as one JSON line: task id, map index, state, try number."""
import json
import os
import sqlite3
import sys

db = sqlite3.connect(os.path.join(os.environ["AIRFLOW_HOME"], "airflow.db"))
(run_id,) = db.execute(
    "select run_id from dag_run where dag_id = ? order by id desc limit 1", (sys.argv[1],)
).fetchone()
rows = db.execute(
    "select task_id, map_index, state, try_number from task_instance"
    " where dag_id = ? and run_id = ? order by task_id, map_index",
    (sys.argv[1], run_id),
).fetchall()
print(json.dumps({"run_id": run_id, "tasks": [dict(zip(("task_id", "map_index", "state", "try_number"), r)) for r in rows]}))
