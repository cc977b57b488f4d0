"""The benchmark's scoring (benchmarks/metric.py and the leak / time rules it reports with).

The ScrapingHub AEB metric must reproduce the published figures from the
reference prediction files in ../shared (skipped when that is absent, failed
instead under CAIXUN_REQUIRE_SERVICES=1, like the services);
small hand-made cases pin down the rules of ABOUT.md steps 3–8.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from benchmarks.leaks import find_leaks
from benchmarks.metric import aggregate, evaluate, score_page, shingles, tokenize
from benchmarks.scoring import page_kind
from benchmarks.suites import SHARED_DIR, Case, is_test_corpus_page, split_of
from benchmarks.truth import Truth, field_matches, parse_truth_time
from tests.helpers import unavailable

AEB_DIR = SHARED_DIR / "benchmarks" / "scrapinghub-aeb"
TEXT = "The quick brown fox jumps over the lazy dog near the river bank today"


def _load_bodies(path) -> dict[str, str]:
    data = json.loads(path.read_text(encoding="utf-8"))
    if isinstance(data, dict) and set(data) == {"version", "output"}:
        data = data["output"]
    return {key: (value or {}).get("articleBody") or "" for key, value in data.items()}


@pytest.mark.parametrize(
    ("system", "f1", "precision", "recall", "accuracy"),
    [("trafilatura", 0.958, 0.938, 0.978, 0.293), ("newspaper", 0.949, 0.964, 0.934, 0.326)],
)
def test_reproduces_published_aeb_scores(system, f1, precision, recall, accuracy):
    if not AEB_DIR.is_dir():
        unavailable(f"{AEB_DIR} is absent: the AEB reference outputs live in the shared data, not in the repository")
    truth = _load_bodies(AEB_DIR / "ground-truth.json")
    prediction = _load_bodies(AEB_DIR / "reference-outputs" / f"{system}.json")
    scores = evaluate(truth, prediction, "aeb")
    assert scores.pages == 181
    assert (round(scores.f1, 3), round(scores.precision, 3), round(scores.recall, 3), round(scores.accuracy, 3)) == (
        f1,
        precision,
        recall,
        accuracy,
    )


def test_identical_texts_score_one():
    scores = evaluate({"a": TEXT, "b": "短文本"}, {"a": TEXT, "b": "短文本"}, "cjk")
    assert (scores.f1, scores.precision, scores.recall, scores.accuracy) == (1.0, 1.0, 1.0, 1.0)


def test_empty_prediction_costs_recall_and_is_left_out_of_precision():
    page = score_page(TEXT, "", "aeb")
    assert (page.tp, page.fp, page.fn) == (0.0, 0.0, 1.0)
    assert not page.has_prediction
    assert page.recall == 0.0
    scores = evaluate({"good": TEXT, "empty": TEXT}, {"good": TEXT, "empty": ""}, "aeb")
    assert scores.precision == 1.0  # only the page with a prediction counts
    assert scores.recall == 0.5
    assert scores.f1 == pytest.approx(2 * 1.0 * 0.5 / 1.5)
    assert scores.accuracy == 0.5


def test_f1_is_harmonic_mean_of_the_averages_not_mean_of_page_f1():
    pages = [score_page(TEXT, TEXT + " and more words added at the end", "aeb"), score_page(TEXT, TEXT.rsplit(" ", 6)[0], "aeb")]
    scores = aggregate(pages)
    precision = (pages[0].precision + pages[1].precision) / 2
    recall = (pages[0].recall + pages[1].recall) / 2
    assert scores.precision == pytest.approx(precision)
    assert scores.recall == pytest.approx(recall)
    assert scores.f1 == pytest.approx(2 * precision * recall / (precision + recall))


def test_duplicated_text_is_penalised():
    page = score_page(TEXT, TEXT + "\n" + TEXT, "aeb")
    assert page.recall == 1.0
    assert page.precision < 0.55  # every shingle is predicted twice, plus the seam
    assert not page.exact


def test_counts_are_normalised_per_page():
    short = score_page("a b c d e", "a b c d x", "aeb")  # 2 true shingles, 1 matched
    long = score_page(" ".join(TEXT.split() * 10), " ".join(TEXT.split() * 10), "aeb")
    assert short.tp + short.fp + short.fn == pytest.approx(1.0)
    assert (short.tp, short.fp, short.fn) == pytest.approx((1 / 3, 1 / 3, 1 / 3))
    assert (long.tp, long.fp, long.fn) == (1.0, 0.0, 0.0)


def test_both_empty_counts_in_accuracy_only():
    page = score_page("", "  ，。 ", "cjk")
    assert (page.tp, page.fp, page.fn) == (0.0, 0.0, 0.0)
    assert page.exact
    scores = evaluate({"a": TEXT, "b": ""}, {"a": TEXT, "b": ""}, "aeb")
    assert (scores.precision, scores.recall, scores.accuracy) == (1.0, 1.0, 1.0)


def test_id_sets_must_match():
    with pytest.raises(ValueError):
        evaluate({"a": TEXT}, {"b": TEXT})


def test_shingles():
    assert shingles([]) == []
    assert shingles(["a", "b"]) == [("a", "b")]
    assert shingles(["a", "b", "c", "d"]) == [("a", "b", "c", "d")]
    assert shingles(["a", "b", "c", "d", "e"]) == [("a", "b", "c", "d"), ("b", "c", "d", "e")]


def test_cjk_tokenisation():
    assert tokenize("中国 GDP增长", "cjk") == ["中", "国", "GDP", "增", "长"]
    assert tokenize("中国 GDP增长", "aeb") == ["中国", "GDP增长"]
    assert tokenize("日本の経済・서울，２０２４年", "cjk") == ["日", "本", "の", "経", "済", "서", "울", "２０２４", "年"]
    assert tokenize("Hello, world_1 ！", "cjk") == ["Hello", "world_1"]


def test_cjk_tokenisation_splits_one_wrong_character_into_few_shingles():
    truth = "人民币中间价创逾五年新低，做市商称符合预期"
    wrong = truth.replace("新低", "新高")
    assert score_page(truth, wrong, "cjk").recall > 0.7
    assert score_page(truth, wrong, "aeb").recall == 0.0  # a whole clause is one token


def test_leaks_spec_strings_and_live_quotes():
    body = "正文第一段。\n摩根大通(115.395, 2.79, 2.47%)上涨\n责任编辑：郭明煜"
    matched = {leak.matched for leak in find_leaks(body)}
    assert "(115.395, 2.79, 2.47%)" in matched
    assert "责任编辑" in matched
    assert find_leaks("正文第一段。\n正文第二段。") == []


def test_leaks_on_english_pages_use_only_generic_patterns():
    assert find_leaks("He said 扫一扫 twice.", chinese=False) == []
    assert [leak.pattern for leak in find_leaks("Copyright © 2020 Example Inc.", chinese=False)] == ["Copyright ©"]


def test_published_at_equal_to_the_minute_with_its_offset_or_the_date():
    china = timezone(timedelta(hours=8))
    minute = parse_truth_time("2005-3-11 12:12")  # naive truth: China time
    assert minute is not None and not minute.date_only
    assert field_matches("published_at", datetime(2005, 3, 11, 12, 12, 40, tzinfo=china), minute)
    # the same instant in another offset, the right wall clock in the wrong offset, no offset: all wrong
    assert not field_matches("published_at", datetime(2005, 3, 11, 4, 12, tzinfo=timezone.utc), minute)
    assert not field_matches("published_at", datetime(2005, 3, 11, 12, 12, tzinfo=timezone.utc), minute)
    assert not field_matches("published_at", datetime(2005, 3, 11, 12, 12), minute)
    assert not field_matches("published_at", datetime(2005, 3, 11, 12, 13, tzinfo=china), minute)
    day = parse_truth_time("2023-11-17T00:00:00", midnight_is_date=True)
    assert day is not None and day.date_only
    assert field_matches("published_at", datetime(2023, 11, 17, 23, 59, tzinfo=china), day)
    assert parse_truth_time("UNKNOWN") is None and parse_truth_time("") is None
    assert field_matches("published_at", None, None)


def test_published_day_is_the_day_in_the_truths_offset():
    china = timezone(timedelta(hours=8))
    minute = parse_truth_time("2005-03-11T23:30:00+08:00")
    assert field_matches("published_day", datetime(2005, 3, 11, 8, 0, tzinfo=china), minute)
    assert field_matches("published_day", datetime(2005, 3, 11, 15, 30, tzinfo=timezone.utc), minute)  # 23:30 +08:00
    assert not field_matches("published_day", datetime(2005, 3, 11, 16, 30, tzinfo=timezone.utc), minute)  # the 12th
    assert not field_matches("published_day", None, minute)
    assert field_matches("published_day", None, None)


def test_test_split_corpus_pages_are_kept_out_of_development():
    assert is_test_corpus_page("raw/sina/news_2018_o_ifxeuwwr9050078.html")
    assert is_test_corpus_page("raw/163/news_2019_police_calls_dom.html")
    assert not is_test_corpus_page("raw/163/news_2020_covid_dom.html")  # a development page of the same site
    assert not is_test_corpus_page("raw/sina/news_2018_c_ifxeuwwr9169891.html")
    assert (split_of("fixtures"), split_of("aeb"), split_of("holdout")) == ("dev", "dev", "test")


def test_rows_by_kind_of_page():
    def case(site, kind=None):
        return Case("holdout", site, "x", "http://x.invalid/", b"", Truth(), "cjk", True, kind)

    assert page_kind(case("sina_mobile")) == "[sina]"
    assert page_kind(case("sina_tw")) == "[non-sina]"  # another portal, not Sina Finance
    assert page_kind(case("futu", "syndicated")) == "[syndicated]"


def test_the_generic_candidates_benchmark_runs_on_a_few_pages():
    """benchmarks.candidates (the evidence for the generic path's rule) keeps working: every candidate scored."""
    from benchmarks import candidates
    from benchmarks.suites import fixture_cases

    cases = [case for case in fixture_cases() if case.truth.body][:3]
    results = candidates.run(cases)
    assert results.pop("_picked")[1] == 3
    assert set(results) == set(candidates.CANDIDATES)
    chosen_score = results["CHOSEN: extractors.generic.generic_body"][0]
    assert chosen_score.recall > 0.5  # the chosen body is the article, not an empty string
