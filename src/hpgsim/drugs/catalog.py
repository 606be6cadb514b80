"""The drug catalog: drugs, routes, formulations and the PK species they deliver.

The data live in ``catalog.toml`` beside this module (one table per species and per drug, every
number with unit and source). This module loads and validates it into immutable objects.

Vocabulary:
- *species*: a molecule that circulates and acts (``testosterone``, ``hcg``, ``enclomiphene``...).
  It has a central volume, an elimination half-life, optionally a peripheral compartment and a
  metabolite. Several drugs may deliver the same species (all testosterone esters deliver
  ``testosterone``) and their concentrations add.
- *path*: how a dose reaches a species: a fraction of the dose and a chain of first-order
  absorption steps (given as half-lives). An empty chain is an intravenous bolus.
- *product*: a drug given by one route in one formulation: a bioavailability and its paths.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from hpgsim.errors import InputError
from hpgsim.params import Param
from hpgsim.units import HOURS_PER

CONC_UNITS = ("ng/mL", "ng/dL", "IU/L")
DOSE_UNITS = ("mg", "IU")


@dataclass(frozen=True)
class Species:
    """A circulating molecule. Amounts in mg (or IU), concentrations in ``unit``."""

    name: str
    label: str
    unit: str  # "ng/mL", "ng/dL" or "IU/L"
    volume: Param  # L
    half_life: Param  # h
    peripheral_volume: Param | None = None  # L
    intercompartmental_clearance: Param | None = None  # L/h
    metabolite: str | None = None
    metabolite_fraction: Param | None = None  # fraction of elimination forming the metabolite

    @property
    def amount_unit(self) -> str:
        return "IU" if self.unit == "IU/L" else "mg"

    @property
    def conc_per_amount_per_litre(self) -> float:
        """Factor from (amount unit)/L to the output unit."""
        return {"IU/L": 1.0, "ng/mL": 1e3, "ng/dL": 1e5}[self.unit]

    @property
    def clearance(self) -> float:
        """Elimination clearance from the central compartment (L/h), derived: V ln2 / t1/2."""
        return self.volume.value * math.log(2.0) / self.half_life.value


@dataclass(frozen=True)
class Path:
    """A fraction of the bioavailable dose reaching ``species`` through first-order steps."""

    species: str
    fraction: Param
    half_lives: tuple[Param, ...]  # h, depot first


@dataclass(frozen=True)
class Product:
    """A drug by one route (and formulation).

    ``clinical_max_per_week``/``absurd_max_per_dose`` are set where the route overrides the
    drug's limits (oral vs intramuscular testosterone undecanoate); None means the drug's.
    """

    route: str
    formulation: str | None
    bioavailability: Param
    paths: tuple[Path, ...]
    clinical_max_per_week: Param | None = None
    absurd_max_per_dose: Param | None = None

    @property
    def species(self) -> tuple[str, ...]:
        """Species the product delivers directly (metabolites not included), in path order."""
        return tuple(dict.fromkeys(p.species for p in self.paths))


@dataclass(frozen=True)
class Limits:
    """Dose limits of one product: above ``clinical_max_per_week`` (mean weekly amount) the
    simulator warns; a single dose above ``absurd_max_per_dose`` is refused."""

    clinical_max_per_week: Param
    absurd_max_per_dose: Param


@dataclass(frozen=True)
class Drug:
    """A drug of the catalog with its routes, dose unit, limits and description.

    ``clinical_max_per_week``/``absurd_max_per_dose`` are the limits of the default route; use
    :meth:`limits` for a given route (a route may override them).
    """

    name: str
    label: str
    aliases: tuple[str, ...]
    drug_class: str
    dose_unit: str  # "mg" or "IU"
    default_route: str
    routes: dict[str, dict[str | None, Product]]  # route -> formulation (None = default) -> product
    default_formulation: dict[str, str | None]
    clinical_max_per_week: Param
    absurd_max_per_dose: Param
    notes: str

    def product(self, route: str | None, formulation: str | None = None,
                field: str = "route") -> Product:
        """The product for ``route``/``formulation``, with errors naming the valid choices."""
        r = route or self.default_route
        if r not in self.routes:
            raise InputError(field, r, f"{self.name} has no route {r!r}",
                             f"use one of {', '.join(sorted(self.routes))}")
        forms = self.routes[r]
        f = formulation if formulation is not None else self.default_formulation[r]
        if f not in forms:
            named = sorted(k for k in forms if k is not None)
            raise InputError("formulation", formulation,
                             f"{self.name} ({r}) has no formulation {formulation!r}",
                             f"use one of {', '.join(named)}" if named else "leave formulation out")
        return forms[f]

    def limits(self, route: str | None = None, formulation: str | None = None) -> Limits:
        """The dose limits for ``route``/``formulation`` (the route's own, else the drug's)."""
        prod = self.product(route, formulation)
        return Limits(prod.clinical_max_per_week or self.clinical_max_per_week,
                      prod.absurd_max_per_dose or self.absurd_max_per_dose)


@dataclass(frozen=True)
class Catalog:
    species: dict[str, Species]
    drugs: dict[str, Drug]

    def drug(self, name: str, field: str = "drug") -> Drug:
        """Look a drug up by name or alias (case-insensitive)."""
        key = name.strip().lower()
        if key in self.drugs:
            return self.drugs[key]
        for d in self.drugs.values():
            if key in (a.lower() for a in d.aliases):
                return d
        raise InputError(field, name, "unknown drug",
                         f"use one of {', '.join(sorted(self.drugs))} (see `hpgsim drugs`)")


# --- loading ----------------------------------------------------------------------------------

def _param(name: str, raw: Any, where: str, to_hours: bool = False, at_most_one: bool = False,
           zero_ok: bool = False) -> Param:
    if not isinstance(raw, dict) or not {"value", "unit", "source"} <= raw.keys():
        raise ValueError(f"catalog {where}.{name}: needs an inline table {{value, unit, source}}")
    source = str(raw["source"]).strip()
    if not source:
        raise ValueError(f"catalog {where}.{name}: empty source")
    try:
        value, unit = float(raw["value"]), str(raw["unit"])
    except (TypeError, ValueError):
        raise ValueError(f"catalog {where}.{name}: value {raw['value']!r} "
                         "is not a number") from None
    if to_hours:
        if unit not in HOURS_PER:
            raise ValueError(f"catalog {where}.{name}: time unit {unit!r} not in {list(HOURS_PER)}")
        value, unit = value * HOURS_PER[unit], "h"
    if not (value > 0.0 or (zero_ok and value == 0.0)) or not math.isfinite(value):
        raise ValueError(f"catalog {where}.{name}: value must be positive and finite")
    if at_most_one and value > 1.0:
        raise ValueError(f"catalog {where}.{name}: a fraction cannot exceed 1 (got {value:g})")
    return Param(name, value, unit, str(raw.get("description", name)), source)


def _get(table: Any, key: str, where: str) -> Any:
    if not isinstance(table, dict) or key not in table:
        raise ValueError(f"catalog {where}: missing key {key!r}")
    return table[key]


def _optional_limit(raw: dict[str, Any], key: str, where: str) -> Param | None:
    return _param(key, raw[key], where) if key in raw else None


def _product(route: str, formulation: str | None, raw: dict[str, Any], where: str,
             inherited: dict[str, Any]) -> Product:
    raw_paths = _get(raw, "paths", where)
    if not isinstance(raw_paths, list) or not raw_paths:
        raise ValueError(f"catalog {where}: needs at least one path")
    paths = []
    for i, p in enumerate(raw_paths):
        at = f"{where}.paths[{i}]"
        steps = p.get("half_lives", []) if isinstance(p, dict) else []
        paths.append(Path(
            species=str(_get(p, "species", at)),
            fraction=_param("fraction", _get(p, "fraction", at), at, at_most_one=True),
            half_lives=tuple(_param(f"half_life[{j}]", h, at, to_hours=True)
                             for j, h in enumerate(steps)),
        ))
    limits = {**inherited, **raw}
    return Product(
        route, formulation,
        _param("bioavailability", _get(raw, "bioavailability", where), where, at_most_one=True),
        tuple(paths),
        clinical_max_per_week=_optional_limit(limits, "clinical_max_per_week", where),
        absurd_max_per_dose=_optional_limit(limits, "absurd_max_per_dose", where),
    )


def _species(name: str, s: Any, where: str) -> Species:
    unit = str(_get(s, "unit", where))
    if unit not in CONC_UNITS:
        raise ValueError(f"catalog {where}: unit {unit!r} not in {list(CONC_UNITS)}")
    periph = s.get("peripheral")
    metab = s.get("metabolite")
    return Species(
        name=name, label=str(_get(s, "label", where)), unit=unit,
        volume=_param("volume", _get(s, "volume", where), where),
        half_life=_param("half_life", _get(s, "half_life", where), where, to_hours=True),
        peripheral_volume=(_param("volume", _get(periph, "volume", f"{where}.peripheral"),
                                  f"{where}.peripheral") if periph else None),
        intercompartmental_clearance=(
            _param("clearance", _get(periph, "clearance", f"{where}.peripheral"),
                   f"{where}.peripheral") if periph else None),
        metabolite=str(_get(metab, "species", f"{where}.metabolite")) if metab else None,
        metabolite_fraction=(_param("fraction", _get(metab, "fraction", f"{where}.metabolite"),
                                    f"{where}.metabolite", at_most_one=True) if metab else None),
    )


def _drug(name: str, d: Any, where: str) -> Drug:
    routes: dict[str, dict[str | None, Product]] = {}
    defaults: dict[str, str | None] = {}
    for route, r in _get(d, "routes", where).items():
        at = f"{where}.routes.{route}"
        forms: dict[str | None, Product] = {}
        limits = {k: r[k] for k in ("clinical_max_per_week", "absurd_max_per_dose") if k in r}
        if "formulations" in r:
            for fname, f in r["formulations"].items():
                forms[fname] = _product(route, fname, f, f"{at}.{fname}", limits)
            default = str(_get(r, "default_formulation", at))
            if default not in forms:
                raise ValueError(f"catalog {at}: default_formulation {default!r} is not one of "
                                 f"{sorted(k for k in forms if k)}")
            defaults[route] = default
        else:
            forms[None] = _product(route, None, r, at, limits)
            defaults[route] = None
        routes[route] = forms
    dose_unit = str(_get(d, "dose_unit", where))
    if dose_unit not in DOSE_UNITS:
        raise ValueError(f"catalog {where}: dose_unit {dose_unit!r} not in {list(DOSE_UNITS)}")
    return Drug(
        name=name, label=str(_get(d, "label", where)),
        aliases=tuple(str(a) for a in d.get("aliases", [])),
        drug_class=str(_get(d, "class", where)), dose_unit=dose_unit,
        default_route=str(_get(d, "default_route", where)),
        routes=routes, default_formulation=defaults,
        clinical_max_per_week=_param("clinical_max_per_week",
                                     _get(d, "clinical_max_per_week", where), where),
        absurd_max_per_dose=_param("absurd_max_per_dose",
                                   _get(d, "absurd_max_per_dose", where), where),
        notes=str(d.get("notes", "")),
    )


def load_catalog(text: str) -> Catalog:
    """Parse and validate catalog TOML text; any defect raises ValueError naming its place."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ValueError(f"catalog: not valid TOML: {err}") from None
    species = {name: _species(name, s, f"species.{name}")
               for name, s in _get(data, "species", "file").items()}
    drugs = {name: _drug(name, d, f"drugs.{name}")
             for name, d in _get(data, "drugs", "file").items()}
    catalog = Catalog(species, drugs)
    _check(catalog)
    return catalog


