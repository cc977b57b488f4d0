"""Score each page for each system, then summarise pages into table rows.

A row is a site (fixture folder / manifest site / "aeb"), a group of sites
("sina", "non-sina") or "overall". Body scores are macro over the row's pages
that have a body truth; metadata accuracy is over the pages whose truth has
that field; leaks count pages with at least one leak: a marker of
benchmarks/leaks.py, or one of the strings the page's fixture lists under
must_not_contain (picked by hand from that page).
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from benchmarks.leaks import Leak, find_leaks
from benchmarks.metric import PageScore, Scores, aggregate, score_page
from benchmarks.suites import Case
from benchmarks.systems import SYSTEMS, Prediction, predicted_field
from benchmarks.truth import METADATA_FIELDS, PUBLISHED_DAY, field_matches, truth_value_json

SINA_SITES = frozenset({"sina", "sina_mobile"})  # Sina Finance and its mobile pages; sina_tw is another portal
SYNDICATED = "syndicated"  # kind_of_page of a Sina article carried by another site (a broker app, a portal)
SCORED_FROM = {PUBLISHED_DAY: "published_at"}  # a derived field and the Article field it is read from
ROW_FIELDS: tuple[str, ...] = (*METADATA_FIELDS, PUBLISHED_DAY)


@dataclass
class SystemResult:
    """One system on one page."""

    prediction: Prediction
    body_score: PageScore | None  # None when the page has no body truth
    leaks: list[Leak]
    fields: dict[str, bool] = field(default_factory=dict)  # metadata field → exact match (caixun only)

    def as_dict(self, with_body: bool) -> dict[str, Any]:
        data: dict[str, Any] = {
            "extractor": self.prediction.extractor,
            "site_rule": self.prediction.site_rule,
            "error": self.prediction.error,
            "ms": round(self.prediction.ms, 3),
            "body_chars": len(self.prediction.body),
            "leaks": [leak.as_dict() for leak in self.leaks],
        }
        if self.body_score is not None:
            score = self.body_score
            data["body"] = {
                "precision": score.precision if score.has_prediction else None,
                "recall": score.recall if score.has_truth else None,
                "tp": score.tp,
                "fp": score.fp,
                "fn": score.fn,
                "exact": score.exact,
            }
        if self.fields:
            data["fields"] = {
                name: {"ok": ok, "got": _json_value(predicted_field(self.prediction, SCORED_FROM.get(name, name)))}
                for name, ok in self.fields.items()
            }
        if with_body:
            data["predicted_body"] = self.prediction.body
        return data


@dataclass
class PageResult:
    case: Case
    systems: dict[str, SystemResult]

    def as_dict(self, with_body: bool = False) -> dict[str, Any]:
        truth = self.case.truth
        return {
            "id": self.case.page_id,
            "site": self.case.site,
            "url": self.case.url,
            "tokenization": self.case.tokenization,
            "truth": {
                "body_chars": None if truth.body is None else len(truth.body),
                **{name: truth_value_json(name, value) for name, value in truth.fields.items()},
            },
            **{name: result.as_dict(with_body) for name, result in self.systems.items()},
        }


def _json_value(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def score_case(case: Case, predictions: dict[str, Prediction]) -> PageResult:
    results = {}
    for name, prediction in predictions.items():
        body_score = None
        if case.truth.body is not None:
            body_score = score_page(case.truth.body, prediction.body, case.tokenization)
        fields = {}
        if name == "caixun":
            for field_name in METADATA_FIELDS:
                if field_name in case.truth.fields:
                    expected = case.truth.fields[field_name]
                    fields[field_name] = field_matches(field_name, predicted_field(prediction, field_name), expected)
            if "published_at" in case.truth.fields:
                expected = case.truth.fields["published_at"]
                fields[PUBLISHED_DAY] = field_matches(PUBLISHED_DAY, predicted_field(prediction, "published_at"), expected)
        leaks = find_leaks(prediction.body, chinese=case.chinese)
        leaks += [Leak(text, "the page's must_not_contain") for text in case.truth.must_not_contain if text in (prediction.body or "")]
        results[name] = SystemResult(prediction, body_score, leaks, fields)
    return PageResult(case, results)


@dataclass
class Timing:
    """Milliseconds per page of one system over some pages."""

    pages: int
    mean: float | None
    median: float | None

    @classmethod
    def of(cls, values: Sequence[float]) -> Timing:
        if not values:
            return cls(0, None, None)
        return cls(len(values), statistics.fmean(values), statistics.median(values))


def ms_ratio(ours: Timing, theirs: Timing) -> float | None:
    if ours.mean is None or not theirs.mean:
        return None
    return ours.mean / theirs.mean


@dataclass
class Row:
    label: str
    pages: int
    body_pages: int
    scores: dict[str, Scores]
    leak_pages: dict[str, int]
    fields: dict[str, tuple[int, int]]  # field → (correct, scored)
    timing: dict[str, Timing]

    @property
    def ratio(self) -> float | None:
        return ms_ratio(self.timing["caixun"], self.timing["trafilatura"])

    def field_accuracy(self, name: str) -> float | None:
        correct, scored = self.fields.get(name, (0, 0))
        return correct / scored if scored else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "pages": self.pages,
            "body_pages": self.body_pages,
            "body": {name: scores.as_dict() for name, scores in self.scores.items()},
            "leak_pages": self.leak_pages,
            "fields": {
                name: {"correct": c, "scored": n, "accuracy": (c / n if n else None)} for name, (c, n) in self.fields.items()
            },
            "ms_per_page": {name: {"mean": t.mean, "median": t.median} for name, t in self.timing.items()},
            "ms_ratio": self.ratio,
        }


def summarise(label: str, pages: Sequence[PageResult]) -> Row:
    scored = [p for p in pages if p.case.truth.body is not None]
    scores = {
        name: aggregate(p.systems[name].body_score for p in scored if p.systems[name].body_score is not None)
        for name in SYSTEMS
    }
    fields: dict[str, tuple[int, int]] = {}
    for name in ROW_FIELDS:
        outcomes = [p.systems["caixun"].fields[name] for p in pages if name in p.systems["caixun"].fields]
        if outcomes:
            fields[name] = (sum(outcomes), len(outcomes))
    return Row(
        label=label,
        pages=len(pages),
        body_pages=len(scored),
        scores=scores,
        leak_pages={name: sum(1 for p in pages if p.systems[name].leaks) for name in SYSTEMS},
        fields=fields,
        timing={name: Timing.of([p.systems[name].prediction.ms for p in pages]) for name in SYSTEMS},
    )


def page_kind(case: Case) -> str:
    """The issue's kinds of page: "[syndicated]" (a Sina article on another site), "[sina]", "[non-sina]"."""
    if case.kind_of_page == SYNDICATED:
        return "[syndicated]"
    return "[sina]" if case.site in SINA_SITES else "[non-sina]"


def suite_rows(suite: str, pages: Sequence[PageResult]) -> list[Row]:
    """One row per site, then a row per kind of page for the Chinese suites, then "overall"."""
    sites = sorted({p.case.site for p in pages})
    rows = [summarise(site, [p for p in pages if p.case.site == site]) for site in sites]
    if suite != "aeb":
        for label in ("[sina]", "[non-sina]", "[syndicated]"):
            group = [p for p in pages if page_kind(p.case) == label]
            if group:
                rows.append(summarise(label, group))
    rows.append(summarise("overall", pages))
    return rows


def timing_groups(pages: Sequence[PageResult]) -> dict[str, dict[str, Timing]]:
    """Timings split by how caixun handled the page: a site rule, or the generic path (incl. nothing found)."""
    groups: dict[str, Callable[[PageResult], bool]] = {
        "site_rule": lambda p: p.systems["caixun"].prediction.site_rule,
        "generic": lambda p: not p.systems["caixun"].prediction.site_rule,
    }
    return {
        label: {name: Timing.of([p.systems[name].prediction.ms for p in pages if keep(p)]) for name in SYSTEMS}
        for label, keep in groups.items()
    }
