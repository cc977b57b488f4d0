"""Command line: ``python -m benchmarks.workers [--pages 2000] [--workers 1,2] [--json FILE]``.

Distributed mode's throughput on one machine: N `python -m crawler worker sina_finance` processes share a
Redis frontier and one PostgreSQL database and crawl a replay archive of synthetic Sina pages (the soak
benchmark's: benchmarks.soak.build_archive, cached under benchmarks/.cache/), with no delays, robots.txt
off and one extraction process per worker (CAIXUN_EXTRACT_WORKERS=1: one core each). Each run gets a
new database and frontier.

Reported, in pages per second:
  workers N       articles stored / the crawl window (first to last article fetch, by the fetch records:
                  process start-up and the idle wait before exit are left out); the wall time too
  scaling         workers 2 / workers 1 (target >= 1.6)
  extraction      the same pages through extraction alone, in a sandbox with one process, the pages
                  already in memory: what one worker could reach if nothing else cost anything;
                  one worker / extraction is the end-to-end efficiency (target >= 0.8)
  CPU             per run, ms of CPU per page by process kind (the workers' main processes, their
                  extraction processes, the PostgreSQL and Redis servers, read from /proc) and the share
                  of the machine's cores kept busy: what bounds the rate on a machine of few cores
  parts           what else a page costs, each alone in this process, in ms of one core per page:
                  reading the WARC (warcio), the write path (one transaction per page into PostgreSQL:
                  the fetch record, the article upsert and its dedup, the crawl state), and extraction
                  in this process (no sandbox)

Exit 1 when a run stores the wrong number of articles or a worker exits non-zero. --check also fails on
missed targets.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from benchmarks import soak
from benchmarks.storage import postgresql_database

PROJECT_DIR = Path(__file__).resolve().parent.parent
DEFAULT_PAGES = 2000
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"
DEFAULT_FRONTIER = "redis://127.0.0.1:6379/0"
SCALING_TARGET = 1.6
EFFICIENCY_TARGET = 0.8


# --- the pages, as the crawl gets them ---------------------------------------------------------------------------


def read_archive(archive: Path) -> tuple[list[tuple[str, dict, bytes]], float]:
    """The archive's article responses (url, headers, body), and the seconds warcio took to read them all."""
    from warcio.archiveiterator import ArchiveIterator

    started = time.perf_counter()
    pages = []
    with archive.open("rb") as stream:
        for record in ArchiveIterator(stream):
            if record.rec_type != "response":
                continue
            url = record.rec_headers.get_header("WARC-Target-URI")
            headers = dict(record.http_headers.headers)
            body = record.content_stream().read()
            if "/api/roll/" not in url:
                pages.append((url, headers, body))
    return pages, time.perf_counter() - started


def extraction_rate(pages: list[tuple[str, dict, bytes]]) -> dict[str, float]:
    """Pages/s through a one-process sandbox (as a worker extracts), and ms per page in this process."""
    from crawler.ingest import sandbox_from_settings
    from extractors import NotAnArticle, Page, extract
    from scrapy.utils.project import get_project_settings

    with sandbox_from_settings(get_project_settings(), workers=1) as sandbox:
        url, headers, body = pages[0]
        sandbox.extract(Page(url, body, headers))  # the worker started and warm before the clock starts
        started = time.perf_counter()
        futures = [sandbox.submit(Page(url, body, headers)) for url, headers, body in pages]
        outcomes = [future.result() for future in futures]
        sandboxed = time.perf_counter() - started
    articles = sum(1 for o in outcomes if o.article is not None)
    started = time.perf_counter()
    for url, headers, body in pages:
        try:
            extract(Page(url, body, headers))
        except NotAnArticle:
            pass
    in_process = time.perf_counter() - started
    return {"sandbox_pages_per_s": len(pages) / sandboxed, "articles": articles,
            "in_process_ms_per_page": 1000 * in_process / len(pages)}  # fmt: skip


