"""python -m extractors: one page, and manifests where one bad input never stops the batch."""

from __future__ import annotations

import gzip
import json
import re
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


# --- inputs: files, folders, - (stdin); the page's own URL; --format (issue 23 item 9) -----------------------------

SOHU = next(f for f in fixtures("sohu", kind="article") if "778336904" in f.url)  # link rel=canonical
IFENG = next(f for f in fixtures("ifeng", kind="article") if "8Wda7wwUnuC" in f.url)  # og:url, 35 KB into the page


def _first_paragraph(fixture) -> str:
    return fixture.expected["body"].split("\n")[0]


def _run_input(data: bytes, *args: str) -> subprocess.CompletedProcess:
    """`python -m extractors ... -` with data on standard input; output decoded as UTF-8."""
    result = subprocess.run(
        [sys.executable, "-m", "extractors", *args], cwd=PROJECT_DIR, input=data, capture_output=True, timeout=120
    )
    return subprocess.CompletedProcess(result.args, result.returncode, result.stdout.decode(), result.stderr.decode())


def test_without_url_the_pages_own_link_picks_the_site_rule():
    assert b"og:url" in SINA.body and b"canonical" not in SINA.body  # the page names itself by og:url only
    result = _run(str(SINA.path))
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # the normal case is quiet
    article = json.loads(result.stdout)
    assert article["url"] == SINA.expected["canonical_url"] == SINA.url
    assert article["site"] == "sina" and article["extractor"].startswith("sina/")
    assert article["title"] == SINA.expected["title"]
    assert article["body"].startswith(_first_paragraph(SINA))


def test_a_page_naming_no_url_goes_the_generic_path(tmp_path):
    body, removed = re.subn(rb"<meta[^>]*og:url[^>]*>", b"", SINA.body)
    assert removed == 1
    page = tmp_path / "no_link.html"
    page.write_bytes(body)
    result = _run(str(page))
    assert result.returncode == 0, result.stderr
    article = json.loads(result.stdout)
    assert article["site"] == "generic" and not article["extractor"].startswith("sina/")  # what the link changes
    assert article["url"] == page.resolve().as_uri()
    assert result.stderr.startswith(f"note: {page}: no --url and no link rel=canonical or og:url in the page")


def test_stdin_gives_what_the_file_gives():
    from_file = _run(str(SINA.path))
    gzipped = _run_input(SINA.path.read_bytes(), "-")  # gzip told by its first bytes on stdin too
    plain = _run_input(SINA.body, "-")
    assert from_file.returncode == gzipped.returncode == plain.returncode == 0, (gzipped.stderr, plain.stderr)
    assert json.loads(gzipped.stdout) == json.loads(plain.stdout) == json.loads(from_file.stdout)
    refused = _run_input(SINA.body, "--max-bytes", str(len(SINA.body) - 1), "-")
    assert refused.returncode == 1
    assert refused.stderr.startswith("error: extract_too_large: standard input is larger than")


def test_a_folder_gives_one_jsonl_line_per_page_in_path_order(tmp_path):
    folder = tmp_path / "pages"
    (folder / "b").mkdir(parents=True)
    (folder / "a.html").write_bytes(SINA.body)
    (folder / "b" / "c.html.gz").write_bytes(SOHU.path.read_bytes())
    (folder / "b" / "d.htm").write_bytes(IFENG.body)
    (folder / "notes.txt").write_text("not a page")  # passed over: not *.html, *.htm or *.html.gz
    (folder / ".hidden.html").write_bytes(SINA.body)  # passed over: hidden
    result = _run("--format", "jsonl", str(folder))
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["path"] for r in records] == [str(folder / name) for name in ("a.html", "b/c.html.gz", "b/d.htm")]
    for record, fixture, site in zip(records, (SINA, SOHU, IFENG), ("sina", "sohu", "ifeng")):
        assert record["url"] == fixture.expected["canonical_url"]
        assert (record["site"], record["title"]) == (site, fixture.expected["title"])
    as_json = _run(str(folder))  # json: an array of the same records
    assert json.loads(as_json.stdout) == records


def test_a_page_that_fails_keeps_the_others_going(tmp_path):
    (tmp_path / "a.html").write_bytes(b"")
    (tmp_path / "b.html").write_bytes(SINA.body)
    result = _run("--format", "jsonl", str(tmp_path), str(tmp_path / "missing.html"))
    assert result.returncode == 1
    assert [json.loads(line)["title"] for line in result.stdout.splitlines()] == [SINA.expected["title"]]
    assert result.stderr.splitlines() == [
        f"error: {tmp_path / 'a.html'}: not an article: empty body",
        f"error: {tmp_path / 'missing.html'}: cannot read: No such file or directory",
    ]


def test_text_and_markdown_formats():
    text = _run("--format", "text", str(SINA.path))
    assert text.returncode == 0, text.stderr
    head, body = text.stdout.split("\n\n", 1)
    assert head.splitlines()[0] == SINA.expected["title"]
    assert f"url: {SINA.url}" in head.splitlines() and f"editor: {SINA.expected['editor']}" in head.splitlines()
    assert body.startswith(_first_paragraph(SINA) + "\n")
    markdown = _run("--format", "markdown", str(SINA.path))
    assert markdown.returncode == 0, markdown.stderr
    blocks = markdown.stdout.split("\n\n")
    assert blocks[0] == "# " + SINA.expected["title"]
    assert f"- url: <{SINA.url}>" in blocks[1].splitlines()
    assert blocks[2] == _first_paragraph(SINA)
    image = SINA.expected["images"][0]
    assert f"![{image['caption']}]({image['src']})" in markdown.stdout.splitlines()
    two = _run("--format", "markdown", str(SINA.path), str(SOHU.path))
    first, second = two.stdout.split("\n---\n")
    assert first.startswith("# " + SINA.expected["title"]) and second.strip().startswith("# " + SOHU.expected["title"])


def test_inputs_that_name_no_page_are_usage_errors(tmp_path):
    (tmp_path / "notes.txt").write_text("not a page")
    empty = _run(str(tmp_path))
    assert empty.returncode == 2
    assert f"no pages (*.html, *.htm, *.html.gz, *.htm.gz) in folder {tmp_path}" in empty.stderr
    assert empty.stdout == ""
    assert _run("-", "-").returncode == 2
    several = _run("--url", SINA.url, str(SINA.path), str(SOHU.path))
    assert several.returncode == 2 and "--url names the URL of one page" in several.stderr


def test_a_manifest_entry_without_url_uses_the_pages_own_link(tmp_path):
    (tmp_path / "page.html").write_bytes(SINA.body)
    manifest = tmp_path / "pages.jsonl"
    manifest.write_text(json.dumps({"path": "page.html"}) + "\n", encoding="utf-8")
    result = _run("--manifest", str(manifest))
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    assert (record["url"], record["site"], record["title"]) == (SINA.url, "sina", SINA.expected["title"])
    assert _run("--manifest", str(manifest), "--format", "text").returncode == 2  # a manifest run writes JSON lines