def _check(catalog: Catalog) -> None:
    for d in catalog.drugs.values():
        if d.default_route not in d.routes:
            raise ValueError(f"catalog drugs.{d.name}: default_route {d.default_route!r} missing")
        for forms in d.routes.values():
            for prod in forms.values():
                for p in prod.paths:
                    if p.species not in catalog.species:
                        raise ValueError(f"catalog drugs.{d.name}: unknown species {p.species!r}")
                    unit = catalog.species[p.species].amount_unit
                    if unit != d.dose_unit:
                        raise ValueError(f"catalog drugs.{d.name}: dose unit {d.dose_unit} but "
                                         f"species {p.species} counts {unit}")
    for s in catalog.species.values():
        if s.metabolite is None:
            continue
        if s.metabolite not in catalog.species:
            raise ValueError(f"catalog species.{s.name}: unknown metabolite {s.metabolite!r}")
        if catalog.species[s.metabolite].amount_unit != s.amount_unit:
            raise ValueError(f"catalog species.{s.name}: metabolite {s.metabolite} counts "
                             f"{catalog.species[s.metabolite].amount_unit}, not {s.amount_unit}")
        seen = {s.name}
        nxt: str | None = s.metabolite
        while nxt is not None:
            if nxt in seen:
                raise ValueError(f"catalog species.{s.name}: metabolite chain loops at {nxt!r}")
            seen.add(nxt)
            nxt = catalog.species[nxt].metabolite
    aliases: dict[str, str] = {}
    for d in catalog.drugs.values():
        for key in (d.name, *d.aliases):
            k = key.strip().lower()
            if aliases.get(k, d.name) != d.name or (k in catalog.drugs and k != d.name):
                raise ValueError(f"catalog drugs.{d.name}: name or alias {key!r} also names "
                                 f"{aliases.get(k, k)}")
            aliases[k] = d.name


