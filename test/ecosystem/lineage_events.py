"""Reads OpenLineage event files (one JSON event per line) into openlineage-python's own client
models (RunEvent, Run, Job, datasets and the parent run facet, which check the run ids and event
times as they are built) and prints, as one JSON line, what a lineage backend would see of each
run event: its type, job, run id, datasets and parent run. Events that are not run events (job or
dataset events) are counted apart."""
import json
import sys

from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
from openlineage.client.generated import parent_run
from openlineage.client.serde import Serde


def parent_facet(raw: dict) -> parent_run.ParentRunFacet:
    root = raw.get("root")
    return parent_run.ParentRunFacet(
        run=parent_run.Run(runId=raw["run"]["runId"]),
        job=parent_run.Job(namespace=raw["job"]["namespace"], name=raw["job"]["name"]),
        root=parent_run.Root(
            run=parent_run.RootRun(runId=root["run"]["runId"]),
            job=parent_run.RootJob(namespace=root["job"]["namespace"], name=root["job"]["name"]),
        )
        if root
        else None,
    )


def run_event(raw: dict) -> RunEvent:
    facets = raw["run"].get("facets") or {}
    return RunEvent(
        eventType=RunState(raw["eventType"]),
        eventTime=raw["eventTime"],
        run=Run(runId=raw["run"]["runId"], facets={"parent": parent_facet(facets["parent"])} if "parent" in facets else {}),
        job=Job(namespace=raw["job"]["namespace"], name=raw["job"]["name"]),
        producer=raw["producer"],
        inputs=[InputDataset(namespace=d["namespace"], name=d["name"]) for d in raw.get("inputs") or []],
        outputs=[OutputDataset(namespace=d["namespace"], name=d["name"]) for d in raw.get("outputs") or []],
    )


events, others = [], 0
for path in sys.argv[1:]:
    with open(path) as f:
        for line in f:
            if not line.strip():
                continue
            raw = json.loads(line)
            if "run" not in raw or "eventType" not in raw:
                others += 1
                continue
            event = Serde.to_dict(run_event(raw))
            parent = event["run"].get("facets", {}).get("parent")
            events.append(
                {
                    "file": path,
                    "eventType": event["eventType"],
                    "job": event["job"],
                    "runId": event["run"]["runId"],
                    "inputs": [d["name"] for d in event.get("inputs", [])],
                    "outputs": [d["name"] for d in event.get("outputs", [])],
                    "parent": {"namespace": parent["job"]["namespace"], "name": parent["job"]["name"], "runId": parent["run"]["runId"]}
                    if parent
                    else None,
                    "root": parent.get("root") if parent else None,
                }
            )
print(json.dumps({"events": events, "others": others}))
