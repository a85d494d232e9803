"""Checks of what people type: addresses, keywords, interest text, time zone, numbers.

Each check returns the cleaned value or raises `InvalidInput` with a message fit to show
next to the form field. Hostile input (very long, control characters, header injection)
gets a clear error; nothing is silently truncated.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from zoneinfo import available_timezones

from email_validator import EmailNotValidError, validate_email

MAX_EMAIL_LENGTH = 254
MAX_KEYWORDS = 20
MAX_KEYWORD_LENGTH = 60
MAX_INTEREST_LENGTH = 500
MAX_TOPICS = 50
MAX_SEED_PAPERS = 20
MAX_AUTHORS = 20
MAX_AUTHOR_LENGTH = 100
MAX_INTERESTS = 5
MAX_INTEREST_NAME_LENGTH = 80
FREQUENCIES = ("daily", "weekly", "paused")
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]")


class InvalidInput(ValueError):
    """A form value that cannot be used; `field` names the form field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def normalize_email(raw: str) -> str:
    """A syntactically valid address, lower-cased. Line breaks or other control characters are refused."""
    value = raw.strip()
    if not value:
        raise InvalidInput("email", "Please enter your email address.")
    if _CONTROL.search(value):
        raise InvalidInput("email", "The email address contains a line break or control character.")
    if len(value) > MAX_EMAIL_LENGTH:
        raise InvalidInput("email", f"The email address is longer than {MAX_EMAIL_LENGTH} characters.")
    try:
        info = validate_email(value, check_deliverability=False, allow_smtputf8=True)
    except EmailNotValidError as exc:
        raise InvalidInput("email", f"That is not a valid email address: {exc}") from exc
    normalized = info.normalized.lower()
    if len(normalized) > MAX_EMAIL_LENGTH:
        raise InvalidInput("email", f"The email address is longer than {MAX_EMAIL_LENGTH} characters.")
    return normalized


def clean_text(value: str, field: str, max_length: int) -> str:
    """One line of text: no control characters, collapsed spaces, at most `max_length` characters."""
    if _CONTROL.search(value.replace("\r\n", " ").replace("\n", " ").replace("\t", " ")):
        raise InvalidInput(field, "Please remove control characters.")
    text = " ".join(unicodedata.normalize("NFC", value).split())
    if len(text) > max_length:
        raise InvalidInput(field, f"Please keep this under {max_length} characters (it has {len(text)}).")
    return text


def parse_keywords(raw: str, field: str = "keywords") -> list[str]:
    """Comma- or newline-separated keywords; duplicates (ignoring case) dropped, order kept.

    A keyword may say what its acronym stands for: "graph neural networks (GNN)"."""
    return parse_list(raw, field, r"[,\n;]", MAX_KEYWORD_LENGTH, MAX_KEYWORDS, "keywords")


def parse_authors(raw: str) -> list[str]:
    """Author names, one per line or separated by semicolons or commas ("Ada Lovelace; Alan Turing")."""
    return parse_list(raw, "authors", r"[,\n;]", MAX_AUTHOR_LENGTH, MAX_AUTHORS, "authors")


def parse_list(
    raw: str, field: str, separators: str | re.Pattern[str], length: int, limit: int, what: str = ""
) -> list[str]:
    """Values split at `separators`, each one line of text; blanks and repeats (any case) dropped."""
    out: list[str] = []
    seen: set[str] = set()
    for part in re.split(separators, raw):
        word = clean_text(part, field, length)
        if word and word.lower() not in seen:
            seen.add(word.lower())
            out.append(word)
    if len(out) > limit:
        raise InvalidInput(field, f"Please use at most {limit} {what}".rstrip() + ".")
    return out


@dataclass(frozen=True)
class NamedInterestInput:
    """One named interest of the form: its name, keywords and description."""

    name: str
    keywords: list[str]
    text: str | None