@cache
def default_catalog() -> Catalog:
    """The bundled catalog (``catalog.toml``), loaded once."""
    text = resources.files("hpgsim.drugs").joinpath("catalog.toml").read_text(encoding="utf-8")
    return load_catalog(text)


# --- listing ----------------------------------------------------------------------------------

def _time(hours: float) -> str:
    """A half-life in the unit that reads best (min, h or d)."""
    if hours < 1.0:
        return f"{hours * 60.0:.3g} min"
    if hours < 48.0:
        return f"{hours:.3g} h"
    return f"{hours / 24.0:.3g} d"


def _item(label: str, p: Param) -> str:
    unit = "" if p.unit == "1" else f" {p.unit}"
    return f"{label} {p.value:.4g}{unit}; source: {p.source}"


def _species_items(sp: Species, catalog: Catalog) -> list[str]:
    out = [f"{sp.name} ({sp.unit}): V {sp.volume.value:.4g} L; source: {sp.volume.source}",
           f"{sp.name}: elimination t1/2 {_time(sp.half_life.value)}; "
           f"source: {sp.half_life.source}",
           f"{sp.name}: CL {sp.clearance:.4g} L/h; source: derived, V ln2 / t1/2 [I]"]
    if sp.peripheral_volume is not None and sp.intercompartmental_clearance is not None:
        out.append(_item(f"{sp.name}: peripheral V", sp.peripheral_volume))
        out.append(_item(f"{sp.name}: intercompartmental Q", sp.intercompartmental_clearance))
    if sp.metabolite is not None and sp.metabolite_fraction is not None:
        out.append(_item(f"{sp.name}: fraction metabolised to {sp.metabolite}",
                         sp.metabolite_fraction))
        out += _species_items(catalog.species[sp.metabolite], catalog)
    return out


