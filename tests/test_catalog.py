"""The drug catalog: coverage of the validation schema, provenance of every number, loader
errors, limits, aliases and the rows behind ``hpgsim drugs``."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
import yaml

from hpgsim.drugs.catalog import Catalog, catalog_rows, default_catalog, load_catalog
from hpgsim.drugs.pk import build_modal
from hpgsim.errors import InputError
from hpgsim.params import Param

CAT = default_catalog()
_ROOT = Path(__file__).resolve().parents[1]
TARGETS = next((p for p in (_ROOT / "shared", _ROOT.parent / "shared")
                if (p / "validation" / "targets.yaml").exists()), _ROOT / "shared"
               ) / "validation" / "targets.yaml"

# SCHEMA.md (hpgsim-validation/1): drug -> route -> formulations (None: no formulation)
SCHEMA: dict[str, dict[str, tuple[str | None, ...]]] = {
    "testosterone_enanthate": {"im": (None,), "sc": (None,)},
    "testosterone_cypionate": {"im": (None,), "sc": (None,)},
    "testosterone_propionate": {"im": (None,)},
    "testosterone_undecanoate": {"im": (None, "castor_oil", "tea_seed_oil"), "oral": (None,)},
    "testosterone_gel": {"transdermal": (None,)},
    "hcg": {"sc": (None,), "im": (None,)},
    "fsh": {"sc": (None,), "im": (None,)},
    "gonadorelin": {"sc": (None,), "iv": (None,)},
    "leuprolide": {"depot": (None, "1-month", "3-month")},
    "degarelix": {"sc": (None,)},
    "clomiphene": {"oral": (None,)},
    "enclomiphene": {"oral": (None,)},
    "tamoxifen": {"oral": (None,)},
    "anastrozole": {"oral": (None,)},
    "letrozole": {"oral": (None,)},
    "hmg": {"im": (None,), "sc": (None,)},
}

# species the physiology reads, with the unit it expects
PHYSIOLOGY_SPECIES = {
    "testosterone": "ng/dL", "hcg": "IU/L", "fsh": "IU/L", "lh": "IU/L", "gonadorelin": "ng/mL",
    "leuprolide": "ng/mL", "degarelix": "ng/mL", "enclomiphene": "ng/mL",
    "zuclomiphene": "ng/mL", "tamoxifen": "ng/mL", "endoxifen": "ng/mL",
    "anastrozole": "ng/mL", "letrozole": "ng/mL",
}


def all_params(cat: Catalog) -> list[tuple[str, Param]]:
    out: list[tuple[str, Param]] = []
    for s in cat.species.values():
        for p in (s.volume, s.half_life, s.peripheral_volume, s.intercompartmental_clearance,
                  s.metabolite_fraction):
            if p is not None:
                out.append((f"species.{s.name}", p))
    for d in cat.drugs.values():
        out += [(f"drugs.{d.name}", d.clinical_max_per_week), (f"drugs.{d.name}",
                                                               d.absurd_max_per_dose)]
        for forms in d.routes.values():
            for prod in forms.values():
                where = f"drugs.{d.name}.{prod.route}.{prod.formulation}"
                out.append((where, prod.bioavailability))
                out += [(where, p) for p in (prod.clinical_max_per_week, prod.absurd_max_per_dose)
                        if p is not None]
                for path in prod.paths:
                    out.append((where, path.fraction))
                    out += [(where, h) for h in path.half_lives]
    return out


# --- coverage ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("drug", "route", "form"),
                         [(d, r, f) for d, routes in SCHEMA.items() for r, forms in routes.items()
                          for f in forms])
def test_every_schema_drug_route_formulation_resolves(drug: str, route: str,
                                                      form: str | None) -> None:
    prod = CAT.drug(drug).product(route, form)
    assert prod.route == route
    assert build_modal(prod, CAT).species


@pytest.mark.parametrize("drug", sorted(SCHEMA))
def test_usual_route_is_used_when_route_is_omitted(drug: str) -> None:
    d = CAT.drug(drug)
    assert d.product(None).route == d.default_route


def test_schema_defaults() -> None:
    assert CAT.drug("testosterone_undecanoate").product("im").formulation == "castor_oil"
    assert CAT.drug("leuprolide").product(None).formulation == "1-month"  # a depot is 1-month
    assert CAT.drug("testosterone_gel").default_route == "transdermal"


@pytest.mark.skipif(not TARGETS.exists(), reason="shared validation targets not present")
def test_every_regimen_line_of_the_public_targets_resolves() -> None:
    data = yaml.safe_load(TARGETS.read_text(encoding="utf-8"))
    lines = [ln for t in data["targets"] for ln in t["regimen"]]
    assert lines
    for ln in lines:
        d = CAT.drug(ln["drug"])
        d.product(ln.get("route"), ln.get("formulation"))
        unit = str(ln["dose"]).split()[-1].lower()
        assert (d.dose_unit == "IU") == (unit == "iu"), ln


def test_physiology_species_exist_with_their_units() -> None:
    for name, unit in PHYSIOLOGY_SPECIES.items():
        assert CAT.species[name].unit == unit, name
    assert CAT.species["tamoxifen"].peripheral_volume is not None
    assert CAT.species["tamoxifen"].metabolite == "n_desmethyltamoxifen"
    assert CAT.species["n_desmethyltamoxifen"].metabolite == "endoxifen"


def test_hmg_delivers_fsh_and_lh() -> None:
    for route in ("im", "sc"):
        assert set(CAT.drug("hmg").product(route).species) == {"fsh", "lh"}


@pytest.mark.parametrize(("alias", "drug"), [
    ("TU", "testosterone_undecanoate"), ("Nebido", "testosterone_undecanoate"),
    ("Aveed", "testosterone_undecanoate"), ("AndroGel", "testosterone_gel"),
    ("Lupron", "leuprolide"), ("Firmagon", "degarelix"), ("Nolvadex", "tamoxifen"),
    ("Femara", "letrozole"), ("Gonal-f", "fsh"), ("Menopur", "hmg"),
    ("TP", "testosterone_propionate"),
    ("Androxal", "enclomiphene"), ("TE", "testosterone_enanthate"), ("hCG", "hcg"),
    ("FSH", "fsh"), ("hMG", "hmg"), ("Arimidex", "anastrozole"), ("clomid", "clomiphene"),
])
def test_aliases_users_type(alias: str, drug: str) -> None:
    assert CAT.drug(alias).name == drug
    assert CAT.drug(f"  {alias.upper()} ").name == drug


def test_unknown_drug_route_and_formulation_name_the_choices() -> None:
    with pytest.raises(InputError, match="unknown drug"):
        CAT.drug("nandrolone")
    with pytest.raises(InputError, match="use one of im, oral"):
        CAT.drug("TU").product("sc")
    with pytest.raises(InputError, match="1-month, 3-month"):
        CAT.drug("leuprolide").product("depot", "6-month")


# --- provenance, structure, limits ------------------------------------------------------------

def test_every_number_has_a_unit_and_a_tagged_source() -> None:
    tag = re.compile(r"\[(L|P|S|C|I)\]")
    for where, p in all_params(CAT):
        assert p.unit, (where, p.name)
        assert tag.search(p.source), f"{where}.{p.name}: source {p.source!r} has no tag"


def test_every_drug_has_notes_label_and_class() -> None:
    for d in CAT.drugs.values():
        assert d.notes, d.name
        assert d.label, d.name
        assert d.drug_class, d.name


def test_limits_are_consistent() -> None:
    for d in CAT.drugs.values():
        for route, forms in d.routes.items():
            for form in forms:
                lim = d.limits(route, form)
                assert lim.clinical_max_per_week.unit == d.dose_unit, d.name
                assert lim.absurd_max_per_dose.unit == d.dose_unit, d.name
                assert lim.absurd_max_per_dose.value > 0
                assert lim.clinical_max_per_week.value > 0


def test_oral_tu_has_its_own_limits() -> None:
    tu = CAT.drug("testosterone_undecanoate")
    assert tu.limits("oral").clinical_max_per_week.value == pytest.approx(7 * 2 * 396.0)
    assert tu.limits("im").clinical_max_per_week is tu.clinical_max_per_week
    assert tu.clinical_max_per_week.value == 200.0


def test_ester_testosterone_content_is_the_molecular_weight_ratio() -> None:
    mw_t = 288.42
    esters = {"testosterone_enanthate": 400.6, "testosterone_cypionate": 412.6,
              "testosterone_propionate": 344.5, "testosterone_undecanoate": 456.7}
    for drug, mw in esters.items():
        for forms in CAT.drugs[drug].routes.values():
            for prod in forms.values():
                assert prod.paths[0].fraction.value == pytest.approx(mw_t / mw, abs=0.005), drug


def test_every_product_has_distinct_well_conditioned_modes() -> None:
    for d in CAT.drugs.values():
        for forms in d.routes.values():
            for prod in forms.values():
                m = build_modal(prod, CAT)
                _, vec = np.linalg.eig(m.matrix)
                assert np.linalg.cond(vec) < 1e3, (d.name, prod.route, prod.formulation)
                rates = np.sort(-m.rates)
                assert np.all(np.diff(rates) / rates[1:] > 0.05), (d.name, prod.route)


# --- loader errors ----------------------------------------------------------------------------

GOOD = """
[species.x]
label = "x"
unit = "ng/mL"
volume = { value = 10.0, unit = "L", source = "[I] test" }
half_life = { value = 2.0, unit = "h", source = "[I] test" }

