"""The soak benchmark (benchmarks/soak.py): synthesis, the memory rule, and a small real crawl."""

from __future__ import annotations

import json
import sys
import tempfile

import pytest

from benchmarks import soak
from benchmarks.soak_probe import proc_status_mib
from crawler.rollapi import parse_roll_page
from extractors import rule_named


@pytest.fixture(scope="module")
def material():
    templates, pool, skipped = soak.usable_templates()
    return templates, pool, skipped


def test_synthetic_pages_are_distinct_sina_articles(material):
    templates, pool, skipped = material
    assert len(templates) >= 10, skipped
    pages = [soak.synthesize(n, templates, pool) for n in range(1, 2 * len(templates) + 1)]
    assert len({p.url for p in pages}) == len({p.title for p in pages}) == len({p.body for p in pages}) == len(pages)
    assert all(rule_named("sina").classify_url(p.url) == "article" for p in pages)
    assert [p.ctime for p in pages] == sorted((p.ctime for p in pages), reverse=True)
    for page in pages[: len(templates)]:  # one page of each template
        assert soak.check_page(page) == [], page.template.name
    assert soak.synthesize(7, templates, pool).body == pages[6].body  # deterministic


def test_roll_body_lists_the_pages_newest_first(material):
    templates, pool, _ = material
    pages = [soak.synthesize(n, templates, pool) for n in range(1, 51)]
    items = parse_roll_page(soak.roll_body(pages)).items
    assert [i.url for i in items] == [p.url for p in pages]
    assert items[0].title == pages[0].title and items[0].ctime > items[-1].ctime


def test_the_crawl_keeps_the_project_extensions():
    from crawler import settings

    extensions = json.loads(soak.extensions_setting())
    assert extensions["benchmarks.soak_probe.SoakProbe"] == 900
    assert settings.EXTENSIONS.items() <= extensions.items()
    assert "crawler.extensions.provenance.ProvenanceExtension" in extensions


def test_memory_growth_compares_the_median_rss_of_the_two_windows():
    samples = [{"pages": p, "elapsed_s": p / 25, "rss_mb": 200 + p / 1000, "queued": 0, "gc_objects": 0}
               for p in range(1000, 50_001, 1000)]  # fmt: skip
    memory = soak.analyse(50_000, samples, None)
    assert memory["baseline_window"] == [5000, 10_000] and memory["final_window"] == [45_000, 50_000]
    assert (memory["baseline_rss_mb"], memory["final_rss_mb"], memory["growth_mb"]) == (207.5, 247.5, 40.0)
    assert memory["baseline_samples"] == memory["final_samples"] == 6
    assert memory["verdict"] == "PASS"
    assert (memory["rss_at_window_mb"], memory["rss_at_end_mb"], memory["point_growth_mb"]) == (210.0, 250.0, 40.0)
    assert memory["rss_at_marks_mb"] == {"10000": 210.0, "20000": 220.0, "30000": 230.0, "40000": 240.0, "50000": 250.0}
    assert memory["steady_pages_per_s"] == 25.0 and memory["pages_per_s_by_tenth"] == [25.0] * 10
    leaking = [dict(s, rss_mb=200 + s["pages"] / 400) for s in samples]  # 2.5 MiB per 1,000 pages
    assert soak.analyse(50_000, leaking, None)["verdict"] == "FAIL"


def test_proc_status_is_read_in_mib(tmp_path):
    status = tmp_path / "status"
    status.write_text("Name:\tpython\nVmHWM:\t  204800 kB\nVmRSS:\t  102400 kB\n")
    assert proc_status_mib("VmRSS", str(status)) == 100.0
    assert proc_status_mib("VmHWM", str(status)) == 200.0
    assert proc_status_mib("VmSwap", str(status)) is None
    if sys.platform == "linux":
        assert proc_status_mib("VmRSS") > 0


def test_a_small_soak_run(tmp_path, capsys):
    out = tmp_path / "results"
    code = soak.main(["--pages", "300", "--out", str(out), "--cache-dir", str(tmp_path / "cache")])
    printed = capsys.readouterr()
    assert code == 0, printed.out + printed.err
    [json_path] = out.glob("*-soak-300.json")
    result = json.loads(json_path.read_text("utf-8"))
    assert result["pages"] == result["crawl"]["pages"] == result["crawl"]["scraped"] == 300
    assert result["articles_stored"] == 300  # one distinct canonical URL per page, every page an article
    assert result["problems"] == []
    crawl, memory = result["crawl"], result["memory"]
    assert crawl["returncode"] == 0 and crawl["finish_reason"] == "finished"
    assert crawl["stats"]["caixun/storage/inserted"] == 300
    assert any(e.endswith("ProvenanceExtension") for e in crawl["extensions"])
    assert crawl["peak_rss_mb"] > 0 and crawl["pages_per_s"] > 0 and crawl["wall_seconds"] > 0
    assert len(result["samples"]) >= 25 and all(s["rss_mb"] > 0 for s in result["samples"])
    assert memory["verdict"] in ("PASS", "FAIL") and memory["growth_mb"] is not None
    assert memory["steady_pages_per_s"] > 0
    assert {"cpus", "python", "scrapy"} <= result["environment"].keys()
    assert result["command"].startswith("python -m benchmarks.soak --pages 300")
    assert "sina_finance" in result["crawl_command"] and "max_pages=6" in result["crawl_command"]
    text = json_path.with_suffix(".txt").read_text("utf-8")
    assert "pages/s" in text and "peak RSS" in text and memory["verdict"] in text


def test_a_failing_crawl_fails_loudly(tmp_path, capsys, monkeypatch):
    def failing_command(*args, **kwargs):
        return [sys.executable, "-c", "import sys; sys.stderr.write('Traceback: boom\\n'); sys.exit(3)"]

    monkeypatch.setattr(soak, "crawl_command", failing_command)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # the failed run's folder is kept: keep it here
    code = soak.main(["--pages", "20", "--out", str(tmp_path / "results"), "--cache-dir", str(tmp_path / "cache")])
    printed = capsys.readouterr()
    assert code == 1
    assert "the crawl exited 3" in printed.err and "Traceback: boom" in printed.err
    assert not (tmp_path / "results").exists()
    assert f"kept: {tmp_path}" in printed.err
