"""Where payload files live between tasks: an ObjectStoragePath tree, partitioned by dag/run/stage.

Local by default (``file://`` under the project), ``s3://`` or ``gs://`` in a cluster, set with the
``SFDD_STAGING_URL`` environment variable (plus ``SFDD_STAGING_CONN_ID`` for remote stores). Tasks on
different workers share files this way; XCom only carries the paths.
"""

from __future__ import annotations

import os
import re

DEFAULT_URL = "file:///tmp/sfdd-staging"


def _safe(part: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.=-]+", "_", part)


def run_root(dag_id: str, run_id: str):
    from airflow.sdk import ObjectStoragePath

    base = os.environ.get("SFDD_STAGING_URL", DEFAULT_URL)
    conn_id = os.environ.get("SFDD_STAGING_CONN_ID") or None
    root = ObjectStoragePath(base, conn_id=conn_id) if conn_id else ObjectStoragePath(base)
    return root / _safe(dag_id) / _safe(run_id)


def write_parquet(frame, path) -> str:
    """Write a DataFrame (or pyarrow Table) and return the path as a string for XCom."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = frame if isinstance(frame, pa.Table) else pa.Table.from_pandas(frame, preserve_index=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as fh:
        pq.write_table(table, fh, compression="zstd")
    return str(path)


def read_parquet(path_str: str):
    import pyarrow.parquet as pq
    from airflow.sdk import ObjectStoragePath

    conn_id = os.environ.get("SFDD_STAGING_CONN_ID") or None
    path = ObjectStoragePath(path_str, conn_id=conn_id) if conn_id else ObjectStoragePath(path_str)
    with path.open("rb") as fh:
        return pq.read_table(fh).to_pandas()
