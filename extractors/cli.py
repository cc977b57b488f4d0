"""python -m extractors: extract articles from saved pages, as JSON.

  python -m extractors [--url URL] FILE          one page → one JSON object
  python -m extractors --manifest pages.jsonl    lines {"path": ..., "url": ...} → one JSON line each

In a manifest run every input gets one output line, in input order: the article
fields, or {"path", "error"} when that input could not be extracted. One bad
input never stops the batch; the exit code is 1 if any input failed.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
from collections.abc import Iterator
from pathlib import Path

from extractors.article import NotAnArticle
from extractors.extract import Page, extract


def read_page_bytes(path: Path) -> bytes:
    data = path.read_bytes()
    return gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data


def _extract_file(path: Path, url: str | None) -> dict:
    body = read_page_bytes(path)
    article = extract(Page(url or path.resolve().as_uri(), body))
    return article.to_dict()


def _manifest_lines(manifest: Path) -> Iterator[tuple[int, dict | None, str | None]]:
    with manifest.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
            except json.JSONDecodeError as exc:
                yield number, None, f"line {number}: not JSON ({exc.msg})"
                continue
            if not isinstance(entry, dict) or not isinstance(entry.get("path"), str):
                yield number, None, f"line {number}: needs a string \"path\""
                continue
            yield number, entry, None


def _run_manifest(manifest: Path) -> int:
    failed = 0
    base = manifest.resolve().parent
    for _number, entry, problem in _manifest_lines(manifest):
        if entry is None:
            failed += 1
            print(json.dumps({"path": None, "error": problem}, ensure_ascii=False), flush=True)
            continue
        path = Path(entry["path"])
        path = path if path.is_absolute() else base / path
        try:
            record = {"path": entry["path"], **_extract_file(path, entry.get("url"))}
        except NotAnArticle as exc:
            failed += 1
            record = {"path": entry["path"], "error": f"not an article: {exc}"}
        except (OSError, gzip.BadGzipFile, EOFError) as exc:
            failed += 1
            record = {"path": entry["path"], "error": f"unreadable: {exc}"}
        except Exception as exc:  # one bad page must not stop the batch
            failed += 1
            record = {"path": entry["path"], "error": f"{type(exc).__name__}: {exc}"}
        print(json.dumps(record, ensure_ascii=False), flush=True)
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m extractors", description=__doc__.split("\n\n")[0])
    parser.add_argument("file", nargs="?", type=Path, help="a saved page (HTML, or gzip of it)")
    parser.add_argument("--url", help="the URL the page was fetched from (picks the site rule)")
    parser.add_argument("--manifest", type=Path, help='JSON lines {"path": ..., "url": ...}; paths relative to it')
    args = parser.parse_args(argv)
    if (args.file is None) == (args.manifest is None):
        parser.error("give either FILE or --manifest")
    if args.manifest is not None:
        if not args.manifest.is_file():
            parser.error(f"no such manifest: {args.manifest}")
        return _run_manifest(args.manifest)
    try:
        record = _extract_file(args.file, args.url)
    except NotAnArticle as exc:
        print(f"error: not an article: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"error: cannot read {args.file}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    print(json.dumps(record, ensure_ascii=False, indent=2))
    return 0
