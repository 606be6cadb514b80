"""The modal PK solver against exact references.

- closed-form Bateman solutions (one oral dose; a depot -> transit -> plasma chain; a
  parent -> metabolite chain);
- an independent ODE solve (``scipy.integrate.solve_ivp``, rtol 1e-10) of every catalog
  product's compartment matrix under several doses;
- physical invariants: superposition, the accumulation factor 1/(1 - exp(-k tau)) of a
  one-compartment IV bolus, AUC = F * dose / CL, and no negative concentrations.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray
from scipy.integrate import solve_ivp

from hpgsim.drugs.catalog import Catalog, Product, default_catalog, load_catalog
from hpgsim.drugs.pk import Bolus, PumpTrain, build_exposure, build_modal, modal_product

LN2 = math.log(2.0)
CAT = default_catalog()
PRODUCTS = [(d.name, route, form) for d in CAT.drugs.values()
            for route, forms in d.routes.items() for form in forms]

# A tiny catalog with exactly solvable systems: a one-compartment IV drug and an IV parent
# forming a metabolite.
MINI = """
[species.a]
label = "a"
unit = "ng/mL"
volume = { value = 20.0, unit = "L", source = "[I] test" }
half_life = { value = 6.0, unit = "h", source = "[I] test" }
metabolite = { species = "m", fraction = { value = 0.4, unit = "1", source = "[I] test" } }

[species.m]
label = "m"
unit = "ng/mL"
volume = { value = 50.0, unit = "L", source = "[I] test" }
half_life = { value = 30.0, unit = "h", source = "[I] test" }

[species.b]
label = "b"
unit = "ng/mL"
volume = { value = 10.0, unit = "L", source = "[I] test" }
half_life = { value = 5.0, unit = "h", source = "[I] test" }

[drugs.parent]
label = "parent"
class = "test"
dose_unit = "mg"
default_route = "iv"
clinical_max_per_week = { value = 1.0, unit = "mg", source = "[I] test" }
absurd_max_per_dose = { value = 10.0, unit = "mg", source = "[I] test" }
[drugs.parent.routes.iv]
bioavailability = { value = 1.0, unit = "1", source = "[I] test" }
[[drugs.parent.routes.iv.paths]]
species = "a"
fraction = { value = 1.0, unit = "1", source = "[I] test" }

