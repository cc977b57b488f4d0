"""python -m extractors: extract articles from saved pages, as JSON.

  python -m extractors [--url URL] FILE          one page → one JSON object
  python -m extractors --manifest pages.jsonl    lines {"path": ..., "url": ...} → one JSON line each

In a manifest run every input gets one output line, in input order: the article
fields, or {"path", "error"} when that input could not be extracted. One bad
input never stops the batch; the exit code is 1 if any input failed.

Pages are extracted as the crawler extracts them: in a worker process
(extractors.sandbox) under the limits of extractors.limits, each settable:

  --max-bytes N      larger pages are refused before parsing (default 8 MiB); a .gz file is
                     decompressed as it is read, and refused as soon as it passes N bytes
  --max-elements N   pages with more start tags are refused before parsing (default 100,000)
  --timeout S        seconds one page may take (default 30)
  --memory-mb M      address space of the worker process, in MiB (default 1024)

A refused or failed page is an error naming its reason (extract_too_large,
extract_too_many_elements, extract_timeout, extract_memory, …): exit 1 for FILE.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import zlib
from collections.abc import Iterator
from pathlib import Path

from extractors.extract import Page
from extractors.limits import ExtractionLimits, PageRefused, size_refusal
from extractors.sandbox import Extraction, Sandbox

_GZIP_MAGIC = b"\x1f\x8b"


def read_page_bytes(path: Path, max_bytes: int) -> bytes:
    """The page's bytes (a gzip file decompressed as it is read); PageRefused past max_bytes."""
    with path.open("rb") as raw:
        gzipped = raw.read(2) == _GZIP_MAGIC
        raw.seek(0)
        if gzipped:
            with gzip.GzipFile(fileobj=raw) as stream:
                data = stream.read(max_bytes + 1)  # never more than that in memory, whatever the ratio
        else:
            data = raw.read(max_bytes + 1)
    refused = size_refusal(len(data), ExtractionLimits(max_bytes=max_bytes))
    if refused is not None:
        what = "decompressed, " if gzipped else ""
        raise PageRefused(refused.reason, f"{path} is larger than {max_bytes:,} bytes ({what}read up to the limit)")
    return data


class Failed(Exception):
    """The page gave no article: the message says why."""


def _extract_file(sandbox: Sandbox, path: Path, url: str | None) -> dict:
    body = read_page_bytes(path, sandbox.limits.max_bytes)
    extraction: Extraction = sandbox.extract(Page(url or path.resolve().as_uri(), body))
    if extraction.article is not None:
        return extraction.article.to_dict()
    if extraction.reason is None:
        raise Failed(f"not an article: {extraction.not_article}")
    raise Failed(extraction.error)


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


def _run_manifest(sandbox: Sandbox, manifest: Path) -> int:
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
            record = {"path": entry["path"], **_extract_file(sandbox, path, entry.get("url"))}
        except Failed as exc:
            failed += 1
            record = {"path": entry["path"], "error": str(exc)}
        except PageRefused as exc:
            failed += 1
            record = {"path": entry["path"], "error": f"{exc.reason}: {exc}"}
        except (OSError, EOFError, zlib.error) as exc:
            failed += 1
            record = {"path": entry["path"], "error": f"unreadable: {exc}"}
        except Exception as exc:  # one bad page must not stop the batch
            failed += 1
            record = {"path": entry["path"], "error": f"{type(exc).__name__}: {exc}"}
        print(json.dumps(record, ensure_ascii=False), flush=True)
    return 1 if failed else 0


def _positive(kind):
    def parse(value: str):
        try:
            number = kind(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {value!r}") from None
        if not number > 0:
            raise argparse.ArgumentTypeError(f"must be positive, got {value}")
        return number

    return parse


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m extractors", description=__doc__.split("\n\n")[0])
    parser.add_argument("file", nargs="?", type=Path, help="a saved page (HTML, or gzip of it)")
    parser.add_argument("--url", help="the URL the page was fetched from (picks the site rule)")
    parser.add_argument("--manifest", type=Path, help='JSON lines {"path": ..., "url": ...}; paths relative to it')
    default = ExtractionLimits()
    parser.add_argument("--max-bytes", type=_positive(int), default=default.max_bytes, metavar="N",
                        help=f"refuse pages over N bytes, decompressed (default {default.max_bytes:,})")  # fmt: skip
    parser.add_argument("--max-elements", type=_positive(int), default=default.max_elements, metavar="N",
                        help=f"refuse pages with more start tags (default {default.max_elements:,})")  # fmt: skip
    parser.add_argument("--timeout", type=_positive(float), default=default.timeout_s, metavar="S",
                        help=f"seconds one page may take (default {default.timeout_s:g})")  # fmt: skip
    parser.add_argument("--memory-mb", type=_positive(int), default=default.memory_mb, metavar="M",
                        help=f"address space of the extraction worker, MiB (default {default.memory_mb})")  # fmt: skip
    args = parser.parse_args(argv)
    if (args.file is None) == (args.manifest is None):
        parser.error("give either FILE or --manifest")
    if args.manifest is not None and not args.manifest.is_file():
        parser.error(f"no such manifest: {args.manifest}")
    limits = ExtractionLimits(args.max_bytes, args.max_elements, args.timeout, args.memory_mb)
    with Sandbox(limits, workers=1) as sandbox:
        if args.manifest is not None:
            return _run_manifest(sandbox, args.manifest)
        try:
            record = _extract_file(sandbox, args.file, args.url)
        except Failed as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        except PageRefused as exc:
            print(f"error: {exc.reason}: {exc}", file=sys.stderr)
            return 1
        except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
            print(f"error: cannot read {args.file}: not a valid gzip file ({exc})", file=sys.stderr)
            return 1
        except OSError as exc:
            print(f"error: cannot read {args.file}: {exc.strerror or exc}", file=sys.stderr)
            return 1
    print(json.dumps(record, ensure_ascii=False, indent=2))
    return 0