def write_path_ms(pages: list[tuple[str, dict, bytes]], database_url: str) -> float:
    """ms per page of the pipeline's write path alone: one transaction per page, as crawler.pipelines stores."""
    from crawler.ingest import close_default_sandbox, extract_page, store_page
    from crawler.items import FetchedPage
    from crawler.store import CrawlStore

    now = datetime.now(timezone.utc)
    items = [FetchedPage(url, url, 200, headers, body, now, "benchmark", {}) for url, headers, body in pages]
    extracted = [extract_page(item) for item in items]  # outside the timing
    close_default_sandbox()
    store = CrawlStore(database_url)
    started = time.perf_counter()
    for item, result in zip(items, extracted):
        with store.sessions.begin() as session:
            store_page(session, item, result, None)
    elapsed = time.perf_counter() - started
    store.close()
    return 1000 * elapsed / len(items)


# --- the workers -------------------------------------------------------------------------------------------------


def worker_command(archive: Path, pages: int, frontier: str, key: str, database_url: str, folder: Path) -> list[str]:
    settings = {
        "REPLAY_WARC": str(archive),
        "CAIXUN_FRONTIER_KEY": key,
        "DOWNLOAD_DELAY": "0",
        "AUTOTHROTTLE_ENABLED": "False",
        "CONCURRENT_REQUESTS_PER_DOMAIN": "8",
        "ROBOTSTXT_OBEY": "False",
        "CAIXUN_EXTRACT_WORKERS": "1",
        "WARC_DIR": str(folder / "warc"),
        "CAIXUN_SPOOL_DIR": str(folder / "spool"),
        "LOG_LEVEL": "INFO",
    }
    command = [sys.executable, "-m", "crawler", "worker", "sina_finance",
               "-a", f"channels={soak.CHANNEL[0]}:{soak.CHANNEL[1]}",
               "-a", f"max_pages={math.ceil(pages / soak.ROLL_PAGE_SIZE)}",
               "--frontier", frontier, "--database-url", database_url, "--exit-when-idle", "1"]  # fmt: skip
    for name, value in settings.items():
        command += ["-s", f"{name}={value}"]
    return command


def crawl_window(database_url: str) -> tuple[int, float]:
    """Articles stored, and seconds from the first to the last article fetch."""
    from sqlalchemy import func, select

    from storage import make_engine
    from storage.models import Fetch, StoredArticle

    engine = make_engine(database_url, create=False)
    with engine.connect() as connection:
        stored = connection.execute(select(func.count()).select_from(StoredArticle)).scalar_one()
        first, last = connection.execute(
            select(func.min(Fetch.fetched_at), func.max(Fetch.fetched_at)).where(Fetch.article_id.is_not(None))
        ).one()
    engine.dispose()
    return stored, (last - first).total_seconds()


def run_workers(count: int, archive: Path, pages: int, frontier: str, admin_url: str, folder: Path) -> dict[str, Any]:
    import redis

    from storage import make_engine

    key = f"caixun-bench-{uuid.uuid4().hex[:8]}:sina_finance"
    client = redis.Redis.from_url(frontier)
    with postgresql_database(admin_url) as database_url:
        try:
            make_engine(database_url).dispose()  # the schema, before the clock starts
            processes, logs = [], []
            servers_before = server_cpu()
            started = time.perf_counter()
            run_folder = Path(tempfile.mkdtemp(prefix=f"{count}-workers-", dir=folder))
            for n in range(count):
                own = run_folder / f"w{n}"
                own.mkdir()
                logs.append(own / "stderr.txt")
                with (own / "stdout.txt").open("w") as out, logs[-1].open("w") as err:
                    command = worker_command(archive, pages, frontier, key, database_url, own)
                    processes.append(subprocess.Popen(command, cwd=PROJECT_DIR, stdout=out, stderr=err,
                                                      env={k: v for k, v in os.environ.items() if k != "DATABASE_URL"}))  # fmt: skip
            cpu = WorkerCPU([p.pid for p in processes])
            codes = [p.wait() for p in processes]
            wall = time.perf_counter() - started
            used = {**cpu.stop(), **{k: v - servers_before[k] for k, v in server_cpu().items()}}
            stored, window = crawl_window(database_url)
        finally:
            keys = list(client.scan_iter(f"{key}:*"))
            if keys:
                client.delete(*keys)
    if any(codes) or stored != pages:
        tails = "\n".join(log.read_text("utf-8", "replace")[-2000:] for log in logs)
        raise RuntimeError(f"{count} worker(s): exit codes {codes}, {stored} of {pages} articles stored\n{tails}")
    return {"workers": count, "stored": stored, "window_s": round(window, 2), "wall_s": round(wall, 2),
            "pages_per_s": round((stored - 1) / window, 2),
            # CPU ms per page over the whole run (start-up included), by process kind; busy: the share of
            # the machine's cores they kept busy over the wall time
            "cpu_ms_per_page": {k: round(1000 * v / stored, 2) for k, v in used.items()},
            "cores_busy": round(sum(used.values()) / (wall * (os.cpu_count() or 1)), 2)}  # fmt: skip


