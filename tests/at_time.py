"""`python -m tests.at_time WHEN MODULE ARGS…`: run `python -m MODULE ARGS…` with the clock set to WHEN.

For crawls "on" synthetic days (tests/test_health_report.py): time-machine moves the wall clock
(time.time, datetime.now) to WHEN, and it ticks on from there; time.monotonic, which the reactor's
timers use, is left alone. WHEN is an ISO 8601 time with an offset.
"""

from __future__ import annotations

import runpy
import sys
from datetime import datetime

import time_machine


def main() -> None:
    when, module, *args = sys.argv[1:]
    sys.argv = [module, *args]
    with time_machine.travel(datetime.fromisoformat(when), tick=True):
        runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
