"""The run lock is one lock per site: runs sharing a site exclude each other, runs on disjoint sites overlap, a
run that loses holds nothing, a killed holder frees its locks; and closing abandoned runs touches only the runs
that shared a site with ours (or, written before sites were recorded, ran our spider)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import select

from crawler.runlock import RunLock
from storage import make_engine, session_factory
from storage.models import CrawlRun
from storage.provenance import finish_abandoned_runs, record_fetch, start_run
from tests.helpers import PROJECT_DIR

FEED = "feed https://x.example/rss?a=1"
OTHER_FEED = "feed https://x.example/rss?a=2"

# holds RunLock(names, url, lock_dir) until its stdin closes; says "held" or "refused blocked=<name>"
HOLDER = """
import json, sys
from crawler.runlock import RunLock
lock = RunLock(json.loads(sys.argv[1]), sys.argv[2], sys.argv[3] or None)
print("held" if lock.acquire() else f"refused blocked={lock.blocked}", flush=True)
sys.stdin.read()
"""


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'caixun.db'}"
    return request.getfixturevalue("postgres_url")


class Holder:
    """A child process holding a RunLock (SIGKILL it to see the lock freed)."""

    def __init__(self, names: list[str], url: str, lock_dir: Path | None = None) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", HOLDER, json.dumps(names), url, str(lock_dir or "")],
            cwd=PROJECT_DIR, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        self.said = self.process.stdout.readline().strip()
        if not self.said:
            self.process.kill()
            pytest.fail(f"the holder said nothing: {self.process.communicate(timeout=30)[1][-3000:]}")

    def kill(self) -> None:
        self.process.kill()
        self.process.communicate(timeout=30)

    def end(self) -> None:
        if self.process.poll() is None:
            self.process.stdin.close()
            self.process.wait(timeout=30)


def _acquired_within(lock: RunLock, seconds: float) -> bool:
    """PostgreSQL frees a dead client's locks once it sees the connection drop: soon, not at once."""
    deadline = time.monotonic() + seconds
    while True:
        if lock.acquire():
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)