# --- CPU accounting (Linux /proc) ---------------------------------------------------------------------------


_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _stat(pid: int) -> tuple[str, int, float, float] | None:
    """(command name, parent pid, own CPU seconds, CPU seconds of its reaped children) of a process."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    name = text[text.index("(") + 1 : text.rindex(")")]
    fields = text[text.rindex(")") + 2 :].split()
    utime, stime, cutime, cstime = (int(v) / _TICK for v in fields[11:15])
    return name, int(fields[1]), utime + stime, cutime + cstime


def _processes() -> dict[int, tuple[str, int, float, float]]:
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (stat := _stat(int(entry.name))) is not None:
            found[int(entry.name)] = stat
    return found


def server_cpu() -> dict[str, float]:
    """CPU seconds used so far by the PostgreSQL and Redis servers of this machine: every postgres process's
    own time, plus what the postmaster's reaped children (the backends of closed connections) used."""
    totals = {"postgresql": 0.0, "redis": 0.0}
    for pid, (name, parent, own, reaped) in _processes().items():
        if name.startswith("postgres"):
            totals["postgresql"] += own + (reaped if name == "postgres" else 0.0)
        elif name.startswith("redis-server"):
            totals["redis"] += own
    return totals


class WorkerCPU:
    """Samples, every 0.2 s until stopped, the CPU time of worker processes (their main process) and of their
    children (the extraction processes), keeping each process's last reading."""

    def __init__(self, pids: list[int]) -> None:
        import threading

        self.pids = set(pids)
        self.main: dict[int, float] = {}
        self.children: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            for pid, (_, parent, own, _) in _processes().items():
                if pid in self.pids:
                    self.main[pid] = own
                elif parent in self.pids:
                    self.children[pid] = own

    def stop(self) -> dict[str, float]:
        self._stop.set()
        self._thread.join()
        return {"workers_main": sum(self.main.values()), "extraction": sum(self.children.values())}


# --- report ------------------------------------------------------------------------------------------------------


def environment() -> dict[str, Any]:
    return {"python": platform.python_version(), "machine": platform.machine(), "cpus": os.cpu_count(),
            "date": datetime.now(timezone.utc).date().isoformat()}  # fmt: skip


def measure(args: argparse.Namespace) -> dict[str, Any]:
    archive, manifest = soak.build_archive(args.pages, args.cache_dir, log=lambda m: print(m, file=sys.stderr))
    pages, warc_seconds = read_archive(archive)
    if len(pages) != args.pages:
        raise RuntimeError(f"the archive holds {len(pages)} article pages, not {args.pages}")
    command = f"python -m benchmarks.workers --pages {args.pages} --workers {','.join(map(str, args.workers))}"
    command += f" --repeat {args.repeat}" + (f" --json {args.json}" if args.json else "")
    result: dict[str, Any] = {"command": command, "pages": args.pages, "environment": environment(), "runs": []}
    folder = Path(tempfile.mkdtemp(prefix="caixun-workers-"))
    try:
        for count in args.workers:
            for _ in range(args.repeat):
                print(f"{count} worker(s)…", file=sys.stderr)
                result["runs"].append(run_workers(count, archive, args.pages, args.frontier, args.admin_url, folder))
        print("extraction alone…", file=sys.stderr)
        extraction = extraction_rate(pages)
        with postgresql_database(args.admin_url) as write_database:
            print("the write path alone…", file=sys.stderr)
            write_ms = write_path_ms(pages, write_database)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    rate = {c: statistics.median(r["pages_per_s"] for r in result["runs"] if r["workers"] == c) for c in args.workers}
    result["pages_per_s"] = {str(c): round(v, 2) for c, v in rate.items()}
    result["extraction_pages_per_s"] = round(extraction["sandbox_pages_per_s"], 2)
    result["parts_ms_per_page"] = {
        "warc_read": round(1000 * warc_seconds / len(pages), 2),
        "write_path": round(write_ms, 2),
        "extraction_in_process": round(extraction["in_process_ms_per_page"], 2),
    }
    if 1 in rate:
        result["efficiency"] = round(rate[1] / extraction["sandbox_pages_per_s"], 3)
        if 2 in rate:
            result["scaling"] = round(rate[2] / rate[1], 3)
    result["targets"] = {"scaling": SCALING_TARGET, "efficiency": EFFICIENCY_TARGET}
    return result


