"""Checks of drugs, routes and doses against the catalog.

Errors (:class:`~hpgsim.errors.InputError`): unknown drug, a route or formulation the drug lacks,
a dose in the wrong dimension (IU for a drug dosed in mg, or mg for hCG), and a single dose above
the drug's ``absurd_max_per_dose``. A weekly total above ``clinical_max_per_week`` is simulated
with a :class:`~hpgsim.errors.DoseWarning`: anabolic-steroid users take 500-1000 mg of
testosterone a week, and such regimens are what the simulator is for. The weekly total is the
mean over each repeated line's dosing period (TU 750 mg every 10 weeks is 75 mg/week), summed
over the lines of a drug that overlap in time.
"""

from __future__ import annotations

import warnings
from collections import defaultdict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import TypeVar

from hpgsim.drugs.catalog import Catalog, Drug, default_catalog
from hpgsim.errors import DoseWarning, InputError
from hpgsim.regimen.model import WEEK, Regimen, RegimenLine
from hpgsim.units import Dose

K = TypeVar("K", bound=Hashable)

_SLACK = 1e-9  # relative: a total equal to the limit up to rounding is within it


def _at(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


@dataclass(frozen=True)
class Resolved:
    """A drug resolved to catalog names: canonical drug, route, formulation (None = none)."""

    drug: Drug
    route: str
    formulation: str | None


def resolve(drug: str, route: str | None = None, formulation: str | None = None, *,
            field: str = "", catalog: Catalog | None = None) -> Resolved:
    """Resolve a drug name or alias, its route (default: the drug's usual one) and formulation
    (default: the route's usual one); names are case-insensitive.

    Raises InputError naming ``<field>.drug``, ``<field>.route`` or ``<field>.formulation``.
    """
    cat = catalog or default_catalog()
    d = cat.drug(drug, _at(field, "drug"))
    key = route.strip().lower() if route is not None else None
    form = formulation.strip().lower() if formulation is not None else None
    try:
        product = d.product(key, form, _at(field, "route"))
    except InputError as err:
        if err.field == "formulation":
            raise InputError(_at(field, "formulation"), err.value, err.problem, err.fix) from None
        raise
    return Resolved(d, product.route, product.formulation)


def check_dose(drug: Drug, dose: Dose, field: str = "dose", route: str | None = None,
               formulation: str | None = None) -> None:
    """Refuse a dose in the wrong dimension or above the product's physically absurd maximum
    (the route's own limit where it has one, e.g. oral vs intramuscular undecanoate)."""
    if dose.unit != drug.dose_unit:
        example = "1500 IU" if drug.dose_unit == "IU" else "100 mg"
        raise InputError(field, str(dose),
                         f"{drug.name} is dosed in {drug.dose_unit}, not {dose.unit}",
                         f'write the dose in {drug.dose_unit} (e.g. "{example}")')
    limit = drug.limits(route, formulation).absurd_max_per_dose
    if dose.amount > limit.value:
        raise InputError(field, str(dose),
                         f"above any plausible single dose of {drug.name} "
                         f"({limit.value:g} {limit.unit}: {limit.source})",
                         "check the number and the unit (mg vs ug)")


def check_line(line: RegimenLine, field: str = "", catalog: Catalog | None = None) -> None:
    """Check one line built by hand: catalog names (not aliases), route, formulation, dose."""
    product = resolve(line.drug, line.route, line.formulation, field=field, catalog=catalog)
    if (product.drug.name, product.route, product.formulation) != (
            line.drug, line.route, line.formulation):
        raise InputError(_at(field, "drug"), line.describe(), "a line must use catalog names",
                         f"use drug={product.drug.name!r}, route={product.route!r}, "
                         f"formulation={product.formulation!r}")
    check_dose(product.drug, line.dose, _at(field, "dose"))


def _weekly_rate(line: RegimenLine) -> tuple[float, float, float] | None:
    """``(from, to, amount per week)`` of a line's mean dose rate, or None for a line of fewer
    than two doses (one injection, e.g. TU 750 mg, is judged by the per-dose limit alone).

    The rate is the dose times doses per week, capped at the line's total (two daily doses count
    as two doses, not seven); it holds from the first dose for one dosing period after the last
    (and not past the line's end).
    """
    amount = line.dose.amount
    if line.pulse_interval is not None:
        pump = line.pump()
        return pump.start, pump.end, amount * WEEK / line.pulse_interval
    times = line.times()
    if len(times) < 2:
        return None
    if line.weekdays is not None:
        period = WEEK / len(set(line.weekdays))
    else:
        assert line.every is not None  # a line of several doses has a schedule
        period = line.every
    stop = times[-1] + period
    if line.end is not None:
        stop = min(stop, line.end)
    return times[0], stop, amount * min(WEEK / period, len(times))


def weekly_totals(regimen: Regimen) -> dict[str, float]:
    """The largest mean weekly amount of each drug (mg or IU per week), lines summed where they
    overlap in time."""
    return _peak_totals(regimen, lambda line: line.drug)


def _product_totals(regimen: Regimen) -> dict[tuple[str, str, str | None], float]:
    return _peak_totals(regimen, lambda line: (line.drug, line.route, line.formulation))


def _peak_totals(regimen: Regimen, key: Callable[[RegimenLine], K]) -> dict[K, float]:
    spans: dict[K, list[tuple[float, float, float]]] = defaultdict(list)
    for line in regimen.lines:
        rate = _weekly_rate(line)
        if rate is not None:
            spans[key(line)].append(rate)
    out: dict[K, float] = {}
    for drug, items in spans.items():
        # sweep: at equal times an end (0) comes before a start (1): intervals are [from, to)
        events = sorted([(a, 1, r) for a, _, r in items] + [(b, 0, -r) for _, b, r in items])
        level = peak = 0.0
        for _, _, delta in events:
            level += delta
            peak = max(peak, level)
        out[drug] = peak
    return out


def warn_weekly_totals(regimen: Regimen, catalog: Catalog | None = None) -> None:
    """``DoseWarning`` for each drug whose weekly total is above its clinical maximum."""
    cat = catalog or default_catalog()
    for (drug, route, formulation), total in _product_totals(regimen).items():
        limit = cat.drugs[drug].limits(route, formulation).clinical_max_per_week
        if total > limit.value * (1.0 + _SLACK):
            warnings.warn(
                f"{drug}: {total:g} {limit.unit}/week is above clinical use "
                f"(max {limit.value:g} {limit.unit}/week: {limit.source}); simulated anyway",
                DoseWarning, stacklevel=2)


def check_regimen(regimen: Regimen, field: str = "lines", catalog: Catalog | None = None) -> None:
    """Check every line of a regimen built in Python (errors name ``lines[i].<key>``) and warn
    about weekly totals above clinical use."""
    for i, line in enumerate(regimen.lines):
        check_line(line, f"{field}[{i}]", catalog)
    warn_weekly_totals(regimen, catalog)
