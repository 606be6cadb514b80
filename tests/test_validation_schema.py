"""Loading validation target files: the bundled set, bad fields, unreadable files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from hpgsim.validation import (
    InvalidTarget,
    Target,
    TargetFileError,
    bundled_targets_path,
    load_targets,
    parse_targets,
)


def _file(*targets: dict[str, Any]) -> str:
    return yaml.safe_dump({"schema": "hpgsim-validation/1", "targets": list(targets)})


def _target(**measure: Any) -> dict[str, Any]:
    m = {"quantity": "total_testosterone", "unit": "ng/dL", "statistic": "value", "at": "12 w"}
    m.update(measure)
    return {"id": "X-1", "subject": {}, "cohort": None,
            "regimen": [{"drug": "hcg", "dose": "1500 IU", "every": "3.5 d", "duration": "12 w"}],
            "measure": m, "expected": {"value": 600, "low": 500, "high": 700}}


def test_bundled_file_parses_completely() -> None:
    text = bundled_targets_path().read_text(encoding="utf-8")
    assert text.startswith("# hpgsim validation targets: PUBLIC set")
    targets = load_targets()
    assert len(targets.entries) == 153
    assert all(isinstance(e, Target) for e in targets.entries), [
        e for e in targets.entries if isinstance(e, InvalidTarget)]
    assert len({e.id for e in targets.entries}) == 153


def test_times_are_hours_and_time_to_is_implied() -> None:
    file = parse_targets(_file(_target()))
    target = file.entries[0]
    assert isinstance(target, Target)
    assert target.measure.at == pytest.approx(2016.0)
    m = Target.model_validate(_target(statistic="median", at=None, threshold=20,
                                      threshold_unit="ng/dL", direction="above",
                                      **{"from": "1 mo"}, unit="mo")).measure
    assert m.of_time_to
    assert m.result_is_time
    assert m.start == pytest.approx(30.4375 * 24.0)
    m = Target.model_validate(_target(statistic="median", unit="ng/dL")).measure
    assert not m.of_time_to


@pytest.mark.parametrize(("measure", "message"), [
    ({"statistic": "bogus"}, "statistic"),
    ({"at": None}, "needs at"),
    ({"at": "12"}, "not a time"),
    ({"at": "-1 d"}, "before time 0"),
    ({"unit": "mg"}, "unknown unit"),
    ({"statistic": "time_to", "threshold": 300, "direction": "below"}, "is a time: unit must be"),
    ({"statistic": "peak", "window": ["2 d", "1 d"]}, "window ends before"),
    ({"until": "1 w"}, "until is before"),
    ({"relative_to": "1 d"}, "relative_to needs relative"),
    ({"statistic": "fraction", "threshold": 1, "direction": "below", "ever": True,
      "from": "13 w"}, "from is after at"),
    ({"thresold": 3}, "thresold"),
    ({"quantity": "cortisol"}, "unknown analyte"),
])
def test_a_bad_field_makes_that_target_invalid(measure: dict[str, Any], message: str) -> None:
    good = _target()
    good["id"] = "GOOD-1"
    file = parse_targets(_file(_target(**measure), good))
    bad, ok = file.entries
    assert isinstance(bad, InvalidTarget)
    assert message in bad.error
    assert (bad.id, bad.expected, bad.low, bad.high) == ("X-1", 600, 500, 700)
    assert bad.unit == measure.get("unit", "ng/dL")
    assert isinstance(ok, Target)


def test_duplicate_ids_and_non_mapping_entries_are_invalid() -> None:
    file = parse_targets(_file(_target(), _target(), "just text"))
    first, second, third = file.entries
    assert isinstance(first, Target)
    assert isinstance(second, InvalidTarget)
    assert "duplicate id" in second.error
    assert isinstance(third, InvalidTarget)
    assert third.id == "<target 3>"


def test_only_filters_by_id_prefix() -> None:
    assert [e.id for e in load_targets().only("HAND05-REC").entries] == [
        "HAND05-REC-T3", "HAND05-REC-T5", "HAND05-REC-T10", "HAND05-REC-T20", "HAND05-REC-PLATEAU"]


@pytest.mark.parametrize("text", ["targets: [", "- a\n- b\n", "schema: other/1\ntargets: []\n"])
def test_unreadable_files_raise(text: str) -> None:
    with pytest.raises(TargetFileError):
        parse_targets(text)


def test_missing_file_raises(tmp_path: Path) -> None:
    with pytest.raises(TargetFileError, match="cannot read"):
        load_targets(tmp_path / "none.yaml")
