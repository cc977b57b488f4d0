"""Command line: ``python -m benchmarks.export_memory [--articles 100000 [300000 ...]] [--formats parquet,jsonl]``.

Peak memory of ``python -m storage export`` as the store grows: fills a temporary SQLite store with synthetic articles
(benchmarks.synthetic's Synthesizer and benchmarks.bulk_fill: the writer's rows, loaded in one go) up to each size in turn, and at each size runs the export in a subprocess, as a reader would, sampling its VmRSS
(/proc/<pid>/status) every 50 ms. Prints per size and format: articles, seconds, the peak of the VmRSS samples, the
last VmHWM read (the kernel's high-water mark of the process's memory, which catches peaks between samples, up to its
last 50 ms), the median VmRSS of the second half of the run, the file size, and checks that the file holds every
article. A streaming export keeps its peak flat as the store grows. (ru_maxrss of the finished child is no use here: the
kernel counts into it the memory of the benchmark process that spawned it.)
"""

from __future__ import annotations

import argparse
import csv
import logging
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy

from benchmarks.bulk_fill import bulk_fill
from benchmarks.storage import server_version, sqlite_database
from benchmarks.synthetic import SEED, Synthesizer, load_sources
from storage import make_engine

logger = logging.getLogger(__name__)

PROJECT_DIR = Path(__file__).resolve().parent.parent
SAMPLE_SECONDS = 0.05
FORMATS = ("parquet", "jsonl", "csv")
_KIB_PER_MIB = 1024


@dataclass
class Run:
    articles: int
    format: str
    seconds: float
    peak_rss_mib: float  # the largest VmRSS sample
    hwm_mib: float  # the last VmHWM read: the process's peak RSS as the kernel counts it
    late_median_mib: float  # median VmRSS over the second half of the samples
    samples: int
    file_bytes: int
    rows: int


def memory_mib(pid: int) -> tuple[float, float] | None:
    """(VmRSS, VmHWM) of a live process in MiB; None once it has gone (or before its memory is set up)."""
    fields = {}
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                name, _, value = line.partition(":")
                if name in ("VmRSS", "VmHWM"):
                    fields[name] = int(value.split()[0]) / _KIB_PER_MIB  # "VmRSS:   123456 kB"
    except (OSError, ValueError):
        return None
    return (fields["VmRSS"], fields["VmHWM"]) if len(fields) == 2 else None


def count_rows(path: Path, kind: str) -> int:
    if kind == "parquet":
        import pyarrow.parquet as parquet

        return parquet.ParquetFile(path).metadata.num_rows
    if kind == "csv":  # bodies hold newlines, inside quoted fields: count records, less the header
        csv.field_size_limit(sys.maxsize)
        with path.open(encoding="utf-8", newline="") as data:
            return sum(1 for _ in csv.reader(data)) - 1
    with path.open("rb") as data:
        return sum(1 for _ in data)


