"""The Python rows of the metric ingest bench: what a user of MLflow's own client writes.

Usage: clients.py <tracking-url> <experiment> <mode> <points>
  mode log_batch   MlflowClient().log_batch with hand-made chunks of 1,000 Metric objects
  mode fluent      the fluent mlflow.log_metric loop, one call per point
  mode async       the same loop with async logging on, including the final flush

Sends the same points as bench/support/workload.ts and prints one JSON line:
{"mode", "points", "seconds", "cpu_seconds", "run_id"}, timed from the run's creation to its end
(the interpreter's start and imports are not counted).
"""
import json
import sys
import time

import mlflow
from mlflow.entities import Metric
from mlflow.tracking import MlflowClient

KEYS = [f"metric_{i}" for i in range(10)]


def value_of(i):
    return 1 / (1 + i) + (i % 7) * 0.125


def log_batch(url, experiment, n):
    client = MlflowClient(tracking_uri=url)
    found = client.get_experiment_by_name(experiment)
    experiment_id = found.experiment_id if found else client.create_experiment(experiment)
    start, cpu = time.perf_counter(), time.process_time()
    run_id = client.create_run(experiment_id, run_name=f"python-log_batch-{n}").info.run_id
    timestamp = int(time.time() * 1000)
    for first in range(0, n, 1000):
        metrics = [
            Metric(key=KEYS[i % 10], value=value_of(i), timestamp=timestamp, step=i)
            for i in range(first, min(n, first + 1000))
        ]
        client.log_batch(run_id, metrics=metrics)
    client.set_terminated(run_id)
    return run_id, start, cpu


def fluent(url, experiment, n, asynchronous):
    mlflow.set_tracking_uri(url)
    mlflow.set_experiment(experiment)
    if asynchronous:
        mlflow.config.enable_async_logging(True)
    start, cpu = time.perf_counter(), time.process_time()
    with mlflow.start_run(run_name=f"python-{'async' if asynchronous else 'fluent'}-{n}") as run:
        for i in range(n):
            mlflow.log_metric(KEYS[i % 10], value_of(i), step=i)
        if asynchronous:
            mlflow.flush_async_logging()
    return run.info.run_id, start, cpu


def main():
    url, experiment, mode, points = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    if mode == "log_batch":
        run_id, start, cpu = log_batch(url, experiment, points)
    elif mode in ("fluent", "async"):
        run_id, start, cpu = fluent(url, experiment, points, mode == "async")
    else:
        raise SystemExit(f"unknown mode {mode!r}")
    seconds = time.perf_counter() - start
    print(json.dumps({
        "mode": mode,
        "points": points,
        "seconds": seconds,
        "cpu_seconds": time.process_time() - cpu,
        "run_id": run_id,
    }), flush=True)


if __name__ == "__main__":
    main()
