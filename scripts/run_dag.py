"""Run one DAG with dag.test() and no logical date (a manual run), printing a JSON result line last.

The demo and the benchmarks run each DAG in its own process so Airflow's task logs go to a file and the
console shows only the summaries.
"""

from __future__ import annotations

import json
import sys


def main(dag_id: str, conf: str) -> int:
    from airflow.dag_processing.dagbag import DagBag
    from local_env import REPO

    bag = DagBag(dag_folder=str(REPO / "dags"))
    dag = bag.dags[dag_id]
    dr = dag.test(logical_date=None, run_conf=json.loads(conf))
    state = str(getattr(dr.state, "value", dr.state))
    sys.stdout.write("\n" + json.dumps({"dag_id": dag_id, "run_id": dr.run_id, "state": state}) + "\n")
    return 0 if state == "success" else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "{}"))