def run_export(url: str, kind: str, out: Path, articles: int) -> Run:
    """`python -m storage export` in a subprocess, its VmRSS sampled every SAMPLE_SECONDS until it exits."""
    command = [sys.executable, "-m", "storage", "export", "--database-url", url, "--format", kind, "--out", str(out)]
    errors = out.with_name(out.name + ".stderr")
    started = time.perf_counter()
    with errors.open("wb") as stderr:
        process = subprocess.Popen(command + ["--timeout", "0"], cwd=PROJECT_DIR, stderr=stderr)
    samples: list[float] = []
    hwm = 0.0
    while True:
        pid, status = os.waitpid(process.pid, os.WNOHANG)
        if pid:
            break
        memory = memory_mib(process.pid)
        if memory is not None:
            samples.append(memory[0])
            hwm = max(hwm, memory[1])
        time.sleep(SAMPLE_SECONDS)
    seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    message = errors.read_text(encoding="utf-8", errors="replace").strip()
    errors.unlink()
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} exited {process.returncode}: {message}")
    late = samples[len(samples) // 2 :] or samples or [0.0]
    return Run(
        articles=articles,
        format=kind,
        seconds=round(seconds, 1),
        peak_rss_mib=round(max(samples, default=0.0), 1),
        hwm_mib=round(hwm, 1),
        late_median_mib=round(statistics.median(late), 1),
        samples=len(samples),
        file_bytes=out.stat().st_size,
        rows=count_rows(out, kind),
    )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.export_memory", description=__doc__.split("\n\n")[1])
    parser.add_argument(
        "--articles", type=int, nargs="+", default=[100_000],
        help="store sizes to export at, filled in turn into one growing store (default: 100000)",
    )  # fmt: skip
    parser.add_argument("--formats", default="parquet", help=f"comma-separated, of: {', '.join(FORMATS)} (default: parquet)")
    parser.add_argument("--seed", type=int, default=SEED, help=f"random seed of the articles (default: {SEED})")
    parser.add_argument(
        "--workers", type=int, default=os.cpu_count() or 1, help="processes preparing the fill's rows (default: all cpus)"
    )
    args = parser.parse_args(argv)
    args.articles = sorted(set(args.articles))
    args.formats = [name.strip() for name in args.formats.split(",") if name.strip()]
    if unknown := set(args.formats) - set(FORMATS):
        parser.error(f"unknown format(s): {', '.join(sorted(unknown))}; choose from {', '.join(FORMATS)}")
    if min(args.articles) < 1:
        parser.error("--articles must be positive")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    logging.getLogger("benchmarks.bulk_fill").setLevel(logging.WARNING)  # the fill's progress lines
    import pyarrow

    command = " ".join(["python -m benchmarks.export_memory", *(argv if argv is not None else sys.argv[1:])])
    print(f"command: {command}")
    print(
        f"python {platform.python_version()}, sqlalchemy {sqlalchemy.__version__}, pyarrow {pyarrow.__version__}, "
        f"{platform.machine()}, {os.cpu_count()} cpus; RSS sampled every {SAMPLE_SECONDS * 1000:.0f} ms"
    )
    runs: list[Run] = []
    with sqlite_database() as url, tempfile.TemporaryDirectory(prefix="caixun_export_") as folder:
        engine = make_engine(url)
        print(f"store: {server_version(engine)}, a temporary file; filled by benchmarks.bulk_fill", flush=True)
        synthesizer = Synthesizer(load_sources(), seed=args.seed)
        print(f"{'articles':>9} {'format':>8} {'seconds':>8} {'peak RSS MiB':>13} {'VmHWM MiB':>10} "
              f"{'late median MiB':>16} {'file MiB':>9} {'rows':>9}", flush=True)  # fmt: skip
        for size in args.articles:
            fill = bulk_fill(engine, synthesizer, size, workers=args.workers)
            logger.info("  filled to %d articles: %d more in %.0f s", size, fill.articles, fill.seconds)
            for kind in args.formats:
                out = Path(folder) / f"articles.{kind}"
                run = run_export(url, kind, out, size)
                out.unlink()
                runs.append(run)
                if run.rows != size:
                    raise RuntimeError(f"the {kind} export holds {run.rows} articles, not {size}")
                print(
                    f"{run.articles:>9} {run.format:>8} {run.seconds:>8.1f} {run.peak_rss_mib:>13.1f} "
                    f"{run.hwm_mib:>10.1f} {run.late_median_mib:>16.1f} {run.file_bytes / 2**20:>9.1f} "
                    f"{run.rows:>9}",
                    flush=True,
                )
        engine.dispose()
    for kind in args.formats:
        mine = [run for run in runs if run.format == kind]
        if len(mine) > 1:
            first, last = mine[0], mine[-1]
            growth = last.hwm_mib - first.hwm_mib
            print(
                f"{kind}: {last.articles / first.articles:.1f}x the articles, peak RSS (VmHWM) {first.hwm_mib:.1f} -> "
                f"{last.hwm_mib:.1f} MiB ({growth:+.1f} MiB, {growth / first.hwm_mib:+.0%})"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
