"""extractors.limits and extractors.sandbox: refusal before parsing, and extraction in real worker processes
under a time and a memory limit (tight limits, so that the file stays fast)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from extractors import Page, extract
from extractors.limits import ExtractionLimits, PageRefused, count_start_tags, refuse_hostile
from extractors.sandbox import Sandbox
from tests.helpers import PROJECT_DIR, fixtures

GOOD = next(f for f in fixtures("sina", kind="article") if "iicezzrq4681677" in f.url)
HEAD = "<html><head><title>测试标题</title></head><body><h1>测试标题</h1>"


def paragraphs(count: int, text: str = "x{}") -> bytes:
    """A page of `count` paragraphs: no site rule takes it, so the generic path does."""
    return (HEAD + "".join(f"<p>{text.format(i)}</p>" for i in range(count)) + "</body></html>").encode()


# Measured on the 2-core development machine: 100,000 short paragraphs take the generic path ~11 s and ~300 MiB
# of address space at most (slow, not hungry); 3,000 elements of 100 attributes each (2.7 MB) take 660 MiB,
# 400 MiB of it within 0.3 s (hungry, not slow; an attribute bomb the element count lets through).
SLOW = paragraphs(100_000)
MEMORY_HUNGRY = (
    HEAD + "".join("<p " + " ".join(f'a{j}="{j}"' for j in range(100)) + f">t{i}</p>" for i in range(3_000))
).encode()
LIMITS = ExtractionLimits(max_bytes=6 * 2**20, max_elements=150_000, timeout_s=3, memory_mb=400)


def worker_pids() -> set[int]:
    """The sandbox workers among this process's children."""
    pids = set()
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and (entry / "stat").read_text().rpartition(")")[2].split()[1] == str(os.getpid()):
                if b"spawn_main" in (entry / "cmdline").read_bytes():
                    pids.add(int(entry.name))
        except OSError:
            continue
    return pids


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox(LIMITS, workers=2) as sandbox:
        yield sandbox
    assert worker_pids() == set()  # close() stops and reaps every worker


def test_the_defaults_leave_a_wide_margin_over_every_fixture_page():
    limits = ExtractionLimits()
    pages = fixtures()
    assert len(pages) > 50
    assert 5 * max(len(f.body) for f in pages) < limits.max_bytes
    assert 5 * max(count_start_tags(f.body, limits.max_elements) for f in pages) < limits.max_elements


def test_pages_over_a_limit_are_refused_before_parsing():
    limits = ExtractionLimits(max_bytes=1000, max_elements=10)
    refuse_hostile(b"<p>" * 10 + b"x" * 970, limits)  # at both limits: accepted
    refuse_hostile("<p>" * 10, limits)
    for body, reason in (
        (b"<p>" * 10 + b"x" * 971, "extract_too_large"),
        (b"<p>" * 11, "extract_too_many_elements"),
        ("<P>" * 11, "extract_too_many_elements"),
    ):
        with pytest.raises(PageRefused) as refused:
            refuse_hostile(body, limits)
        assert refused.value.reason == reason
    refuse_hostile(b"</p><!-- --><!DOCTYPE html>" + b"a < b " * 20, limits)  # end tags, comments, "<" in text


def test_counting_a_16_mb_element_bomb_stops_at_the_limit():
    bomb = b"<html><body>" + b"<p>x</p>" * 2_000_000
    started = time.perf_counter()
    with pytest.raises(PageRefused):
        refuse_hostile(bomb, ExtractionLimits(max_bytes=32 * 2**20))
    assert time.perf_counter() - started < 5  # generous: ~20 ms here


def test_a_page_extracts_in_a_worker_as_it_does_in_process(sandbox):
    extraction = sandbox.extract(Page(GOOD.url, GOOD.body))
    assert extraction.outcome == "article" and extraction.error is None
    assert extraction.article.to_dict() == extract(Page(GOOD.url, GOOD.body)).to_dict()
    assert len(worker_pids()) == 2


def test_an_element_bomb_is_refused_in_a_worker_at_once(sandbox):
    started = time.perf_counter()
    extraction = sandbox.extract(Page("https://example.com/bomb.html", paragraphs(160_000)))
    assert (extraction.outcome, extraction.reason) == ("failed", "extract_too_many_elements")
    assert extraction.error.startswith("extract_too_many_elements: the page has more than 150,000 elements")
    assert time.perf_counter() - started < 5


def test_a_page_too_large_is_refused_without_being_sent(sandbox):
    extraction = sandbox.extract(Page("https://example.com/big.html", b"<html><body>" + b"x" * (6 * 2**20)))
    assert extraction.reason == "extract_too_large" and "over the limit of 6,291,456 bytes" in extraction.message


