"""python -m extractors: one page, and manifests where one bad input never stops the batch."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys

from tests.helpers import PROJECT_DIR, fixtures

SINA = next(f for f in fixtures("sina", kind="article") if "iicezzrq4681677" in f.url)


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "extractors", *args], cwd=PROJECT_DIR, capture_output=True, text=True, timeout=120
    )


def test_one_file_prints_the_article(tmp_path):
    result = _run("--url", SINA.url, str(SINA.path))  # gzip is read as well as plain HTML
    assert result.returncode == 0, result.stderr
    article = json.loads(result.stdout)
    assert article["title"] == SINA.expected["title"]
    assert article["published_at"].startswith("2019-09-09T20:52")
    assert article["extractor"].startswith("sina/v2017")


def test_manifest_keeps_order_and_reports_each_bad_input(tmp_path):
    page = tmp_path / "page.html"
    page.write_bytes(SINA.body)
    (tmp_path / "empty.html").write_bytes(b"")
    (tmp_path / "binary.bin").write_bytes(bytes(range(256)) * 4)
    (tmp_path / "plain.txt").write_text("just a sentence, not HTML at all")
    lines = [
        {"path": "page.html", "url": SINA.url},
        {"path": "empty.html", "url": "https://example.com/a"},
        {"path": "missing.html", "url": "https://example.com/b"},
        {"path": "binary.bin", "url": "https://example.com/c"},
        {"path": "plain.txt", "url": "https://example.com/d"},
        {"path": "page.html", "url": SINA.url},
    ]
    manifest = tmp_path / "pages.jsonl"
    manifest.write_text("\n".join(json.dumps(x) for x in lines) + "\nnot json\n", encoding="utf-8")
    result = _run("--manifest", str(manifest))
    assert result.returncode == 1  # some inputs failed
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["path"] for r in records] == [x["path"] for x in lines] + [None]
    assert records[0]["title"] == records[-2]["title"] == SINA.expected["title"]
    for record in records[1:5] + records[-1:]:
        assert "error" in record and "title" not in record, record
    assert "unreadable" in records[2]["error"]
    assert "not JSON" in records[-1]["error"]


def test_usage_errors():
    assert _run().returncode == 2
    assert _run("--manifest", "/nonexistent.jsonl").returncode == 2
    missing = _run("/nonexistent.html")
    assert missing.returncode == 1 and "cannot read" in missing.stderr


# --- limits: the same as the crawler's (extractors.limits, extractors.sandbox) -------------------------------------


def gzip_bomb(path, decompressed_mib: int):
    """A small gzip file of many identical members: decompressed_mib MiB of <p>x</p> when read whole."""
    member = gzip.compress(b"<p>x</p>" * (2**20 // 8), compresslevel=9, mtime=0)  # 1 MiB each, ~1 KB packed
    path.write_bytes(gzip.compress(b"<html><body>", mtime=0) + member * decompressed_mib)
    return path


def test_a_gzip_bomb_is_refused_while_it_is_read(tmp_path):
    bomb = gzip_bomb(tmp_path / "bomb.html.gz", 2048)  # 2 GiB decompressed, a few MB on disk
    assert bomb.stat().st_size < 10 * 2**20
    result = subprocess.run(
        [sys.executable, "-c", RSS_PROBE, "-m", "extractors", str(bomb)], cwd=PROJECT_DIR, capture_output=True,
        text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 1
    assert result.stderr.splitlines()[0] == (
        f"error: extract_too_large: {bomb} is larger than 8,388,608 bytes (decompressed, read up to the limit)"
    )
    assert "Traceback" not in result.stderr
    peak_mib = float(result.stderr.splitlines()[-1])
    assert peak_mib < 200  # the 8 MiB read, not the 2 GiB


# runs `python -m …` in this process and prints its peak RSS (MiB) last on stderr, whatever the exit status.
# The process's own peak is VmHWM: getrusage's ru_maxrss survives exec, so it would report the
# peak of the pytest process this one was forked from.
RSS_PROBE = """
import resource, runpy, sys
sys.argv = sys.argv[2:]
try:
    runpy.run_module(sys.argv[0], run_name="__main__", alter_sys=True)
except SystemExit as exit:
    code = exit.code
finally:
    with open("/proc/self/status") as status:
        own = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
    usage = max(own, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    print(usage / 1024, file=sys.stderr)
sys.exit(code)
"""


def test_limits_can_be_set_on_the_command_line(tmp_path):
    page = tmp_path / "page.html"
    page.write_bytes(SINA.body)
    small = _run("--max-bytes", str(len(SINA.body) - 1), "--url", SINA.url, str(page))
    assert small.returncode == 1
    assert small.stderr.startswith(f"error: extract_too_large: {page} is larger than {len(SINA.body) - 1:,} bytes")
    assert _run("--max-bytes", str(len(SINA.body)), "--url", SINA.url, str(page)).returncode == 0
    few = _run("--max-elements", "100", "--url", SINA.url, str(page))
    assert few.returncode == 1 and "extract_too_many_elements: the page has more than 100 elements" in few.stderr
    assert _run("--timeout", "0", str(page)).returncode == 2  # usage: limits are positive


def test_a_slow_page_times_out_and_the_manifest_goes_on(tmp_path):
    slow = tmp_path / "slow.html"
    slow.write_bytes(b"<html><body><h1>t</h1>" + b"".join(b"<p>x%d</p>" % i for i in range(95_000)) + b"</body></html>")
    (tmp_path / "page.html").write_bytes(SINA.body)
    manifest = tmp_path / "pages.jsonl"
    lines = [{"path": "slow.html", "url": "https://example.com/slow"}, {"path": "page.html", "url": SINA.url}]
    manifest.write_text("\n".join(json.dumps(x) for x in lines) + "\n", encoding="utf-8")
    result = _run("--timeout", "1", "--manifest", str(manifest))
    assert result.returncode == 1
    first, second = (json.loads(line) for line in result.stdout.splitlines())
    assert first == {
        "path": "slow.html", "error": "extract_timeout: extraction took longer than 1 s; the worker was stopped"
    }
    assert second["title"] == SINA.expected["title"]  # a new worker took the next page


def test_a_redirect_stub_is_not_an_article(tmp_path):
    stub = tmp_path / "stub.html"
    stub.write_bytes(b"<html><head><meta http-equiv=refresh content='0; url=/b'></head><body>redirect</body></html>")
    result = _run("--url", "https://example.com/a", str(stub))
    assert result.returncode == 1
    assert result.stderr == "error: not an article: a redirect stub (meta refresh to https://example.com/b)\n"
