"""Command line: ``python -m benchmarks.soak [--pages 50000] [--database-url URL] [--out benchmarks/results/]``.

A soak test of the real crawl: synthesizes a replay archive (gzip WARC) of N Sina article pages and ceil(N/50)
roll-API pages, runs ``scrapy crawl sina_finance`` over it in a subprocess (REPLAY_WARC, no network, no delays) with
the benchmark-only extension benchmarks.soak_probe.SoakProbe sampling the RSS of the crawl process and its extraction
workers (summed over the process tree), and reports pages/s, peak RSS and whether memory stays flat. Exits 1 when the crawl fails (or stores the wrong number of articles); with
--check, also when memory grows by 100 MiB or more.

The pages are the Sina article fixtures (tests/fixtures/sina*/, those the Sina rule calls articles and that extract
as articles), each served at its own synthetic URL with: a numbered <h1> title, og:url/canonical set to that URL, and
a first paragraph naming the page, followed by paragraphs drawn (fixed seed) from the fixtures' expected bodies, about
as long as the original body, so that no two bodies are near duplicates (see "Synthesis" in benchmarks/README.md).
The archive is cached under benchmarks/.cache/ (keyed by page count, generator version and fixture content).

Memory flatness (the 100 MiB rule): baseline = median VmRSS of the samples taken while the second half of the first
W pages were processed (pages W/2..W), final = median VmRSS of the samples taken during the last W/2 pages (N-W/2..N),
where W = min(10,000, N/5): at N = 50,000, the median over pages 5k–10k against the median over pages 45k–50k.
growth = final - baseline; PASS when growth < 100 MiB. The first W/2 pages are left out as warm-up (imports, caches,
the scheduler filling). RSS at page W and at the end are reported as a second, point-to-point figure."""

from __future__ import annotations

import argparse
import gzip
import hashlib
import html
import json
import math
import os
import platform
import random
import re
import shlex
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from io import BytesIO
from pathlib import Path
from typing import Any

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

PROJECT_DIR = Path(__file__).resolve().parent.parent
DEFAULT_OUT = PROJECT_DIR / "benchmarks" / "results"
DEFAULT_CACHE = PROJECT_DIR / "benchmarks" / ".cache"
DEFAULT_PAGES = 50_000
GENERATOR_VERSION = 1  # bump when the synthesized pages change, so cached archives are rebuilt
SEED = 20261129
CHANNEL = (153, 2516)
ROLL_PAGE_SIZE = 50  # crawler.rollapi.PAGE_SIZE
GROWTH_LIMIT_MIB = 100.0
WINDOW_PAGES = 10_000  # "the first / last 10,000 pages"
CST = timezone(timedelta(hours=8))
NEWEST = datetime(2026, 11, 29, 8, 0, tzinfo=CST)  # ctime of page 1; each next page is 30 s older
STEP = timedelta(seconds=30)
GZIP_LEVEL = 6
STATS_KEPT = ("caixun/", "item_", "downloader/response_count", "downloader/response_status_count", "log_count/",
              "finish_reason", "elapsed_time_seconds")  # crawl stats copied into the results  # fmt: skip


# --- synthesis ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Template:
    """A fixture page cut at the places a synthetic page differs: canonical URLs, the title, the body's start."""

    name: str
    charset: str
    chunks: tuple[bytes, ...]  # len(slots) + 1 pieces of the page, the slots between them
    slots: tuple[str, ...]  # "url", "title" or "body", in page order
    title: str
    body_chars: int
    extractor: str


_SIMPLE_SELECTOR = re.compile(r"^(\w+)?(?:#([\w-]+))?(?:\.([\w-]+))?$")
_OPEN_TAG = re.compile(rb"<(\w+)(\s[^>]*)?>")
_ATTR = re.compile(rb"""([\w:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""")
_CANONICAL_TAGS = (
    re.compile(rb"<meta\b[^>]*\bproperty\s*=\s*[\"']og:url[\"'][^>]*>", re.I),
    re.compile(rb"<link\b[^>]*\brel\s*=\s*[\"']?canonical\b[^>]*>", re.I),
)
_URL_ATTR = re.compile(rb"""\b(?:content|href)\s*=\s*(?:"([^"]*)"|'([^']*)')""", re.I)


def _attributes(raw: bytes | None) -> dict[bytes, bytes]:
    return {m.group(1).lower(): m.group(2) or m.group(3) or m.group(4) or b"" for m in _ATTR.finditer(raw or b"")}


