"""python -m extractors: extract articles from saved pages.

  python -m extractors [--url URL] [--format F] PAGE...  files, folders or - (stdin) → articles
  python -m extractors --manifest pages.jsonl             lines {"path": ..., "url": ...} → one JSON line each

A PAGE is a file (HTML, or gzip of it: told by its first bytes, whatever its
name), `-` for standard input (bytes, under the same --max-bytes), or a folder:
its *.html, *.htm, *.html.gz and *.htm.gz files and those of its subfolders, in
sorted path order (names starting with "." and symlinked folders passed over).
A folder holding no such page is a usage error.

The page's URL picks the site rule and is the article's url: --url URL (one
page only), else the page's own link rel=canonical, else its og:url (absolute
http(s) URLs only; extractors.own_url). A page naming neither goes the generic
path with its file's file:// URI as url (file:///dev/stdin for -); stderr says
so once, at the end.

--format:
  json      (default) one PAGE that is a file or -: its article object; else an
            array of {"path": ..., article fields...}, one per article
  jsonl     one {"path": ..., article fields...} line per article, as each is done
  text      the title, "field: value" lines, a blank line, the body (one paragraph
            a line); pages apart by a line holding a form feed
  markdown  "# title", a "- field: value" list, the body's paragraphs, the
            article's images as ![caption](src); pages apart by a --- rule

A page that gives no article (unreadable, refused, not an article) is named on
stderr ("error: PATH: why"; "error: why" for a single PAGE), the others go on,
and the exit code is 1 at the end. Exit code 2 is a usage error.

In a manifest run every input gets one output line, in input order: the article
fields, or {"path", "error"} when that input could not be extracted. One bad
input never stops the batch; the exit code is 1 if any input failed. An entry
without "url" has its URL found as above.

Pages are extracted as the crawler extracts them: in a worker process
(extractors.sandbox) under the limits of extractors.limits, each settable:

  --max-bytes N      larger pages are refused before parsing (default 8 MiB); a .gz file is
                     decompressed as it is read, and refused as soon as it passes N bytes
  --max-elements N   pages with more start tags are refused before parsing (default 100,000)
  --timeout S        seconds one page may take (default 30)
  --memory-mb M      address space of the worker process, in MiB (default 1024)

A refused or failed page is an error naming its reason (extract_too_large,
extract_too_many_elements, extract_timeout, extract_memory, …).
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import os
import re
import sys
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from extractors.extract import Page
from extractors.limits import ExtractionLimits, PageRefused, size_refusal
from extractors.own_url import own_url
from extractors.sandbox import Extraction, Sandbox

_GZIP_MAGIC = b"\x1f\x8b"
STDIN = "-"
STDIN_URL = "file:///dev/stdin"
PAGE_SUFFIXES = (".html", ".htm", ".html.gz", ".htm.gz")  # of the files a folder gives, in any case
FORMATS = ("json", "jsonl", "text", "markdown")


def _size_checked(data: bytes, max_bytes: int, name: str, gzipped: bool) -> bytes:
    refused = size_refusal(len(data), ExtractionLimits(max_bytes=max_bytes))
    if refused is not None:
        what = "decompressed, " if gzipped else ""
        raise PageRefused(refused.reason, f"{name} is larger than {max_bytes:,} bytes ({what}read up to the limit)")
    return data


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
    return _size_checked(data, max_bytes, str(path), gzipped)


def read_stdin_bytes(max_bytes: int) -> bytes:
    """Standard input's bytes, as read_page_bytes reads a file (gzip undone, refused past max_bytes)."""
    data = _size_checked(sys.stdin.buffer.read(max_bytes + 1), max_bytes, "standard input", False)
    if data[:2] != _GZIP_MAGIC:
        return data
    with gzip.GzipFile(fileobj=io.BytesIO(data)) as stream:
        return _size_checked(stream.read(max_bytes + 1), max_bytes, "standard input", True)


class Failed(Exception):
    """The page gave no article: the message says why."""


@dataclass(frozen=True)
class Input:
    name: str  # as shown in output and messages: the path as given or found, or "-"
    path: Path | None  # None: standard input

    def read(self, max_bytes: int) -> bytes:
        return read_stdin_bytes(max_bytes) if self.path is None else read_page_bytes(self.path, max_bytes)

    @property
    def file_url(self) -> str:
        return STDIN_URL if self.path is None else self.path.resolve().as_uri()


