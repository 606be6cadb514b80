"""Each PK checkpoint of ``shared/domain/drugs.md`` (and the label numbers the catalog was built
on), with the tolerance drugs.md gives: single-dose Cmax of depots +/-40%, steady-state Cavg
+/-25-30%, half-lives +/-30%, Tmax within the stated window.

Concentrations are the drug's contribution only (exogenous T; endogenous T is the physiology's).
A checkpoint a linear model cannot meet is an ``xfail(strict=True)`` with the reason, never a
widened tolerance.
"""

from __future__ import annotations

import numpy as np
import pytest
from numpy.typing import NDArray

from hpgsim.drugs.pk import Bolus, build_exposure

H, D, W = 1.0, 24.0, 168.0
T = "testosterone"


def conc(drug: str, route: str, form: str | None, doses: list[tuple[float, float]],
         t: NDArray[np.float64] | list[float], species: str) -> NDArray[np.float64]:
    t = np.asarray(t, dtype=float)
    ex = build_exposure([Bolus(tt, drug, route, form, a) for tt, a in doses], [],
                        float(t.max()) + 1.0)
    row = ex.index(species)
    assert row is not None
    return np.asarray(ex.concentrations(t)[row])


def peak(drug: str, route: str, form: str | None, doses: list[tuple[float, float]],
         window: tuple[float, float], species: str, n: int = 40001) -> tuple[float, float]:
    """(Cmax, time of Cmax) within ``window`` (h)."""
    t = np.linspace(*window, n)
    c = conc(drug, route, form, doses, t, species)
    i = int(np.argmax(c))
    return float(c[i]), float(t[i])


def average(drug: str, route: str, form: str | None, doses: list[tuple[float, float]],
            window: tuple[float, float], species: str, n: int = 20001) -> float:
    t = np.linspace(*window, n)
    return float(np.trapezoid(conc(drug, route, form, doses, t, species), t) / (t[-1] - t[0]))


def first_below(drug: str, route: str, form: str | None, doses: list[tuple[float, float]],
                start: float, stop: float, species: str, threshold: float) -> float:
    """First time (h) at or after ``start`` when the concentration is below ``threshold``."""
    t = np.linspace(start, stop, 400001)
    c = conc(drug, route, form, doses, t, species)
    below = np.flatnonzero(c < threshold)
    assert below.size, "never crosses"
    return float(t[below[0]])


def half_time(drug: str, route: str, form: str | None, doses: list[tuple[float, float]],
              start: float, stop: float, species: str) -> float:
    """Time (h) for the concentration to halve from its value at ``start``."""
    c0 = conc(drug, route, form, doses, [start], species)[0]
    return first_below(drug, route, form, doses, start, stop, species, 0.5 * c0) - start


def within(value: float, expected: float, rel: float) -> bool:
    return expected * (1.0 - rel) <= value <= expected * (1.0 + rel)


# --- testosterone esters (drugs.md 1.2-1.5) ----------------------------------------------------

TE = "testosterone_enanthate"
TC = "testosterone_cypionate"
TU = "testosterone_undecanoate"


def test_te1_peak_after_250_mg_im() -> None:
    cmax, tmax = peak(TE, "im", None, [(0.0, 250.0)], (0.0, 10 * D), T)
    assert within(cmax, 2000.0, 0.40)  # ng/dL, peak +/-40%
    assert 1.0 * D <= tmax <= 3.5 * D  # Tmax 1-3.5 d


def test_te2_tail_after_250_mg_im() -> None:
    below_200 = first_below(TE, "im", None, [(0.0, 250.0)], 3 * D, 60 * D, T, 200.0)
    below_100 = first_below(TE, "im", None, [(0.0, 250.0)], 3 * D, 60 * D, T, 100.0)
    assert abs(below_200 / D - 20.0) <= 4.0  # >= 200 ng/dL until ~day 20 (+/-4 d)
    assert abs(below_100 / D - 26.0) <= 4.0  # >= 100 ng/dL until ~day 26 (+/-4 d)


def test_te3_day1_after_125_mg_im() -> None:
    day1 = conc(TE, "im", None, [(0.0, 125.0)], [1 * D], T)[0]
    assert within(day1, 762.0, 0.40)  # Endocr J 2006 day-1 mean TT, +/-40%


def test_tc_reuses_te1_te2_scaled_by_ester_content() -> None:
    scale = 0.70 / 0.72  # drugs.md 1.3
    cmax, tmax = peak(TC, "im", None, [(0.0, 250.0)], (0.0, 10 * D), T)
    assert within(cmax, 2000.0 * scale, 0.40)
    assert 1.0 * D <= tmax <= 3.5 * D
    below_200 = first_below(TC, "im", None, [(0.0, 250.0)], 3 * D, 60 * D, T, 200.0 * scale)
    assert abs(below_200 / D - 20.0) <= 4.0


