"""Validation statistics on hand-made trajectories with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from hpgsim.validation import statistics as st


def _line(slope: float, intercept: float, t_end: float = 10.0, n: int = 11) -> tuple[
        st.FloatArray, st.FloatArray]:
    t = np.linspace(0.0, t_end, n)
    return t, intercept + slope * t


def test_value_at_interpolates_linearly() -> None:
    t = np.array([0.0, 2.0, 4.0])
    x = np.array([0.0, 10.0, 0.0])
    assert st.value_at(t, x, 1.0) == pytest.approx(5.0)
    assert st.value_at(t, x, 3.5) == pytest.approx(2.5)
    with pytest.raises(ValueError, match="outside the sampled span"):
        st.value_at(t, x, 5.0)


def test_crossing_time_is_interpolated_between_samples() -> None:
    t, x = _line(-1.0, 10.0)  # 10 - t, sampled every 1 h
    assert st.crossing_time(t, x, 3.3, "below", 0.0, 10.0) == pytest.approx(6.7)
    t2, x2 = _line(2.0, 0.0, t_end=10.0, n=6)  # 2 t, sampled every 2 h
    assert st.crossing_time(t2, x2, 5.0, "above", 0.0, 10.0) == pytest.approx(2.5)


def test_crossing_time_from_start_and_never() -> None:
    t, x = _line(-1.0, 10.0)
    assert st.crossing_time(t, x, 8.0, "below", 3.0, 10.0) == pytest.approx(3.0)  # already below
    assert st.crossing_time(t, x, 4.5, "below", 3.0, 10.0) == pytest.approx(5.5)
    assert st.crossing_time(t, x, -1.0, "below", 0.0, 10.0) is None
    assert st.crossing_time(t, x, 4.5, "below", 0.0, 5.0) is None  # crosses only after the end


def test_crossing_time_finds_the_first_of_several() -> None:
    t = np.array([0.0, 1.0, 2.0, 3.0, 4.0])
    x = np.array([0.0, 4.0, 0.0, 4.0, 0.0])
    assert st.crossing_time(t, x, 2.0, "above", 0.0, 4.0) == pytest.approx(0.5)
    assert st.crossing_time(t, x, 2.0, "above", 1.75, 4.0) == pytest.approx(2.5)


def test_time_average_of_known_functions() -> None:
    t = np.linspace(0.0, 10.0, 101)
    assert st.time_average(t, 3.0 * t + 1.0, 2.0, 6.0) == pytest.approx(13.0)  # linear: exact
    t = np.linspace(0.0, np.pi, 2001)
    assert st.time_average(t, np.sin(t), 0.0, np.pi) == pytest.approx(2.0 / np.pi, rel=1e-6)
    assert st.time_average(t, np.sin(t), 1.0, 1.0) == pytest.approx(np.sin(1.0), rel=1e-6)


def test_time_average_with_interpolated_window_ends() -> None:
    t = np.array([0.0, 4.0])
    x = np.array([0.0, 8.0])  # 2 t
    assert st.time_average(t, x, 1.0, 3.0) == pytest.approx(4.0)


def test_peak_and_its_time() -> None:
    t = np.linspace(0.0, 10.0, 1001)
    x = t * np.exp(-t / 2.0)  # maximum at t = 2
    when, value = st.peak(t, x, 0.0, 10.0)
    assert when == pytest.approx(2.0)
    assert value == pytest.approx(2.0 * np.exp(-1.0))
    when, value = st.peak(t, x, 5.0, 10.0)  # decreasing: the window start
    assert when == pytest.approx(5.0)


def test_beyond_is_strict_and_ever_sees_a_dip() -> None:
    assert not st.beyond(1.0, 1.0, "below")
    assert bool(st.beyond(0.99, 1.0, "below"))
    assert bool(st.beyond(1.01, 1.0, "above"))
    t = np.array([0.0, 1.0, 2.0, 3.0])
    x = np.array([5.0, 0.5, 5.0, 5.0])
    assert st.ever_beyond(t, x, 1.0, "below", 0.0, 3.0)
    assert not st.ever_beyond(t, x, 1.0, "below", 2.0, 3.0)
    assert not st.beyond(st.value_at(t, x, 3.0), 1.0, "below")  # at: 5, not below


def test_relative_threshold_half_life_of_an_exponential() -> None:
    t = np.linspace(0.0, 100.0, 10001)
    x = 80.0 * np.exp(-np.log(2.0) * t / 7.0)  # half-life 7 h
    reference = st.value_at(t, x, 10.0)
    reached = st.crossing_time(t, x, 0.5 * reference, "below", 10.0, 100.0)
    assert reached is not None
    assert reached - 10.0 == pytest.approx(7.0, rel=1e-4)


def test_km_median_without_censoring_is_the_ordinary_median() -> None:
    assert st.km_median([(3.0, True), (1.0, True), (2.0, True)]) == pytest.approx(2.0)
    assert st.km_median([(1.0, True), (4.0, True), (2.0, True), (3.0, True)]) == pytest.approx(2.5)


def test_km_median_with_censoring() -> None:
    # 5 subjects: events at 1, 2, 4; censored at 3 and 5.
    # S(1) = 4/5, S(2) = 3/5, censor at 3 -> 2 at risk at 4: S(4) = 3/10 <= 0.5 -> median 4
    pairs = [(1.0, True), (2.0, True), (3.0, False), (4.0, True), (5.0, False)]
    assert st.km_median(pairs) == pytest.approx(4.0)
    # censoring at the end of follow-up only: the survival is the share not yet crossed
    end = [(1.0, True), (2.0, True), (6.0, False), (6.0, False), (6.0, False)]
    assert st.km_median(end) is None  # 3 of 5 never cross
    assert st.km_median([(1.0, True), (2.0, True), (3.0, True), (6.0, False)]) == pytest.approx(2.5)


def test_km_median_censored_at_an_event_time_stays_at_risk() -> None:
    # ties: the crossing at 2 comes before the censoring at 2 (4 at risk at 2)
    pairs = [(1.0, True), (2.0, True), (2.0, False), (3.0, True), (3.0, True)]
    # S(1) = 4/5, S(2) = 4/5 * 3/4 = 3/5, S(3) = 3/5 * 0/2 = 0 -> median 3
    assert st.km_median(pairs) == pytest.approx(3.0)


def test_mean_of_events_ignores_censored() -> None:
    assert st.mean_of_events([(2.0, True), (4.0, True), (9.0, False)]) == pytest.approx(3.0)
    assert st.mean_of_events([(9.0, False)]) is None
