"""Reading paper files: JSON list, JSONL, CSV (with a header), each optionally gzip-compressed.

The format is taken from the name (`.json`, `.jsonl`/`.ndjson`, `.csv`/`.tsv`, plus `.gz`)
and checked against the content; gzip is recognised by its magic bytes. Rows come out one
at a time with their position, so a bad line is reported by number and skipped while its
neighbours are kept. A file that cannot be read at all raises `FileFormatError`.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

CSV_FIELD_LIMIT = 10 * 1024 * 1024
csv.field_size_limit(CSV_FIELD_LIMIT)


class FileFormatError(Exception):
    """The file cannot be read as papers; the message says which file and why."""


@dataclass
class RawRow:
    """One decoded row (`value`) or why it could not be decoded (`error`), with its position."""

    where: str
    value: Any = None
    error: str | None = None
    data: bytes | None = None  # the line as read (JSONL), fingerprinted without re-encoding


def _open_binary(path: Path) -> IO[bytes]:
    try:
        handle: IO[bytes] = open(path, "rb")  # noqa: SIM115 - returned to the caller, closed there
    except FileNotFoundError:
        raise FileFormatError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise FileFormatError(f"{path}: is a folder, not a file") from None
    except OSError as exc:
        raise FileFormatError(f"{path}: cannot open ({exc.strerror})") from None
    if handle.peek(2)[:2] == b"\x1f\x8b" if isinstance(handle, io.BufferedReader) else False:
        return gzip.GzipFile(fileobj=handle, mode="rb")  # type: ignore[return-value]
    return handle


def detect_format(path: Path) -> str:
    """ "json", "jsonl" or "csv" from the file name, or from the first bytes when the name is silent."""
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] in {".gz", ".gzip"}:
        suffixes = suffixes[:-1]
    last = suffixes[-1] if suffixes else ""
    if last == ".json":
        return "json"
    if last in {".jsonl", ".ndjson", ".jsonlines"}:
        return "jsonl"
    if last in {".csv", ".tsv"}:
        return "csv"
    with _open_binary(path) as handle:
        try:
            head = handle.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n")
        except (OSError, EOFError, zlib.error) as exc:
            raise FileFormatError(f"{path}: cannot read ({exc})") from None
    if head.startswith(b"["):
        return "json"
    if head.startswith(b"{"):
        return "jsonl"
    if b"title" in head.split(b"\n", 1)[0].lower():
        return "csv"
    raise FileFormatError(f"{path}: not a JSON, JSONL or CSV file of papers (use .json, .jsonl or .csv)")


def iter_rows(path: Path, *, decode: bool = True) -> Iterator[RawRow]:
    """Every row of the file, in order; raises FileFormatError for an unreadable file.

    With `decode=False` JSONL lines come back undecoded (`value` None, `data` the bytes):
    a caller that skips lines it has already seen saves the JSON decoding (see `decode_line`).
    """
    fmt = detect_format(path)
    handle = _open_binary(path)
    try:
        if fmt == "json":
            yield from _json_rows(path, handle)
        elif fmt == "jsonl":
            yield from _jsonl_rows(path, handle, decode=decode)
        else:
            yield from _csv_rows(path, handle, delimiter="\t" if ".tsv" in path.name.lower() else ",")
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise FileFormatError(f"{path}: compressed data is truncated or corrupt ({exc})") from None
    except OSError as exc:
        raise FileFormatError(f"{path}: read failed ({exc})") from None
    finally:
        handle.close()


def _json_rows(path: Path, handle: IO[bytes]) -> Iterator[RawRow]:
    data = handle.read()
    try:
        document = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise FileFormatError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        if exc.msg == "Extra data" and data.lstrip().startswith(b"{"):
            # A .json file that is really JSON Lines: read it as such.
            yield from _jsonl_rows(path, io.BytesIO(data), decode=True)
            return
        where = f"line {exc.lineno} column {exc.colno}"
        raise FileFormatError(f"{path}: invalid JSON at {where}: {exc.msg}") from None
    if isinstance(document, dict):
        for key in ("papers", "data", "items", "results"):
            if isinstance(document.get(key), list):
                document = document[key]
                break
        else:
            document = [document]
    if not isinstance(document, list):
        raise FileFormatError(f"{path}: expected a JSON list of papers, found {type(document).__name__}")
    for number, item in enumerate(document, start=1):
        yield RawRow(f"item {number}", value=item)


def decode_line(data: bytes) -> Any:
    """One JSONL line to its value; raises ValueError with a readable reason."""
    try:
        return json.loads(data)
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8 text ({exc.reason})") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"invalid JSON ({exc.msg} at column {exc.colno})") from None


def _jsonl_rows(path: Path, handle: IO[bytes], *, decode: bool = True) -> Iterator[RawRow]:
    for number, line in enumerate(handle, start=1):
        if number == 1:
            line = line.removeprefix(b"\xef\xbb\xbf")
        data = line.rstrip(b"\r\n")
        if not data.strip():
            continue
        if not decode:
            yield RawRow(f"line {number}", data=data)
            continue
        try:
            value = decode_line(data)
        except ValueError as exc:
            yield RawRow(f"line {number}", error=str(exc))
            continue
        yield RawRow(f"line {number}", value=value, data=data)


def _csv_rows(path: Path, handle: IO[bytes], *, delimiter: str) -> Iterator[RawRow]:
    text = io.TextIOWrapper(handle, encoding="utf-8-sig", errors="replace", newline="")
    reader = csv.DictReader(text, delimiter=delimiter)
    try:
        fields = reader.fieldnames
    except csv.Error as exc:
        raise FileFormatError(f"{path}: unreadable CSV header ({exc})") from None
    if not fields:
        raise FileFormatError(f"{path}: empty CSV file (a header with a title column is needed)")
    names = [f.strip().lower() for f in fields]
    if "title" not in names:
        columns = ", ".join(fields)[:200]
        raise FileFormatError(f"{path}: CSV header has no 'title' column (columns: {columns})")
    reader.fieldnames = names
    while True:
        start = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield RawRow(f"line {start}", error=f"malformed CSV ({exc})")
            continue
        if None in row:
            yield RawRow(f"line {start}", error=f"{len(row[None])} more fields than the header")
            continue
        yield RawRow(f"line {start}", value={k: v for k, v in row.items() if v != ""})