def _find_open_tag(page: bytes, selector: str) -> re.Match[bytes] | None:
    """The first opening tag matching a simple CSS selector (tag, #id, .class, or tag#id / tag.class)."""
    parsed = _SIMPLE_SELECTOR.match(selector)
    if not parsed:
        return None
    tag, ident, klass = (part.encode() if part else None for part in parsed.groups())
    for match in _OPEN_TAG.finditer(page):
        if tag and match.group(1).lower() != tag:
            continue
        attributes = _attributes(match.group(2))
        if ident and attributes.get(b"id") != ident:
            continue
        if klass and klass not in attributes.get(b"class", b"").split():
            continue
        return match
    return None


def _cut_points(page: bytes, layout: Any) -> list[tuple[int, int, str]]:
    """(start, end, slot) spans of the page to replace, in page order; raises ValueError when a place is missing."""
    spans: list[tuple[int, int, str]] = []
    for pattern in _CANONICAL_TAGS:
        for tag in pattern.finditer(page):
            value = _URL_ATTR.search(tag.group(0))
            if value:
                group = 1 if value.group(1) is not None else 2
                spans.append((tag.start() + value.start(group), tag.start() + value.end(group), "url"))
    title = next((m for m in (_find_open_tag(page, s) for s in layout.title) if m), None)
    if title is None:
        raise ValueError(f"no title element ({', '.join(layout.title)})")
    close = page.find(f"</{title.group(1).decode()}".encode(), title.end())
    if close < 0:
        raise ValueError("the title element is not closed")
    spans.append((close, close, "title"))  # the page number goes at the end of the title
    body = next((m for m in (_find_open_tag(page, s) for s in layout.body) if m), None)
    if body is None:
        raise ValueError(f"no body container ({', '.join(layout.body)})")
    spans.append((body.end(), body.end(), "body"))  # new paragraphs open the body
    return sorted(spans)


def load_templates() -> tuple[list[Template], list[str]]:
    """The Sina article fixtures as templates (their URL is an article to the Sina rule, they extract as one
    through a Sina layout), and why the others were left out."""
    from extractors import NotAnArticle, Page, extract, rule_named
    from extractors.decoding import decode_html
    from tests.helpers import fixtures

    rule = rule_named("sina")
    layouts = {layout.name: layout for layout in rule.layouts}
    templates, skipped = [], []
    for fixture in fixtures("sina", kind="article"):
        if rule.classify_url(fixture.url) != "article":
            skipped.append(f"{fixture.name}: the Sina rule does not call its URL an article")
            continue
        body = fixture.body
        try:
            article = extract(Page(url=fixture.url, body=body, headers={"Content-Type": "text/html"}))
        except NotAnArticle as exc:
            skipped.append(f"{fixture.name}: not an article ({exc})")
            continue
        rule_name, _, layout_name = article.extractor.split("@")[0].partition("/")
        layout = layouts.get(layout_name) if rule_name == "sina" else None
        if layout is None or not article.title or not article.body:
            skipped.append(f"{fixture.name}: no title and body through a Sina layout ({article.extractor})")
            continue
        try:
            spans = _cut_points(body, layout)
        except ValueError as exc:
            skipped.append(f"{fixture.name}: {exc}")
            continue
        chunks, position = [], 0
        for start, end, _ in spans:
            chunks.append(body[position:start])
            position = end
        chunks.append(body[position:])
        charset = decode_html(body, "text/html").encoding
        templates.append(Template(fixture.name, charset, tuple(chunks), tuple(s for _, _, s in spans), article.title,
                                  len(article.body), article.extractor))  # fmt: skip
    return templates, skipped


def paragraph_pool() -> list[str]:
    """Distinct paragraphs (20+ characters) of every fixture's expected body: the filler of synthetic bodies."""
    from tests.helpers import fixtures

    seen: dict[str, None] = {}
    for fixture in fixtures():
        for line in (fixture.expected.get("body") or "").split("\n"):
            line = line.strip()
            if len(line) >= 20:
                seen[line] = None
    if not seen:
        raise RuntimeError("no fixture has an expected body to draw filler paragraphs from")
    return list(seen)


def article_url(number: int, ctime: datetime) -> str:
    """Page `number` (1-based) → …/roll/YYYY-MM-DD/doc-i<7 letters><7 digits>.shtml, distinct per number."""
    letters, rest = "", number
    for _ in range(7):
        rest, digit = divmod(rest, 26)
        letters = chr(ord("a") + digit) + letters
    digits = (number * 7_654_321 + 1_234_567) % 10_000_000
    return f"https://finance.sina.com.cn/roll/{ctime.astimezone(CST):%Y-%m-%d}/doc-i{letters}{digits:07d}.shtml"


@dataclass(frozen=True)
class SyntheticPage:
    number: int
    url: str
    title: str
    ctime: datetime
    body: bytes
    template: Template
    lead: str  # the first paragraph, unique to the page
    filler: tuple[str, ...]


