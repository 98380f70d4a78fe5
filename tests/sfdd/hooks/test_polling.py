"""Status-poll spacing: quick jobs are seen soon after they finish, long jobs are polled at the caller's pace."""

from sfdd.hooks.polling import poll_delays


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def _schedule(maximum: float, until: float) -> list[float]:
    """The times of the polls made before ``until``, sleeping each yielded delay."""
    clock, times = FakeClock(), []
    for delay in poll_delays(maximum, clock=clock):
        clock.now += delay
        if clock.now > until:
            return times
        times.append(round(clock.now, 3))
    raise AssertionError("unreachable")


def test_a_job_of_a_few_seconds_is_polled_at_most_half_a_second_apart():
    times = _schedule(maximum=1.0, until=2.5)
    assert times[:3] == [0.1, 0.3, 0.7]
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    assert max(gaps) <= 0.5 + 1e-9
    assert len(times) <= 8


def test_a_long_job_settles_at_the_callers_interval():
    times = _schedule(maximum=5.0, until=300.0)
    gaps = [round(b - a, 3) for a, b in zip(times, times[1:], strict=False)]
    assert gaps[-1] == 5.0
    # the gap grows with the time waited (a quarter of it), so a 5-minute job costs few polls
    assert len(times) < 80
    assert all(g <= max(0.5, t / 4) + 1e-3 for g, t in zip(gaps, times, strict=False))


def test_the_caller_interval_caps_even_the_first_poll():
    assert _schedule(maximum=0.05, until=0.2)[:2] == [0.05, 0.1]


def test_an_import_wait_uses_the_floor_it_is_given(monkeypatch):
    from sfdd.hooks import dotdigital

    slept: list[float] = []
    monkeypatch.setattr(dotdigital.time, "sleep", slept.append)
    hook = dotdigital.DotdigitalHook.__new__(dotdigital.DotdigitalHook)  # no connection needed to poll a fake

    def waits(**kwargs) -> list[float]:
        slept.clear()
        answers = iter(["NotFinished"] * 4 + ["Finished"])
        assert hook._wait(lambda: {"status": next(answers)}, "imp-1", 1.0, 60, **kwargs)["status"] == "Finished"
        return list(slept)

    assert waits() == [0.1, 0.2, 0.4, 0.5]  # doubling up to the default floor of 0.5 s
    assert waits(floor=0.1) == [0.1, 0.1, 0.1, 0.1]
