"""End-to-end trial runs: backends agree, resume skips finished chunks, the CLI writes reports."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from hpgsim.population import run_trial, trial_from_dict
from hpgsim.population.backends import DaskCluster, LocalProcesses
from hpgsim.population.cli import trial_command
from hpgsim.population.tables import endpoint_rows
from hpgsim.result import DISCLAIMER

TRIAL: dict[str, Any] = {
    "name": "small",
    "arms": [{"name": "stop", "text": "observe 26w"},
             {"name": "hcg", "text": "hCG 1500 IU sc 2x/w x 8w; then observe 18w"}],
    "cohort": {"size": 6, "seed": 7, "chunk_size": 3,
               "subject": {"age_years": {"mean": 40, "sd": 10, "min": 20, "max": 65},
                           "ancestry": {"asian": 0.3, "non_asian": 0.7}},
               "prior_suppression": {"agent": "testosterone_cypionate", "dose": "150 mg",
                                     "route": "im", "duration": "26 w"}},
    "endpoints": [{"name": "sperm_15", "observable": "sperm_concentration", "threshold": 15},
                  {"name": "t_300", "observable": "total_testosterone", "threshold": 300,
                   "after": "2 w"},
                  {"name": "azoo_4w", "kind": "fraction_at", "observable": "sperm_concentration",
                   "threshold": 0.1, "direction": "below", "at": "4 w"}],
    "outputs": {"output_step": "1 d", "plots": True, "report_at": ["13 w"]},
}


def test_backends_agree_and_resume(tmp_path: Path) -> None:
    spec = trial_from_dict(TRIAL)
    first = run_trial(spec, tmp_path / "a")
    assert first.computed == 2
    assert all(arm.n_ok + arm.n_failed == 6 for arm in first.arms)
    assert first.arms[0].bands["lh"].shape == (3, 26 * 7 + 1)
    rows = endpoint_rows(first)
    assert endpoint_rows(run_trial(spec, tmp_path / "b", LocalProcesses(2))) == rows
    assert run_trial(spec, tmp_path / "a").computed == 0
    (tmp_path / "a" / "chunks" / "chunk0.npz").unlink()
    resumed = run_trial(spec, tmp_path / "a")
    assert resumed.computed == 1
    assert endpoint_rows(resumed) == rows


def test_cli_writes_tables_plots_page_and_trajectories(tmp_path: Path) -> None:
    pq = pytest.importorskip("pyarrow.parquet", reason="pyarrow is not installed (parquet)")
    trial = tmp_path / "trial.yaml"
    data = dict(TRIAL, cohort=dict(TRIAL["cohort"], size=3))
    trial.write_text(yaml.safe_dump(data), encoding="utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(trial_command, [str(trial), "--out", str(out), "--trajectories"])
    assert result.exit_code == 0, result.output
    for name in ("endpoints", "comparison", "km", "bands"):
        csv_rows = list(csv.DictReader((out / f"{name}.csv").open(encoding="utf-8")))
        assert len(pq.read_table(out / f"{name}.parquet").to_pylist()) == len(csv_rows) > 0
    for name in ("km_sperm_15.png", "bands_total_testosterone.png"):
        assert (out / name).stat().st_size > 0
    page = (out / "report.html").read_text(encoding="utf-8")
    assert page.count(DISCLAIMER) == 1
    assert page.count("data:image/png;base64,") == 2 + 4  # 2 KM curves, 4 bands
    assert "http" not in page.replace("http://www.w3.org", "")
    comparison = {r["endpoint"]: r for r in
                  csv.DictReader((out / "comparison.csv").open(encoding="utf-8"))}
    assert set(comparison) == {"sperm_15", "t_300", "azoo_4w"}
    assert 0.0 <= float(comparison["t_300"]["p_value"]) <= 1.0
    traj = pq.read_table(out / "trajectories" / "arm1_chunk0.parquet").to_pydict()
    assert sorted(set(traj["subject"])) == [0, 1, 2]
    assert len(traj["weeks"]) == 3 * (26 * 7 + 1)
    assert "sperm_concentration_million_mL" in traj
    bad = CliRunner().invoke(trial_command, [str(tmp_path / "none.yaml"), "--out", "x"])
    assert bad.exit_code == 1
    assert "file not found" in bad.output


def test_dask_backend_matches_in_process(tmp_path: Path) -> None:
    pytest.importorskip("distributed", reason="dask.distributed is not installed (optional)")
    from distributed import LocalCluster  # type: ignore[import-not-found,unused-ignore]

    spec = trial_from_dict(TRIAL)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True) as cluster:
        backend = DaskCluster(cluster.scheduler_address)
        dask_rows = endpoint_rows(run_trial(spec, tmp_path / "d", backend))
    assert dask_rows == endpoint_rows(run_trial(spec, tmp_path / "i"))
