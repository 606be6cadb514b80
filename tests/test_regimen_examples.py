"""The protocol examples load, describe what their comments say, and warn where they should."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from hpgsim.drugs.catalog import default_catalog
from hpgsim.errors import DoseWarning
from hpgsim.regimen import load_protocol
from hpgsim.regimen.model import WEEK

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def needs(*drugs: str) -> pytest.MarkDecorator:
    missing = [d for d in drugs if d not in default_catalog().drugs]
    return pytest.mark.skipif(bool(missing), reason=f"drug catalog lacks {', '.join(missing)}")


@pytest.mark.parametrize("name", [
    "post_trt_recovery", "trt_alone", "gonadorelin_serm_ai", "hcg_serm", "hcg_during_trt",
    "gnrh_pump",
])
def test_clinical_examples_load_without_dose_warnings(name: str) -> None:
    path = EXAMPLES / f"{name}.yaml"
    assert path.read_text(encoding="utf-8").startswith("#")  # each says what it represents
    with warnings.catch_warnings():
        warnings.simplefilter("error", DoseWarning)
        p = load_protocol(path)
    assert p.name
    assert p.description
    assert p.subject is not None
    assert p.regimen.lines
    assert p.regimen.span is not None


def test_quick_start_example() -> None:
    r = load_protocol(EXAMPLES / "post_trt_recovery.yaml").regimen
    assert [(ph.name, ph.end / WEEK) for ph in r.phases] == [("TRT", 52), ("Recovery", 68)]
    drugs = [b.drug for b in r.boluses()]
    assert (drugs.count("testosterone_cypionate"), drugs.count("hcg"), drugs.count("clomiphene")) \
        == (52, 32, 56)


def test_gnrh_pump_example() -> None:
    p = load_protocol(EXAMPLES / "gnrh_pump.yaml")
    assert p.subject is not None
    assert p.subject.condition == "gnrh_deficient"
    (pump,) = p.regimen.pumps()
    assert (pump.drug, pump.amount, pump.interval, pump.end) == ("gonadorelin", 0.01, 1.5,
                                                                 24 * 30.4375 * 24)


@needs("tamoxifen")
def test_aas_cycle_example_warns() -> None:
    with pytest.warns(DoseWarning, match="testosterone_enanthate: 750 mg/week"):
        p = load_protocol(EXAMPLES / "aas_cycle_recovery.yaml")
    assert [ph.name for ph in p.regimen.phases] == ["Cycle", "Washout", "PCT"]
    assert p.regimen.phases[2].end == 22 * WEEK
