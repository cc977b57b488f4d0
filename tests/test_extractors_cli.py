"""python -m extractors: one page, and manifests where one bad input never stops the batch."""

from __future__ import annotations

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