[drugs.d]
label = "d"
class = "test"
dose_unit = "mg"
default_route = "oral"
clinical_max_per_week = { value = 7.0, unit = "mg", source = "[I] test" }
absurd_max_per_dose = { value = 100.0, unit = "mg", source = "[I] test" }
[drugs.d.routes.oral]
bioavailability = { value = 0.5, unit = "1", source = "[I] test" }
[[drugs.d.routes.oral.paths]]
species = "x"
fraction = { value = 1.0, unit = "1", source = "[I] test" }
half_lives = [{ value = 30.0, unit = "min", source = "[I] test" }]
"""


def test_minimal_catalog_loads() -> None:
    cat = load_catalog(GOOD)
    prod = cat.drug("d").product("oral")
    assert prod.paths[0].half_lives[0].value == pytest.approx(0.5)  # min -> h
    assert prod.paths[0].half_lives[0].unit == "h"


@pytest.mark.parametrize(("old", "new", "message"), [
    ('half_life = { value = 2.0, unit = "h", source = "[I] test" }',
     'half_life = { value = 2.0, unit = "h" }', "value, unit, source"),
    ('half_life = { value = 2.0, unit = "h", source = "[I] test" }',
     'half_life = { value = 2.0, unit = "h", source = "  " }', "empty source"),
    ('species = "x"', 'species = "y"', "unknown species"),
    ('dose_unit = "mg"', 'dose_unit = "IU"', "dose unit"),
    ('unit = "ng/mL"', 'unit = "IU/L"', "dose unit"),
    ('unit = "ng/mL"', 'unit = "mg/dL"', "unit"),
    ('dose_unit = "mg"', 'dose_unit = "g"', "dose_unit"),
    ('unit = "min"', 'unit = "fortnight"', "time unit"),
    ('value = 0.5, unit = "1"', 'value = 1.5, unit = "1"', "cannot exceed 1"),
    ('value = 10.0, unit = "L"', 'value = -10.0, unit = "L"', "positive"),
    ('value = 10.0, unit = "L"', 'value = "ten", unit = "L"', "not a number"),
    ('default_route = "oral"', 'default_route = "im"', "default_route"),
    ('label = "d"\n', "", "missing key 'label'"),
    ('[[drugs.d.routes.oral.paths]]', '[[drugs.d.routes.oral.pathz]]', "missing key 'paths'"),
    ('class = "test"', 'class = "test"\nunclosed = "', "not valid TOML"),
])
def test_loader_errors_raise_value_error(old: str, new: str, message: str) -> None:
    assert old in GOOD
    with pytest.raises(ValueError, match=re.escape(message)):
        load_catalog(GOOD.replace(old, new, 1))


def test_loader_rejects_bad_metabolites_and_aliases() -> None:
    metab = GOOD.replace(
        'half_life = { value = 2.0, unit = "h", source = "[I] test" }\n',
        'half_life = { value = 2.0, unit = "h", source = "[I] test" }\n'
        'metabolite = { species = "z", '
        'fraction = { value = 0.5, unit = "1", source = "[I] t" } }\n',
        1)
    with pytest.raises(ValueError, match="unknown metabolite"):
        load_catalog(metab)
    loop = metab.replace('species = "z"', 'species = "x"')
    with pytest.raises(ValueError, match="loops"):
        load_catalog(loop)
    second = "[drugs.e]" + GOOD.split("[drugs.d]")[1].replace("drugs.d.", "drugs.e.")
    twin = GOOD + second.replace("[drugs.e]", '[drugs.e]\naliases = ["D"]', 1)
    with pytest.raises(ValueError, match="alias 'D'"):
        load_catalog(twin)
    load_catalog(GOOD + second)  # two drugs without clashing names load


def test_formulation_default_must_exist() -> None:
    forms = GOOD.replace("[drugs.d.routes.oral]\n",
                         '[drugs.d.routes.oral]\ndefault_formulation = "b"\n'
                         "[drugs.d.routes.oral.formulations.a]\n", 1).replace(
        "drugs.d.routes.oral.paths", "drugs.d.routes.oral.formulations.a.paths")
    with pytest.raises(ValueError, match="default_formulation 'b'"):
        load_catalog(forms)
    assert load_catalog(forms.replace('"b"', '"a"')).drug("d").product("oral").formulation == "a"


# --- rows for `hpgsim drugs` ------------------------------------------------------------------

def test_catalog_rows_one_per_product() -> None:
    rows = catalog_rows()
    products = [(d.name, r, f) for d in CAT.drugs.values() for r, fs in d.routes.items()
                for f in fs]
    assert [(r["drug"], r["route"], r["formulation"]) for r in rows] == products
    json.dumps(rows)  # plain JSON types only
    keys = ["name", "drug", "label", "class", "aliases", "route", "formulation", "routes",
            "default", "dose_unit", "species", "pk", "clinical_max_per_week",
            "absurd_max_per_dose", "notes"]
    for row in rows:
        assert list(row) == keys
        assert row["pk"]
        assert all("; source: " in item and "[" in item for item in row["pk"])
    assert sum(r["default"] for r in rows) == len(CAT.drugs)


def test_catalog_rows_content() -> None:
    rows = {r["name"]: r for r in catalog_rows()}
    tam = rows["tamoxifen / oral"]
    assert tam["species"] == ["tamoxifen", "n_desmethyltamoxifen", "endoxifen"]
    assert any(item.startswith("endoxifen: elimination t1/2 2 d;") for item in tam["pk"])
    tu = rows["testosterone_undecanoate / im / castor_oil"]
    assert any("absorption step 1 t1/2 33.9 d;" in item for item in tu["pk"])
    assert tu["default"] is True
    assert rows["testosterone_undecanoate / oral"]["clinical_max_per_week"].startswith(
        "5544 mg/week")
    assert rows["hmg / im"]["species"] == ["fsh", "lh"]