def catalog_rows(catalog: Catalog | None = None) -> list[dict[str, Any]]:
    """Rows for ``hpgsim drugs``: one per drug x route x formulation, in catalog order.

    Each row is a dict with these keys, in this order (all values JSON-serialisable):

    - ``name`` (str): the row's heading, ``"<drug> / <route>"`` plus ``" / <formulation>"``.
    - ``drug`` (str): catalog name; ``label`` (str): display name; ``class`` (str).
    - ``aliases`` (list[str]): other names users may type.
    - ``route`` (str); ``formulation`` (str or None); ``routes`` (list[str]): all routes of the
      drug; ``default`` (bool): whether this is the drug's default route and formulation.
    - ``dose_unit`` (str): ``"mg"`` or ``"IU"``.
    - ``species`` (list[str]): species the product puts in plasma, metabolites included.
    - ``pk`` (list[str]): the key PK numbers, one ``"<what> <value> <unit>; source: <source>"``
      string each (sources carry their [L]/[P]/[S]/[C]/[I] tag): bioavailability, each path's
      fraction and absorption half-lives (a path without steps is an intravenous bolus), and
      for every species reached its volume, elimination half-life, derived clearance,
      peripheral compartment and metabolite fraction (metabolites follow their parent).
    - ``clinical_max_per_week`` (str) and ``absurd_max_per_dose`` (str): ``"<value> <unit>;
      source: <source>"``, the limits that apply to this route.
    - ``notes`` (str): the drug's main limitation.
    """
    cat = catalog or default_catalog()
    rows: list[dict[str, Any]] = []
    for d in cat.drugs.values():
        for route, forms in d.routes.items():
            for form, prod in forms.items():
                pk = [_item("bioavailability F", prod.bioavailability)]
                reached: list[str] = []
                for p in prod.paths:
                    pk.append(_item(f"path to {p.species}: fraction", p.fraction))
                    pk += [f"path to {p.species}: absorption step {j + 1} t1/2 "
                           f"{_time(h.value)}; source: {h.source}"
                           for j, h in enumerate(p.half_lives)]
                    if p.species not in reached:
                        reached.append(p.species)
                species: list[str] = []
                for s in reached:
                    for item in _species_items(cat.species[s], cat):
                        if item not in pk:
                            pk.append(item)
                    nxt: str | None = s
                    while nxt is not None and nxt not in species:
                        species.append(nxt)
                        nxt = cat.species[nxt].metabolite
                lim = d.limits(route, form)
                heading = f"{d.name} / {route}" + (f" / {form}" if form else "")
                rows.append({
                    "name": heading, "drug": d.name, "label": d.label, "class": d.drug_class,
                    "aliases": list(d.aliases), "route": route, "formulation": form,
                    "routes": list(d.routes),
                    "default": route == d.default_route and form == d.default_formulation[route],
                    "dose_unit": d.dose_unit, "species": species, "pk": pk,
                    "clinical_max_per_week": (f"{lim.clinical_max_per_week.value:g} "
                                              f"{lim.clinical_max_per_week.unit}/week; "
                                              f"source: {lim.clinical_max_per_week.source}"),
                    "absurd_max_per_dose": (f"{lim.absurd_max_per_dose.value:g} "
                                            f"{lim.absurd_max_per_dose.unit}; "
                                            f"source: {lim.absurd_max_per_dose.source}"),
                    "notes": d.notes,
                })
    return rows
