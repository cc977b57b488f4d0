"""benchmarks.workers on a few pages: both worker counts store every page, and the figures add up."""

from __future__ import annotations

import json

import pytest

from benchmarks import workers as benchmark


def test_a_small_run_stores_every_page_and_reports(tmp_path, postgres_url, frontier, capsys):
    out = tmp_path / "workers.json"
    assert benchmark.main(["--pages", "60", "--workers", "1,2", "--cache-dir", str(tmp_path / "cache"),
                           "--frontier", frontier.url, "--json", str(out)]) == 0  # fmt: skip
    results = json.loads(out.read_text(encoding="utf-8"))
    assert results["command"] == f"python -m benchmarks.workers --pages 60 --workers 1,2 --repeat 1 --json {out}"
    assert [(run["workers"], run["stored"]) for run in results["runs"]] == [(1, 60), (2, 60)]
    for run in results["runs"]:
        assert run["pages_per_s"] == pytest.approx(59 / run["window_s"], rel=0.02)
        assert 0 < run["window_s"] < run["wall_s"]
    rates = results["pages_per_s"]
    assert results["scaling"] == pytest.approx(rates["2"] / rates["1"], rel=0.01)
    assert results["efficiency"] == pytest.approx(rates["1"] / results["extraction_pages_per_s"], rel=0.01)
    assert all(value > 0 for value in results["parts_ms_per_page"].values())
    assert "scaling, 2 workers / 1" in capsys.readouterr().out
    assert frontier.client().keys("caixun-bench-*") == []  # its frontiers are cleaned up


@pytest.mark.parametrize("arguments", [["--workers", "0"], ["--workers", "one"], ["--pages", "1"]])
def test_bad_arguments_are_refused(arguments, capsys):
    with pytest.raises(SystemExit) as exited:
        benchmark.main(arguments)
    assert exited.value.code == 2
    assert "--workers" in capsys.readouterr().err
