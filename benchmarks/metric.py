"""The ScrapingHub article-body metric (AEB), as pure functions.

Follows shared/benchmarks/scrapinghub-aeb/ABOUT.md, "Evaluation method",
steps 2–8:

- tokens: ``aeb`` = runs of ``\\w`` (upstream); ``cjk`` = one token per CJK
  character (ideographs, kana, hangul) and ``\\w`` runs otherwise;
- shingles: overlapping 4-token windows, compared as multisets; a text of 1–3
  tokens is one shingle, an empty text none;
- per page: TP, FP, FN normalised to sum to 1;
- macro precision over pages with predicted shingles, macro recall over pages
  with true shingles, F1 from those two means; accuracy = identical token
  sequences.

No bootstrap (the "±" of upstream): only the point estimates.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

Tokenization = Literal["aeb", "cjk"]
TOKENIZATIONS: tuple[Tokenization, ...] = ("aeb", "cjk")
SHINGLE_SIZE = 4

_WORD_RUN = re.compile(r"\w+")
# Characters that make one token each under "cjk": CJK ideographs (unified,
# extensions A–H, compatibility), ideographic marks 々〆〇 and Hangzhou numerals,
# kana (hiragana, katakana and their extensions, half-width katakana) and
# hangul (jamo and syllables, half-width jamo). Only ever applied inside a
# \w run, so punctuation in these blocks (e.g. ・) is still a separator.
_CJK_RANGES = (
    "\u1100-\u11ff"  # hangul jamo
    "\u3005-\u3007"  # 々 〆 〇
    "\u3021-\u3029"  # Hangzhou numerals
    "\u3031-\u3035"  # kana repeat marks
    "\u3040-\u30ff"  # hiragana, katakana
    "\u3130-\u318f"  # hangul compatibility jamo
    "\u31f0-\u31ff"  # katakana phonetic extensions
    "\u3400-\u4dbf"  # CJK extension A
    "\u4e00-\u9fff"  # CJK unified ideographs
    "\ua960-\ua97f"  # hangul jamo extended A
    "\uac00-\ud7af"  # hangul syllables
    "\ud7b0-\ud7ff"  # hangul jamo extended B
    "\uf900-\ufaff"  # CJK compatibility ideographs
    "\uff66-\uff9f"  # half-width katakana
    "\uffa0-\uffdc"  # half-width hangul
    "\U0001b000-\U0001b16f"  # kana supplement / extended
    "\U00020000-\U0002ebef"  # CJK extensions B–F
    "\U0002f800-\U0002fa1f"  # CJK compatibility supplement
    "\U00030000-\U000323af"  # CJK extensions G–H
)
_CJK_SPLIT = re.compile(f"[{_CJK_RANGES}]|[^{_CJK_RANGES}]+")


def tokenize(text: str | None, tokenization: Tokenization = "aeb") -> list[str]:
    """Tokens of a text: ``\\w`` runs ("aeb"), with CJK characters split one per token ("cjk")."""
    runs = _WORD_RUN.findall(text or "")
    if tokenization == "aeb":
        return runs
    if tokenization == "cjk":
        return [token for run in runs for token in _CJK_SPLIT.findall(run)]
    raise ValueError(f"unknown tokenization {tokenization!r}; use one of {TOKENIZATIONS}")


def shingles(tokens: Sequence[str], size: int = SHINGLE_SIZE) -> list[tuple[str, ...]]:
    """Overlapping windows of ``size`` tokens; 1 to size-1 tokens give one shingle, 0 tokens none."""
    if not tokens:
        return []
    if len(tokens) < size:
        return [tuple(tokens)]
    return [tuple(tokens[i : i + size]) for i in range(len(tokens) - size + 1)]


@dataclass(frozen=True)
class PageScore:
    """One page: shingle counts normalised to sum to 1 (all 0 when both texts are empty), and exactness."""

    tp: float
    fp: float
    fn: float
    exact: bool  # identical token sequences

    @property
    def has_prediction(self) -> bool:
        return self.tp + self.fp > 0

    @property
    def has_truth(self) -> bool:
        return self.tp + self.fn > 0

    @property
    def precision(self) -> float:
        if self.fp == 0 and self.fn == 0:
            return 1.0
        if self.tp == 0 and self.fp == 0:
            return 0.0
        return self.tp / (self.tp + self.fp)

    @property
    def recall(self) -> float:
        if self.fp == 0 and self.fn == 0:
            return 1.0
        if self.tp == 0 and self.fn == 0:
            return 0.0
        return self.tp / (self.tp + self.fn)


def shingle_counts(truth: str | None, prediction: str | None, tokenization: Tokenization = "aeb") -> tuple[int, int, int]:
    """Raw (TP, FP, FN) of the two texts' shingle multisets."""
    true_bag = Counter(shingles(tokenize(truth, tokenization)))
    pred_bag = Counter(shingles(tokenize(prediction, tokenization)))
    tp = sum((true_bag & pred_bag).values())
    fp = sum((pred_bag - true_bag).values())
    fn = sum((true_bag - pred_bag).values())
    return tp, fp, fn


def score_page(truth: str | None, prediction: str | None, tokenization: Tokenization = "aeb") -> PageScore:
    """Normalised counts and exact-match flag for one page."""
    tp, fp, fn = shingle_counts(truth, prediction, tokenization)
    total = tp + fp + fn
    exact = tokenize(truth, tokenization) == tokenize(prediction, tokenization)
    if total == 0:
        return PageScore(0.0, 0.0, 0.0, exact)
    return PageScore(tp / total, fp / total, fn / total, exact)


@dataclass(frozen=True)
class Scores:
    """Macro scores over pages; None where no page qualifies (e.g. no page with a prediction)."""

    pages: int
    precision: float | None
    recall: float | None
    f1: float | None
    accuracy: float | None

    def as_dict(self) -> dict[str, float | int | None]:
        return {
            "pages": self.pages,
            "f1": self.f1,
            "precision": self.precision,
            "recall": self.recall,
            "accuracy": self.accuracy,
        }


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def aggregate(page_scores: Iterable[PageScore]) -> Scores:
    """Macro P over pages with a prediction, macro R over pages with a truth, F1 of the two, accuracy."""
    pages = list(page_scores)
    precision = _mean([p.precision for p in pages if p.has_prediction])
    recall = _mean([p.recall for p in pages if p.has_truth])
    if precision is None or recall is None:
        f1 = None
    elif precision + recall == 0:
        f1 = 0.0
    else:
        f1 = 2 * precision * recall / (precision + recall)
    accuracy = _mean([1.0 if p.exact else 0.0 for p in pages])
    return Scores(len(pages), precision, recall, f1, accuracy)


def evaluate(truths: dict[str, str | None], predictions: dict[str, str | None], tokenization: Tokenization = "aeb") -> Scores:
    """Score a whole prediction set against the truth; the two id sets must be identical (as upstream)."""
    if truths.keys() != predictions.keys():
        missing = sorted(truths.keys() - predictions.keys())[:5]
        extra = sorted(predictions.keys() - truths.keys())[:5]
        raise ValueError(f"id sets differ: missing {missing}, unexpected {extra}")
    return aggregate(score_page(truths[key], predictions[key], tokenization) for key in truths)


__all__ = [
    "PageScore",
    "Scores",
    "SHINGLE_SIZE",
    "TOKENIZATIONS",
    "Tokenization",
    "aggregate",
    "evaluate",
    "score_page",
    "shingle_counts",
    "shingles",
    "tokenize",
]
