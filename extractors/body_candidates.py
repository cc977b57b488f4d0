"""The choice between the generic path's two body candidates.

- trafilatura: reads the whole (pruned) page; high recall, but keeps chrome
  around the article on many Chinese templates;
- container: the readability-style best container (extractors.container);
  precise when it finds the article, but on pages that split the article over
  several containers it returns one fragment.

Rule (evidence: benchmarks/README.md, "The generic path: candidates and the
selection rule"): take the container when
1. its text lies inside trafilatura's (at least CONTAINED of its 4-token
   shingles): both found the same article;
2. it is shorter (under SHORTER of trafilatura's characters): trafilatura
   kept something more;
3. what trafilatura kept more is not prose (under PROSE_SHARE of those
   characters are in lines of PROSE_LINE characters that end a sentence):
   headline lists, nav, copyright and toolbar lines are short and unpunctuated,
   while a container that missed part of the article leaves whole paragraphs
   in trafilatura's surplus.
Otherwise trafilatura's body.
"""

from __future__ import annotations

import re
from collections import Counter

CONTAINED = 0.85
SHORTER = 0.95
PROSE_SHARE = 0.3
PROSE_LINE = 40

_TOKEN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]|[^\W\u3400-\u9fff\uf900-\ufaff]+")
_SENTENCE_END = re.compile(r"[。！？.!?\"”」』…)）]$")


def shingles(text: str, size: int = 4) -> Counter:
    tokens = _TOKEN.findall(text)
    if len(tokens) < size:
        return Counter([tuple(tokens)]) if tokens else Counter()
    return Counter(tuple(tokens[i : i + size]) for i in range(len(tokens) - size + 1))


def contained(part: str, whole: str) -> float:
    """Share of `part`'s shingles (as a multiset) found in `whole`."""
    mine = shingles(part)
    total = sum(mine.values())
    return sum((mine & shingles(whole)).values()) / total if total else 0.0


def surplus_prose_share(longer: str, shorter: str) -> float:
    """Of the lines `longer` has and `shorter` lacks, the share of characters in sentence-like lines."""
    have = {line.strip() for line in shorter.split("\n")}
    surplus = [line.strip() for line in longer.split("\n") if line.strip() and line.strip() not in have]
    total = sum(len(line) for line in surplus)
    prose = sum(len(line) for line in surplus if len(line) >= PROSE_LINE and _SENTENCE_END.search(line))
    return prose / total if total else 0.0


def prefer_container(trafilatura_body: str, container_body: str) -> bool:
    """True when the container's body should replace trafilatura's (the rule above)."""
    if not container_body or not trafilatura_body:
        return not trafilatura_body and bool(container_body)
    return (
        len(container_body) < SHORTER * len(trafilatura_body)
        and contained(container_body, trafilatura_body) >= CONTAINED
        and surplus_prose_share(trafilatura_body, container_body) < PROSE_SHARE
    )
