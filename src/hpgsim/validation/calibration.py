"""Calibration: move a few tabulated parameters so that the validation targets they inform pass.

A calibration *plan* (YAML, see ``calibration/plan.yaml``) is a list of blocks; each block names
parameters (qualified as in ``hpgsim.params.overridden``: model names, or ``cv.<name>`` for a
between-subject CV) with bounds, and the target ids (or id prefixes) that inform them. Blocks are
fitted one after another, each with the values of the blocks before it in force, and the whole
sequence can be repeated (``sweeps``).

Objective of a block: the sum over its targets of ``miss + MISS_COST * (miss > 0)``, where
``miss`` is the log-distance of the simulated value to the published interval (0 inside it;
``ERROR_MISS`` when the target cannot be evaluated), plus ``ridge * sum(log(value / start)**2)``
so that a parameter moves from its literature value only as far as the targets require. The
sum of absolute misses plus a cost per miss favours passing targets over spreading a small
error across all of them (a sum of squares traded passes away for smaller large misses).
Minimised by a bounded pattern search in log space (derivative-free: the objective is flat
inside intervals and kinked at their edges).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from hpgsim.errors import InputError
from hpgsim.params import overridden
from hpgsim.validation.runner import TargetResult, run_targets
from hpgsim.validation.schema import Entry, InvalidTarget

ERROR_MISS = 3.0  # log-units charged for a target that yields no number (e^3 = 20x off)
MISS_COST = 0.1  # charged per target outside its interval, on top of its distance


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Bound(_Strict):
    low: float
    high: float


class Block(_Strict):
    """Parameters fitted together and the targets that inform them."""

    name: str
    parameters: dict[str, Bound]
    targets: list[str]  # ids or id prefixes ending in "-"
    why: str = ""


class CalibrationPlan(_Strict):
    blocks: list[Block]
    sweeps: int = 1
    ridge: float = 0.01
    cohort_size: int = 100  # cohort targets run on the first N members while fitting
    guard: bool = False  # add every single-subject target to each block's objective
    max_evaluations: int = 60  # per block and sweep


def load_plan(path: str | Path) -> CalibrationPlan:
    """The calibration plan in ``path``; InputError naming the field on a malformed file."""
    try:
        raw = yaml.safe_load(Path(path).read_text())
        return CalibrationPlan.model_validate(raw)
    except (OSError, yaml.YAMLError) as err:
        raise InputError("plan", str(path), f"cannot read: {err}", "give a YAML plan file") from err
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(x) for x in first["loc"])
        raise InputError(f"plan.{where}", first.get("input"), first["msg"],
                         "see calibration/plan.yaml for the layout") from err


def log_miss(result: TargetResult) -> float:
    """0 inside the published interval, else |log| distance to its nearer edge; for an interval
    that reaches 0 or below (changes in %), the distance in interval widths."""
    s = result.simulated
    if result.error is not None or s is None or not math.isfinite(s):
        return ERROR_MISS
    low = -math.inf if result.low is None else result.low
    high = math.inf if result.high is None else result.high
    if low <= s <= high:
        return 0.0
    if low <= 0.0 and math.isfinite(high - low) and high > low:
        return min((low - s if s < low else s - high) / (high - low), ERROR_MISS)
    if s < low:
        return math.log(low / s) if s > 0.0 else ERROR_MISS
    return math.log(s / high) if high > 0.0 else ERROR_MISS


def select(entries: Sequence[Entry], patterns: Sequence[str]) -> list[Entry]:
    """Entries whose id equals a pattern, or starts with a pattern ending in '-'."""
    def hit(target_id: str) -> bool:
        return any(target_id == p or (p.endswith("-") and target_id.startswith(p))
                   for p in patterns)
    return [e for e in entries if not isinstance(e, InvalidTarget) and hit(e.id)]


def evaluate(values: Mapping[str, float], entries: Sequence[Entry], *, cohort_size: int | None,
             workers: int | None = None) -> list[TargetResult]:
    """Run ``entries`` with ``values`` in force."""
    with overridden(values):
        return run_targets(entries, cohort_size=cohort_size, workers=workers)


def pattern_search(f: Callable[[np.ndarray], float], x0: np.ndarray, lower: np.ndarray,
                   upper: np.ndarray, *, f0: float | None = None, step: float = math.log(1.6),
                   min_step: float = math.log(1.04), max_evaluations: int = 60,
                   ) -> tuple[np.ndarray, float, int]:
    """Bounded compass search: try +-step on each coordinate, keep improvements, halve the step
    when none helps. Returns (best x, f(best x), evaluations)."""
    x = np.clip(np.asarray(x0, dtype=float), lower, upper)
    fx = f(x) if f0 is None else f0
    n_eval = 1
    while step >= min_step and n_eval < max_evaluations:
        improved = False
        for i in range(len(x)):
            for sign in (1.0, -1.0):
                if n_eval >= max_evaluations:
                    break
                trial = x.copy()
                trial[i] = min(max(trial[i] + sign * step, lower[i]), upper[i])
                if trial[i] == x[i]:
                    continue
                ft = f(trial)
                n_eval += 1
                if ft < fx - 1e-12:
                    x, fx, improved = trial, ft, True
                    break
        if not improved:
            step /= 2.0
    return x, fx, n_eval


@dataclass
class BlockFit:
    name: str
    start: dict[str, float]
    end: dict[str, float]
    objective_start: float
    objective_end: float
    evaluations: int
    targets: list[str]
    misses_end: dict[str, float] = field(default_factory=dict)


def fit_block(block: Block, entries: Sequence[Entry], fixed: Mapping[str, float],
              defaults: Mapping[str, float], plan: CalibrationPlan, workers: int | None,
              log: Callable[[str], None] = print) -> BlockFit:
    """Fit one block's parameters with ``fixed`` (earlier blocks) in force."""
    chosen = select(entries, block.targets)
    if not chosen:
        raise InputError(f"plan.blocks[{block.name}].targets", block.targets,
                         "no target matches", "give target ids or id prefixes ending in '-'")
    if plan.guard:  # so that a block cannot buy its targets with misses elsewhere
        ids = {e.id for e in chosen}
        chosen += [e for e in entries if not isinstance(e, InvalidTarget)
                   and e.cohort is None and e.id not in ids]
    names = list(block.parameters)
    for name in names:
        if name not in defaults:
            raise InputError(f"plan.blocks[{block.name}].parameters", name,
                             "not a tabulated parameter", "see `hpgsim params`")
    literature = np.log([defaults[n] for n in names])
    x0 = np.log([fixed.get(n, defaults[n]) for n in names])
    lower = np.log([block.parameters[n].low for n in names])
    upper = np.log([block.parameters[n].high for n in names])
    last: dict[str, list[TargetResult]] = {}

    def objective(x: np.ndarray) -> float:
        values = {**fixed, **dict(zip(names, np.exp(x).tolist(), strict=True))}
        results = evaluate(values, chosen, cohort_size=plan.cohort_size, workers=workers)
        misses = sum(m + MISS_COST * (m > 0.0) for m in map(log_miss, results))
        total = misses + plan.ridge * float(np.sum((x - literature) ** 2))
        last[repr(x.tolist())] = results
        log(f"  {block.name}: {total:.4f} ({sum(r.passed for r in results)}/{len(results)}) "
            + " ".join(f"{n}={v:.4g}" for n, v in zip(names, np.exp(x), strict=True)))
        return total

    x0 = np.clip(x0, lower, upper)
    f0 = objective(x0)
    x, fx, n = pattern_search(objective, x0, lower, upper, f0=f0,
                              max_evaluations=plan.max_evaluations)
    best = last[repr(x.tolist())]
    return BlockFit(block.name, dict(zip(names, np.exp(x0).tolist(), strict=True)),
                    dict(zip(names, np.exp(x).tolist(), strict=True)), f0, fx, n,
                    [r.id for r in best], {r.id: log_miss(r) for r in best})