def test_tp1_short_ester_above_baseline_about_two_days() -> None:
    """25 mg TP IM: exogenous T above baseline ~2 d, back by ~3 d (+/-1 d; Fujioka 1986).

    'Above baseline' read as >= 100 ng/dL (~15% of a 680 ng/dL eugonadal level) [I].
    """
    doses = [(0.0, 25.0)]
    assert conc("testosterone_propionate", "im", None, doses, [48.0], T)[0] >= 100.0
    back = first_below("testosterone_propionate", "im", None, doses, 12.0, 10 * D, T, 100.0)
    assert 2.0 * D <= back <= 4.0 * D


def test_tu1_aveed_after_third_injection() -> None:
    doses = [(0.0, 750.0), (4 * W, 750.0), (14 * W, 750.0)]
    cavg = average(TU, "im", "castor_oil", doses, (14 * W, 24 * W), T)
    cmax, tmax = peak(TU, "im", "castor_oil", doses, (14 * W, 24 * W), T)
    assert within(cavg, 495.0, 0.30)  # Cavg +/-30%
    assert within(cmax, 890.0, 0.40)  # Cmax +/-40%
    assert 3.5 * D <= tmax - 14 * W <= 10.5 * D  # Tmax ~1 wk


def test_tu2_castor_oil_terminal_half_life() -> None:
    t_half = half_time(TU, "im", "castor_oil", [(0.0, 1000.0)], 42 * D, 300 * D, T)
    assert within(t_half / D, 34.0, 0.30)


def test_tu3_tea_seed_oil_peak_and_decline() -> None:
    cmax, tmax = peak(TU, "im", "tea_seed_oil", [(0.0, 1000.0)], (0.0, 56 * D), T)
    assert within(cmax, 1560.0, 0.40)  # peak +/-40%
    assert 3.5 * D <= tmax <= 10.5 * D  # in week 1
    low_normal = first_below(TU, "im", "tea_seed_oil", [(0.0, 1000.0)], tmax, 200 * D, T, 300.0)
    assert 40.0 <= low_normal / D <= 70.0  # lower-normal limit by day ~50-60 (+/-10 d)


def test_oral_tu_label_level_average() -> None:
    """Low priority (drugs.md 1.8): 237 mg BID gives a Cavg in the label's 400-700 target."""
    doses = [(12.0 * k, 237.0) for k in range(28)]
    assert 400.0 <= average(TU, "oral", None, doses, (13 * D, 14 * D), T) <= 700.0


@pytest.mark.parametrize(("dose", "expected"), [(50.0, 420.0), (100.0, 900.0)])
def test_xy1_sc_te_weekly_steady_state(dose: float, expected: float) -> None:
    doses = [(k * W, dose) for k in range(6)]
    assert within(average(TE, "sc", None, doses, (35 * D, 42 * D), T), expected, 0.25)


def test_xy2_sc_te_75_mg_average_and_trough() -> None:
    doses = [(k * W, 75.0) for k in range(52)]
    assert within(average(TE, "sc", None, doses, (11 * W, 12 * W), T), 550.0, 0.25)
    assert within(conc(TE, "sc", None, doses, [52 * W], T)[0], 490.0, 0.25)


# --- testosterone gel (drugs.md 1.7) ------------------------------------------------------------

GEL = "testosterone_gel"


def _gel_avg(dose: float, day: int) -> float:
    doses = [(k * D, dose) for k in range(30)]
    return average(GEL, "transdermal", None, doses, (day * D, (day + 1) * D), T)


def test_gel1_50_mg_average_and_time_to_steady_state() -> None:
    ss = _gel_avg(50.0, 29)
    assert 400.0 * 0.7 <= ss <= 550.0 * 1.3  # 400-550 ng/dL, +/-30%
    assert _gel_avg(50.0, 2) >= 0.9 * ss  # steady state within 48-72 h
    _, tmax = peak(GEL, "transdermal", None, [(k * D, 50.0) for k in range(30)],
                   (14 * D, 15 * D), T)
    assert 4.0 <= tmax - 14 * D <= 12.0  # daily peak ~8 h (review table [S])


@pytest.mark.xfail(strict=True, reason="linear PK: exogenous Cavg is dose-proportional "
                   "(ratio 2.0); the observed 1.4 (Swerdloff 2000) needs saturable skin "
                   "absorption")