def synthesize(number: int, templates: list[Template], pool: list[str]) -> SyntheticPage:
    """Page `number` (1-based): template number % len(templates), made unique. Deterministic."""
    template = templates[(number - 1) % len(templates)]
    ctime = NEWEST - STEP * (number - 1)
    url = article_url(number, ctime)
    title = f"{template.title}（第{number}篇）"
    token = hashlib.sha256(f"{SEED}:{number}".encode()).hexdigest()[:12]
    lead = f"本文为压力测试样本第{number}篇，校验码{token}，内容由测试语料重组而成。"
    rng = random.Random(SEED * 1_000_003 + number)
    filler: list[str] = []
    want = max(200, template.body_chars)  # about as much new text as the page had: no near duplicates
    while sum(map(len, filler)) < want:
        filler.append(rng.choice(pool))
    charset = template.charset
    values = {
        "url": html.escape(url).encode(charset),
        "title": html.escape(f"（第{number}篇）").encode(charset, "xmlcharrefreplace"),
        "body": "".join(f"<p>{html.escape(p)}</p>" for p in (lead, *filler)).encode(charset, "xmlcharrefreplace"),
    }
    parts = [template.chunks[0]]
    for slot, chunk in zip(template.slots, template.chunks[1:]):
        parts += [values[slot], chunk]
    return SyntheticPage(number, url, title, ctime, b"".join(parts), template, lead, tuple(filler))


def check_page(page: SyntheticPage) -> list[str]:
    """What is wrong with a synthetic page's extraction (title, lead paragraph, filler, canonical URL, extractor)."""
    from w3lib.url import canonicalize_url

    from extractors import NotAnArticle, Page, extract

    try:
        article = extract(Page(url=page.url, body=page.body, headers={"Content-Type": "text/html"}))
    except NotAnArticle as exc:
        return [f"not an article: {exc}"]
    problems = []
    if article.title != page.title:
        problems.append(f"title {article.title!r}, expected {page.title!r}")
    if page.lead not in article.body:
        problems.append("the unique first paragraph is not in the body")
    if not all(p in article.body for p in page.filler):
        problems.append("a filler paragraph is missing from the body")
    if article.canonical_url != canonicalize_url(page.url):
        problems.append(f"canonical URL {article.canonical_url!r}, expected {page.url!r}")
    if article.extractor != page.template.extractor:
        problems.append(f"extractor {article.extractor}, expected {page.template.extractor}")
    return problems


def usable_templates() -> tuple[list[Template], list[str], list[str]]:
    """Templates whose synthetic page extracts as intended; the pool; the reasons fixtures were left out."""
    templates, skipped = load_templates()
    pool = paragraph_pool()
    kept = []
    for template in templates:
        problems = check_page(synthesize(1, [template], pool))
        if problems:
            skipped.append(f"{template.name}: synthetic page {'; '.join(problems)}")
        else:
            kept.append(template)
    if not kept:
        raise RuntimeError("no Sina article fixture can be turned into a synthetic page:\n  " + "\n  ".join(skipped))
    return kept, pool, skipped


def roll_body(pages: list[SyntheticPage]) -> bytes:
    """A roll-API answer listing these pages (newest first), as crawler.rollapi.parse_roll_page reads it."""
    items = [
        {
            "url": p.url,
            "title": p.title,
            "intro": p.lead,
            "media_name": "新浪财经",
            "ctime": str(int(p.ctime.timestamp())),
            "mtime": str(int(p.ctime.timestamp())),
        }
        for p in pages
    ]
    from tests.helpers import roll_api_body

    return roll_api_body(items)


def _gzip_record(url: str, content_type: str, body: bytes) -> bytes:
    """One WARC response record as its own gzip member (as write_warc in tests/helpers.py, at GZIP_LEVEL)."""
    buffer = BytesIO()
    writer = WARCWriter(buffer, gzip=False)
    headers = [("Content-Type", content_type), ("Content-Length", str(len(body)))]
    http_headers = StatusAndHeaders("200 OK", headers, protocol="HTTP/1.1")
    writer.write_record(writer.create_warc_record(url, "response", payload=BytesIO(body), http_headers=http_headers))
    return gzip.compress(buffer.getvalue(), compresslevel=GZIP_LEVEL, mtime=0)


