"""Search tokens for Chinese text, as Lucene's CJK analyzer makes them: overlapping character bigrams.

Text is NFKC-normalised and lower-cased, then read as runs:
- a run of CJK characters (Han, kana, hangul) gives its overlapping bigrams, and its last
  character alone, so that a single character is found at the end of a run too:
  "特斯拉" → 特斯, 斯拉, 拉;
- a run of Latin letters and digits is one word: "Model" → model, "600519" → 600519;
- anything else (spaces, punctuation, symbols) only separates runs.

An index may also hold every CJK character of the text as a token (character_tokens; PostgreSQL's
does: asking GIN for a prefix merges every token that starts with it, one per bigram).

A search term is turned into the tokens every text containing it must have (term_tokens):
the same bigrams; a run's last character only where the run ends inside the term (the text's
run may go on where the term stops); the term's last run as a prefix when it is a Latin word
(the text's word may be longer) or one CJK character (unless the index holds every character).
The index proposes rows holding all of them, and the caller checks that the term itself is in
the text, so a hit is a real substring (a Latin word is matched from its start: "odel" does not
find "Model").
"""

from __future__ import annotations

import re
import unicodedata
from typing import NamedTuple

_CJK = (
    "\u3040-\u30ff"  # hiragana, katakana
    "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"  # Han: extension A, unified, compatibility
    "\uac00-\ud7af"  # hangul syllables
    "\U00020000-\U0003134f"  # Han extensions B–G
)
_RUN = re.compile(f"([{_CJK}]+)|([0-9a-z]+)")
_CJK_CHARACTER = re.compile(f"[{_CJK}]")


class Token(NamedTuple):
    text: str
    prefix: bool = False  # matches any indexed token starting with `text`


def normalized(text: str) -> str:
    """What tokens are made from, and what a term is looked for as: NFKC (full-width Ａ and ０ are A and 0),
    lower case."""
    return unicodedata.normalize("NFKC", text).lower()


def index_tokens(*texts: str | None) -> list[str]:
    """The distinct tokens of the texts (a title and a body), in order of first appearance."""
    found: dict[str, None] = {}
    for text in texts:
        for match in _RUN.finditer(normalized(text or "")):
            run, word = match.groups()
            if word:
                found[word] = None
                continue
            for i in range(len(run) - 1):
                found[run[i : i + 2]] = None
            found[run[-1]] = None
    return list(found)


def character_tokens(tokens: list[str]) -> list[str]:
    """Every CJK character of index_tokens' tokens that is not a token yet: with them, the index holds each
    character of the text (each is in a bigram or is a one-character run)."""
    known = set(tokens)
    return [c for c in dict.fromkeys("".join(tokens)) if c not in known and _CJK_CHARACTER.match(c)]


def term_tokens(term: str, *, every_character: bool = False) -> list[Token]:
    """The tokens a text containing `term` has; [] when the term has no letter, digit or CJK character.
    every_character: the index holds character_tokens too, so a lone CJK character is a token, not a prefix."""
    text = normalized(term)
    matches = list(_RUN.finditer(text))
    tokens: list[Token] = []
    for number, match in enumerate(matches):
        run, word = match.groups()
        at_end = number == len(matches) - 1 and match.end() == len(text)  # the text's run may go on
        if word:
            tokens.append(Token(word, prefix=at_end))
            continue
        tokens += [Token(run[i : i + 2]) for i in range(len(run) - 1)]
        if len(run) == 1:
            tokens.append(Token(run, prefix=at_end and not every_character))
        elif not at_end:
            tokens.append(Token(run[-1]))
    return list(dict.fromkeys(tokens))
