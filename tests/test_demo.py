"""`python -m crawler demo`: the shipped archive replayed by the real news spider, checked from outside.

What a stored article should be is read from the fixture sidecars the archive's pages were copied from
(their URL and hand-written title) and from HOST_SITES below, written by hand: which site each host is.
"""

from __future__ import annotations

import gzip
import json
import re
import shlex
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from warcio.archiveiterator import ArchiveIterator

from tests.helpers import FIXTURES, PROJECT_DIR, run_crawler, run_storage

ARCHIVE = PROJECT_DIR / "examples" / "demo.warc.gz"
FEED_HOST = "demo.caixun.invalid"
# host (or a parent domain) → the site its pages are stored under; any other host: "generic"
HOST_SITES = {
    "sina.com.cn": "sina", "sina.cn": "sina", "163.com": "netease", "ifeng.com": "ifeng", "qq.com": "qq",
    "stcn.com": "stcn", "thepaper.cn": "thepaper", "sohu.com": "sohu", "sina.com.tw": "sina_tw",
    "cn.biz.yahoo.com": "yahoo_cn", "hk.finance.yahoo.com": "yahoo_hk", "mingridapan.com": "mingridapan",
}  # fmt: skip
# every site with recorded article pages of its own; eastmoney and yicai have none, so are not in the demo
RECORDED_SITES = {"sina", "netease", "ifeng", "qq", "stcn", "thepaper", "sohu", "sina_tw", "yahoo_cn", "yahoo_hk",
                  "mingridapan"}  # fmt: skip


def host_site(url: str) -> str:
    host = urlsplit(url).hostname or ""
    return next((site for domain, site in HOST_SITES.items() if host == domain or host.endswith("." + domain)),
                "generic")  # fmt: skip


def _sidecars() -> dict[str, dict]:
    """url → sidecar of every recorded article page of the fixtures."""
    found = {}
    for path in sorted(FIXTURES.glob("*/*.json")):
        meta = json.loads(path.read_text("utf-8"))
        if meta.get("kind") == "article" and meta.get("url"):
            found.setdefault(meta["url"], meta)
    return found


SIDECARS = _sidecars()


def archive_records(path: Path) -> list[tuple]:
    """Every record of a WARC: its WARC headers, HTTP status and headers, and payload."""
    records = []
    with path.open("rb") as stream:
        for record in ArchiveIterator(stream):
            records.append((
                record.rec_type, sorted(record.rec_headers.headers), record.http_headers.statusline,
                sorted(record.http_headers.headers), record.content_stream().read(),
            ))  # fmt: skip
    return records


def archived_pages() -> list[str]:
    """The URLs of the archive's responses that are recorded article pages (not list answers or the feed)."""
    with ARCHIVE.open("rb") as stream:
        records = ArchiveIterator(stream)
        uris = [r.rec_headers.get_header("WARC-Target-URI") for r in records if r.rec_type == "response"]
    return [uri for uri in uris if uri in SIDECARS]


def _demo(*args: str) -> subprocess.CompletedProcess:
    return run_crawler("demo", *args, timeout=240)


def _export(database_url: str) -> dict[str, dict]:
    result = run_storage("export", "--database-url", database_url, "--format", "jsonl")
    assert result.returncode == 0, result.stderr
    return {record["url"]: record for record in map(json.loads, result.stdout.splitlines())}


def _query(database_url: str, *args: str) -> list[dict]:
    result = run_storage("query", "--database-url", database_url, "--format", "jsonl", "--limit", "1000", *args)
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def _site_lines(stdout: str) -> dict[str, int]:
    return {site: int(new) for site, new in re.findall(r"^news run \d+ site (\S+): new (\d+),", stdout, re.MULTILINE)}


def _default_store() -> dict:
    """What the checkout's default store and spool look like (absent ones included)."""
    data = PROJECT_DIR / "data"
    state = {}
    for path in [data / "caixun.db", data / "caixun.db-wal", *sorted((data / "spool").glob("*"))]:
        state[str(path)] = (path.stat().st_size, path.stat().st_mtime_ns) if path.exists() else None
    state["spool exists"] = (data / "spool").exists()
    return state


def _assert_demo_stores_every_recorded_site(result: subprocess.CompletedProcess, database_url: str) -> dict[str, dict]:
    assert result.returncode == 0, result.stderr[-3000:]
    stored = _export(database_url)
    pages = archived_pages()
    assert sorted(stored) == sorted(pages)
    for url, record in stored.items():  # each page under its own site, read as its sidecar says
        assert record["site"] == host_site(url), url
        assert record["title"] == SIDECARS[url]["expected"]["title"], url
    sites = {record["site"] for record in stored.values()}
    assert sites - {"generic"} == RECORDED_SITES and len(RECORDED_SITES) >= 8
    assert "generic" in sites
    return stored


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("demo")
    database_url = f"sqlite:///{folder / 'demo.db'}"
    before = _default_store()
    result = _demo("--database-url", database_url, "--folder", str(folder / "files"))
    return result, database_url, folder, before