def _advisory_locks(url: str) -> list[int]:
    """The backend pid of each advisory lock granted in this database (PostgreSQL's own view)."""
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as connection:
        rows = connection.execute(
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted"
            " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        ).fetchall()
    return [pid for (pid,) in rows]


def _advisory_locks_once_closed_sessions_end(url: str, seconds: float = 5.0) -> list[int]:
    """_advisory_locks once the sessions a client closed have ended: a backend frees its locks as it exits, a
    moment after the client's goodbye (seen in CI: the closed sessions' locks still listed)."""
    deadline = time.monotonic() + seconds
    while (held := _advisory_locks(url)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return held


# --- excluding and coexisting -----------------------------------------------------------------------------------


def test_two_locks_in_one_process_exclude_each_other(database_url):
    first, second = RunLock("sina", database_url), RunLock(["sina"], database_url)
    assert first.acquire()
    try:
        assert not second.acquire()  # flock: separate opens are separate open file descriptions
        assert second.blocked == "sina" and not second.held
    finally:
        first.release()
    assert second.acquire()  # released: free for the next
    second.release()


def test_overlapping_sets_exclude_and_the_loser_holds_none_of_its_locks(database_url):
    holder = RunLock(["sina", "eastmoney"], database_url)
    # the loser takes "aaa" first (sorted order), then finds "eastmoney" held: it must give "aaa" back
    loser = RunLock(["yicai", "eastmoney", "aaa"], database_url)
    assert holder.acquire()
    try:
        assert not loser.acquire()
        assert loser.blocked == "eastmoney"
        if loser.postgresql:
            assert loser.where.startswith("advisory lock for 'eastmoney' in ") and loser.holder() is None
            assert len(_advisory_locks(database_url)) == 2 and len(set(_advisory_locks(database_url))) == 1
        else:
            assert loser.where == f"lock file {loser.paths['eastmoney']}"
            assert loser.paths["eastmoney"].name == "caixun.db.crawl-eastmoney.lock"
        with RunLock(["aaa", "yicai"], database_url) as third:  # the loser's other names are free
            assert third.acquire()
            assert not RunLock("aaa", database_url).acquire()  # and really held now, by the third
    finally:
        holder.release()
    assert loser.acquire() and loser.blocked is None
    loser.release()


def test_disjoint_sets_coexist(database_url):
    with RunLock(["sina", "eastmoney"], database_url) as one, RunLock(["yicai", FEED], database_url) as two:
        assert one.acquire() and two.acquire()
        if one.postgresql:
            assert len(set(_advisory_locks(database_url))) == 2  # one session per lock, each with its names
            assert len(_advisory_locks(database_url)) == 4
    if one.postgresql:
        assert _advisory_locks_once_closed_sessions_end(database_url) == []  # release ends the sessions


def test_a_lock_held_by_another_process_names_its_pid(database_url):
    holder = Holder(["sina", "eastmoney"], database_url)
    try:
        assert holder.said == "held"
        lock = RunLock(["eastmoney"], database_url)
        assert not lock.acquire()
        assert lock.holder() == (None if lock.postgresql else str(holder.process.pid))
        refused = Holder(["sina"], database_url)
        assert refused.said == "refused blocked=sina"
        refused.end()
    finally:
        holder.end()
    assert lock.acquire()  # the holder ended normally
    lock.release()


def test_a_killed_holder_frees_every_lock(database_url):
    holder = Holder(["sina", FEED], database_url)
    try:
        assert holder.said == "held"
        assert not RunLock(FEED, database_url).acquire()
        assert not RunLock("sina", database_url).acquire()
    finally:
        holder.kill()
    lock = RunLock(["sina", FEED], database_url)
    assert _acquired_within(lock, 10), "the killed holder's locks should be freed"
    lock.release()


# --- names and files --------------------------------------------------------------------------------------------


def test_names_with_odd_characters_get_safe_distinct_files(tmp_path):
    url = f"sqlite:///{tmp_path / 'caixun.db'}"
    lock = RunLock([FEED, OTHER_FEED, "sina"], url)
    assert lock.names == (FEED, OTHER_FEED, "sina") and lock.folder == tmp_path
    files = [lock.paths[name] for name in (FEED, OTHER_FEED)]
    assert files[0] != files[1] and all(path.parent == tmp_path for path in files)
    for path in files:
        assert re.fullmatch(r"caixun\.db\.crawl-feed_https_x_example_rss_a_[12]\.[0-9a-f]{16}\.lock", path.name)
    assert lock.paths["sina"] == tmp_path / "caixun.db.crawl-sina.lock"
    assert lock.path == lock.paths[FEED]  # the first name's file: its folder is the one to check
    with lock:
        assert lock.acquire()
        assert sorted(p.name for p in tmp_path.glob("*.lock")) == sorted(p.name for p in lock.paths.values())
        assert not RunLock(FEED, url).acquire()
        with RunLock("feed https://x.example/rss?a=3", url) as third:  # the slug is the same, the hash is not
            assert third.acquire()


def test_the_lock_dir_holds_files_per_database(tmp_path):
    one, two = f"sqlite:///{tmp_path / 'one.db'}", f"sqlite:///{tmp_path / 'two.db'}"
    locks = tmp_path / "locks"
    first = RunLock(["sina", FEED], one, locks)
    assert first.folder == locks and first.where == f"2 lock files in {locks}"
    assert re.fullmatch(r"crawl-sina-[0-9a-f]{16}\.lock", first.paths["sina"].name)
    assert first.path == first.paths[FEED]  # "feed ..." sorts before "sina"
    with first, RunLock(["sina"], two, locks) as other_database, RunLock("sina", one, locks) as same:
        assert first.acquire()
        assert other_database.acquire()
        assert not same.acquire() and same.where == f"lock file {first.paths['sina']}"
        assert same.holder() is not None and int(same.holder()) > 0
    assert sorted(p.parent for p in locks.iterdir()) == [locks] * 3


def test_postgresql_has_no_folder(postgres_url):
    lock = RunLock(["sina", "eastmoney"], postgres_url)
    assert lock.folder is None and lock.path is None and lock.paths == {}
    assert lock.where.startswith("advisory locks for 2 sites in ")


def test_a_lock_needs_a_name(tmp_path):
    with pytest.raises(ValueError):
        RunLock([], f"sqlite:///{tmp_path / 'caixun.db'}")


# --- closing abandoned runs -------------------------------------------------------------------------------------


def test_finish_abandoned_runs_closes_only_runs_that_shared_a_site(database_url):
    engine = make_engine(database_url)
    sessions = session_factory(engine)
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    now = start + timedelta(days=1)

    def run(spider: str, arguments: dict, minutes: int, finished: bool = False) -> int:
        with sessions.begin() as session:
            run_id = start_run(session, spider, arguments, start + timedelta(minutes=minutes))
            if finished:
                session.get(CrawlRun, run_id).finished_at = start + timedelta(minutes=minutes + 5)
                session.get(CrawlRun, run_id).finish_reason = "finished"
        return run_id

    legacy_ours = run("sina_finance", {"channels": "153:2516"}, 1)  # an older release: holds its spider name
    shares_one = run("news", {"crawl_sites": ["sina", "eastmoney"]}, 2)
    disjoint = run("news", {"crawl_sites": ["yicai"]}, 3)
    legacy_other = run("other", {}, 4)
    feed = run("feeds", {"crawl_sites": [FEED]}, 5)
    finished = run("news", {"crawl_sites": ["eastmoney"]}, 6, finished=True)
    our_spider_other_sites = run("sina_finance", {"crawl_sites": ["sina"]}, 7)  # recorded sites decide
    with sessions.begin() as session:
        record_fetch(session, crawl_run_id=shares_one, requested_url="https://e.example/1",
                     final_url="https://e.example/1", fetched_at=start + timedelta(minutes=30))  # fmt: skip

    with sessions.begin() as session:
        closed = finish_abandoned_runs(session, "sina_finance", now, sites={"eastmoney", FEED, "cls"})
    assert closed == [legacy_ours, shares_one, feed]
    with sessions() as session:
        rows = {r.id: r for r in session.scalars(select(CrawlRun))}
    for run_id in (legacy_ours, shares_one, feed):
        assert rows[run_id].finish_reason == "abandoned" and rows[run_id].exit_status is None
    assert rows[shares_one].finished_at == start + timedelta(minutes=30)  # its last fetch
    assert rows[legacy_ours].finished_at == start + timedelta(minutes=1)  # no fetch: its start
    for run_id in (disjoint, legacy_other, our_spider_other_sites):
        assert rows[run_id].finished_at is None and rows[run_id].finish_reason is None
    assert rows[finished].finish_reason == "finished" and rows[finished].finished_at == start + timedelta(minutes=11)

    with sessions.begin() as session:  # without sites: every unfinished run of the spider, as before
        assert finish_abandoned_runs(session, "news", now) == [disjoint]
    with sessions.begin() as session:
        assert finish_abandoned_runs(session, "sina_finance", now, sites=["sina"]) == [our_spider_other_sites]
    with sessions() as session:
        unfinished = session.scalars(select(CrawlRun.id).where(CrawlRun.finished_at.is_(None))).all()
    assert unfinished == [legacy_other]
    engine.dispose()
