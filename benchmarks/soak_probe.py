"""SoakProbe: a benchmark-only Scrapy extension that samples the crawl process's memory.

Enabled by benchmarks/soak.py (never by crawler/settings.py) with
-s EXTENSIONS='{"benchmarks.soak_probe.SoakProbe": 900, ...the project's own...}'.

Settings read:
  SOAK_PROBE_FILE    JSONL file to append to; empty disables the probe
  SOAK_PROBE_EVERY   write a sample every N pages (default 1000)

A page is an article response that went through the item pipelines: one
item_scraped, item_dropped or item_error signal. Lines written, one JSON object each:

  {"event": "opened", "t": …, "rss_mb": …, "hwm_mb": …, "self_rss_mb": …, "self_hwm_mb": …, "processes": …,
   "extensions": [...]}                                                          at spider_opened
  {"event": "sample", "pages": N, "elapsed_s": …, "t": …, …the memory fields of "opened"…,
   "scraped": …, "dropped": …, "errors": …, "queued": …, "gc_objects": …}       every SOAK_PROBE_EVERY pages
  {"event": "closed", …the sample fields…, "reason": …, "stats": {...}}         at spider_closed

rss_mb is the RSS of the crawl process and all its descendants (the extraction
workers of extractors.sandbox, the multiprocessing resource tracker), summed
from /proc/<pid>/status, in MiB; hwm_mb the sum of their VmHWM (peak RSS): an
upper bound of the tree's peak, as each process's peak may come at another time
(workers replaced meanwhile are no longer counted). self_rss_mb and
self_hwm_mb are the crawl process's own, and processes the size of the tree;
elapsed_s counts from spider_opened (after the replay index is built); t is the
wall clock (time.time()) so the harness can tell the start-up time; queued is
the scheduler's length (requests waiting), gc_objects the objects the garbage
collector tracks.
"""

from __future__ import annotations

import gc
import json
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.exceptions import NotConfigured

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

_KIB_PER_MIB = 1024


def descendants(pid: int) -> list[int]:
    """The pids of every live descendant of pid (children, their children, …), from /proc/<pid>/stat."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text("ascii", errors="replace")
        except OSError:  # gone meanwhile
            continue
        parent = int(stat.rpartition(")")[2].split()[1])  # the command name in parentheses may hold spaces
        children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def tree_status_mib(field: str, pid: int | None = None) -> tuple[float | None, int]:
    """A memory field summed over the process and its descendants, in MiB, and how many processes were counted."""
    pid = pid or os.getpid()
    values = [proc_status_mib(field, f"/proc/{p}/status") for p in [pid, *descendants(pid)]]
    counted = [v for v in values if v is not None]
    return (round(sum(counted), 1) if counted else None), len(counted)


def proc_status_mib(field: str, status_path: str = "/proc/self/status") -> float | None:
    """A memory field of /proc/self/status (VmRSS, VmHWM, …) in MiB; None where there is no /proc."""
    try:
        with open(status_path, encoding="ascii") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return round(int(line.split()[1]) / _KIB_PER_MIB, 1)  # the kernel writes "VmRSS:  123 kB"
    except OSError:
        return None
    return None


class SoakProbe:
    def __init__(self, crawler: Crawler, path: Path, every: int) -> None:
        self.crawler = crawler
        self.path = path
        self.every = every
        self.scraped = self.dropped = self.errors = 0
        self.started: float | None = None
        self.stream = path.open("a", encoding="utf-8")

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SoakProbe:
        path = crawler.settings.get("SOAK_PROBE_FILE")
        if not path:
            raise NotConfigured("SOAK_PROBE_FILE is not set")
        every = crawler.settings.getint("SOAK_PROBE_EVERY", 1000)
        if every < 1:
            raise NotConfigured(f"SOAK_PROBE_EVERY must be at least 1, got {every}")
        probe = cls(crawler, Path(path), every)
        crawler.signals.connect(probe.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(probe.item_scraped, signal=signals.item_scraped)
        crawler.signals.connect(probe.item_dropped, signal=signals.item_dropped)
        crawler.signals.connect(probe.item_error, signal=signals.item_error)
        crawler.signals.connect(probe.spider_closed, signal=signals.spider_closed)
        return probe

    @property
    def pages(self) -> int:
        return self.scraped + self.dropped + self.errors

    def _write(self, record: dict[str, Any]) -> None:
        self.stream.write(json.dumps(record, ensure_ascii=False) + "\n")
        self.stream.flush()  # a crash leaves every sample taken so far

    @staticmethod
    def _memory() -> dict[str, Any]:
        rss, processes = tree_status_mib("VmRSS")
        return {
            "rss_mb": rss,
            "hwm_mb": tree_status_mib("VmHWM")[0],
            "self_rss_mb": proc_status_mib("VmRSS"),
            "self_hwm_mb": proc_status_mib("VmHWM"),
            "processes": processes,
        }

    def _sample(self) -> dict[str, Any]:
        engine = self.crawler.engine
        scheduler = engine.scheduler if engine is not None else None
        return {
            "pages": self.pages,
            "elapsed_s": round(time.monotonic() - (self.started or time.monotonic()), 3),
            "t": time.time(),
            **self._memory(),
            "scraped": self.scraped,
            "dropped": self.dropped,
            "errors": self.errors,
            "queued": len(scheduler) if scheduler is not None and hasattr(scheduler, "__len__") else None,
            "gc_objects": len(gc.get_objects()),
        }

    def spider_opened(self) -> None:
        self.started = time.monotonic()
        extensions = getattr(self.crawler.extensions, "middlewares", ())
        self._write({
            "event": "opened",
            "t": time.time(),
            **self._memory(),
            "extensions": [f"{type(e).__module__}.{type(e).__qualname__}" for e in extensions],
        })  # fmt: skip

    def _count(self) -> None:
        if self.pages % self.every == 0:
            self._write({"event": "sample", **self._sample()})

    # signal handlers take only the arguments they use (Scrapy passes the ones a handler accepts)
    def item_scraped(self) -> None:
        self.scraped += 1
        self._count()

    def item_dropped(self) -> None:
        self.dropped += 1
        self._count()

    def item_error(self) -> None:
        self.errors += 1
        self._count()

    def spider_closed(self, reason: str) -> None:
        stats = {k: v for k, v in self.crawler.stats.get_stats().items() if isinstance(v, (int, float, str))}
        self._write({"event": "closed", **self._sample(), "reason": reason, "stats": stats})
        self.stream.close()
