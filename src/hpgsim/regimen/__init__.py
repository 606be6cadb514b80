"""Regimens: schedules, phases and tapers, dose checks, protocol files and the compact text form.

    from hpgsim.regimen import parse_regimen, load_protocol
    r = parse_regimen("TC 150 mg q7d x 52w; then hCG 1500 IU 2x/w + clomiphene 25 mg qod x 16w")
    p = load_protocol("examples/post_trt_recovery.yaml")   # p.regimen, p.subject

All times are hours from time 0; day 0 is a Monday unless a protocol says otherwise.
"""

from hpgsim.regimen.checks import check_regimen, weekly_totals
from hpgsim.regimen.model import MAX_EVENTS, WEEKDAYS, Phase, Regimen, RegimenLine
from hpgsim.regimen.protocol import (
    Protocol,
    load_protocol,
    protocol_from_dict,
    regimen_from_schema_lines,
)
from hpgsim.regimen.schedule import Schedule, parse_schedule
from hpgsim.regimen.text import parse_regimen, render_regimen

__all__ = [
    "MAX_EVENTS",
    "WEEKDAYS",
    "Phase",
    "Protocol",
    "Regimen",
    "RegimenLine",
    "Schedule",
    "check_regimen",
    "load_protocol",
    "parse_regimen",
    "parse_schedule",
    "protocol_from_dict",
    "regimen_from_schema_lines",
    "render_regimen",
    "weekly_totals",
]
