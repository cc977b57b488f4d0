"""JSON and JSONP list APIs (extractors.sources.JsonList): items, and the next page's URL."""

from __future__ import annotations

import json
import re
from urllib.parse import urljoin

from w3lib.url import add_or_replace_parameter

from crawler.sources.model import ListedItem, ListPage, SourceError, clean_text, time_or_bad, url_or_bad
from extractors.sources import JsonList

# data_callback([...]); with optional trailing semicolon and comments-free white space
_JSONP = re.compile(r"^\s*[\w$.]+\s*\((.*)\)\s*;?\s*$", re.DOTALL)
# a template field's value must stay inside one path segment
_TEMPLATE_VALUE = re.compile(r"^[\w-]{1,100}$")
MAX_CURSOR = 200  # characters of a cursor taken into the next URL


def decode(body: bytes | str) -> str:
    """UTF-8 (BOM dropped), else GB18030: 163's static .js files are GBK."""
    if isinstance(body, str):
        return body
    try:
        return body.decode("utf-8-sig")
    except UnicodeDecodeError:
        return body.decode("gb18030", errors="replace")


def load(source: JsonList, body: bytes | str) -> object:
    text = decode(body)
    if source.jsonp:
        match = _JSONP.match(text)
        if not match:
            raise SourceError("not a JSONP answer (callback(…))")
        text = match.group(1)
    try:
        return json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise SourceError(f"invalid JSON: {exc}"[:200]) from None


def at_path(data: object, path: str | None) -> object:
    """The value at a dotted path of dicts ("data.list"); "" is the data itself; None when absent."""
    if path is None:
        return None
    for part in filter(None, path.split(".")):
        if not isinstance(data, dict):
            return None
        data = data.get(part)
    return data


def item_url(source: JsonList, entry: dict, request_url: str) -> object:
    """The item's URL before checks: its URL field joined to the request URL, or the filled template."""
    if source.url_field is not None:
        value = entry.get(source.url_field)
        if isinstance(value, str) and value.strip():
            try:
                return urljoin(request_url, value.strip())  # yicai and stcn list paths, not URLs
            except ValueError:
                return value  # checked_url says why
        return value
    fields = {}
    for name in re.findall(r"{(\w+)}", source.url_template or ""):
        value = entry.get(name)
        if isinstance(value, bool) or not isinstance(value, (str, int)) or not _TEMPLATE_VALUE.match(str(value)):
            return None
        fields[name] = value
    return source.url_template.format(**fields)


def _joinable(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False  # checked_url reports it
    return True


def parse_json_list(source: JsonList, body: bytes | str, url: str, *, max_items: int, **checks) -> ListPage:
    data = load(source, body)
    entries = at_path(data, source.items)
    if entries is None:
        entries = []
    if not isinstance(entries, list):
        raise SourceError(f"{source.items or 'the answer'} is not a list")
    page = ListPage(capped=max(0, len(entries) - max_items))
    for number, entry in enumerate(entries[:max_items], 1):
        if not isinstance(entry, dict):
            page.bad_item(f"item {number}: not an object")
            continue
        if any(entry.get(name) == value for name, value in source.skip):
            page.skipped += 1
            continue
        if (item := url_or_bad(page, item_url(source, entry, url), number)) is None:
            continue
        listed_at = None
        if source.time_field:
            listed_at = time_or_bad(page, entry.get(source.time_field), number, source.time_unit, **checks)
        title = clean_text(entry.get(source.title_field)) if source.title_field else None
        page.items.append(ListedItem(item, title, listed_at, source.key))
    if entries:
        page.next_url = next_url(source, data, url)
    return page


def page_url(source: JsonList, page: int) -> str:
    if page == source.first_page and source.first_url:
        return source.first_url
    return source.url.format(page=page)


def page_number(source: JsonList, url: str) -> int | None:
    """Which page `url` is, read back through the template; None when it is not one of its pages."""
    if source.first_url and url == source.first_url:
        return source.first_page
    head, _, rest = source.url.partition("{page")
    tail = rest.partition("}")[2]
    match = re.fullmatch(re.escape(head) + r"(\d{1,6})" + re.escape(tail), url)
    return int(match.group(1)) if match else None


def next_url(source: JsonList, data: object, url: str) -> str | None:
    if source.paged:
        number = page_number(source, url)
        return page_url(source, number + 1) if number is not None else None
    if source.cursor_field:
        cursor = at_path(data, source.cursor_field)
        if isinstance(cursor, bool) or not isinstance(cursor, (str, int)):
            return None
        cursor = str(cursor).strip()
        if not cursor or len(cursor) > MAX_CURSOR or not cursor.isprintable() or not _joinable(cursor):
            return None
        return add_or_replace_parameter(url, source.cursor_param, cursor)
    return None