def text_report(result: dict[str, Any]) -> str:
    lines = [f"{result['pages']} synthetic Sina pages, replayed; one extraction process per worker; "
             f"{result['environment']['cpus']} CPUs"]  # fmt: skip
    for run in result["runs"]:
        lines.append(f"  {run['workers']} worker(s): {run['pages_per_s']:.1f} pages/s "
                     f"({run['stored']} stored in a {run['window_s']:.1f} s window; {run['wall_s']:.1f} s wall)")  # fmt: skip
        cpu = run["cpu_ms_per_page"]
        lines.append(f"    CPU per page: worker {cpu['workers_main']:.1f} ms, extraction {cpu['extraction']:.1f} ms, "
                     f"PostgreSQL {cpu['postgresql']:.1f} ms, Redis {cpu['redis']:.1f} ms; "
                     f"{run['cores_busy']:.0%} of the cores busy")  # fmt: skip
    lines.append(f"  extraction alone (one sandbox process): {result['extraction_pages_per_s']:.1f} pages/s")
    if "scaling" in result:
        lines.append(f"  scaling, 2 workers / 1: {result['scaling']:.2f} (target >= {SCALING_TARGET})")
    if "efficiency" in result:
        lines.append(f"  one worker / extraction alone: {result['efficiency']:.2f} (target >= {EFFICIENCY_TARGET})")
    parts = result["parts_ms_per_page"]
    lines.append(f"  per page, alone: WARC read {parts['warc_read']:.2f} ms, write path {parts['write_path']:.2f} ms, "
                 f"extraction in process {parts['extraction_in_process']:.2f} ms")  # fmt: skip
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.workers", description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=DEFAULT_PAGES, help=f"article pages (default {DEFAULT_PAGES})")
    parser.add_argument("--workers", default="1,2", help="worker counts to run, comma-separated (default 1,2)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per worker count; the median counts (default 1)")
    parser.add_argument("--admin-url", default=os.environ.get("CAIXUN_TEST_POSTGRES_URL", DEFAULT_POSTGRES),
                        help="a PostgreSQL database to create the runs' databases from (default: "
                             "$CAIXUN_TEST_POSTGRES_URL, else the local test database)")  # fmt: skip
    parser.add_argument("--frontier", default=os.environ.get("CAIXUN_TEST_REDIS_URL", DEFAULT_FRONTIER),
                        help="the Redis to use (default: $CAIXUN_TEST_REDIS_URL, else local)")
    parser.add_argument("--cache-dir", type=Path, default=soak.DEFAULT_CACHE, help="where archives are kept")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)
    try:
        args.workers = sorted({int(n) for n in args.workers.split(",") if n.strip()})
    except ValueError:
        parser.error(f"--workers must be whole numbers, got {args.workers!r}")
    if not args.workers or min(args.workers) < 1 or args.pages < 2 or args.repeat < 1:
        parser.error("--workers, --pages (2 or more) and --repeat must be positive")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        result = measure(args)
    except RuntimeError as exc:
        print(f"benchmarks.workers: {exc}", file=sys.stderr)
        return 1
    print(text_report(result))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    missed = (result.get("scaling", SCALING_TARGET) < SCALING_TARGET
              or result.get("efficiency", EFFICIENCY_TARGET) < EFFICIENCY_TARGET)  # fmt: skip
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    sys.exit(main())