def _records(pages: int, templates: list[Template], pool: list[str], stats: dict) -> Iterator[bytes]:
    from crawler.rollapi import roll_api_url

    for roll_page in range(1, math.ceil(pages / ROLL_PAGE_SIZE) + 1):
        numbers = range((roll_page - 1) * ROLL_PAGE_SIZE + 1, min(pages, roll_page * ROLL_PAGE_SIZE) + 1)
        batch = [synthesize(n, templates, pool) for n in numbers]
        yield _gzip_record(roll_api_url(*CHANNEL, roll_page), "application/json; charset=utf-8", roll_body(batch))
        for page in batch:
            stats["html_bytes"] += len(page.body)
            stats["pages"] += 1
            yield _gzip_record(page.url, "text/html", page.body)


def archive_key(pages: int, templates: list[Template], pool: list[str]) -> str:
    digest = hashlib.sha256()
    for template in templates:
        digest.update(template.name.encode())
        for chunk in template.chunks:
            digest.update(hashlib.sha256(chunk).digest())
    digest.update("\n".join(pool).encode())
    return f"soak-{pages}-g{GENERATOR_VERSION}-{digest.hexdigest()[:10]}"


def build_archive(pages: int, cache_dir: Path, *, log=print) -> tuple[Path, dict]:
    """The replay archive for `pages` pages, built or taken from the cache; and its manifest."""
    started = time.perf_counter()
    templates, pool, skipped = usable_templates()
    key = archive_key(pages, templates, pool)
    warc, manifest_path = cache_dir / f"{key}.warc.gz", cache_dir / f"{key}.json"
    if warc.is_file() and manifest_path.is_file():
        manifest = json.loads(manifest_path.read_text("utf-8"))
        if manifest.get("warc_bytes") == warc.stat().st_size:
            log(f"replay archive: {warc} (cached)")
            return warc, {**manifest, "cached": True}
    cache_dir.mkdir(parents=True, exist_ok=True)
    for number in random.Random(SEED).sample(range(1, pages + 1), min(pages, 20)):  # spot checks beyond page 1
        problems = check_page(synthesize(number, templates, pool))
        if problems:
            raise RuntimeError(f"synthetic page {number}: {'; '.join(problems)}")
    log(f"building the replay archive: {pages} article pages from {len(templates)} fixtures → {warc}")
    stats = {"html_bytes": 0, "pages": 0}
    partial = warc.with_suffix(".partial")
    with partial.open("wb") as stream:
        for record in _records(pages, templates, pool, stats):
            stream.write(record)
            if stats["pages"] % 10_000 == 0 and stats["pages"] and stats["pages"] != stats.get("logged"):
                stats["logged"] = stats["pages"]
                log(f"  {stats['pages']:,} pages, {time.perf_counter() - started:,.0f} s")
    partial.replace(warc)
    manifest = {
        "key": key,
        "generator_version": GENERATOR_VERSION,
        "pages": pages,
        "roll_pages": math.ceil(pages / ROLL_PAGE_SIZE),
        "templates": [t.name for t in templates],
        "skipped_fixtures": skipped,
        "paragraph_pool": len(pool),
        "html_bytes": stats["html_bytes"],
        "warc_bytes": warc.stat().st_size,
        "build_seconds": round(time.perf_counter() - started, 1),
    }
    manifest_path.write_text(json.dumps(manifest, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    log(f"  {manifest['warc_bytes'] / 2**20:,.1f} MiB written in {manifest['build_seconds']} s")
    return warc, {**manifest, "cached": False}


# --- the crawl ----------------------------------------------------------------------------------------------------


def extensions_setting() -> str:
    """EXTENSIONS for -s: the project's own plus the probe. -s EXTENSIONS replaces the project's dict (command-line
    priority beats project priority; only EXTENSIONS_BASE is merged in), so the project's extensions are repeated."""
    from crawler import settings as project_settings

    return json.dumps({**project_settings.EXTENSIONS, "benchmarks.soak_probe.SoakProbe": 900})


def crawl_command(archive: Path, database_url: str, pages: int, probe_file: Path, *, concurrency: int = 8,
                  sample_every: int = 1000, extra_settings: dict[str, str] | None = None,
                  python: str = sys.executable) -> list[str]:  # fmt: skip
    """The one place the crawl's command line is made (switch it here to `python -m crawler run …`).

    extra_settings (--setting KEY=VALUE) come last and override the benchmark's own."""
    settings = {
        "REPLAY_WARC": str(archive),
        "DATABASE_URL": database_url,
        "DOWNLOAD_DELAY": "0",
        "AUTOTHROTTLE_ENABLED": "False",
        "CONCURRENT_REQUESTS_PER_DOMAIN": str(concurrency),
        "ROBOTSTXT_OBEY": "False",
        "LOG_LEVEL": "INFO",
        "EXTENSIONS": extensions_setting(),
        "SOAK_PROBE_FILE": str(probe_file),
        "SOAK_PROBE_EVERY": str(sample_every),
        **(extra_settings or {}),
    }
    command = [python, "-m", "scrapy", "crawl", "sina_finance",
               "-a", f"channels={CHANNEL[0]}:{CHANNEL[1]}", "-a", f"max_pages={math.ceil(pages / ROLL_PAGE_SIZE)}"]  # fmt: skip
    for key, value in settings.items():
        command += ["-s", f"{key}={value}"]
    return command


@dataclass
class CrawlRun:
    returncode: int
    wall_seconds: float
    started_at: float  # time.time() at launch
    maxrss_mib: float  # ru_maxrss of the child (getrusage via wait4)
    stderr_path: Path

    def stderr_tail(self, lines: int = 40) -> str:
        text = self.stderr_path.read_text("utf-8", errors="replace").splitlines()
        return "\n".join(text[-lines:])


def run_crawl(command: list[str], workdir: Path, timeout: float) -> CrawlRun:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}  # never the developer's database
    stdout_path, stderr_path = workdir / "crawl.stdout", workdir / "crawl.stderr"
    with stdout_path.open("wb") as stdout, stderr_path.open("wb") as stderr:
        started_at, started = time.time(), time.perf_counter()
        process = subprocess.Popen(command, cwd=PROJECT_DIR, env=env, stdout=stdout, stderr=stderr)
        timer = threading.Timer(timeout, process.kill)
        timer.start()
        try:
            _, status, usage = os.wait4(process.pid, 0)  # the child's own peak RSS, not any other child's
        finally:
            timer.cancel()
        wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)  # reaped by wait4: tell Popen
    if not timer.is_alive() and wall >= timeout:
        raise RuntimeError(f"the crawl ran past --timeout {timeout:.0f} s and was killed; log: {stderr_path}")
    return CrawlRun(process.returncode, wall, started_at, round(usage.ru_maxrss / 1024, 1), stderr_path)


