"""Exit codes of `scrapy crawl`, `python -m crawler run` and `python -m crawler worker`, and how a finished crawl maps to one.

  0   finished (or stopped by a CLOSESPIDER_* limit)
  1   failed: bad settings or spider arguments (scrapy crawl: an unknown -a name too), a setting
      whose extra is not installed (CAIXUN_REPORT: report; CAIXUN_FRONTIER: distributed), a source
      whose first list page gave nothing (it always lists some), a shutdown, …
  2   usage: a bad command line (python -m crawler run and worker: an unknown -a name too), a bad
      database URL, or a PostgreSQL database or role that does not exist (the message says what to create)
  3   banned by a site (HTTP 456 or its ban page): the summary names which; the other sites
      finished. Back off before the next run
  4   field coverage below the thresholds: the site's template probably changed
  5   the database was unreachable (pages fetched meanwhile are in the spool, or counted as lost)
  6   the frontier (Redis, distributed mode) was unreachable: the worker stopped; what it had taken
      stays leased in Redis and is queued again when the leases run out
  73  a folder or file the crawl must write cannot be written (EX_CANTCREAT); the message names it;
      also a run that went well but could not write its health report (CAIXUN_REPORT)
  75  another run on one of the same sites and database is still going (EX_TEMPFAIL): nothing done

Components mark a run failed with crawler.store.mark_run_failed(stats, kind, message),
which sets caixun/failure/<kind>; the worst kind decides the code.
"""

from __future__ import annotations

import re

OK = 0
FAILED = 1
USAGE = 2
BANNED = 3
COVERAGE = 4
DATABASE = 5
FRONTIER = 6
CANNOT_WRITE = 73
ALREADY_RUNNING = 75

# caixun/failure/<kind> → exit code, most important first
FAILURE_CODES = {"frontier": FRONTIER, "database": DATABASE, "coverage": COVERAGE, "discovery": FAILED}


def exit_code_for(finish_reason: str | None, stats: dict | None = None) -> int:
    stats = stats or {}
    finished = finish_reason == "finished" or (finish_reason or "").startswith("closespider_")
    if finish_reason == "banned" or (finished and stats.get("caixun/ban/detected")):
        return BANNED  # every site banned, or some banned while the others finished
    for kind, code in FAILURE_CODES.items():
        if stats.get(f"caixun/failure/{kind}"):
            return code
    if stats.get("caixun/run_failed"):
        return FAILED
    if finished:
        return OK
    return FAILED


def described() -> str:
    """The codes and their meanings as this module's docstring gives them (for --help texts)."""
    return next(part for part in __doc__.split("\n\n") if re.match(r"\s+0\s", part))
