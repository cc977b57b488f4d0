"""The export's files: Parquet (pyarrow), streamed in batches, and any format written atomically.

- ``parquet_schema()``: the Parquet columns, one per export field (storage.query.EXPORT_FIELDS), typed;
- ``write_parquet(records, sink)``: export records (storage.query.iter_articles) to a Parquet file,
  PARQUET_BATCH rows per row group: memory is bounded by one batch, not by the store;
- ``atomic_output(path)``: a file that appears under its name only once complete. It is written as a
  hidden ``.<name>.<random>.part`` in the same folder and renamed at the end; on an error or Ctrl-C the
  part file is removed, and a killed export leaves at most that part file, never a half file under the
  final name. Failing to write it is an ExportError naming the path.

pyarrow is the readers' extra (requirements-readers.txt), imported only by the Parquet functions.
"""

from __future__ import annotations

import io
import os
import secrets
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from storage.extras import require

if TYPE_CHECKING:
    import pyarrow

PARQUET_BATCH = 5000  # rows per row group: a few MiB of text; memory holds one batch at a time
TIME_UNIT = "us"  # microseconds: what the database stores; nanoseconds would end in 2262
CHINA_ZONE = "+08:00"  # storage.query.DISPLAY_TZ, as Arrow names a fixed offset
# Never NULL in the database (storage.models); lists are written [] when empty.
REQUIRED = (
    "url", "canonical_url", "body", "site", "fetched_at", "extractor", "authors", "images", "symbols", "id",
    "first_seen_at",
)  # fmt: skip
BOM = "\ufeff"  # first in a CSV for spreadsheet programs (--bom): they then read it as UTF-8


class ExportError(RuntimeError):
    """The export's output file cannot be written; the message names it and the reason."""


def parquet_schema() -> pyarrow.Schema:
    """One column per export field, in EXPORT_FIELDS order.

    published_at: timestamp[us, tz=+08:00] (China time, as the other formats show it); fetched_at,
    removed_at, first_seen_at: timestamp[us, tz=UTC]; authors, symbols: list<string>; images:
    list<struct<src: string, caption: string>>; removed_status: int32; id, duplicate_of: int64;
    everything else string. Columns the database never leaves NULL (REQUIRED) are not nullable.
    """
    pa = require("pyarrow")
    from storage.query import EXPORT_FIELDS

    types = {
        "published_at": pa.timestamp(TIME_UNIT, tz=CHINA_ZONE),
        "fetched_at": pa.timestamp(TIME_UNIT, tz="UTC"),
        "removed_at": pa.timestamp(TIME_UNIT, tz="UTC"),
        "first_seen_at": pa.timestamp(TIME_UNIT, tz="UTC"),
        "authors": pa.list_(pa.string()),
        "symbols": pa.list_(pa.string()),
        "images": pa.list_(pa.struct([("src", pa.string()), ("caption", pa.string())])),
        "removed_status": pa.int32(),
        "id": pa.int64(),
        "duplicate_of": pa.int64(),
    }
    return pa.schema(
        [pa.field(name, types.get(name, pa.string()), nullable=name not in REQUIRED) for name in EXPORT_FIELDS]
    )


def _columns(records: list[dict], schema: pyarrow.Schema) -> dict[str, list[Any]]:
    """The batch column by column, times parsed back from the records' ISO strings, lists never None."""
    pa = require("pyarrow")
    columns: dict[str, list[Any]] = {}
    for field in schema:
        values = [record[field.name] for record in records]
        if pa.types.is_timestamp(field.type):
            values = [None if value is None else datetime.fromisoformat(value) for value in values]
        elif field.name in ("authors", "images", "symbols"):
            values = [value or [] for value in values]
        elif field.name in REQUIRED and None in values:
            raise ExportError(f"an article without {field.name}, which the database should not hold: not exported")
        columns[field.name] = values
    return columns


def write_parquet(records: Iterable[dict], sink: str | Path | IO[bytes], *, batch_size: int = PARQUET_BATCH) -> int:
    """Export records to Parquet at `sink`, `batch_size` rows per row group; the number of rows written.

    An empty store gives a valid file with the schema and no rows.
    """
    pa = require("pyarrow")
    parquet = require("pyarrow.parquet")
    schema = parquet_schema()
    written = 0
    with parquet.ParquetWriter(sink, schema) as writer:
        batch: list[dict] = []
        for record in records:
            batch.append(record)
            if len(batch) >= batch_size:
                writer.write_table(pa.Table.from_pydict(_columns(batch, schema), schema=schema))
                written += len(batch)
                batch = []
        if batch or not written:
            writer.write_table(pa.Table.from_pydict(_columns(batch, schema), schema=schema))
            written += len(batch)
    return written


def check_output(path: Path, what: str = "the export") -> None:
    """ExportError now, before any database work, when `path` cannot become the output file (`what` names it)."""
    folder = path.parent
    if path.is_dir():
        raise ExportError(f"cannot write {what} to {path}: it is a folder; give a file name")
    if not folder.is_dir():
        reason = "is not a folder" if folder.exists() else "does not exist"
        raise ExportError(f"cannot write {what} to {path}: the folder {folder} {reason}")


@contextmanager
def atomic_output(path: Path, *, text: bool = False, what: str = "the export") -> Iterator[IO]:
    """A new file, binary (or UTF-8 text with `text`), that becomes `path` when the block ends without error.

    Written as .<name>.<random>.part next to `path` (so the rename stays on one file system), flushed
    to disk, then renamed over `path`; removed on any error or interrupt. OSErrors of the file (no
    permission, no space, ...) are ExportErrors naming `path`.
    """
    path = Path(path)
    check_output(path, what)
    part = path.with_name(f".{path.name}.{secrets.token_hex(4)}.part")
    try:
        descriptor = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # the umask applies, as usual
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise ExportError(f"cannot write {what} to {path}: cannot create a file in {part.parent}: {reason}") from None
    try:
        with open(descriptor, "wb") as binary:
            if text:
                with io.TextIOWrapper(binary, encoding="utf-8", newline="") as wrapper:
                    yield wrapper
                    wrapper.flush()
                    os.fsync(binary.fileno())
            else:
                yield binary
                binary.flush()
                os.fsync(binary.fileno())
        os.replace(part, path)
    except OSError as exc:
        part.unlink(missing_ok=True)
        raise ExportError(f"cannot write {what} to {path}: {exc.strerror or exc}") from None
    except BaseException:
        part.unlink(missing_ok=True)
        raise