# --- analysis -----------------------------------------------------------------------------------------------------


def read_probe(path: Path) -> tuple[dict | None, list[dict], dict | None]:
    """(opened, samples in page order, closed) from the probe's JSONL."""
    opened = closed = None
    samples = []
    if path.is_file():
        for line in path.read_text("utf-8").splitlines():
            record = json.loads(line)
            event = record.pop("event", None)
            if event == "opened":
                opened = record
            elif event == "closed":
                closed = record
            elif event == "sample":
                samples.append(record)
    return opened, sorted(samples, key=lambda s: s["pages"]), closed


def memory_windows(pages: int) -> tuple[int, tuple[int, int], tuple[int, int]]:
    """W and the two windows (inclusive page ranges) the growth rule compares."""
    window = max(2, min(WINDOW_PAGES, pages // 5))
    return window, (window // 2, window), (pages - window // 2, pages)


def _median_rss(samples: list[dict], low: int, high: int) -> tuple[float | None, int]:
    values = [s["rss_mb"] for s in samples if low <= s["pages"] <= high and s.get("rss_mb") is not None]
    return (round(statistics.median(values), 1) if values else None), len(values)


def _at(samples: list[dict], pages: int) -> dict | None:
    """The first sample at or past `pages` pages."""
    return next((s for s in samples if s["pages"] >= pages), None)


def analyse(pages: int, samples: list[dict], closed: dict | None) -> dict[str, Any]:
    series = list(samples)
    if closed and (not series or closed["pages"] > series[-1]["pages"]):
        series.append({k: closed[k] for k in ("pages", "elapsed_s", "rss_mb", "hwm_mb", "queued", "gc_objects")})
    window, first, last = memory_windows(pages)
    baseline, baseline_n = _median_rss(series, *first)
    final, final_n = _median_rss(series, *last)
    growth = round(final - baseline, 1) if baseline is not None and final is not None else None
    at_window, at_end = _at(series, window), series[-1] if series else None
    point_growth = (
        round(at_end["rss_mb"] - at_window["rss_mb"], 1) if at_window and at_end and at_end is not at_window else None
    )
    # steady state: from page W/2 (warm-up over) to the last sample
    start, end = _at(series, window // 2), at_end
    steady = None
    if start and end and end["elapsed_s"] > start["elapsed_s"]:
        steady = round((end["pages"] - start["pages"]) / (end["elapsed_s"] - start["elapsed_s"]), 1)
    tenths = []
    previous = {"pages": 0, "elapsed_s": 0.0}
    for tenth in range(1, 11):
        mark = _at(series, math.ceil(pages * tenth / 10))
        if mark and mark["elapsed_s"] > previous["elapsed_s"] and mark["pages"] > previous["pages"]:
            tenths.append(round((mark["pages"] - previous["pages"]) / (mark["elapsed_s"] - previous["elapsed_s"]), 1))
            previous = mark
    marks, queued_marks, objects_marks = {}, {}, {}
    for mark in range(WINDOW_PAGES, pages + 1, WINDOW_PAGES):
        sample = _at(series, mark)
        if sample:
            marks[str(mark)] = sample["rss_mb"]
            queued_marks[str(mark)] = sample.get("queued")
            objects_marks[str(mark)] = sample.get("gc_objects")
    return {
        "window_pages": window,
        "baseline_window": list(first),
        "final_window": list(last),
        "baseline_rss_mb": baseline,
        "baseline_samples": baseline_n,
        "final_rss_mb": final,
        "final_samples": final_n,
        "growth_mb": growth,
        "limit_mb": GROWTH_LIMIT_MIB,
        "verdict": None if growth is None else ("PASS" if growth < GROWTH_LIMIT_MIB else "FAIL"),
        "rss_at_window_mb": at_window["rss_mb"] if at_window else None,
        "rss_at_end_mb": at_end["rss_mb"] if at_end else None,
        "point_growth_mb": point_growth,
        "rss_at_marks_mb": marks,
        "queued_at_marks": queued_marks,
        "gc_objects_at_marks": objects_marks,
        "max_rss_sampled_mb": max((s["rss_mb"] for s in series if s.get("rss_mb") is not None), default=None),
        "gc_objects_first": series[0].get("gc_objects") if series else None,
        "gc_objects_max": max((s["gc_objects"] for s in series if s.get("gc_objects") is not None), default=None),
        "gc_objects_end": at_end.get("gc_objects") if at_end else None,
        "max_queued": max((s["queued"] for s in series if s.get("queued") is not None), default=None),
        "steady_pages_per_s": steady,
        "pages_per_s_by_tenth": tenths,
    }


def count_stored(database_url: str) -> int:
    from storage import count_articles, make_engine

    engine = make_engine(database_url)
    try:
        return count_articles(engine)
    finally:
        engine.dispose()


def _sqlite_bytes(database_url: str) -> int | None:
    from sqlalchemy.engine import make_url

    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database:
        return None
    path = Path(url.database)
    return sum(p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.exists())


def environment() -> dict[str, Any]:
    import scrapy
    import sqlalchemy

    cpuinfo = _read_lines("/proc/cpuinfo")
    cpu = next((line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")), None)
    total = next((line.split()[1] for line in _read_lines("/proc/meminfo") if line.startswith("MemTotal:")), None)
    return {
        "python": platform.python_version(),
        "scrapy": scrapy.__version__,
        "sqlalchemy": sqlalchemy.__version__,
        "sqlite": sqlite3.sqlite_version,
        "machine": platform.machine(),
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "memory_gib": round(int(total) / 2**20, 1) if total else None,
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def _read_lines(path: str) -> list[str]:
    try:
        return Path(path).read_text("utf-8", errors="replace").splitlines()
    except OSError:
        return []


# --- report -------------------------------------------------------------------------------------------------------


def _f(value: Any, unit: str = "", spec: str = ",.1f") -> str:
    return "-" if value is None else f"{value:{spec}}{unit}"


def text_report(result: dict[str, Any]) -> str:
    m, c, a, env = result["memory"], result["crawl"], result["archive"], result["environment"]
    lines = [
        f"== soak: {result['pages']:,} pages, {result['database']}",
        f"archive: {a['roll_pages']:,} roll-API pages + {a['pages']:,} article pages from {len(a['templates'])} Sina "
        f"fixtures, {a['html_bytes'] / 2**20:,.0f} MiB of HTML, {a['warc_bytes'] / 2**20:,.0f} MiB gzip WARC"
        + (" (cached)" if a.get("cached") else f" (built in {a['build_seconds']} s)"),
        f"crawl: exit {c['returncode']}, {c['finish_reason']}; pages processed {c['pages']:,} "
        f"(scraped {c['scraped']:,}, dropped {c['dropped']:,}, errors {c['errors']:,}); "
        f"articles stored {result['articles_stored']:,}",
        f"time: {c['wall_seconds']:,.1f} s wall (start-up and replay index {_f(c['startup_seconds'], ' s')}, "
        f"crawl {_f(c['crawl_seconds'], ' s')})",
        f"rate: {_f(c['pages_per_s'], ' pages/s')} overall (wall), {_f(m['steady_pages_per_s'], ' pages/s')} steady "
        f"(page {m['window_pages'] // 2:,} to the end); by tenth: {', '.join(map(str, m['pages_per_s_by_tenth']))}",
        f"peak RSS: {_f(c['peak_rss_mb'], ' MiB')} (VmHWM summed over the crawl process and its "
        f"{_f(c.get('processes'), '', ',')} process(es) in all, extraction workers included; the crawl process alone "
        f"{_f(c.get('peak_rss_self_mb'), ' MiB')}, wait4 ru_maxrss {_f(c['maxrss_mb'], ' MiB')}); max sampled RSS "
        f"of the tree {_f(m['max_rss_sampled_mb'], ' MiB')}; max queued requests {_f(m['max_queued'], '', ',')}",
        "RSS at marks: " + (", ".join(f"{int(k) // 1000}k {v:,.0f}" for k, v in m["rss_at_marks_mb"].items()) or "-")
        + " MiB; requests queued: "
        + (", ".join(f"{int(k) // 1000}k {_f(v, '', ',')}" for k, v in m["queued_at_marks"].items()) or "-"),
        f"memory growth: median RSS pages {m['baseline_window'][0]:,}–{m['baseline_window'][1]:,} "
        f"{_f(m['baseline_rss_mb'], ' MiB')} ({m['baseline_samples']} samples) → pages "
        f"{m['final_window'][0]:,}–{m['final_window'][1]:,} {_f(m['final_rss_mb'], ' MiB')} ({m['final_samples']} samples): "
        f"{_f(m['growth_mb'], ' MiB', '+,.1f')}; limit < {m['limit_mb']:.0f} MiB {m['verdict'] or '-'}",
        f"  point to point: RSS at page {m['window_pages']:,} {_f(m['rss_at_window_mb'], ' MiB')} → end "
        f"{_f(m['rss_at_end_mb'], ' MiB')}: {_f(m['point_growth_mb'], ' MiB', '+,.1f')}",
        f"objects the garbage collector tracks: first sample {_f(m['gc_objects_first'], '', ',')}, "
        f"max {_f(m['gc_objects_max'], '', ',')}, end {_f(m['gc_objects_end'], '', ',')}",
    ]
    if result["pages"] < 2 * WINDOW_PAGES:
        lines.append(f"  note: fewer than {2 * WINDOW_PAGES:,} pages, so the windows are {m['window_pages'] // 2:,} "
                     "pages wide: a quick check, not the 10,000-page rule")  # fmt: skip
    for problem in result["problems"]:
        lines.append(f"PROBLEM: {problem}")
    lines += [
        f"machine: {env['cpus']} cores ({env['cpu']}), {_f(env['memory_gib'], ' GiB')}, load average at start "
        f"{env['load_average_at_start'][0]}; Python {env['python']}, Scrapy {env['scrapy']}, SQLAlchemy "
        f"{env['sqlalchemy']}, SQLite {env['sqlite']}",
        f"command: {result['command']}",
        f"crawl command: {result['crawl_command']}",
    ]
    return "\n".join(lines) + "\n"


def results_stem(pages: int, created: datetime) -> str:
    """<date>-soak for the standard 50,000-page run; <date>-soak-<pages> otherwise, so quick checks never overwrite it."""
    return f"{created:%Y-%m-%d}-soak" + ("" if pages == DEFAULT_PAGES else f"-{pages}")


# --- main ---------------------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.soak", description=__doc__.split("\n\n")[1])
    parser.add_argument("--pages", type=int, default=DEFAULT_PAGES, help=f"article pages (default {DEFAULT_PAGES}; 500 is a quick check)")
    parser.add_argument("--database-url", help="an empty database to store into (default: SQLite in a temporary folder)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="folder for <date>-soak.json/.txt (default benchmarks/results/)")
    parser.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE, help="where replay archives are kept (default benchmarks/.cache/)")
    parser.add_argument("--concurrency", type=int, default=8, help="CONCURRENT_REQUESTS_PER_DOMAIN (default 8)")
    parser.add_argument("--sample-every", type=int, help="RSS sample every N pages (default 1000, fewer pages: pages/50, at least 10)")
    parser.add_argument("--setting", action="append", default=[], metavar="KEY=VALUE",
                        help="one more -s KEY=VALUE for the crawl, e.g. DEPTH_PRIORITY=1 (repeatable)")  # fmt: skip
    parser.add_argument("--timeout", type=float, default=3600, help="kill the crawl after this many seconds (default 3600)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (database, probe file, crawl log)")
    parser.add_argument("--check", action="store_true", help="exit 1 when memory grows by 100 MiB or more")
    args = parser.parse_args(argv)
    if args.pages < 1 or args.concurrency < 1 or (args.sample_every is not None and args.sample_every < 1):
        parser.error("--pages, --concurrency and --sample-every must be at least 1")
    if any("=" not in s or not s.partition("=")[0].strip() for s in args.setting):
        parser.error("--setting takes KEY=VALUE")
    args.extra_settings = dict((k.strip(), v) for k, _, v in (s.partition("=") for s in args.setting))
    return args


def main(argv: list[str] | None = None) -> int:
    from storage import mask_url

    args = parse_args(argv)
    created = datetime.now(timezone.utc)
    sample_every = args.sample_every or min(1000, max(10, args.pages // 50))
    workdir = Path(tempfile.mkdtemp(prefix="caixun_soak_"))
    keep = args.keep
    try:
        archive, manifest = build_archive(args.pages, args.cache_dir)
        database_url = args.database_url or f"sqlite:///{workdir / 'soak.db'}"
        before = count_stored(database_url)
        if before:
            print(f"error: {mask_url(database_url)} already holds {before} articles; the soak needs an empty database",
                  file=sys.stderr)  # fmt: skip
            return 2
        probe_file = workdir / "probe.jsonl"
        command = crawl_command(archive, database_url, args.pages, probe_file, concurrency=args.concurrency,
                                sample_every=sample_every, extra_settings=args.extra_settings)  # fmt: skip
        env = environment()
        print(f"crawling {args.pages:,} pages (RSS sampled every {sample_every} pages); log: {workdir / 'crawl.stderr'}",
              flush=True)  # fmt: skip
        run = run_crawl(command, workdir, args.timeout)
        opened, samples, closed = read_probe(probe_file)
        if run.returncode != 0 or closed is None:
            keep = True
            print(f"error: the crawl exited {run.returncode}" + ("" if closed else " without closing the spider"),
                  file=sys.stderr)  # fmt: skip
            print(f"--- last lines of {run.stderr_path} ---\n{run.stderr_tail()}", file=sys.stderr)
            return 1
        stored = count_stored(database_url)
        memory = analyse(args.pages, samples, closed)
        stats = closed.get("stats", {})
        extensions = (opened or {}).get("extensions", [])
        crawl = {
            "returncode": run.returncode,
            "finish_reason": closed.get("reason"),
            "pages": closed["pages"],
            "scraped": closed["scraped"],
            "dropped": closed["dropped"],
            "errors": closed["errors"],
            "wall_seconds": round(run.wall_seconds, 1),
            "startup_seconds": round(opened["t"] - run.started_at, 1) if opened else None,
            "crawl_seconds": closed["elapsed_s"],
            "pages_per_s": round(closed["pages"] / run.wall_seconds, 1),
            "peak_rss_mb": closed.get("hwm_mb"),  # the process tree: the crawl and its extraction workers
            "peak_rss_self_mb": closed.get("self_hwm_mb"),
            "processes": closed.get("processes"),
            "maxrss_mb": run.maxrss_mib,
            "rss_at_open_mb": (opened or {}).get("rss_mb"),
            "sample_every": sample_every,
            "extra_settings": args.extra_settings,
            "extensions": extensions,
            "stats": {k: v for k, v in sorted(stats.items()) if k.startswith(STATS_KEPT)},
        }
        problems = []
        if crawl["pages"] != args.pages:
            problems.append(f"{crawl['pages']:,} pages went through the pipeline, {args.pages:,} expected")
        if stored != args.pages:
            problems.append(f"{stored:,} articles stored, {args.pages:,} expected")
        if not any(e.endswith("ProvenanceExtension") for e in extensions):
            problems.append("the project's ProvenanceExtension was not enabled during the crawl")
        result = {
            "created": created.isoformat(timespec="seconds"),
            "command": shlex.join(["python", "-m", "benchmarks.soak", *(argv if argv is not None else sys.argv[1:])]),
            "crawl_command": shlex.join(command),
            "environment": {**env, "load_average_at_end": [round(x, 2) for x in os.getloadavg()]},
            "pages": args.pages,
            "database": mask_url(database_url),
            "database_bytes": _sqlite_bytes(database_url),
            "articles_stored": stored,
            "archive": {k: v for k, v in manifest.items() if k != "key"} | {"file": str(archive)},
            "crawl": crawl,
            "memory": memory,
            "problems": problems,
            "samples": samples,
        }
        report = text_report(result)
        print("\n" + report, end="")
        args.out.mkdir(parents=True, exist_ok=True)
        stem = results_stem(args.pages, created)
        (args.out / f"{stem}.json").write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        (args.out / f"{stem}.txt").write_text(report, encoding="utf-8")
        print(f"results: {args.out / stem}.json, .txt", flush=True)
        if problems:
            keep = True
            return 1
        return 1 if args.check and memory["verdict"] != "PASS" else 0
    finally:
        if keep:
            print(f"kept: {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
