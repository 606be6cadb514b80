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

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from hpgsim.errors import InputError
from hpgsim.params import Param
from hpgsim.units import HOURS_PER


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


@dataclass(frozen=True)
class Path:
    """A fraction of the bioavailable dose reaching ``species`` through first-order steps."""

    species: str
    fraction: Param
    half_lives: tuple[Param, ...]  # h, depot first


@dataclass(frozen=True)
class Product:
    """A drug by one route (and formulation)."""

    route: str
    formulation: str | None
    bioavailability: Param
    paths: tuple[Path, ...]


@dataclass(frozen=True)
class Drug:
    """A drug of the catalog with its routes, dose unit, limits and description."""

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

def _param(name: str, raw: Any, where: str, to_hours: bool = False) -> Param:
    if not isinstance(raw, dict) or not {"value", "unit", "source"} <= raw.keys():
        raise ValueError(f"catalog {where}.{name}: needs an inline table {{value, unit, source}}")
    value, unit = float(raw["value"]), str(raw["unit"])
    if to_hours:
        if unit not in HOURS_PER:
            raise ValueError(f"catalog {where}.{name}: time unit {unit!r} not in {list(HOURS_PER)}")
        value, unit = value * HOURS_PER[unit], "h"
    if not value > 0.0:
        raise ValueError(f"catalog {where}.{name}: value must be positive")
    return Param(name, value, unit, str(raw.get("description", name)), str(raw["source"]))


def _product(route: str, formulation: str | None, raw: dict[str, Any], where: str) -> Product:
    paths = tuple(
        Path(
            species=str(p["species"]),
            fraction=_param("fraction", p["fraction"], f"{where}.paths[{i}]"),
            half_lives=tuple(_param(f"half_life[{j}]", h, f"{where}.paths[{i}]", to_hours=True)
                             for j, h in enumerate(p.get("half_lives", []))),
        )
        for i, p in enumerate(raw["paths"])
    )
    return Product(route, formulation, _param("bioavailability", raw["bioavailability"], where), paths)


def load_catalog(text: str) -> Catalog:
    """Parse and validate catalog TOML text."""
    data = tomllib.loads(text)
    species: dict[str, Species] = {}
    for name, s in data["species"].items():
        where = f"species.{name}"
        periph = s.get("peripheral")
        species[name] = Species(
            name=name, label=s["label"], unit=s["unit"],
            volume=_param("volume", s["volume"], where),
            half_life=_param("half_life", s["half_life"], where, to_hours=True),
            peripheral_volume=_param("volume", periph["volume"], where) if periph else None,
            intercompartmental_clearance=(_param("clearance", periph["clearance"], where)
                                          if periph else None),
            metabolite=s.get("metabolite", {}).get("species"),
            metabolite_fraction=(_param("fraction", s["metabolite"]["fraction"], where)
                                 if "metabolite" in s else None),
        )
    drugs: dict[str, Drug] = {}
    for name, d in data["drugs"].items():
        where = f"drugs.{name}"
        routes: dict[str, dict[str | None, Product]] = {}
        defaults: dict[str, str | None] = {}
        for route, r in d["routes"].items():
            forms: dict[str | None, Product] = {}
            if "formulations" in r:
                for fname, f in r["formulations"].items():
                    forms[fname] = _product(route, fname, f, f"{where}.routes.{route}.{fname}")
                defaults[route] = r["default_formulation"]
            else:
                forms[None] = _product(route, None, r, f"{where}.routes.{route}")
                defaults[route] = None
            routes[route] = forms
        drugs[name] = Drug(
            name=name, label=d["label"], aliases=tuple(d.get("aliases", [])),
            drug_class=d["class"], dose_unit=d["dose_unit"], default_route=d["default_route"],
            routes=routes, default_formulation=defaults,
            clinical_max_per_week=_param("clinical_max_per_week", d["clinical_max_per_week"], where),
            absurd_max_per_dose=_param("absurd_max_per_dose", d["absurd_max_per_dose"], where),
            notes=d.get("notes", ""),
        )
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
        if s.metabolite is not None and s.metabolite not in catalog.species:
            raise ValueError(f"catalog species.{s.name}: unknown metabolite {s.metabolite!r}")


@cache
def default_catalog() -> Catalog:
    """The bundled catalog (``catalog.toml``), loaded once."""
    text = resources.files("hpgsim.drugs").joinpath("catalog.toml").read_text(encoding="utf-8")
    return load_catalog(text)
