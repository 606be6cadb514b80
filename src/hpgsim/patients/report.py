"""Figures of a fit (observed labs against the posterior band) and of a plan (bands per
candidate). matplotlib is imported here only (``plot`` extra); figures use
``matplotlib.figure.Figure`` directly, so no global backend state is touched."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from hpgsim.errors import InputError
from hpgsim.patients.fit import FitResult, PatientData, simulate_sets
from hpgsim.patients.forecast import Forecast
from hpgsim.result import DISCLAIMER
from hpgsim.units import ANALYTES, HOURS_PER

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

BAND_STEP_H = 12.0
BAND_DRAWS = 100


def _figure(n_panels: int) -> tuple[Figure, list[Axes]]:
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise InputError("plot", "matplotlib", "plotting needs matplotlib",
                         "pip install 'hpgsim[plot]', or use --plot none") from None
    fig = Figure(figsize=(7.5, 2.2 * n_panels), layout="constrained")
    axes = fig.subplots(n_panels, 1, squeeze=False)[:, 0]
    fig.supxlabel(DISCLAIMER, fontsize=6, wrap=True)
    return fig, list(axes)


def write_fit_figure(fit: FitResult, data: PatientData, path: Path) -> Path:
    """Each observed analyte against weeks: the 5-95% posterior band and median, the MAP
    prediction at each lab, observed values (censored ones as triangles at their limit)."""
    names = [a for a in ANALYTES if a in data.analytes]
    t, obs = simulate_sets(data.subject, data.regimen, fit.overrides()[:BAND_DRAWS], names,
                           BAND_STEP_H, data.regimen.end)
    fig, axes = _figure(len(names))
    weeks = t / HOURS_PER["w"]
    for ax, a in zip(axes, names, strict=True):
        q = np.nanquantile(obs[a], [0.05, 0.5, 0.95], axis=0)
        ax.fill_between(weeks, q[0], q[2], alpha=0.25, label="90% band")
        ax.plot(weeks, q[1], lw=1, label="median")
        sel = np.array(data.analytes) == a
        tw = data.times[sel] / HOURS_PER["w"]
        cens = np.array(data.censor)[sel]
        ax.plot(tw, fit.predicted[sel], "x", label="MAP")
        for mark, c in (("o", ""), ("v", "<"), ("^", ">")):
            m = cens == c
            if m.any():
                ax.plot(tw[m], data.values[sel][m], mark, color="k",
                        mfc="none" if c else "k", label="observed" + (f" ({c}limit)" if c else ""))
        ax.set_ylabel(f"{ANALYTES[a].label} ({ANALYTES[a].unit})", fontsize=8)
    axes[-1].set_xlabel("weeks since the first record")
    axes[0].legend(fontsize=6, ncol=4)
    fig.savefig(path)
    return path


def write_plan_figure(forecasts: Sequence[Forecast], path: Path) -> Path:
    """Per analyte, each candidate's 5-95% band and median against weeks of the protocol."""
    names = list(forecasts[0].bands)
    fig, axes = _figure(len(names))
    for ax, a in zip(axes, names, strict=True):
        for f in forecasts:
            weeks = f.days / 7.0
            line = ax.plot(weeks, f.bands[a][1], lw=1, label=f.name)
            ax.fill_between(weeks, f.bands[a][0], f.bands[a][2], alpha=0.2,
                            color=line[0].get_color())
        ax.set_ylabel(f"{ANALYTES[a].label} ({ANALYTES[a].unit})", fontsize=8)
    axes[-1].set_xlabel("weeks of the protocol")
    axes[0].legend(fontsize=6)
    fig.savefig(path)
    return path
