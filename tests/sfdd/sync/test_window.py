from datetime import UTC, datetime, timedelta

import pytest

from sfdd.sync.window import Window, plan_window

LOOKBACK = timedelta(minutes=10)


def t(h, m=0, day=5):
    return datetime(2026, 1, day, h, m, tzinfo=UTC)


def test_delta_starts_at_the_older_of_watermark_and_interval_start():
    w = plan_window(mode="delta", watermark=t(9), interval_start=t(10), interval_end=t(11), run_after=t(11),
                    lookback=LOOKBACK)
    assert (w.start, w.end) == (t(8, 50), t(11))


def test_backfill_of_a_past_interval_reads_exactly_that_interval():
    w = plan_window(mode="delta", watermark=t(12, day=9), interval_start=t(0, day=2), interval_end=t(0, day=3),
                    run_after=t(0, day=3), lookback=LOOKBACK)
    assert w.start == t(0, day=2) - LOOKBACK
    assert w.end == t(0, day=3)


def test_manual_run_without_interval_reads_from_watermark_to_trigger_time():
    w = plan_window(mode="delta", watermark="2026-01-05T09:00:00Z", interval_start=None, interval_end=None,
                    run_after=t(9, 30), lookback=LOOKBACK)
    assert (w.start, w.end, w.mode) == (t(8, 50), t(9, 30), "delta")


def test_first_manual_run_without_watermark_is_a_full_load():
    w = plan_window(mode="delta", watermark=None, interval_start=None, interval_end=None, run_after=t(9),
                    lookback=LOOKBACK)
    assert w.mode == "full" and w.start is None


def test_since_param_overrides_the_start():
    w = plan_window(mode="delta", watermark=t(9), interval_start=t(10), interval_end=t(11), run_after=t(11),
                    lookback=LOOKBACK, since="2026-01-01T00:00:00+00:00")
    assert w.start == datetime(2026, 1, 1, tzinfo=UTC)


def test_full_mode_ignores_watermark():
    w = plan_window(mode="full", watermark=t(9), interval_start=t(10), interval_end=t(11), run_after=t(11),
                    lookback=LOOKBACK)
    assert w.start is None and w.end == t(11)


def test_naive_datetimes_are_utc_and_roundtrip_through_xcom():
    w = plan_window(mode="delta", watermark=datetime(2026, 1, 5, 9), interval_start=None, interval_end=None,
                    run_after=datetime(2026, 1, 5, 10), lookback=LOOKBACK)
    assert w.start.tzinfo is not None
    assert Window.from_xcom(w.to_xcom()) == w


def test_watermark_ahead_of_manual_trigger_never_gives_a_negative_window():
    w = plan_window(mode="delta", watermark=t(12), interval_start=None, interval_end=None, run_after=t(11),
                    lookback=LOOKBACK)
    assert w.start < w.end


def test_unknown_mode_is_refused():
    with pytest.raises(ValueError, match="mode"):
        plan_window(mode="sometimes", watermark=None, interval_start=None, interval_end=None, run_after=t(1),
                    lookback=LOOKBACK)


def test_window_end_is_a_whole_second_like_soql_literals():
    w = plan_window(mode="delta", watermark=t(9), interval_start=None, interval_end=None,
                    run_after=datetime(2026, 1, 5, 10, 0, 5, 900_000, tzinfo=UTC), lookback=LOOKBACK)
    assert w.end == datetime(2026, 1, 5, 10, 0, 5, tzinfo=UTC)


def test_airflow_context_datetimes_from_pendulum_are_accepted():
    import pendulum

    w = plan_window(mode="delta", watermark="2026-01-05T09:00:00+00:00",
                    interval_start=pendulum.datetime(2026, 1, 5, 10, tz="UTC"),
                    interval_end=pendulum.datetime(2026, 1, 5, 11, tz="UTC"), run_after=t(11), lookback=LOOKBACK)
    assert (w.start, w.end) == (t(8, 50), t(11))
    assert type(w.start) is datetime


def test_since_after_the_window_end_is_refused_with_the_param_named():
    with pytest.raises(ValueError, match="'since' param"):
        plan_window(mode="delta", watermark=None, interval_start=t(10), interval_end=t(11), run_after=t(11),
                    lookback=LOOKBACK, since=t(12).isoformat())