[drugs.bolus]
label = "one-compartment IV"
class = "test"
dose_unit = "mg"
default_route = "iv"
clinical_max_per_week = { value = 1.0, unit = "mg", source = "[I] test" }
absurd_max_per_dose = { value = 10.0, unit = "mg", source = "[I] test" }
[drugs.bolus.routes.iv]
bioavailability = { value = 1.0, unit = "1", source = "[I] test" }
[[drugs.bolus.routes.iv.paths]]
species = "b"
fraction = { value = 1.0, unit = "1", source = "[I] test" }
"""


def curve(drug: str, route: str, form: str | None, doses: list[tuple[float, float]],
          t: NDArray[np.float64], species: str, catalog: Catalog | None = None,
          t_end: float | None = None) -> NDArray[np.float64]:
    """Concentration of ``species`` at ``t`` after ``doses`` [(time h, amount)]."""
    boluses = [Bolus(tt, drug, route, form, amt) for tt, amt in doses]
    end = t_end if t_end is not None else float(np.max(t)) + 1.0
    ex = build_exposure(boluses, [], end, catalog)
    row = ex.index(species)
    assert row is not None
    return np.asarray(ex.concentrations(t)[row])


def _slowest_half_life(product: Product) -> float:
    m = build_modal(product, CAT)
    return float(LN2 / -np.max(m.rates))


# --- closed forms -------------------------------------------------------------------------------

def test_single_oral_dose_matches_bateman() -> None:
    d = CAT.drugs["anastrozole"]
    prod = d.product("oral")
    sp = CAT.species["anastrozole"]
    f, ka = prod.bioavailability.value, LN2 / prod.paths[0].half_lives[0].value
    k, v = LN2 / sp.half_life.value, sp.volume.value
    dose = 1.0  # mg
    t = np.linspace(0.0, 400.0, 801)
    exact = f * dose * ka / (v * (ka - k)) * (np.exp(-k * t) - np.exp(-ka * t)) * 1e3  # ng/mL
    got = curve("anastrozole", "oral", None, [(0.0, dose)], t, "anastrozole")
    np.testing.assert_allclose(got, exact, rtol=1e-9, atol=1e-12 * exact.max())


def test_two_step_absorption_chain_matches_bateman() -> None:
    """Depot -> transit -> plasma T: the three-exponential Bateman chain."""
    prod = CAT.drugs["testosterone_enanthate"].product("im")
    path = prod.paths[0]
    sp = CAT.species["testosterone"]
    k1, k2 = (LN2 / h.value for h in path.half_lives)
    k3 = LN2 / sp.half_life.value
    dose = 250.0
    amount = prod.bioavailability.value * path.fraction.value * dose
    t = np.linspace(0.0, 40 * 24.0, 2001)
    ks = (k1, k2, k3)
    central = amount * k1 * k2 * sum(
        np.exp(-ki * t) / math.prod(kj - ki for kj in ks if kj != ki) for ki in ks)
    exact = central / sp.volume.value * 1e5  # ng/dL
    got = curve("testosterone_enanthate", "im", None, [(0.0, dose)], t, "testosterone")
    np.testing.assert_allclose(got, exact, rtol=1e-8, atol=1e-10 * float(np.max(exact)))


def test_parent_metabolite_chain_matches_bateman() -> None:
    cat = load_catalog(MINI)
    ka_, km = LN2 / 6.0, LN2 / 30.0
    dose, fm, va, vm = 2.0, 0.4, 20.0, 50.0
    t = np.linspace(0.0, 300.0, 601)
    parent = dose * np.exp(-ka_ * t) / va * 1e3
    metab = fm * ka_ * dose / (km - ka_) * (np.exp(-ka_ * t) - np.exp(-km * t)) / vm * 1e3
    np.testing.assert_allclose(curve("parent", "iv", None, [(0.0, dose)], t, "a", cat),
                               parent, rtol=1e-10)
    np.testing.assert_allclose(curve("parent", "iv", None, [(0.0, dose)], t, "m", cat),
                               metab, rtol=1e-9, atol=1e-12 * metab.max())


# --- independent ODE reference, every product --------------------------------------------------

@pytest.mark.parametrize(("drug", "route", "form"), PRODUCTS)
def test_every_product_matches_solve_ivp(drug: str, route: str, form: str | None) -> None:
    m = modal_product(drug, route, form)
    prod = CAT.drugs[drug].product(route, form)
    scale = min(5.0 * _slowest_half_life(prod), 2000.0)  # h
    doses = [(0.0, 1.0), (0.13 * scale, 2.5), (0.41 * scale, 0.7), (0.42 * scale, 1.3)]
    t_end = scale
    t_obs = np.sort(np.concatenate([np.linspace(0.0, t_end, 301), [d[0] + 1e-3 for d in doses]]))

    def rhs(_: float, x: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.asarray(m.matrix @ x)

    x = np.zeros(len(m.compartments))
    ref = np.zeros((len(m.species), t_obs.size))
    bounds = [d[0] for d in doses] + [t_end + 1.0]
    for (t0, amount), t1 in zip(doses, bounds[1:], strict=True):
        x = x + amount * m.dose_vector
        inside = (t_obs >= t0) & (t_obs < t1)
        t_eval = np.append(t_obs[inside], t1)
        sol = solve_ivp(rhs, (t0, t1), x, method="Radau", t_eval=t_eval, rtol=1e-10,
                        atol=1e-16, jac=m.matrix)
        assert sol.success, sol.message
        ref[:, inside] = m.output @ sol.y[:, :-1]
        x = sol.y[:, -1]
    ex = build_exposure([Bolus(t, drug, route, form, a) for t, a in doses], [], t_end + 2.0)
    for row, sp in enumerate(m.species):
        ex_row = ex.index(sp)
        assert ex_row is not None
        got = ex.concentrations(t_obs)[ex_row]
        np.testing.assert_allclose(got, ref[row], rtol=1e-6, atol=1e-8 * ref[row].max(),
                                   err_msg=f"{drug} {route} {form} {sp}")


# --- invariants ---------------------------------------------------------------------------------

def test_two_doses_are_the_sum_of_two_single_doses() -> None:
    t = np.linspace(0.0, 60 * 24.0, 1201)
    args = ("testosterone_undecanoate", "im", "tea_seed_oil")
    both = curve(*args, [(0.0, 1000.0), (200.0, 500.0)], t, "testosterone")
    one = curve(*args, [(0.0, 1000.0)], t, "testosterone")
    two = curve(*args, [(200.0, 500.0)], t, "testosterone")
    np.testing.assert_allclose(both, one + two, rtol=1e-10, atol=1e-12 * both.max())


def test_superposition_across_drugs_sharing_a_species() -> None:
    t = np.linspace(0.0, 30 * 24.0, 601)
    ex = build_exposure([Bolus(0.0, "testosterone_enanthate", "im", None, 200.0),
                         Bolus(50.0, "testosterone_gel", "transdermal", None, 50.0)], [], 800.0)
    row = ex.index("testosterone")
    assert row is not None
    total = ex.concentrations(t)[row]
    te = curve("testosterone_enanthate", "im", None, [(0.0, 200.0)], t, "testosterone")
    gel = curve("testosterone_gel", "transdermal", None, [(50.0, 50.0)], t, "testosterone")
    np.testing.assert_allclose(total, te + gel, rtol=1e-10, atol=1e-12 * total.max())


@pytest.mark.parametrize("tau", [2.0, 5.0, 12.0])
def test_iv_bolus_accumulates_to_the_analytic_factor(tau: float) -> None:
    cat = load_catalog(MINI)
    k = LN2 / 5.0
    n = math.ceil(40 * 5.0 / tau)  # 40 half-lives: at steady state to 1e-12
    t_last = (n - 1) * tau
    peak_ss = curve("bolus", "iv", None, [(i * tau, 1.0) for i in range(n)],
                    np.array([t_last]), "b", cat)[0]
    peak_1 = 1.0 / 10.0 * 1e3
    assert peak_ss / peak_1 == pytest.approx(1.0 / (1.0 - math.exp(-k * tau)), rel=1e-10)


def _amount_into(species: str, prod: Product, dose: float, cat: Catalog) -> float:
    """Amount that enters ``species``' central compartment in total (directly or as a
    metabolite); all of it is eventually eliminated from there."""
    direct = sum(prod.bioavailability.value * p.fraction.value * dose
                 for p in prod.paths if p.species == species)
    formed = sum(_amount_into(s.name, prod, dose, cat) * (s.metabolite_fraction.value
                                                           if s.metabolite_fraction else 0.0)
                 for s in cat.species.values() if s.metabolite == species)
    return direct + formed


@pytest.mark.parametrize(("drug", "route", "form"), PRODUCTS)
def test_auc_is_f_dose_over_clearance(drug: str, route: str, form: str | None) -> None:
    """AUC(0-inf) of each species = amount reaching it / CL (AUC = F * dose / CL)."""
    m = modal_product(drug, route, form)
    prod = CAT.drugs[drug].product(route, form)
    dose = 3.0
    for row, name in enumerate(m.species):
        sp = CAT.species[name]
        auc = float(np.sum(m.weights[row] * m.dose_modes * dose / -m.rates))  # exact integral
        expected = _amount_into(name, prod, dose, CAT) / sp.clearance * sp.conc_per_amount_per_litre
        assert auc == pytest.approx(expected, rel=1e-9), name


def test_exact_auc_agrees_with_numerical_integration() -> None:
    sp = CAT.species["anastrozole"]
    t = np.concatenate([np.linspace(0.0, 10.0, 2001), np.linspace(10.0, 5000.0, 20001)[1:]])
    c = curve("anastrozole", "oral", None, [(0.0, 1.0)], t, "anastrozole")
    assert float(np.trapezoid(c, t)) == pytest.approx(1.0 / sp.clearance * 1e3, rel=1e-4)


@settings(max_examples=60, deadline=None)
@given(product=st.sampled_from(PRODUCTS),
       doses=st.lists(st.tuples(st.floats(0.0, 2000.0), st.floats(1e-6, 1e4)),
                      min_size=1, max_size=6),
       probes=st.lists(st.floats(-10.0, 3000.0), min_size=1, max_size=20))
def test_no_negative_concentrations(product: tuple[str, str, str | None],
                                    doses: list[tuple[float, float]],
                                    probes: list[float]) -> None:
    drug, route, form = product
    ex = build_exposure([Bolus(t, drug, route, form, a) for t, a in doses], [], 2500.0)
    c = ex.concentrations(np.array(sorted(probes)))
    scale = max(a for _, a in doses) * 1e5
    assert np.all(c >= -1e-9 * scale)


# --- segment bookkeeping (bugs fixed in build_exposure) --------------------------------------

def test_dose_after_the_span_does_not_act_inside_it() -> None:
    t = np.linspace(0.0, 100.0, 11)
    inside = curve("anastrozole", "oral", None, [(0.0, 1.0)], t, "anastrozole", t_end=100.0)
    with_late = curve("anastrozole", "oral", None, [(0.0, 1.0), (150.0, 5.0)], t,
                      "anastrozole", t_end=100.0)
    np.testing.assert_allclose(with_late, inside, rtol=1e-12)


def test_dose_before_time_zero_is_carried_to_zero() -> None:
    t = np.linspace(0.0, 200.0, 41)
    early = curve("anastrozole", "oral", None, [(-24.0, 1.0)], t, "anastrozole")
    shifted = curve("anastrozole", "oral", None, [(0.0, 1.0)], t + 24.0, "anastrozole")
    np.testing.assert_allclose(early, shifted, rtol=1e-10)


def test_concentration_is_zero_before_time_zero() -> None:
    ex = build_exposure([Bolus(0.0, "anastrozole", "oral", None, 1.0)], [], 100.0)
    assert np.all(ex.concentrations(np.array([-5.0, -0.1])) == 0.0)


def test_aliases_resolve_in_the_pk_layer() -> None:
    a = modal_product("Arimidex", "oral", None)
    b = modal_product("anastrozole", "oral", None)
    np.testing.assert_array_equal(a.rates, b.rates)


def test_overlapping_pumps_add_their_input() -> None:
    pumps = [PumpTrain(0.0, 48.0, 1.5, "gonadorelin", "sc", 0.01),
             PumpTrain(24.0, 72.0, 3.0, "gonadorelin", "sc", 0.02)]
    ex = build_exposure([], pumps, 96.0)
    f = CAT.drugs["gonadorelin"].product("sc").bioavailability.value
    both = ex.segment_of(30.0)
    assert ex.pump_rate[both] == pytest.approx(1 / 1.5 + 1 / 3.0)
    assert ex.pump_rate[both] * ex.pump_dose[both] == pytest.approx(
        10.0 * f / 1.5 + 20.0 * f / 3.0)  # ug/h
    assert ex.pump_dose[ex.segment_of(60.0)] == pytest.approx(20.0 * f)
    assert ex.pump_rate[ex.segment_of(80.0)] == 0.0
