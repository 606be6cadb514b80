"""The statistics of validation targets, as pure functions on sampled trajectories.

A trajectory is a pair ``(t, x)``: times in hours, strictly ascending, and values in any one
unit. Every function reads it as its piecewise-linear interpolant: a value between samples is
interpolated, a window gets interpolated end points, a time average is the trapezoid rule over
the window, and a crossing time is interpolated between the last sample short of the threshold
and the first at or beyond it. Results carry the unit of ``x`` (values) or hours (times).

Thresholds: a value is *beyond* a threshold when it is strictly below it (``direction
"below"``) or strictly above it (``"above"``); a trajectory *reaches* the threshold at the first
time it is at or beyond it. Cohort summaries of times (``km_median``, ``mean_of_events``) take
one ``(time, crossed)`` pair per subject, where a subject that never crossed is censored at its
time.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
Direction = Literal["below", "above"]

_TIME_SLACK = 1e-9  # h: times this close to the ends of the sampled span count as inside it
_HALF_SLACK = 1e-12  # a survival of 0.5 within this is exactly one half


def _inside(t: FloatArray, time: float, what: str) -> float:
    lo, hi = float(t[0]), float(t[-1])
    if not lo - _TIME_SLACK <= time <= hi + _TIME_SLACK:
        raise ValueError(f"{what} {time:g} h is outside the sampled span [{lo:g}, {hi:g}] h")
    return min(max(time, lo), hi)


def value_at(t: FloatArray, x: FloatArray, at: float) -> float:
    """The value at time ``at`` (h), linearly interpolated between samples."""
    return float(np.interp(_inside(t, at, "time"), t, x))


def window(t: FloatArray, x: FloatArray, start: float, end: float) -> tuple[FloatArray, FloatArray]:
    """The samples within ``[start, end]`` (h) with interpolated end points added."""
    if end < start:
        raise ValueError(f"window end {end:g} h is before its start {start:g} h")
    a, b = _inside(t, start, "window start"), _inside(t, end, "window end")
    inner = (t > a) & (t < b)
    tw = np.concatenate(([a], t[inner], [b]))
    return tw, np.interp(tw, t, x)


def peak(t: FloatArray, x: FloatArray, start: float, end: float) -> tuple[float, float]:
    """``(time, value)`` of the maximum within ``[start, end]``; the first one when tied."""
    tw, xw = window(t, x, start, end)
    i = int(np.argmax(xw))
    return float(tw[i]), float(xw[i])


def time_average(t: FloatArray, x: FloatArray, start: float, end: float) -> float:
    """The time average over ``[start, end]`` (trapezoid rule); the value itself if ``end ==
    start``."""
    tw, xw = window(t, x, start, end)
    length = float(tw[-1] - tw[0])
    if length <= 0.0:
        return float(xw[0])
    return float(np.sum((xw[1:] + xw[:-1]) * np.diff(tw)) / (2.0 * length))


def beyond(x: FloatArray | float, threshold: float, direction: Direction) -> NDArray[np.bool_]:
    """Whether each value is strictly beyond ``threshold`` in ``direction``."""
    values = np.asarray(x, dtype=float)
    return values < threshold if direction == "below" else values > threshold


def ever_beyond(t: FloatArray, x: FloatArray, threshold: float, direction: Direction,
                start: float, end: float) -> bool:
    """Whether the trajectory is beyond ``threshold`` at any time in ``[start, end]``."""
    _, xw = window(t, x, start, end)
    return bool(np.any(beyond(xw, threshold, direction)))


def crossing_time(t: FloatArray, x: FloatArray, threshold: float, direction: Direction,
                  start: float, end: float) -> float | None:
    """The first time in ``[start, end]`` (h) at which the trajectory reaches ``threshold``.

    ``start`` itself when it is already at or beyond the threshold there; None when it never
    reaches it within the window.
    """
    tw, xw = window(t, x, start, end)
    reached = xw <= threshold if direction == "below" else xw >= threshold
    if not np.any(reached):
        return None
    i = int(np.argmax(reached))
    if i == 0:
        return float(tw[0])
    x0, x1 = float(xw[i - 1]), float(xw[i])
    return float(tw[i - 1] + (threshold - x0) / (x1 - x0) * (tw[i] - tw[i - 1]))


def km_median(times: Sequence[tuple[float, bool]]) -> float | None:
    """The Kaplan-Meier median of ``(time, crossed)`` pairs; None when survival stays above 0.5.

    A pair with ``crossed`` False is censored at its time; at equal times crossings come before
    censorings. The median is the first time the survival estimate falls to 0.5 or below; where
    it stays at exactly 0.5 until a later crossing, the midpoint of the two crossing times (so
    that without censoring it is the ordinary median).
    """
    if not times:
        raise ValueError("no subjects to take a median of")
    t = np.array([time for time, _ in times], dtype=float)
    crossed = np.array([did for _, did in times], dtype=bool)
    survival = 1.0
    crossings = np.unique(t[crossed])
    for k, u in enumerate(crossings):
        at_risk = np.count_nonzero(t >= u)  # censored at u are still at risk at u
        survival *= 1.0 - np.count_nonzero(crossed & (t == u)) / at_risk
        if survival < 0.5 - _HALF_SLACK:
            return float(u)
        if survival <= 0.5 + _HALF_SLACK:
            return float((u + crossings[k + 1]) / 2.0 if k + 1 < len(crossings) else u)
    return None


def mean_of_events(times: Sequence[tuple[float, bool]]) -> float | None:
    """The mean time over the pairs that crossed; None when none did."""
    crossed = [time for time, did in times if did]
    return float(np.mean(crossed)) if crossed else None
