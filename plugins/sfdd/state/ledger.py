"""The ledger: rejected records, program-trigger firings and run figures, in a SQL database.

It is reached through the Airflow connection ``sfdd_ledger`` (``sqlite`` with ``host`` = file path, or
``postgres``); without that connection it is a SQLite file in AIRFLOW_HOME, so a laptop works on day
one. The schema is created on first use. Writes for one task instance replace that instance's earlier
rows in one transaction, so a retried task never duplicates its rejects.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from functools import lru_cache

LEDGER_CONN_ID = "sfdd_ledger"

# Retry lifecycle of a reject: 'pending' (retryable, waiting for a retry run), 'permanent' (needs a fix in
# the source data or the mapping), 'resolved' (a later run wrote the record).
RETRY_STATES = ("pending", "permanent", "resolved")


def ledger_url(conn_id: str = LEDGER_CONN_ID) -> str:
    from airflow.sdk import BaseHook
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        conn = BaseHook.get_connection(conn_id)
    except AirflowNotFoundException:
        home = os.environ.get("AIRFLOW_HOME", os.path.expanduser("~/airflow"))
        return f"sqlite:///{os.path.join(home, 'sfdd_ledger.db')}"
    if conn.conn_type == "sqlite":
        return f"sqlite:///{conn.host}"
    if conn.conn_type in ("postgres", "postgresql"):
        port = f":{conn.port}" if conn.port else ""
        from urllib.parse import quote

        auth = f"{quote(conn.login or '')}:{quote(conn.password or '')}@" if conn.login else ""
        return f"postgresql+psycopg2://{auth}{conn.host}{port}/{conn.schema}"
    return conn.get_uri()


@lru_cache(maxsize=4)
def _tables():
    import sqlalchemy as sa

    meta = sa.MetaData()
    rejects = sa.Table(
        "sfdd_rejects", meta,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sync_name", sa.String(100), nullable=False),
        sa.Column("dag_id", sa.String(250), nullable=False),
        sa.Column("run_id", sa.String(250), nullable=False),
        sa.Column("task_id", sa.String(250), nullable=False),
        sa.Column("map_index", sa.Integer, nullable=False),
        sa.Column("sf_id", sa.String(18)),
        sa.Column("field", sa.String(250)),
        sa.Column("error_code", sa.String(100), nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("payload_ref", sa.Text),
        sa.Column("payload_row", sa.Integer),
        sa.Column("retryable", sa.Boolean, nullable=False, default=False),
        sa.Column("retry_state", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, default=1),
        sa.Index("ix_sfdd_rejects_ti", "dag_id", "run_id", "task_id", "map_index"),
        sa.Index("ix_sfdd_rejects_record", "sync_name", "sf_id"),
    )
    triggers = sa.Table(
        "sfdd_trigger_log", meta,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("trigger_name", sa.String(100), nullable=False),
        sa.Column("event_key", sa.String(250), nullable=False),
        sa.Column("program_id", sa.Integer, nullable=False),
        sa.Column("contact_ref", sa.String(250)),
        sa.Column("dag_id", sa.String(250), nullable=False),
        sa.Column("run_id", sa.String(250), nullable=False),
        sa.Column("fired_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("enrolment_id", sa.String(100)),
        sa.Column("status", sa.String(30), nullable=False),
        sa.UniqueConstraint("trigger_name", "event_key", name="uq_sfdd_trigger_event"),
    )
    runs = sa.Table(
        "sfdd_run_stats", meta,
        sa.Column("dag_id", sa.String(250), primary_key=True),
        sa.Column("run_id", sa.String(250), primary_key=True),
        sa.Column("sync_name", sa.String(100), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ok", sa.Boolean, nullable=False),
        sa.Column("figures", sa.Text, nullable=False),
    )
    return meta, rejects, triggers, runs


class Ledger:
    def __init__(self, url: str | None = None):
        import sqlalchemy as sa

        self.url = url or ledger_url()
        self.engine = sa.create_engine(self.url, future=True)
        self.meta, self.rejects, self.triggers, self.runs = _tables()
        self.meta.create_all(self.engine)

    def replace_rejects(self, *, sync_name: str, dag_id: str, run_id: str, task_id: str, map_index: int,
                        rows: Iterable[Mapping]) -> int:
        """Store the rejects of one task instance, replacing what an earlier try of it stored."""
        import sqlalchemy as sa

        now = datetime.now(UTC)
        key = dict(sync_name=sync_name, dag_id=dag_id, run_id=run_id, task_id=task_id, map_index=map_index)
        records = []
        for row in rows:
            retryable = bool(row.get("retryable", False))
            records.append({
                **key, "created_at": now,
                "sf_id": row.get("sf_id"), "field": row.get("field"),
                "error_code": row["error_code"], "message": row["message"],
                "payload_ref": row.get("payload_ref"), "payload_row": row.get("payload_row"),
                "retryable": retryable, "retry_state": "pending" if retryable else "permanent", "attempts": 1,
            })
        t = self.rejects
        with self.engine.begin() as conn:
            conn.execute(sa.delete(t).where(t.c.dag_id == dag_id, t.c.run_id == run_id,
                                            t.c.task_id == task_id, t.c.map_index == map_index))
            if records:
                conn.execute(sa.insert(t), records)
        return len(records)

    def rejects_for_run(self, dag_id: str, run_id: str) -> list[dict]:
        import sqlalchemy as sa

        t = self.rejects
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(t).where(t.c.dag_id == dag_id, t.c.run_id == run_id).order_by(t.c.id))
            return [dict(r._mapping) for r in rows]

    def resolve_written(self, sync_name: str, sf_ids: Iterable[str]) -> int:
        """Records written by a later run close their open rejects."""
        import sqlalchemy as sa

        ids = list(sf_ids)
        t = self.rejects
        done = 0
        with self.engine.begin() as conn:
            for start in range(0, len(ids), 500):
                res = conn.execute(sa.update(t).where(t.c.sync_name == sync_name, t.c.sf_id.in_(ids[start:start + 500]),
                                                      t.c.retry_state != "resolved").values(retry_state="resolved"))
                done += res.rowcount or 0
        return done

    def record_run(self, *, sync_name: str, dag_id: str, run_id: str, ok: bool, figures: dict) -> None:
        import sqlalchemy as sa

        t = self.runs
        with self.engine.begin() as conn:
            conn.execute(sa.delete(t).where(t.c.dag_id == dag_id, t.c.run_id == run_id))
            conn.execute(sa.insert(t).values(dag_id=dag_id, run_id=run_id, sync_name=sync_name, ok=ok,
                                             recorded_at=datetime.now(UTC),
                                             figures=json.dumps(figures, sort_keys=True, default=str)))

    def run_figures(self, dag_id: str, run_id: str) -> dict | None:
        import sqlalchemy as sa

        t = self.runs
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(t.c.figures).where(t.c.dag_id == dag_id, t.c.run_id == run_id)).first()
        return json.loads(row[0]) if row else None
