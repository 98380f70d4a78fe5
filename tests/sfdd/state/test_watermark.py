import json
from datetime import UTC, datetime
from unittest import mock

from sfdd.state import watermark


def test_advance_only_moves_forward():
    old = datetime(2026, 1, 5, tzinfo=UTC)
    assert watermark.advance(None, old) == old
    assert watermark.advance(old, datetime(2026, 1, 4, tzinfo=UTC)) == old
    assert watermark.advance(old, datetime(2026, 1, 6, tzinfo=UTC)) == datetime(2026, 1, 6, tzinfo=UTC)


def test_commit_keeps_a_newer_watermark_when_an_old_backfill_finishes_last():
    store = {watermark.variable_key("contact"): json.dumps({"timestamp": "2026-01-09T00:00:00+00:00"})}
    with mock.patch("airflow.sdk.Variable") as var:
        var.get.side_effect = lambda key, default=None: store.get(key, default)
        result = watermark.commit("contact", datetime(2026, 1, 3, tzinfo=UTC), "backfill__x")
        assert result["moved"] is False
        var.set.assert_not_called()
        result = watermark.commit("contact", datetime(2026, 1, 10, tzinfo=UTC), "scheduled__y")
    assert result["moved"] is True
    key, value = var.set.call_args.args[:2]
    assert key == "sfdd_watermark__contact"
    assert json.loads(value)["timestamp"] == "2026-01-10T00:00:00+00:00"


def test_parse_accepts_z_suffix_and_empty():
    assert watermark.parse(None) is None
    assert watermark.parse(json.dumps({"timestamp": "2026-01-05T00:00:00Z"})) == datetime(2026, 1, 5, tzinfo=UTC)