def test_a_slow_page_times_out_and_its_worker_is_replaced(sandbox):
    before = worker_pids()
    started = time.perf_counter()
    extraction = sandbox.extract(Page("https://example.com/slow.html", SLOW))
    took = time.perf_counter() - started
    assert (extraction.reason, extraction.message) == (
        "extract_timeout", "extraction took longer than 3 s; the worker was stopped",
    )  # fmt: skip
    assert 3 <= took < 9
    assert sandbox.extract(Page(GOOD.url, GOOD.body)).outcome == "article"  # the pool still works
    deadline = time.monotonic() + 10
    while len(worker_pids()) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    after = worker_pids()
    assert len(after) == 2 and len(before - after) == 1  # one worker killed, one new in its place


def test_a_page_over_the_memory_limit_fails_and_the_pool_goes_on(sandbox):
    extraction = sandbox.extract(Page("https://example.com/hungry.html", MEMORY_HUNGRY))
    assert (extraction.reason, extraction.message) == (
        "extract_memory", "extraction needed more than the 400 MiB a worker may use",
    )  # fmt: skip
    assert sandbox.extract(Page(GOOD.url, GOOD.body)).outcome == "article"


def test_the_memory_hungry_page_extracts_under_the_default_limit():
    # the page is hostile only under the tight limit: with the default memory limit it is an article
    with Sandbox(ExtractionLimits(timeout_s=60), workers=1) as roomy:
        assert roomy.extract(Page("https://example.com/hungry.html", MEMORY_HUNGRY)).outcome == "article"


def test_interrupt_ends_every_extraction_in_flight_at_once():
    others = worker_pids()  # the module's sandbox's
    with Sandbox(LIMITS, workers=1) as sandbox:
        slow = [sandbox.submit(Page(f"https://example.com/slow{i}.html", SLOW)) for i in range(3)]
        time.sleep(1)  # the first is running, two wait
        started = time.perf_counter()
        assert sandbox.interrupt("stopping") == 3
        assert [f.result(timeout=1).error for f in slow] == ["extract_interrupted: stopping"] * 3
        later = sandbox.extract(Page(GOOD.url, GOOD.body))
        assert later.error == "extract_interrupted: stopping"
        assert time.perf_counter() - started < 2
    assert worker_pids() <= others  # closed: its worker is gone


def test_a_worker_killed_from_outside_costs_its_page_at_most():
    others = worker_pids()
    with Sandbox(LIMITS, workers=1) as sandbox:
        sandbox.start()
        deadline = time.monotonic() + 30
        while not worker_pids() - others and time.monotonic() < deadline:
            time.sleep(0.05)
        [idle] = worker_pids() - others
        os.kill(idle, signal.SIGKILL)  # as the kernel's out-of-memory killer would, while it waits for work
        time.sleep(0.5)  # pebble notices: "all workers expired", the pool is broken
        assert sandbox.extract(Page(GOOD.url, GOOD.body)).outcome == "article"  # on a new pool
        busy = sandbox.submit(Page("https://example.com/slow.html", SLOW))
        time.sleep(1)
        [worker] = worker_pids() - others
        os.kill(worker, signal.SIGKILL)
        assert busy.result(timeout=10).error == (
            "extract_memory: the worker was killed (SIGKILL: the system ran out of memory?)"
        )
        assert sandbox.extract(Page(GOOD.url, GOOD.body)).outcome == "article"


def test_workers_die_with_their_parent(tmp_path):
    """A crawl killed with SIGKILL leaves no worker behind (PR_SET_PDEATHSIG)."""
    script = (
        "import os, sys, time\n"
        "from extractors.sandbox import Sandbox\n"
        "from extractors import Page\n"
        "if __name__ == '__main__':\n"
        "    sandbox = Sandbox(workers=2)\n"
        "    sandbox.extract(Page('https://example.com/a.html', b'<html><body><p>text of a page</p></body></html>'))\n"
        "    print(os.getpid(), flush=True)\n"
        "    time.sleep(60)\n"
    )
    (tmp_path / "parent.py").write_text(script)
    process = subprocess.Popen(
        [sys.executable, str(tmp_path / "parent.py")], cwd=PROJECT_DIR, stdout=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(PROJECT_DIR)},
    )  # fmt: skip
    try:
        parent = int(process.stdout.readline())
        children = _children_of(parent)
        assert len(children) >= 2  # the two workers (and the resource tracker)
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in children) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [pid for pid in children if _alive(pid)]


def _children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and (entry / "stat").read_text().rpartition(")")[2].split()[1] == str(pid):
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie is dead (its new parent, init, reaps it)


def test_the_storage_hashes_made_in_the_worker_are_the_storage_own():
    """The crawl has its workers make the dedup columns (crawler.ingest): they must equal what storage makes."""
    from crawler.ingest import sandbox_from_settings
    from scrapy.settings import Settings
    from storage.write import dedup_values

    fixture = next(f for f in fixtures("sina", kind="article"))
    with sandbox_from_settings(Settings({"CAIXUN_EXTRACT_WORKERS": 1})) as sandbox:
        extraction = sandbox.extract(Page(fixture.url, fixture.body))
    assert extraction.article is not None
    assert extraction.extras == dedup_values(extraction.article.body)
    assert extraction.extras["content_hash"] and extraction.extras["fingerprint"]