def test_gel2_100_vs_50_mg_ratio() -> None:
    assert 1.2 <= _gel_avg(100.0, 29) / _gel_avg(50.0, 29) <= 1.7


# --- gonadotropins, GnRH analogues (drugs.md 2, 3, 7; labels) -------------------------------------

def test_rhcg_sc_peak_time_and_half_life() -> None:
    cmax, tmax = peak("hcg", "sc", None, [(0.0, 6500.0)], (0.0, 96.0), "hcg")
    assert within(cmax, 121.0, 44.0 / 121.0)  # 121 +/- 44 IU/L (Ovidrel PI)
    assert 12.0 <= tmax <= 24.0  # tmax 12-24 h
    t_half = half_time("hcg", "sc", None, [(0.0, 6500.0)], 48.0, 14 * D, "hcg")
    assert within(t_half, 29.0, 0.30)


def test_gonadorelin_sc_and_iv_peaks() -> None:
    cmax, tmax = peak("gonadorelin", "sc", None, [(0.0, 0.010)], (0.0, 2.0), "gonadorelin")
    assert within(cmax * 1e3, 100.0, 0.40)  # pg/mL
    assert 12.0 <= tmax * 60.0 <= 15.0  # min
    iv = conc("gonadorelin", "iv", None, [(0.0, 0.010)], [0.0], "gonadorelin")[0]
    assert within(iv * 1e3, 1000.0, 0.40)
    t_half = half_time("gonadorelin", "iv", None, [(0.0, 0.1)], 1 / 60, 1.0, "gonadorelin")
    assert 2.6 <= t_half * 60.0 <= 5.2  # min (healthy men, 1-20 ug)


@pytest.mark.parametrize(("dose", "expected"), [(150.0, 3.8), (450.0, 10.4)])
def test_fsh_im_peak_in_men(dose: float, expected: float) -> None:
    cmax, tmax = peak("fsh", "im", None, [(0.0, dose)], (0.0, 96.0), "fsh")
    assert within(cmax, expected, 0.40)
    assert within(tmax, 9.7, 0.30)


def test_fsh_im_half_life_in_men() -> None:
    assert within(half_time("fsh", "im", None, [(0.0, 450.0)], 24.0, 14 * D, "fsh"), 36.2, 0.30)


def test_hmg_delivers_fsh_and_lh() -> None:
    ex = build_exposure([Bolus(0.0, "hmg", "im", None, 75.0)], [], 100.0)
    assert set(ex.species) == {"fsh", "lh"}
    fsh_alone = peak("fsh", "im", None, [(0.0, 75.0)], (0.0, 96.0), "fsh")[0]
    assert peak("hmg", "im", None, [(0.0, 75.0)], (0.0, 96.0), "fsh")[0] == pytest.approx(fsh_alone)


def test_leuprolide_1_month_depot_label() -> None:
    cmax, tmax = peak("leuprolide", "depot", "1-month", [(0.0, 7.5)], (0.0, 2 * D), "leuprolide")
    assert within(cmax, 20.0, 0.40)  # ~20 ng/mL at 4 h (Lupron Depot PI)
    assert 1.0 <= tmax <= 5.0  # 1-3 h (Periti 2002) to 4 h (label)
    at_4_weeks = conc("leuprolide", "depot", "1-month", [(0.0, 7.5)], [28 * D], "leuprolide")[0]
    assert within(at_4_weeks, 0.36, 0.40)


def test_leuprolide_3_month_depot_label() -> None:
    cmax, _ = peak("leuprolide", "depot", "3-month", [(0.0, 22.5)], (0.0, 2 * D), "leuprolide")
    assert within(cmax, 48.9, 0.40)
    plateau = conc("leuprolide", "depot", "3-month", [(0.0, 22.5)],
                   np.array([3, 6, 9, 12]) * W, "leuprolide")
    assert np.all(plateau > 0.2)  # continuous release through the 12-week interval
    assert within(plateau[-1], 0.67, 0.40)


def test_degarelix_240_mg_label() -> None:
    cmax, tmax = peak("degarelix", "sc", "starting", [(0.0, 240.0)], (0.0, 20 * D), "degarelix")
    assert within(cmax, 26.2, 0.40)  # Firmagon PI mean Cmax (CV 83%)
    assert tmax <= 2 * D  # within 2 days
    t = np.concatenate([np.linspace(0, 20 * D, 4001), np.linspace(20 * D, 1500 * D, 20001)[1:]])
    auc = float(np.trapezoid(conc("degarelix", "sc", "starting", [(0.0, 240.0)], t, "degarelix"),
                             t)) / D
    assert within(auc, 1054.0, 0.30)  # ng*d/mL


