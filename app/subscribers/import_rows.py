"""Reading a subscriber list exported from another tool: a CSV file, one address per row.

Columns (a header row names them, in any order; names are matched without case):

* `email` (required); `topics`: topic slugs or ids, separated by `;`, `|` or commas inside a
  quoted cell (empty: none); `frequency`: daily, weekly or paused (empty: daily);
* optional `keywords`, `interest` (a sentence), `authors` (names separated by `;` or `|`)
  and `exclude` (keywords whose papers to leave out).

Every value goes through the checks of the subscription form (`app.subscribers.validation`),
so an imported subscriber can hold nothing the form would refuse. A row with a problem becomes
a `RowError` with its line number (the line of the file where the row starts, counting the
header as line 1); the good rows are kept, and an address seen again later in the file is an
error on the later line. Other columns are ignored and named in `ignored_columns`.

Pure: text in, rows and errors out; topic names are resolved against the database later.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field

from app.subscribers.validation import (
    MAX_KEYWORDS,
    MAX_TOPICS,
    InvalidInput,
    normalize_email,
    parse_frequency,
    parse_interest,
    parse_keywords,
    parse_list,
)

REQUIRED = ("email",)
KNOWN = ("email", "topics", "frequency", "keywords", "interest", "authors", "exclude")
MAX_AUTHORS = 20
MAX_AUTHOR_LENGTH = 100
_LIST_SEPARATORS = re.compile(r"[;|,\n]")


class ImportFileError(ValueError):
    """The file as a whole cannot be read (no header, no email column); one line for the operator."""


@dataclass(frozen=True)
class ImportRow:
    line: int
    email: str
    topic_refs: tuple[str, ...] = ()
    frequency: str = "daily"
    keywords: tuple[str, ...] = ()
    interest: str | None = None
    authors: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    raw: dict[str, str] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class RowError:
    line: int
    message: str
    raw: dict[str, str] = field(default_factory=dict, compare=False)

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


@dataclass
class ParsedFile:
    columns: list[str]
    rows: list[ImportRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)


def parse_subscriber_csv(text: str) -> ParsedFile:
    """Rows and per-line errors of a subscriber CSV (see the module docstring)."""
    text = text.removeprefix("\ufeff")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise ImportFileError(
            "the file is empty; the first row must name the columns (email, topics, ...)"
        ) from None
    except csv.Error as exc:
        raise ImportFileError(f"line 1: not readable as CSV ({exc})") from None
    columns = [name.strip().lower() for name in header]
    missing = [name for name in REQUIRED if name not in columns]
    if missing:
        raise ImportFileError(
            f"line 1: no {', '.join(missing)} column; the header names {', '.join(columns) or 'nothing'} "
            f"(expected {', '.join(KNOWN)})"
        )
    duplicated = sorted({name for name in columns if name and columns.count(name) > 1})
    if duplicated:
        raise ImportFileError(f"line 1: column {', '.join(duplicated)} appears twice")
    parsed = ParsedFile(columns=columns, ignored_columns=[c for c in columns if c and c not in KNOWN])
    seen: dict[str, int] = {}
    line = reader.line_num + 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            parsed.errors.append(RowError(line, f"not readable as CSV ({exc})"))
            line = reader.line_num + 1
            continue
        start, line = line, reader.line_num + 1
        if not any(cell.strip() for cell in cells):
            continue  # blank lines are not rows
        raw = {name: cell for name, cell in zip(columns, cells, strict=False) if name}
        if len(cells) > len(columns):
            parsed.errors.append(RowError(start, f"{len(cells)} cells, the header has {len(columns)}", raw))
            continue
        try:
            row = _row(start, raw)
        except InvalidInput as exc:
            parsed.errors.append(RowError(start, f"{exc.field}: {exc.message}", raw))
            continue
        if row.email in seen:
            parsed.errors.append(
                RowError(start, f"{row.email} already appears on line {seen[row.email]}", raw)
            )
            continue
        seen[row.email] = start
        parsed.rows.append(row)
    return parsed


def _row(line: int, raw: dict[str, str]) -> ImportRow:
    return ImportRow(
        line=line,
        email=normalize_email(raw.get("email", "")),
        topic_refs=tuple(_list(raw.get("topics", ""), "topics", MAX_TOPICS, 100)),
        frequency=parse_frequency(raw.get("frequency", "") or "daily"),
        keywords=tuple(parse_keywords(raw.get("keywords", ""))),
        interest=parse_interest(raw.get("interest", "")),
        authors=tuple(_list(raw.get("authors", ""), "authors", MAX_AUTHORS, MAX_AUTHOR_LENGTH)),
        exclude=tuple(_list(raw.get("exclude", ""), "exclude", MAX_KEYWORDS, 60)),
        raw=raw,
    )


def _list(raw: str, name: str, limit: int, max_length: int) -> list[str]:
    """Values separated by `;`, `|`, commas or line breaks; blanks and repeats (any case) dropped."""
    return parse_list(raw, name, _LIST_SEPARATORS, max_length, limit)
