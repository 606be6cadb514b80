"""SBML Level 3 export of the model, a subject and a protocol (python-libsbml).

What the file holds, all generated (the physiology from its sympy trace, the PK from the same
compartment matrices as :mod:`hpgsim.drugs.pk`), never hand-written a second time:

- **Physiology**: every model parameter as a constant parameter with its value for this
  subject, its unit (a unit definition) and, in the ``name`` and an annotation, its description,
  table unit and source. Parameter-only subexpressions (reference ratios, rate constants) are
  constant parameters ``derived_<i>`` with initial assignments, so editing a parameter in
  COPASI or Tellurium updates them. The 23 states are parameters with rate rules; common
  subexpressions of the right-hand side are assignment rules ``xr_<i>``. Initial values are
  the subject's drug-free steady state as computed by hpgsim.
- **Observables**: assignment rules ``obs_<name>`` in hpgsim's canonical units
  (``obs_total_testosterone`` ng/dL, ``obs_lh`` IU/L, ``obs_sperm_concentration`` million/mL...).
- **PK**: each compartment of each product in the regimen is a species (amount in mg or IU) in
  a 1 L container; transfers and elimination are first-order reactions whose rate constants
  carry the catalog sources. Depot and absorption compartments belong to their product;
  circulating compartments (``testosterone.central``) are shared by every product delivering
  that species. ``C_<species>`` (concentration in the catalog unit) are assignment rules.
- **Doses**: one event per dose time adding ``amount x bioavailability x path fraction`` to the
  entry compartment(s); doses at t = 0 are initial amounts (an event at t = 0 would be lost on
  reset in some simulators). Guard events set a compartment to 0 once its amount falls below
  1e-20 (amount units): CVODE fails on denormal amounts (domain/numerics.md).
- **GnRH pump**: ``pump_rate`` (pulses/h) and ``pump_dose`` (ug bioavailable per pulse) are
  parameters switched by events at pump starts and stops (mean field, as in hpgsim).

Time is in hours.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.sax.saxutils import quoteattr

import numpy as np

from hpgsim.drugs.catalog import Catalog, default_catalog
from hpgsim.drugs.pk import Bolus, build_exposure, modal_product
from hpgsim.errors import InputError
from hpgsim.physiology import parameter_tables
from hpgsim.physiology.covariates import subject_parameters
from hpgsim.physiology.model import DRUG_INPUTS, default_parameters
from hpgsim.physiology.symbolic import DRUG_PREFIX, PUMP_DOSE, PUMP_RATE, trace
from hpgsim.regimen.model import Regimen
from hpgsim.subjects import Subject
from hpgsim.units import ANALYTES

ANNOTATION_NS = "https://hpgsim.org/sbml/1"
GUARD_AMOUNT = 1e-20  # PK amounts below this (mg or IU) are set to 0 by guard events
OBS_PREFIX = "obs_"
STATE_UNITS = {"lh": "IU/L", "fsh": "IU/L", "shbg": "nmol/L"}  # others relative (model.py)

# unit atoms: SBML unit kind name, multiplier to that kind
_ATOMS: dict[str, tuple[str, float]] = {
    "g": ("gram", 1.0), "L": ("litre", 1.0), "mol": ("mole", 1.0), "h": ("second", 3600.0),
    "d": ("second", 86400.0), "min": ("second", 60.0), "y": ("second", 365.25 * 86400.0),
    "IU": ("dimensionless", 1.0), "million": ("dimensionless", 1e6),
    "pulses": ("dimensionless", 1.0),
}
_PREFIX_SCALE = {"k": 3, "d": -1, "m": -3, "u": -6, "µ": -6, "n": -9, "p": -12}


def _unit_factors(unit: str) -> list[tuple[str, int, int, float]] | None:
    """``unit`` as SBML (kind, exponent, scale, multiplier) factors, or None if not parsable
    (then it is exported as dimensionless and kept verbatim in the annotation)."""
    if unit.strip() in ("1", ""):
        return []
    parts = unit.replace(" ", "").split("/")
    if len(parts) > 2:
        return None
    out: list[tuple[str, int, int, float]] = []
    for exponent, part in zip((1, -1), parts, strict=False):
        if part == "1":
            continue
        if part in _ATOMS:
            kind, mult, scale = *_ATOMS[part], 0
        elif part[:1] in _PREFIX_SCALE and part[1:] in _ATOMS:
            kind, mult = _ATOMS[part[1:]]
            scale = _PREFIX_SCALE[part[0]]
        else:
            return None
        out.append((kind, exponent, scale, mult))
    return out


def _sid(text: str) -> str:
    """A valid SBML identifier from ``text``."""
    s = re.sub(r"[^A-Za-z0-9_]", "_", text)
    return s if re.match(r"[A-Za-z_]", s) else f"_{s}"


@dataclass(frozen=True)
class _Meta:
    unit: str
    description: str
    source: str


def _parameter_meta() -> dict[str, _Meta]:
    meta: dict[str, _Meta] = {}
    for table in parameter_tables():
        for p in table.values():
            meta[p.name] = _Meta(p.unit, p.description, f"{table.title}: {p.source}")
    return meta


class _Formula:
    """sympy expression -> SBML L3 infix formula (libsbml.parseL3Formula)."""

    def __init__(self, names: Mapping[str, str]) -> None:
        self.names = names

    def __call__(self, e: Any) -> str:
        import sympy as sp

        if e.is_Symbol:
            return self.names.get(e.name, e.name)
        if e is sp.true:
            return "true"
        if e is sp.false:
            return "false"
        if e.is_Integer:
            return str(int(e))
        if e.is_Number:
            return repr(float(e))
        if isinstance(e, sp.Piecewise):
            pieces = []
            for expr, cond in e.args:
                pieces += [self(expr)] if cond is sp.true else [self(expr), self(cond)]
            return f"piecewise({', '.join(pieces)})"
        args = [self(a) for a in e.args]
        if isinstance(e, sp.Add):
            return "(" + " + ".join(args) + ")"
        if isinstance(e, sp.Mul):
            return "(" + " * ".join(args) + ")"
        if isinstance(e, sp.Pow):
            if e.exp == -1:
                return f"(1 / {args[0]})"
            return f"pow({args[0]}, {args[1]})"
        if isinstance(e, sp.Min | sp.Max):
            return f"{'min' if isinstance(e, sp.Min) else 'max'}({', '.join(args)})"
        ops = {sp.StrictGreaterThan: ">", sp.StrictLessThan: "<", sp.GreaterThan: ">=",
               sp.LessThan: "<=", sp.Equality: "==", sp.Unequality: "!="}
        for cls, op in ops.items():
            if isinstance(e, cls):
                return f"({args[0]} {op} {args[1]})"
        if isinstance(e, sp.And):
            return "(" + " && ".join(args) + ")"
        if isinstance(e, sp.Or):
            return "(" + " || ".join(args) + ")"
        if isinstance(e, sp.Not):
            return f"(!{args[0]})"
        if isinstance(e, sp.log):
            return f"ln({args[0]})"
        if isinstance(e, sp.exp):
            return f"exp({args[0]})"
        raise ValueError(f"no SBML form for {type(e).__name__}: {e}")


class _Writer:
    """Thin helpers over a libsbml Model."""

    def __init__(self, model_id: str) -> None:
        import libsbml

        self.sb = libsbml
        self.doc = libsbml.SBMLDocument(3, 2)
        self.model = self.doc.createModel()
        self.model.setId(model_id)
        self.units: dict[str, str] = {}
        hour = self.unit("h")
        self.model.setTimeUnits(hour)

    def check(self, code: int, what: str) -> None:
        if code != self.sb.LIBSBML_OPERATION_SUCCESS:
            raise RuntimeError(f"libsbml failed on {what}: "
                               f"{self.sb.OperationReturnValue_toString(code)}")

    def math(self, formula: str) -> Any:
        node = self.sb.parseL3Formula(formula)
        if node is None:
            raise ValueError(f"libsbml cannot parse {formula[:200]!r}: "
                             f"{self.sb.getLastParseL3Error()}")
        return node

    def unit(self, unit: str) -> str:
        """Id of a unit definition for the unit string ``unit`` (created on first use)."""
        factors = _unit_factors(unit)
        if factors is None or not factors:
            return "dimensionless"
        if unit not in self.units:
            uid = "u_" + _sid(unit.replace("/", "_per_").replace(" ", ""))
            ud = self.model.createUnitDefinition()
            ud.setId(uid)
            for kind, exponent, scale, mult in factors:
                u = ud.createUnit()
                u.setKind(self.sb.UnitKind_forName(kind))
                u.setExponent(exponent)
                u.setScale(scale)
                u.setMultiplier(mult)
            self.units[unit] = uid
        return self.units[unit]

    def parameter(self, pid: str, value: float | None, unit: str, constant: bool,
                  name: str = "", annotation: Mapping[str, str] | None = None) -> Any:
        p = self.model.createParameter()
        self.check(p.setId(pid), f"parameter id {pid}")
        if value is not None:
            p.setValue(float(value))
        p.setUnits(self.unit(unit))
        p.setConstant(constant)
        if name:
            p.setName(name)
        if annotation:
            attrs = " ".join(f"{k}={quoteattr(v)}" for k, v in annotation.items())
            self.check(p.setAnnotation(
                f'<annotation><hpgsim:info xmlns:hpgsim="{ANNOTATION_NS}" {attrs}/></annotation>'),
                f"annotation of {pid}")
        return p

    def assignment(self, var: str, formula: str) -> None:
        r = self.model.createAssignmentRule()
        r.setVariable(var)
        self.check(r.setMath(self.math(formula)), f"assignment rule {var}")

    def rate(self, var: str, formula: str) -> None:
        r = self.model.createRateRule()
        r.setVariable(var)
        self.check(r.setMath(self.math(formula)), f"rate rule {var}")

    def initial(self, var: str, formula: str) -> None:
        r = self.model.createInitialAssignment()
        r.setSymbol(var)
        self.check(r.setMath(self.math(formula)), f"initial assignment {var}")

    def event(self, eid: str, trigger: str, assignments: Sequence[tuple[str, str]],
              name: str = "") -> None:
        ev = self.model.createEvent()
        ev.setId(eid)
        if name:
            ev.setName(name)
        ev.setUseValuesFromTriggerTime(True)
        trig = ev.createTrigger()
        trig.setInitialValue(False)
        trig.setPersistent(True)
        self.check(trig.setMath(self.math(trigger)), f"trigger of {eid}")
        for var, formula in assignments:
            a = ev.createEventAssignment()
            a.setVariable(var)
            self.check(a.setMath(self.math(formula)), f"event assignment {eid}.{var}")


@dataclass(frozen=True)
class _PkCompartment:
    sid: str
    unit: str  # amount unit: "mg" or "IU"
    description: str
    source: str


CompartmentKey = tuple[str, str, str | None, int]  # drug, route, formulation, compartment index


def _pk(writer: _Writer, boluses: Sequence[Bolus], catalog: Catalog) -> dict[CompartmentKey, str]:
    """PK species, reactions and concentration rules; returns (product, compartment) -> id."""
    products = sorted({(b.drug, b.route, b.formulation) for b in boluses},
                      key=lambda k: (k[0], k[1], k[2] or ""))
    comp_id: dict[CompartmentKey, str] = {}
    compartments: dict[str, _PkCompartment] = {}
    rates: dict[tuple[str, str | None], tuple[float, str]] = {}
    outputs: dict[str, dict[str, float]] = {}
    for drug, route, form in products:
        modal = modal_product(drug, route, form)
        product = catalog.drugs[drug].product(route, form)
        tag = _sid(f"{drug}_{route}" + (f"_{form}" if form else ""))
        for i, name in enumerate(modal.compartments):
            if name.startswith("path"):
                path_i, step_j = (int(x) for x in re.findall(r"\d+", name))
                path = product.paths[path_i]
                hl = path.half_lives[step_j]
                sid = f"pk_{tag}_{_sid(name)}"
                src = (f"absorption step {step_j + 1} of path {path_i + 1} to {path.species}: "
                       f"{hl.source}")
                species = path.species
            else:
                species, part = name.split(".")
                sid = f"pk_{_sid(species)}_{part}"
                sp_ = catalog.species[species]
                src = f"{sp_.label} {part} compartment: half-life {sp_.half_life.source}"
            compartments.setdefault(sid, _PkCompartment(
                sid, catalog.species[species].amount_unit, f"{drug} {route}: {name}", src))
            comp_id[(drug, route, form, i)] = sid
        a = modal.matrix
        for src_i in range(a.shape[0]):
            s = comp_id[(drug, route, form, src_i)]
            out_total = -a[src_i, src_i]
            for dst_i in range(a.shape[0]):
                if dst_i != src_i and a[dst_i, src_i] != 0.0:
                    d = comp_id[(drug, route, form, dst_i)]
                    rates[(s, d)] = (float(a[dst_i, src_i]), compartments[s].source)
                    out_total -= a[dst_i, src_i]
            if out_total > 1e-15 * -a[src_i, src_i]:
                rates[(s, None)] = (float(out_total), compartments[s].source)
        for row, species in enumerate(modal.species):
            for i, coef in enumerate(modal.output[row]):
                if coef != 0.0:
                    outputs.setdefault(species, {})[comp_id[(drug, route, form, i)]] = float(coef)

    model = writer.model
    box = model.createCompartment()
    box.setId("pk")
    box.setName("container of drug amounts (concentrations are explicit rules)")
    box.setSize(1.0)
    box.setUnits("litre")
    box.setConstant(True)
    box.setSpatialDimensions(3)
    for c in compartments.values():
        sp = model.createSpecies()
        sp.setId(c.sid)
        sp.setName(c.description)
        sp.setCompartment("pk")
        sp.setInitialAmount(0.0)
        sp.setHasOnlySubstanceUnits(True)
        sp.setBoundaryCondition(False)
        sp.setConstant(False)
        sp.setSubstanceUnits(writer.unit(c.unit))
        writer.event(f"guard_{c.sid}", f"(abs({c.sid}) < {GUARD_AMOUNT!r}) && ({c.sid} != 0)",
                     [(c.sid, "0")], "set a vanishing amount to 0 (CVODE fails on denormals)")
    for (origin, target), (k, source) in rates.items():
        rid = f"{origin}_to_{target}" if target else f"{origin}_elimination"
        writer.parameter(f"k_{rid}", k, "1/h", True,
                         f"first-order rate {origin} -> {target or 'out'}",
                         {"unit": "1/h", "source": source})
        r = model.createReaction()
        r.setId(rid)
        r.setReversible(False)
        ref = r.createReactant()
        ref.setSpecies(origin)
        ref.setStoichiometry(1.0)
        ref.setConstant(True)
        if target:
            prod = r.createProduct()
            prod.setSpecies(target)
            prod.setStoichiometry(1.0)
            prod.setConstant(True)
        law = r.createKineticLaw()
        writer.check(law.setMath(writer.math(f"k_{rid} * {origin}")), f"kinetic law {rid}")
    for species in DRUG_INPUTS:
        cid = DRUG_PREFIX + species
        unit = catalog.species[species].unit if species in catalog.species else "1"
        terms = outputs.get(species, {})
        if terms:
            writer.parameter(cid, None, unit, False, f"{species} concentration")
            writer.assignment(cid, " + ".join(f"{coef!r} * {sid}" for sid, coef in terms.items()))
        else:
            writer.parameter(cid, 0.0, unit, True, f"{species} concentration (not given)")
    return comp_id


def sbml_document(subject: Subject | None, regimen: Regimen,
                  parameters: Mapping[str, float] | None = None,
                  t_end: float | None = None, model_id: str = "hpgsim") -> str:
    """SBML L3V2 text of the model for ``subject`` on ``regimen`` (see the module docstring).

    ``parameters`` overrides model parameters by name, as in :func:`hpgsim.simulate`; doses and
    pump switches after ``t_end`` (h, default the regimen's span) are left out.
    """
    import sympy as sp

    from hpgsim.engine.codegen import Hoister
    from hpgsim.simulation import drug_free_state

    subject = subject or Subject()
    params = subject_parameters(subject)
    for name, value in (parameters or {}).items():
        if name not in params:
            raise InputError(f"parameters.{name}", value, "unknown model parameter",
                             "see `hpgsim params` for names")
        params[name] = float(value)
    t_end = regimen.end if t_end is None else t_end
    catalog = default_catalog()
    boluses = [b for b in regimen.boluses() if b.time <= t_end]
    pumps = regimen.pumps()
    y0 = drug_free_state(params)
    sym = trace()
    w = _Writer(_sid(model_id))
    w.model.setName(f"hpgsim: {regimen.name or 'regimen'} (time in hours)")

    meta = _parameter_meta()
    table = default_parameters()
    for name in sym.parameter_names:
        m = meta.get(name, _Meta("1", "subject scale (covariate multiplier)", "covariates"))
        note = {"unit": m.unit, "source": m.source}
        if name in table and not math.isclose(params[name], table[name], rel_tol=1e-12):
            note["table_value"] = repr(table[name])
        w.parameter(name, params[name], m.unit, True, m.description, note)

    hoist = Hoister(sym.params)
    rhs = [hoist(e) for e in sym.rhs]
    obs_names = list(sym.observables)
    obs = [hoist(sym.observables[k]) for k in obs_names]
    names = {s.name: f"derived_{i}" for i, (s, _) in enumerate(hoist.definitions)}
    fmt = _Formula(names)
    for s, expr in hoist.definitions:
        w.parameter(names[s.name], None, "1", True, "parameter-only subexpression")
        w.initial(names[s.name], fmt(expr))

    for state, value in zip(sym.states, y0, strict=True):
        w.parameter(state.name, float(value), STATE_UNITS.get(state.name, "1"), False,
                    "state (drug-free steady state at t=0)")
    w.parameter(PUMP_RATE, 0.0, "pulses/h", False, "GnRH pump pulses per hour (mean field)")
    w.parameter(PUMP_DOSE, 0.0, "ug", False, "GnRH pump bioavailable dose per pulse")
    comp_id = _pk(w, boluses, catalog)

    for prefix, exprs, targets in (("xr_", rhs, [s.name for s in sym.states]),
                                   ("xo_", obs, [OBS_PREFIX + k for k in obs_names])):
        tmp, reduced = sp.cse(exprs, symbols=sp.numbered_symbols(prefix), optimizations=None)
        for s, e in tmp:
            w.parameter(s.name, None, "1", False, "common subexpression")
            w.assignment(s.name, fmt(e))
        for target, e in zip(targets, reduced, strict=True):
            if prefix == "xr_":
                w.rate(target, fmt(e))
            else:
                a = ANALYTES[target[len(OBS_PREFIX):]]
                w.parameter(target, None, a.unit, False, f"{a.label} ({a.unit})")
                w.assignment(target, fmt(e))

    _doses(w, boluses, comp_id)
    _pump_events(w, boluses, pumps, t_end)
    return str(w.sb.writeSBMLToString(w.doc))


def _table(counter: str, values: Sequence[float], after: float) -> str:
    """Formula of ``values[n]`` for ``n = counter`` (``after`` once the table is exhausted)."""
    if len(set(values)) == 1:
        return repr(values[0])
    pieces = [f"{v!r}, {counter} == {i}" for i, v in enumerate(values)]
    return f"piecewise({', '.join(pieces)}, {after!r})"


def _doses(w: _Writer, boluses: Sequence[Bolus], comp_id: Mapping[Any, str]) -> None:
    """Doses of each product: t = 0 into initial amounts, later ones by one event per product.

    The event fires when ``time`` reaches ``next_dose_<product>``, adds the dose and moves that
    parameter to the product's next dose time (from a table indexed by the dose counter
    ``doses_given_<product>``), so the solver tracks one root per product, not one per dose.
    """
    by_product: dict[tuple[str, str, str | None], dict[float, float]] = {}
    for b in boluses:
        given = by_product.setdefault((b.drug, b.route, b.formulation), {})
        given[b.time] = given.get(b.time, 0.0) + b.amount
    species = {s.getId(): s for s in w.model.getListOfSpecies()}
    for (drug, route, form), doses in sorted(by_product.items(), key=lambda kv: str(kv[0])):
        modal = modal_product(drug, route, form)
        entry = {comp_id[(drug, route, form, i)]: float(f)
                 for i, f in enumerate(modal.dose_vector) if f != 0.0}
        for sid, f in entry.items():
            sp = species[sid]
            sp.setInitialAmount(sp.getInitialAmount() + doses.get(0.0, 0.0) * f)
        later = sorted((t, a) for t, a in doses.items() if t > 0.0)
        if not later:
            continue
        tag = _sid(f"{drug}_{route}" + (f"_{form}" if form else ""))
        nxt, count = f"next_dose_{tag}", f"doses_given_{tag}"
        unit = default_catalog().drugs[drug].dose_unit
        w.parameter(nxt, later[0][0], "h", False, f"time of the next {drug} {route} dose")
        w.parameter(count, 0.0, "1", False, f"{drug} {route} doses given after t = 0")
        times = [t for t, _ in later]
        amounts = [a for _, a in later]
        amount = _table(count, amounts, 0.0)
        if len(times) > 1 and len(set(np.diff(times))) == 1:  # regular: no table needed
            move = f"piecewise({nxt} + {times[1] - times[0]!r}, {count} < {len(times) - 1}, 1e300)"
        else:
            move = _table(count, [*times[1:], 1e300], 1e300)
        w.event(f"dose_{tag}", f"time >= {nxt}",
                [*((sid, f"{sid} + {f!r} * {amount}") for sid, f in entry.items()),
                 (count, f"{count} + 1"), (nxt, move)],
                f"{drug} {route}: {len(times)} doses ({unit}) from {times[0]:g} h")


def _pump_events(w: _Writer, boluses: Sequence[Bolus], pumps: Sequence[Any],
                 t_end: float) -> None:
    if not pumps:
        return
    exposure = build_exposure(boluses, pumps, t_end)
    last = (0.0, 0.0)
    for t, rate, dose in zip(exposure.starts, exposure.pump_rate, exposure.pump_dose,
                             strict=True):
        now = (float(rate), float(dose))
        if now == last:
            continue
        if t <= 0.0:
            w.model.getParameter(PUMP_RATE).setValue(now[0])
            w.model.getParameter(PUMP_DOSE).setValue(now[1])
        else:
            w.event(f"pump_{len(w.model.getListOfEvents())}", f"time >= {float(t)!r}",
                    [(PUMP_RATE, repr(now[0])), (PUMP_DOSE, repr(now[1]))],
                    f"GnRH pump {now[0]:g}/h x {now[1]:g} ug from {float(t):g} h")
        last = now


def write_sbml(path: str | Path, subject: Subject | None, regimen: Regimen,
               parameters: Mapping[str, float] | None = None,
               t_end: float | None = None) -> Path:
    """Write :func:`sbml_document` to ``path``; returns the path."""
    out = Path(path)
    out.write_text(sbml_document(subject, regimen, parameters, t_end,
                                 model_id=_sid(out.stem) or "hpgsim"))
    return out

