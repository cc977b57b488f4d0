"""How JSON columns are written: characters as they are, not ``\\u`` escapes.

SQLAlchemy writes JSON with ``json.dumps``, which escapes every character past ASCII: an author 栾 was stored as
``["\\u683e"]`` (on SQLite, and in PostgreSQL's ``json`` columns, which keep the text as given), so a reader's
``authors LIKE '%栾%'`` found nothing. storage.db.make_engine gives every engine ``dumps`` as its
json_serializer; revision 0012 rewrites rows written before it.
"""

from __future__ import annotations

import json
from typing import Any


def dumps(value: Any) -> str:
    """JSON text holding characters as they are; a value with a lone surrogate (which no database can store as
    UTF-8) keeps ASCII escapes, as before."""
    text = json.dumps(value, ensure_ascii=False)
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return json.dumps(value)
    return text