def _extract(sandbox: Sandbox, body: bytes, url: str | None, file_url: str) -> tuple[dict, bool]:
    """The article's fields, and whether the page had a URL (given, or its own) rather than file_url."""
    url = url or own_url(body, max_elements=sandbox.limits.max_elements)
    extraction: Extraction = sandbox.extract(Page(url or file_url, body))
    if extraction.article is not None:
        return extraction.article.to_dict(), url is not None
    if extraction.reason is None:
        raise Failed(f"not an article: {extraction.not_article}")
    raise Failed(extraction.error)


def _extract_file(sandbox: Sandbox, path: Path, url: str | None) -> dict:
    body = read_page_bytes(path, sandbox.limits.max_bytes)
    return _extract(sandbox, body, url, path.resolve().as_uri())[0]


def _reason(exc: Exception, name: str | None = None) -> str:
    """Why a page gave no article; `name` is said where the page could not be read."""
    where = f" {name}" if name else ""
    if isinstance(exc, Failed):
        return str(exc)
    if isinstance(exc, PageRefused):
        return f"{exc.reason}: {exc}"
    if isinstance(exc, (gzip.BadGzipFile, EOFError, zlib.error)):
        return f"cannot read{where}: not a valid gzip file ({exc})"
    if isinstance(exc, OSError):
        return f"cannot read{where}: {exc.strerror or exc}"
    return f"{type(exc).__name__}: {exc}"


# --- inputs ------------------------------------------------------------------------------------------------------


class Usage(Exception):
    """The command line names no page to read: exit 2."""


def _is_page_name(name: str) -> bool:
    return not name.startswith(".") and name.lower().endswith(PAGE_SUFFIXES)


def folder_pages(folder: Path) -> list[Path]:
    """The folder's pages (PAGE_SUFFIXES), its subfolders' too, sorted; hidden names, symlinked folders passed over."""

    def unreadable(error: OSError) -> None:
        raise Usage(f"cannot read folder {error.filename}: {error.strerror or error}")

    pages = []
    for top, folders, files in os.walk(folder, onerror=unreadable):
        folders[:] = [name for name in folders if not name.startswith(".")]
        pages += [Path(top, name) for name in files if _is_page_name(name)]
    return sorted(pages, key=lambda page: page.relative_to(folder).parts)


def expand_inputs(names: list[str]) -> tuple[list[Input], bool]:
    """The pages the arguments name, and whether output is of one page (one argument, not a folder)."""
    if names.count(STDIN) > 1:
        raise Usage("- (standard input) can be given once")
    inputs: list[Input] = []
    for name in names:
        path = Path(name)
        if name == STDIN:
            inputs.append(Input(STDIN, None))
        elif path.is_dir():
            pages = folder_pages(path)
            if not pages:
                raise Usage(f"no pages ({', '.join('*' + s for s in PAGE_SUFFIXES)}) in folder {name}")
            inputs += [Input(str(page), page) for page in pages]
        else:  # a missing or unreadable file is that page's error, as in a manifest
            inputs.append(Input(name, path))
    return inputs, len(names) == 1 and (names[0] == STDIN or not Path(names[0]).is_dir())


# --- output ------------------------------------------------------------------------------------------------------

# the fields shown as "field: value" lines in text and markdown, in this order
_META_FIELDS = (
    "url", "canonical_url", "published_at", "source", "source_url", "authors", "editor", "original_title",
    "symbols", "language", "site", "extractor", "warnings",
)  # fmt: skip
_URL_FIELDS = ("url", "canonical_url", "source_url")
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>])")
_MD_BLOCK_START = re.compile(r"^(\s*)([#+=-]|\d+(?=[.)]))")  # a heading, list or rule if left as is


def _meta(record: dict) -> Iterator[tuple[str, str]]:
    for field in _META_FIELDS:
        value = record.get(field)
        if not value or (field == "canonical_url" and value == record.get("url")):
            continue
        yield field, "; ".join(value) if isinstance(value, list) else str(value)


def as_text(record: dict) -> str:
    lines = [record.get("title") or "(no title)"]
    lines += [f"{field}: {value}" for field, value in _meta(record)]
    return "\n".join(lines) + "\n\n" + record.get("body", "")


def _md(text: str) -> str:
    """Text as markdown shows it literally: "*ST" stays *ST, a leading "1. " or "- " starts no list."""
    return _block_escaped(_MD_SPECIAL.sub(r"\\\1", text))


