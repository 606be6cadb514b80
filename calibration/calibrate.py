"""Rerun the model calibration: fit the blocks of a plan against the validation targets.

    python calibration/calibrate.py                          # calibration/plan.yaml, bundled targets
    python calibration/calibrate.py --plan my.yaml --targets other.yaml --out runs/calibration

Writes ``<out>/calibration.json`` (start and fitted value of every parameter, per block the
objective before/after and each target's log-miss) and prints the values to copy into the
parameter tables, each with its informing targets as the source. The tables are the record:
this script proposes, a reviewed commit disposes.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from hpgsim.validation.calibration import calibrate, fits_json, load_plan, tabulated_values
from hpgsim.validation.schema import load_targets

HERE = Path(__file__).parent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--plan", type=Path, default=HERE / "plan.yaml")
    ap.add_argument("--targets", type=Path, default=None, help="target file (default: bundled)")
    ap.add_argument("--out", type=Path, default=Path("runs/calibration"))
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--start", type=Path, default=None,
                    help="calibration.json of an earlier run to start from (default: the tables)")
    args = ap.parse_args()
    plan = load_plan(args.plan)
    entries = load_targets(args.targets).entries
    defaults = tabulated_values()
    start = time.perf_counter()
    start_values = json.loads(args.start.read_text())["values"] if args.start else None
    fixed, fits = calibrate(plan, entries, defaults, workers=args.workers, start=start_values)
    args.out.mkdir(parents=True, exist_ok=True)
    out = fits_json(fixed, fits) | {"seconds": time.perf_counter() - start}
    (args.out / "calibration.json").write_text(json.dumps(out, indent=1))
    print(f"\n{len(fits)} block fits in {out['seconds']:.0f} s; fitted values:")
    for name, value in fixed.items():
        moved = value / defaults[name]
        print(f"  {name:28s} {defaults[name]:10.4g} -> {value:10.4g}  (x{moved:.3f})")


if __name__ == "__main__":
    main()