def test_the_demo_stores_each_recorded_site_through_its_own_source_or_the_demo_feed(demo_run):
    result, database_url, _, before = demo_run
    stored = _assert_demo_stores_every_recorded_site(result, database_url)
    assert _default_store() == before  # neither data/caixun.db nor the default spool was touched
    assert "eastmoney" not in result.stdout and "yicai" not in result.stdout
    # the sites with a list source are swept through it; the others come through the demo feed
    sources = re.search(r"the list sources of (.*), and the demo feed https://demo\.caixun\.invalid/", result.stdout)
    assert sources and sources.group(1).split(", ") == ["ifeng", "netease", "qq", "sina", "stcn", "thepaper"]
    [total] = re.findall(r"^news run \d+: .*$", result.stdout, re.MULTILINE)
    assert total.startswith(f"news run 1: new {len(stored)}, ") and total.endswith("exit 0")


def test_every_site_the_summary_names_is_found_by_storage_query(demo_run):
    result, database_url, _, _ = demo_run
    lines = _site_lines(result.stdout)
    assert sorted(lines) == sorted(RECORDED_SITES | {"generic"})  # the feed's host and the pages' hosts: generic
    for site, new in lines.items():
        found = _query(database_url, "--site", site)
        assert len(found) == new > 0, site
        assert all(host_site(article["url"]) == site for article in found), site
    hosts = sorted({urlsplit(url).hostname for url in archived_pages() if host_site(url) == "generic"})
    assert f"generic: the pages of hosts no site rule handles ({', '.join(hosts)}), read by the generic extractor." in (
        result.stdout
    )


def test_the_printed_next_commands_run(demo_run):
    result, database_url, folder, _ = demo_run
    commands = result.stdout.split("Next, try:\n", 1)[1].splitlines()
    assert len(commands) == 4
    outputs = []
    for command in commands:
        argv = shlex.split(command)
        assert argv[1:3] == ["-m", "storage"] and "--database-url" in argv, command
        assert argv[argv.index("--database-url") + 1] == database_url  # the demo's store, not the default one
        done = subprocess.run(argv, cwd=PROJECT_DIR, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, f"{command}: {done.stderr[-2000:]}"
        outputs.append(done.stdout)
    site_query, search, stats, _ = outputs
    assert re.search(r"^\S+ \S+\s+sina\s", site_query, re.MULTILINE) and "(2 articles)" in site_query
    assert re.search(r"\((\d+) articles\)", search) and "经济" in search
    assert str(len(archived_pages())) in stats
    report = folder / "files" / "report.html"
    assert report.is_file() and "<svg" in report.read_text("utf-8")


def test_a_second_demo_into_the_same_database_exits_0_and_finds_nothing_new(demo_run):
    _, database_url, folder, _ = demo_run
    again = _demo("--database-url", database_url, "--folder", str(folder / "files"))
    assert again.returncode == 0, again.stderr[-3000:]
    [total] = re.findall(r"^news run \d+: .*$", again.stdout, re.MULTILINE)
    assert total.startswith("news run 2: new 0, updated 0, ") and total.endswith("exit 0")
    assert sorted(_export(database_url)) == sorted(archived_pages())


def test_the_demo_on_postgresql(postgres_url, tmp_path):
    result = _demo("--database-url", postgres_url, "--folder", str(tmp_path / "files"))
    _assert_demo_stores_every_recorded_site(result, postgres_url)


def test_the_demo_never_writes_to_the_default_store(tmp_path):
    before = _default_store()
    result = _demo("--database-url", f"sqlite:///{PROJECT_DIR / 'data' / 'caixun.db'}", "--folder", str(tmp_path))
    assert result.returncode == 2
    assert "is the default store (data/caixun.db or $DATABASE_URL): the demo never writes there" in result.stderr
    assert _default_store() == before
    assert "Spider opened" not in result.stderr and not list(tmp_path.iterdir())


def test_the_rebuild_script_writes_the_shipped_archive(tmp_path):
    rebuilt = tmp_path / "demo.warc.gz"
    result = subprocess.run(
        [sys.executable, str(PROJECT_DIR / "examples" / "build_demo_archive.py"), "--out", str(rebuilt)],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert archive_records(rebuilt) == archive_records(ARCHIVE), "rebuild examples/demo.warc.gz"
    assert ARCHIVE.stat().st_size < 1_000_000  # a demo, not a corpus
    # every page is a recorded fixture page, byte for byte, at the URL its sidecar gives
    bodies = {}
    with ARCHIVE.open("rb") as stream:
        for record in ArchiveIterator(stream):
            bodies[record.rec_headers.get_header("WARC-Target-URI")] = record.content_stream().read()
    recorded = {}
    for path in FIXTURES.glob("*/*.html.gz"):
        sidecar = path.with_name(path.name.removesuffix(".html.gz") + ".json")
        if sidecar.exists():
            url = json.loads(sidecar.read_text("utf-8")).get("url")
            recorded.setdefault(url, set()).add(gzip.decompress(path.read_bytes()))
    pages = archived_pages()
    assert pages and all(bodies[url] in recorded[url] for url in pages)
    lists = [url for url in bodies if url not in SIDECARS]
    assert all(host_site(url) in RECORDED_SITES or urlsplit(url).hostname == FEED_HOST for url in lists), lists
