"""Arguments are checked, and the help says what they are: unknown -a names are refused at once, naming
the name and the known ones; run --help and worker --help list the spider arguments, the sites and the exit
codes; `python -m crawler sites` lists every site with its sources, rule and recorded years.

The real `scrapy crawl` and `python -m crawler` in subprocesses; no crawl starts.
"""

from __future__ import annotations

import json
import re
import time

import pytest

from crawler import exitcodes
from crawler.sitelist import NOT_INSTALLED, recorded_pages, site_rows, table
from tests.helpers import run_crawler, run_scrapy

# the spiders' arguments as the README and the issue name them
NEWS_ARGUMENTS = ["sites", "feeds", "max_pages", "since", "urls", "url_file"]
SINA_ARGUMENTS = ["channels", "max_pages", "since", "urls", "url_file"]


@pytest.mark.parametrize(("spider", "wrong", "known"), [("news", "site", NEWS_ARGUMENTS),
                                                        ("sina_finance", "sites", SINA_ARGUMENTS)])  # fmt: skip
def test_scrapy_crawl_refuses_an_unknown_argument_at_once_naming_it(tmp_path, spider, wrong, known):
    started = time.monotonic()
    result = run_scrapy("crawl", spider, "-a", f"{wrong}=sina", "-s", f"DATABASE_URL=sqlite:///{tmp_path / 'a.db'}",
                        timeout=60)  # fmt: skip
    assert time.monotonic() - started < 30
    assert result.returncode == exitcodes.FAILED, result.stderr[-3000:]
    [line] = [line for line in result.stderr.splitlines() if " ERROR: " in line]
    assert "the crawl cannot start" in line and f"no argument '{wrong}'" in line
    assert all(name in line for name in known)
    assert "Traceback" not in result.stderr
    assert "Spider opened" not in result.stderr and not (tmp_path / "a.db").exists()  # nothing was started


def test_a_near_miss_is_pointed_at_the_right_name(tmp_path):
    result = run_scrapy("crawl", "news", "-a", "site=sina", "-s", f"DATABASE_URL=sqlite:///{tmp_path / 'a.db'}")
    assert "(did you mean sites?)" in result.stderr


@pytest.mark.parametrize("command", ["run", "worker"])
def test_run_and_worker_refuse_an_unknown_argument_as_a_usage_error(tmp_path, command):
    extra = ["--frontier", "redis://127.0.0.1:1/0"] if command == "worker" else []  # never reached
    result = run_crawler(command, "news", "-a", "site=sina", "-a", "max_pages=1", *extra,
                         "--database-url", f"sqlite:///{tmp_path / 'a.db'}", timeout=60)  # fmt: skip
    assert result.returncode == exitcodes.USAGE, result.stderr[-3000:]
    assert "no argument 'site'" in result.stderr and "sites, feeds, max_pages, since, urls, url_file" in result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "a.db").exists()
    assert "max_pages" not in result.stderr.split("no argument", 1)[1].split(";")[0]  # only the unknown one named


@pytest.mark.parametrize("command", ["run", "worker"])
def test_help_lists_the_arguments_the_sites_and_the_exit_codes(command):
    result = run_crawler(command, "--help")
    assert result.returncode == 0, result.stderr
    text = result.stdout
    for name in {*NEWS_ARGUMENTS, *SINA_ARGUMENTS}:
        assert re.search(rf"^\s+{name}=\s", text, re.MULTILINE), name
    for site in ("eastmoney", "ifeng", "netease", "qq", "sina", "stcn", "thepaper", "yicai"):  # every site with sources
        assert re.search(rf"\b{site}\b", text.split("sites (", 1)[1]), site
    codes = re.findall(r"^  (\d+)\s", text.split("exit codes:", 1)[1], re.MULTILINE)
    assert codes == ["0", "1", "2", "3", "4", "5", "6", "73", "75"]
    assert "75  another run on one of the same sites" in text


def test_the_sites_command_lists_every_site_with_sources_rule_and_recorded_years():
    result = run_crawler("sites")
    assert result.returncode == 0, result.stderr
    rows = {line.split()[0]: line for line in result.stdout.splitlines()[1:] if line and not line.startswith(" ")}
    expected = ["eastmoney", "ifeng", "mingridapan", "netease", "qq", "sina", "sina_tw", "sohu", "stcn", "thepaper",
                "yahoo_cn", "yahoo_hk", "yicai", "generic"]  # fmt: skip
    assert list(rows) == expected
    assert "jsonlist:25951" in rows["thepaper"] and "sitemap https://news.qq.com/sitemap/index.xml" in rows["qq"]
    assert "generic path" in rows["eastmoney"] and "5 templates" in rows["sina"]
    assert "1 article page: 2019" in rows["mingridapan"]

    as_json = run_crawler("sites", "--format", "json")
    sites = {row["site"]: row for row in json.loads(as_json.stdout)}
    # tests/fixtures/163/ holds netease's pages, 2004's among them; xinhuanet's 2020 page has no rule: generic
    assert "2004" in sites["netease"]["recorded"]["years"] and "163.com" in sites["netease"]["domains"]
    assert "2020" in sites["generic"]["recorded"]["years"] and sites["generic"]["sources"] == []
    assert sites["sina"]["sources"][0].startswith("roll API rollapi (channels 153:2516")


def test_an_installation_without_recorded_pages_says_so(tmp_path):
    assert recorded_pages(tmp_path / "tests" / "fixtures") is None
    text = table(site_rows(None), recorded_here=False)
    assert text.endswith(NOT_INSTALLED) and "thepaper" in text


def test_a_listing_whose_reader_has_gone_ends_quietly():
    import subprocess
    import sys

    from tests.helpers import PROJECT_DIR

    # `python -m crawler sites | head -0`: the reading end is closed before the listing is written
    listing = subprocess.Popen([sys.executable, "-m", "crawler", "sites"], cwd=PROJECT_DIR, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)  # fmt: skip
    listing.stdout.close()
    _, errors = listing.communicate(timeout=60)
    assert listing.returncode == 0, errors
    assert b"Traceback" not in errors and b"BrokenPipe" not in errors
