"""Reads every run of an experiment back with MLflow's own Python client, for the team specs.

    read_runs.py <tracking uri> <experiment name>

Prints one JSON object: {"runs": [{run_id, run_name, status, params, histories, artifacts,
writer_txt}]}, where histories maps each metric key to its whole history, [step, value,
timestamp] in (step, timestamp) order, as `MlflowClient.get_metric_history` returns it.
"""
import json
import sys

from mlflow.tracking import MlflowClient

uri, name = sys.argv[1], sys.argv[2]
client = MlflowClient(tracking_uri=uri)
experiment = client.get_experiment_by_name(name)
runs = []
if experiment is not None:
    page_token = None
    found = []
    while True:
        page = client.search_runs([experiment.experiment_id], max_results=1000, page_token=page_token)
        found.extend(page)
        page_token = page.token
        if not page_token:
            break
    for r in found:
        histories = {}
        for key in r.data.metrics:
            points = client.get_metric_history(r.info.run_id, key)
            histories[key] = sorted([[m.step, m.value, m.timestamp] for m in points])
        artifacts = sorted(a.path for a in client.list_artifacts(r.info.run_id))
        text = None
        if "writer.txt" in artifacts:
            path = client.download_artifacts(r.info.run_id, "writer.txt")
            with open(path, encoding="utf-8") as f:
                text = f.read()
        runs.append(
            {
                "run_id": r.info.run_id,
                "run_name": r.info.run_name,
                "status": r.info.status,
                "params": r.data.params,
                "histories": histories,
                "artifacts": artifacts,
                "writer_txt": text,
            }
        )
print(json.dumps({"runs": runs}))
