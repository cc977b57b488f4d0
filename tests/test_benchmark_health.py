"""benchmarks.health on a small store: it fills what it is asked, times both periods and records the command
without this machine's folders."""

from __future__ import annotations

import json

from benchmarks import health as benchmark


def test_a_small_run_fills_times_and_records(tmp_path, capsys):
    out = tmp_path / "health.json"
    store = tmp_path / "stores"
    assert benchmark.main(["--articles", "300", "--runs", "150", "--databases", "sqlite", "--store-dir", str(store),
                           "--timings", "1", "--json", str(out)]) == 0  # fmt: skip
    results = json.loads(out.read_text(encoding="utf-8"))
    assert results["command"] == "python -m benchmarks.health --articles 300 --runs 150 --databases sqlite " \
        f"--store-dir STORE_DIR --timings 1 --json {out}"
    sqlite = results["databases"]["sqlite"]
    assert sqlite["duplicates_linked"] == 300 // benchmark.DUPLICATE_EVERY
    year, whole = sqlite["periods"]["year"], sqlite["periods"]["whole store"]
    assert year["runs_in_period"] == whole["runs_in_period"] == 150  # every run lies in the last year
    assert whole["articles_in_period"] == 300 and 0 < year["articles_in_period"] < 300
    assert year["html_bytes"] > 0 and year["verdict"] in ("PASS", "FAIL")
    # a kept store is completed, not filled again
    assert benchmark.main(["--articles", "300", "--runs", "150", "--databases", "sqlite", "--store-dir", str(store),
                           "--timings", "1"]) == 0  # fmt: skip
    assert '"fill_seconds"' not in capsys.readouterr().out.split("== sqlite")[-1]
