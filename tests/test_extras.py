"""A single-machine crawl needs neither matplotlib nor Redis; the commands that do name the extra to install.

The packages are made missing for a subprocess (and the extraction workers it starts) by a folder on
PYTHONPATH whose matplotlib, redis and scrapy_redis packages fail to import, as a missing one does.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import PROJECT_DIR

OPTIONAL = ("matplotlib", "redis", "scrapy_redis")


@pytest.fixture
def without_extras(tmp_path) -> dict[str, str]:
    """The environment of a subprocess in which matplotlib, redis and scrapy_redis cannot be imported."""
    blocked = tmp_path / "blocked"
    for name in OPTIONAL:
        (blocked / name).mkdir(parents=True)
        (blocked / name / "__init__.py").write_text(f'raise ModuleNotFoundError("No module named {name!r}")\n')
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(blocked), str(PROJECT_DIR)])}


def _run(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


def test_the_packages_are_really_missing_in_that_environment(without_extras, tmp_path):
    for name in OPTIONAL:
        result = _run(without_extras, tmp_path, "-c", f"import {name}")
        assert result.returncode == 1, name
        assert result.stderr.splitlines()[-1] == f"ModuleNotFoundError: No module named {name!r}", result.stderr


def test_a_replayed_crawl_stores_articles_without_matplotlib_or_redis(without_extras, tmp_path):
    database = tmp_path / "demo.db"
    result = _run(without_extras, PROJECT_DIR, "-m", "crawler", "demo", "--database-url", f"sqlite:///{database}",
                  "--folder", str(tmp_path / "demo"))  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    with sqlite3.connect(database) as db:
        sites = {site for (site,) in db.execute("SELECT DISTINCT site FROM articles")}
    assert len(sites) >= 8, sites


def test_the_report_names_its_extra_when_matplotlib_is_missing(without_extras, tmp_path):
    url = f"sqlite:///{tmp_path / 'store.db'}"
    assert _run(without_extras, tmp_path, "-m", "storage", "upgrade", "--database-url", url).returncode == 0
    result = _run(without_extras, tmp_path, "-m", "storage", "report", "--database-url", url,
                  "--out", str(tmp_path / "report.html"))  # fmt: skip
    assert result.returncode == 1, result.stderr
    assert "matplotlib is not installed" in result.stderr and "caixun[report]" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "report.html").exists()


def test_a_run_asked_for_a_report_is_refused_before_crawling_without_matplotlib(without_extras, tmp_path):
    database = tmp_path / "store.db"
    result = _run(without_extras, tmp_path, "-m", "crawler", "run", "news", "-a", "urls=http://127.0.0.1:1/a.html",
                  "-s", f"CAIXUN_REPORT={tmp_path / 'report.html'}", "--database-url", f"sqlite:///{database}")  # fmt: skip
    assert result.returncode == 1, result.stderr
    assert "CAIXUN_REPORT" in result.stderr and "caixun[report]" in result.stderr
    assert "Traceback" not in result.stderr
    assert not database.exists()  # refused before anything was written


def test_a_worker_names_its_extra_when_redis_is_missing(without_extras, tmp_path):
    result = _run(without_extras, tmp_path, "-m", "crawler", "worker", "news", "--frontier", "redis://127.0.0.1:1/0",
                  "--database-url", f"sqlite:///{tmp_path / 'store.db'}")  # fmt: skip
    assert result.returncode == 1, result.stderr
    assert "CAIXUN_FRONTIER is set" in result.stderr and "caixun[distributed]" in result.stderr and "Traceback" not in result.stderr
