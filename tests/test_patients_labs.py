"""Lab records: CSV and FHIR import/export round trips, censoring, and bad input refused with
the row and field named."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest

from hpgsim.errors import InputError
from hpgsim.patients.csv_io import read_doses, read_labs, write_doses, write_labs
from hpgsim.patients.fhir import read_bundle, write_bundle
from hpgsim.patients.labs import parse_value
from hpgsim.patients.records import PatientInfo, check_history

LABS = """date,analyte,value,unit,ref_low,ref_high,loinc
2024-01-02T08:15:00Z,T,512.5,ng/dL,264,916,
2024-01-02T08:15:00Z,LH,<0.2,mIU/mL,1.5,9.3,10501-5
2024-01-02T08:15:00Z,E2,101.3,pmol/L,,,
2024-01-02T08:15:00Z,free_T,250,pmol/L,,,
2024-01-02T08:15:00Z,shbg,31.4,nmol/L,10,57,13967-5
2024-02-01,testosterone,>1500,ng/dL,,,
2024-02-01,sperm,0,million/mL,15,,
2024-02-01,fsh,0.3,[IU]/L,,,
2024-02-01,inhibin_b,<10,pg/mL,,,
"""


def test_csv_reads_units_censoring_and_codes() -> None:
    records, wheres = read_labs(LABS, "P-1")
    assert wheres[0] == "line 2"
    t, lh, e2 = records[0], records[1], records[2]
    assert (t.analyte, t.value, t.unit, t.censor, t.loinc) == (
        "total_testosterone", 512.5, "ng/dL", "", "2986-8")
    assert (lh.value, lh.censor, lh.unit, lh.ref_low) == (0.2, "<", "mIU/mL", 1.5)
    assert e2.loinc == "14715-7"
    assert e2.canonical == pytest.approx(101.3 / 3.6713)
    assert records[5].censor == ">"
    assert records[7].unit == "IU/L"  # UCUM code accepted
    assert records[3].loinc is None  # no verified LOINC for free T in pmol/L


@pytest.mark.parametrize(("write", "read"), [(write_labs, read_labs), (write_bundle, read_bundle)])
def test_round_trip_is_lossless(write: object, read: object) -> None:
    records, _ = read_labs(LABS, "P-1")
    text = write(records, "P-1")  # type: ignore[operator]
    again, _ = read(text, "P-1")  # type: ignore[operator]
    assert again == records
    assert write(again, "P-1") == text  # type: ignore[operator]


def test_fhir_export_uses_loinc_ucum_and_comparator() -> None:
    records, _ = read_labs(LABS, "P-1")
    bundle = json.loads(write_bundle(records, "P-1"))
    lh = bundle["entry"][1]["resource"]
    assert lh["code"]["coding"][0] == {"system": "http://loinc.org", "code": "10501-5",
                                       "display": "LH"}
    assert lh["valueQuantity"] == {"value": 0.2, "unit": "mIU/mL", "comparator": "<",
                                   "system": "http://unitsofmeasure.org", "code": "m[IU]/mL"}
    assert lh["referenceRange"][0]["low"]["value"] == 1.5
    assert lh["subject"]["reference"] == "Patient/P-1"
    free_t = bundle["entry"][3]["resource"]
    assert "coding" not in free_t["code"]
    assert free_t["code"]["text"] == "free_testosterone"


@pytest.mark.parametrize(("row", "field", "problem"), [
    ("2024-01-02,cortisol,10,ug/dL", "line 2.analyte", "unknown analyte"),
    ("2024-01-02,T,10,mg/dL", "line 2.unit", "unknown unit"),
    ("2024-01-02,T,-5,ng/dL", "line 2.value", "impossible value"),
    ("2024-01-02,T,50000,ng/dL", "line 2.value", "impossible"),
    ("2024-01-02,LH,0,IU/L", "line 2.value", "not a measurement"),
    ("2024-01-02,T,abc,ng/dL", "line 2.value", "not a number"),
    ("2024-13-02,T,500,ng/dL", "line 2.date", "not an ISO 8601"),
    ("2024-01-02,T,500,ng/dL,,,2243-4", "line 2.loinc", "LOINC 2243-4 is E2"),
    ("2024-01-02,T,500,ng/dL,900,300,", "line 2.ref_high", "empty"),
])
def test_bad_rows_name_line_and_field(row: str, field: str, problem: str) -> None:
    header = "date,analyte,value,unit,ref_low,ref_high,loinc\n"
    with pytest.raises(InputError) as err:
        read_labs(header + row + "\n", "P-1")
    assert err.value.field == field
    assert problem in err.value.problem


def test_bad_header_and_other_patient() -> None:
    with pytest.raises(InputError, match="unknown column"):
        read_labs("date,analyte,valu,unit\n", "P-1")
    with pytest.raises(InputError, match="another patient") as err:
        read_labs("patient,date,analyte,value,unit\nP-2,2024-01-02,T,500,ng/dL\n", "P-1")
    assert err.value.field == "line 2.patient"


def test_dates_and_duplicates_checked_against_birth_and_now() -> None:
    records, wheres = read_labs(LABS, "P-1")
    now = datetime(2024, 6, 1, tzinfo=UTC)
    times = [r.taken_at for r in records]
    keys = [(r.taken_at, r.analyte) for r in records]

    def check(info: PatientInfo, when: datetime = now) -> None:
        check_history(times, keys, wheres, what="lab", same="analyte", patient=info, now=when)

    check(PatientInfo("P-1", date(1990, 1, 1)))
    with pytest.raises(InputError, match="future") as err:
        check(PatientInfo("P-1"), datetime(2024, 1, 10, tzinfo=UTC))
    assert err.value.field == "line 7.date"
    with pytest.raises(InputError, match="before the patient's birth"):
        check(PatientInfo("P-1", date(2024, 1, 15)))
    # an age-estimated birth date allows a year of slack
    check(PatientInfo("P-1", date(2024, 1, 15), birth_date_estimated=True))
    with pytest.raises(InputError, match="duplicate lab") as err:
        check_history(times + times[:1], keys + keys[:1], [*wheres, "line 11"], what="lab",
                      same="analyte", patient=PatientInfo("P-1"), now=now)
    assert err.value.field == "line 11.date"


@pytest.mark.parametrize(("mutate", "field"), [
    (lambda b: b.update(resourceType="Observation"), "bundle.resourceType"),
    (lambda b: b["entry"][0]["resource"].pop("valueQuantity"), "entry[0].resource.valueQuantity"),
    (lambda b: b["entry"][0]["resource"]["code"]["coding"][0].update(code="1234-5"),
     "entry[0].resource.code.coding"),
    (lambda b: b["entry"][0]["resource"]["valueQuantity"].update(value="x"),
     "entry[0].resource.valueQuantity.value"),
    (lambda b: b["entry"][0]["resource"]["valueQuantity"].update(code="mg"),
     "entry[0].resource.valueQuantity.unit"),
    (lambda b: b["entry"][0]["resource"].update(effectiveDateTime="2024-01"),
     "entry[0].resource.effectiveDateTime"),
])
def test_malformed_fhir_is_refused_with_its_path(mutate: object, field: str) -> None:
    records, _ = read_labs(LABS, "P-1")
    bundle = json.loads(write_bundle(records, "P-1"))
    mutate(bundle)  # type: ignore[operator]
    with pytest.raises(InputError) as err:
        read_bundle(json.dumps(bundle), "P-1")
    assert err.value.field == field
    with pytest.raises(InputError, match="not valid JSON"):
        read_bundle("{", "P-1")


def test_fhir_skips_other_resources() -> None:
    records, _ = read_labs(LABS, "P-1")
    bundle = json.loads(write_bundle(records[:2], "P-1"))
    bundle["entry"].insert(0, {"resource": {"resourceType": "Patient", "id": "P-1"}})
    again, wheres = read_bundle(json.dumps(bundle), "P-1")
    assert again == records[:2]
    assert wheres == ["entry[1]", "entry[2]"]


def test_doses_csv_round_trip_and_checks() -> None:
    text = ("date,drug,dose,route\n2024-01-01T09:00:00Z,TC,150 mg,im\n"
            "2024-01-08T09:00:00Z,hcg,1500 IU,\n2024-01-09,anastrozole,0.5 mg,\n")
    doses, _ = read_doses(text, "P-1")
    assert [d.drug for d in doses] == ["testosterone_cypionate", "hcg", "anastrozole"]
    assert doses[1].route == "sc"
    again, _ = read_doses(write_doses(doses, "P-1"), "P-1")
    assert again == doses
    with pytest.raises(InputError, match="dosed in IU") as err:
        read_doses("date,drug,dose\n2024-01-01,hcg,150 mg\n", "P-1")
    assert err.value.field == "line 2.dose"
    with pytest.raises(InputError, match="unknown drug") as err:
        read_doses("date,drug,dose\n2024-01-01,unobtainium,1 mg\n", "P-1")
    assert err.value.field == "line 2.drug"


def test_parse_value() -> None:
    assert parse_value(" < 0.5 ", "v") == (0.5, "<")
    with pytest.raises(InputError, match="not a number"):
        parse_value("<=0.5", "v")
    assert parse_value("1e3", "v") == (1000.0, "")