def calibrate(plan: CalibrationPlan, entries: Sequence[Entry], defaults: Mapping[str, float],
              workers: int | None = None, log: Callable[[str], None] = print,
              start: Mapping[str, float] | None = None,
              ) -> tuple[dict[str, float], list[BlockFit]]:
    """Fit every block in order, ``plan.sweeps`` times, from ``start`` (values of an earlier
    run; default: the tables); the fitted values and each block's fit."""
    fixed: dict[str, float] = dict(start or {})
    fits: list[BlockFit] = []
    for sweep in range(plan.sweeps):
        for block in plan.blocks:
            log(f"sweep {sweep + 1}, block {block.name}")
            fit = fit_block(block, entries, fixed, defaults, plan, workers, log)
            fixed.update(fit.end)
            fits.append(fit)
    return fixed, fits


def tabulated_values() -> dict[str, float]:
    """Every parameter a plan may name, qualified, at its tabulated value."""
    from hpgsim.physiology import parameter_tables
    from hpgsim.validation.cohort import VARIABILITY

    out: dict[str, float] = {}
    for table in (*parameter_tables(), VARIABILITY):
        out.update({table.namespace + k: v for k, v in table.values_dict().items()})
    return out


def fits_json(fixed: Mapping[str, float], fits: Sequence[BlockFit]) -> dict[str, Any]:
    return {"values": dict(fixed), "blocks": [vars(f) for f in fits]}