# --- SERMs and aromatase inhibitors (drugs.md 4-6) --------------------------------------------

def test_cc1_clomiphene_isomers_at_steady_state() -> None:
    doses = [(k * D, 25.0) for k in range(190)]
    enc = average("clomiphene", "oral", None, doses, (182 * D, 183 * D), "enclomiphene")
    zuc = average("clomiphene", "oral", None, doses, (182 * D, 183 * D), "zuclomiphene")
    assert 10.0 <= zuc / enc <= 40.0
    assert within(enc, 2.2, 0.30)
    assert within(zuc, 44.0, 0.30)


def test_enclomiphene_half_life() -> None:
    doses = [(k * D, 25.0) for k in range(14)]
    t_half = half_time("enclomiphene", "oral", None, doses, 14 * D, 20 * D, "enclomiphene")
    assert within(t_half, 10.0, 0.30)


def test_tamoxifen_single_20_mg_peak() -> None:
    cmax, tmax = peak("tamoxifen", "oral", None, [(0.0, 20.0)], (0.0, 72.0), "tamoxifen")
    assert within(cmax, 40.0, 0.40)
    assert 4.0 <= tmax <= 7.0


def test_tamoxifen_40_mg_daily_at_4_weeks() -> None:
    doses = [(k * D, 40.0) for k in range(28)]
    assert within(conc("tamoxifen", "oral", None, doses, [28 * D], "tamoxifen")[0], 300.0, 0.30)


def test_tamoxifen_half_lives() -> None:
    ss = half_time("tamoxifen", "oral", None, [(k * D, 40.0) for k in range(28)],
                   28 * D, 90 * D, "tamoxifen") / D
    assert 5.0 * 0.7 <= ss <= 7.0 * 1.3  # terminal 5-7 d at steady state (+/-30%)
    single = half_time("tamoxifen", "oral", None, [(0.0, 20.0)], 3 * D, 40 * D, "tamoxifen") / D
    assert within(single, 4.0, 0.30)  # ~4 d after one dose in men


def test_tamoxifen_metabolites() -> None:
    doses = [(k * D, 20.0) for k in range(200)]
    ndmt = average("tamoxifen", "oral", None, doses, (199 * D, 200 * D), "n_desmethyltamoxifen")
    assert within(ndmt, 353.0, 0.30)  # US Nolvadex PI as quoted [S]
    endox = average("tamoxifen", "oral", None, doses, (199 * D, 200 * D), "endoxifen")
    assert 6.0 <= endox <= 25.0  # ng/mL, extensive-metaboliser range [I]
    ndmt_peak, _ = peak("tamoxifen", "oral", None, [(0.0, 20.0)], (0.0, 40 * D),
                        "n_desmethyltamoxifen")
    assert within(ndmt_peak, 12.0, 0.40)  # single 20 mg in men


def test_anastrozole_steady_state() -> None:
    doses = [(k * D, 1.0) for k in range(21)]
    css = average("anastrozole", "oral", None, doses, (20 * D, 21 * D), "anastrozole")
    assert within(css, 27.0, 0.30)
    assert average("anastrozole", "oral", None, doses, (6 * D, 7 * D), "anastrozole") >= 0.9 * css
    single = average("anastrozole", "oral", None, [(0.0, 1.0)], (0.0, D), "anastrozole")
    assert 3.0 <= css / single <= 4.0  # accumulation 3-4x (Arimidex PI)
    t_half = half_time("anastrozole", "oral", None, [(k * D, 1.0) for k in range(14)],
                       14 * D, 30 * D, "anastrozole")
    assert within(t_half, 46.8, 0.30)


def test_letrozole_half_life() -> None:
    t_half = half_time("letrozole", "oral", None, [(0.0, 2.5)], 6.0, 30 * D, "letrozole")
    assert within(t_half / D, 2.0, 0.30)


@pytest.mark.xfail(strict=True, reason="linear PK reaches steady state in ~5 half-lives (~1.5 wk); "
                   "the label's 2-6 wk and Css 1.5-2x the single-dose prediction come from "
                   "saturable letrozole metabolism")
def test_letrozole_steady_state_takes_two_weeks() -> None:
    doses = [(k * D, 2.5) for k in range(60)]
    css = average("letrozole", "oral", None, doses, (59 * D, 60 * D), "letrozole")
    assert average("letrozole", "oral", None, doses, (10 * D, 11 * D), "letrozole") < 0.9 * css