def _block_escaped(text: str) -> str:
    match = _MD_BLOCK_START.match(text)
    if match is None:
        return text
    if match.group(2)[0].isdigit():  # "2019. " → "2019\. "
        return text[: match.end()] + "\\" + text[match.end() :]
    return text[: match.start(2)] + "\\" + text[match.start(2) :]


def _md_url(url: str) -> str:
    return url.replace(" ", "%20").replace("(", "%28").replace(")", "%29").replace("<", "%3C").replace(">", "%3E")


def as_markdown(record: dict) -> str:
    parts = ["# " + _md(record.get("title") or "(no title)")]
    parts.append("\n".join(
        f"- {field}: <{_md_url(value)}>" if field in _URL_FIELDS else f"- {field}: {_md(value)}"
        for field, value in _meta(record)
    ))  # fmt: skip
    parts += [_md(paragraph) for paragraph in record.get("body", "").split("\n") if paragraph.strip()]
    parts += [f"![{_md(image.get('caption') or '')}]({_md_url(image['src'])})" for image in record.get("images", [])]
    return "\n\n".join(part for part in parts if part)


class Writer:
    """Writes each article as it comes, in the chosen format; close() ends the output."""

    def __init__(self, form: str, single: bool) -> None:
        self.form, self.single = form, single
        self.collected: list[dict] = []  # json of several pages: the array, written at the end
        self.written = 0

    def write(self, name: str, record: dict) -> None:
        if self.form == "json":
            if self.single:
                print(json.dumps(record, ensure_ascii=False, indent=2))
            else:
                self.collected.append({"path": name, **record})
        elif self.form == "jsonl":
            print(json.dumps({"path": name, **record}, ensure_ascii=False), flush=True)
        else:
            separator = "\f\n" if self.form == "text" else "\n---\n\n"
            text = as_text(record) if self.form == "text" else as_markdown(record)
            print((separator if self.written else "") + text, flush=True)
        self.written += 1

    def close(self) -> None:
        if self.form == "json" and not self.single:
            print(json.dumps(self.collected, ensure_ascii=False, indent=2))


def _run_pages(sandbox: Sandbox, inputs: list[Input], url: str | None, writer: Writer) -> int:
    failed = 0
    unnamed: list[str] = []  # pages extracted without a URL of their own
    for page in inputs:
        try:
            record, named = _extract(sandbox, page.read(sandbox.limits.max_bytes), url, page.file_url)
        except Exception as exc:  # one bad page must not stop the others
            failed += 1
            message = _reason(exc, page.name) if writer.single else f"{page.name}: {_reason(exc)}"
            print(f"error: {message}", file=sys.stderr, flush=True)
            continue
        if not named:
            unnamed.append(page.name)
        writer.write(page.name, record)
    writer.close()
    if unnamed:
        names = ", ".join(unnamed[:3]) + (", …" if len(unnamed) > 3 else "")
        which = unnamed[0] if len(unnamed) == 1 else f"{len(unnamed)} pages ({names})"
        print(f"note: {which}: no --url and no link rel=canonical or og:url in the page: "
              "extracted by the generic path, with the file's URI as url", file=sys.stderr)  # fmt: skip
    return 1 if failed else 0


# --- manifests ---------------------------------------------------------------------------------------------------


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
    parser.add_argument("pages", nargs="*", metavar="PAGE",
                        help="a saved page (HTML, or gzip of it), a folder of them, or - (standard input)")  # fmt: skip
    parser.add_argument("--url", help="the URL the page was fetched from (picks the site rule); one PAGE only")
    parser.add_argument("--format", choices=FORMATS, help="json (default), jsonl, text or markdown")
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
    if bool(args.pages) == (args.manifest is not None):
        parser.error("give either PAGE(s) or --manifest")
    if args.manifest is not None:
        if not args.manifest.is_file():
            parser.error(f"no such manifest: {args.manifest}")
        if args.url is not None or args.format not in (None, "jsonl"):
            parser.error("a manifest run writes JSON lines and takes its URLs from the manifest")
        inputs, single = [], False
    else:
        try:
            inputs, single = expand_inputs(args.pages)
        except Usage as exc:
            parser.error(str(exc))
        if args.url is not None and not single:
            parser.error("--url names the URL of one page: give one file or -")
    limits = ExtractionLimits(args.max_bytes, args.max_elements, args.timeout, args.memory_mb)
    with Sandbox(limits, workers=1) as sandbox:
        if args.manifest is not None:
            return _run_manifest(sandbox, args.manifest)
        return _run_pages(sandbox, inputs, args.url, Writer(args.format or "json", single))