def parse_named_interests(
    names: list[str], keywords: list[str], texts: list[str]
) -> list[NamedInterestInput]:
    """Rows of the named-interest fields; blank rows are dropped, a row without a name is an error."""
    out: list[NamedInterestInput] = []
    rows = max(len(names), len(keywords), len(texts))
    for i in range(rows):
        name = clean_text(names[i] if i < len(names) else "", "interests", MAX_INTEREST_NAME_LENGTH)
        words = parse_keywords(keywords[i] if i < len(keywords) else "", "interests")
        text = clean_text(texts[i] if i < len(texts) else "", "interests", MAX_INTEREST_LENGTH) or None
        if not (name or words or text):
            continue
        if not name:
            raise InvalidInput("interests", "Please give each named interest a name.")
        if not (words or text):
            raise InvalidInput("interests", f"Please give “{name}” keywords or a description.")
        if any(n.name.lower() == name.lower() for n in out):
            raise InvalidInput("interests", f"Two named interests are called “{name}”.")
        out.append(NamedInterestInput(name, words, text))
    if len(out) > MAX_INTERESTS:
        raise InvalidInput("interests", f"Please keep at most {MAX_INTERESTS} named interests.")
    return out


def parse_interest(raw: str) -> str | None:
    text = clean_text(raw, "interest", MAX_INTEREST_LENGTH)
    return text or None


@lru_cache(maxsize=1)
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


def parse_timezone(raw: str) -> str:
    value = raw.strip() or "UTC"
    if value not in _zones():
        raise InvalidInput(
            "timezone", "Unknown time zone; use a name such as Europe/Berlin or America/New_York."
        )
    return value


def parse_int(raw: str | int, field: str, low: int, high: int) -> int:
    try:
        value = int(str(raw).strip())
    except ValueError as exc:
        raise InvalidInput(field, f"Please enter a whole number from {low} to {high}.") from exc
    if not low <= value <= high:
        raise InvalidInput(field, f"Please enter a whole number from {low} to {high}.")
    return value


def parse_frequency(raw: str) -> str:
    value = raw.strip().lower()
    if value not in FREQUENCIES:
        raise InvalidInput("frequency", "Choose daily, weekly or paused.")
    return value


def parse_ids(raw: list[str] | list[int], field: str, limit: int) -> list[int]:
    """Ids from checkboxes; anything that is not a positive number is an error, not ignored."""
    ids: list[int] = []
    for value in raw:
        try:
            number = int(str(value).strip())
        except ValueError as exc:
            raise InvalidInput(field, "Unexpected value in the selection.") from exc
        if number <= 0:
            raise InvalidInput(field, "Unexpected value in the selection.")
        if number not in ids:
            ids.append(number)
    if len(ids) > limit:
        raise InvalidInput(field, f"Please choose at most {limit}.")
    return ids


@dataclass
class Preferences:
    """A validated preference form."""

    topic_ids: list[int] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)
    interest_text: str | None = None
    frequency: str = "daily"
    send_hour: int = 7
    timezone: str = "UTC"
    max_papers: int = 10
    include_trending: bool = True
    include_likely: bool = False  # the digest's "likely to trend in your topics" section
    seed_paper_refs: list[str] = field(default_factory=list)
    authors: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)
    quiet_note: bool = False
    interests: list[NamedInterestInput] = field(default_factory=list)


def parse_seed_refs(raw: str) -> list[str]:
    """arXiv ids or arXiv URLs, one per line or comma-separated."""
    refs: list[str] = []
    for part in re.split(r"[,\s]+", raw.strip()):
        if not part:
            continue
        if _CONTROL.search(part) or len(part) > 200:
            raise InvalidInput("seeds", "Please enter arXiv ids such as 2401.01234, one per line.")
        match = re.search(r"(\d{4}\.\d{4,5})(v\d+)?$", part.rstrip("/").removesuffix(".pdf"))
        if not match:
            raise InvalidInput("seeds", f"{part[:40]!r} is not an arXiv id such as 2401.01234.")
        if match.group(1) not in refs:
            refs.append(match.group(1))
    if len(refs) > MAX_SEED_PAPERS:
        raise InvalidInput("seeds", f"Please list at most {MAX_SEED_PAPERS} papers.")
    return refs
