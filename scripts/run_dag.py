"""Run one DAG with dag.test() and no logical date (a manual run), printing a JSON result line per run.

The demo and the benchmarks run each DAG in its own process so Airflow's task logs go to a file and the
console shows only the summaries. ``--repeat N`` runs the same conf N times in the one process: the
benchmarks use it to tell a run's own cost from the one-off start-up of a fresh process (imports,
DagBag parsing, and the first call into Airflow's in-process Execution API, which builds its routes).

    python scripts/run_dag.py DAG_ID ['{"mode": "full"}'] [--repeat N]
"""

from __future__ import annotations

import argparse
import json
import sys
import time


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dag_id")
    parser.add_argument("conf", nargs="?", default="{}")
    parser.add_argument("--repeat", type=int, default=1, help="runs of the same conf in this process")
    args = parser.parse_args(argv)

    from airflow.dag_processing.dagbag import DagBag
    from local_env import REPO

    bag = DagBag(dag_folder=str(REPO / "dags"))
    dag = bag.dags[args.dag_id]
    failed = False
    for _ in range(max(1, args.repeat)):
        started = time.perf_counter()
        dr = dag.test(logical_date=None, run_conf=json.loads(args.conf))
        seconds = round(time.perf_counter() - started, 3)
        state = str(getattr(dr.state, "value", dr.state))
        failed = failed or state != "success"
        sys.stdout.write("\n" + json.dumps({"dag_id": args.dag_id, "run_id": dr.run_id, "state": state,
                                            "seconds": seconds}) + "\n")
        sys.stdout.flush()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
