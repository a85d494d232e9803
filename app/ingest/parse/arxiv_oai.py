"""arXiv OAI-PMH responses (ListRecords / GetRecord), `arXiv` and `arXivRaw` formats.

The document is parsed with lxml (no entity expansion, no network). An OAI `<error>`
raises OaiError with its code (`noRecordsMatch`, `badResumptionToken`, ...); XML that is not
well-formed raises ParseError. Each record becomes a flat JSON-able dict (the raw record
kept with the paper) and then a PaperRecord; a bad record is reported and skipped.
"""

from __future__ import annotations

from typing import Any

from lxml import etree

from app.ingest.parse.arxiv import arxiv_id_in, arxiv_record
from app.ingest.parse.common import (
    ItemError,
    Parsed,
    ParseError,
    cut,
    parse_datetime,
    split_authors,
)
from app.ingest.records import PaperRecord, parse_arxiv_id

SOURCE = "arxiv_oai"
OAI = "{http://www.openarchives.org/OAI/2.0/}"
FORMATS = {"http://arxiv.org/OAI/arXiv/": "arXiv", "http://arxiv.org/OAI/arXivRaw/": "arXivRaw"}
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, remove_comments=True)


class OaiError(ParseError):
    """An OAI-PMH error response; `code` is the protocol's error code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"OAI-PMH error {code}: {message}")
        self.code = code


def _local(tag: Any) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _text(element: Any) -> str | None:
    text = "".join(element.itertext()) if element is not None else None
    return text if text is not None and text.strip() else None


def _metadata_raw(meta: Any) -> dict[str, Any]:
    namespace = meta.tag[1:].split("}")[0] if meta.tag.startswith("{") else ""
    raw: dict[str, Any] = {"format": FORMATS.get(namespace, _local(meta.tag))}
    for child in meta:
        name = _local(child.tag)
        if not name:
            continue
        if name == "authors" and len(child):
            raw["authors"] = [{_local(part.tag): _text(part) for part in author} for author in child]
        elif name == "version":
            raw.setdefault("versions", []).append(
                {"version": child.get("version"), **{_local(part.tag): _text(part) for part in child}}
            )
        else:
            raw[name] = _text(child)
    return raw


def parse_oai_response(data: bytes) -> Parsed:
    """Records, resumption token and response date of one OAI-PMH response."""
    try:
        root = etree.fromstring(data, parser=_PARSER)
    except etree.XMLSyntaxError as exc:
        raise ParseError(f"malformed OAI-PMH XML ({exc})") from None
    if root is None or _local(root.tag) != "OAI-PMH":
        raise ParseError("not an OAI-PMH response")
    for error in root.iter(OAI + "error"):
        raise OaiError(error.get("code") or "unknown", cut(_text(error) or "", 200))
    parsed = Parsed(response_date=_safe_datetime(_text(root.find(OAI + "responseDate"))))
    token = root.find(f".//{OAI}resumptionToken")
    parsed.token = (_text(token) or "").strip() or None if token is not None else None
    for number, record in enumerate(root.iter(OAI + "record"), start=1):
        header = record.find(OAI + "header")
        identifier = _text(header.find(OAI + "identifier")) if header is not None else None
        if header is not None and header.get("status") == "deleted":
            found = parse_arxiv_id(identifier)
            if found:
                parsed.deleted.append(found[0])
            continue
        parsed.add(f"record {number}", identifier, _record, record)
    return parsed


def _record(record: Any) -> PaperRecord:
    """One `<record>` with its metadata: the raw dict kept with the paper, then the record."""
    header = record.find(OAI + "header")
    meta = record.find(OAI + "metadata")
    if meta is None or not len(meta):
        raise ItemError("no metadata")
    raw = _metadata_raw(meta[0])
    raw["identifier"] = _text(header.find(OAI + "identifier")) if header is not None else None
    raw["datestamp"] = _text(header.find(OAI + "datestamp")) if header is not None else None
    raw["sets"] = [_text(s) for s in header.iter(OAI + "setSpec")] if header is not None else []
    return record_from_oai(raw)


def _safe_datetime(value: str | None) -> Any:
    try:
        return parse_datetime(value)
    except ItemError:
        return None


def _oai_authors(value: Any) -> list[str]:
    if isinstance(value, str):
        return split_authors(value)
    names = []
    for author in value or []:
        if isinstance(author, dict):
            parts = [author.get("forenames"), author.get("keyname"), author.get("suffix")]
            name = " ".join(" ".join(p.split()) for p in parts if p)
            if name:
                names.append(name)
    return names


def record_from_oai(raw: dict[str, Any]) -> PaperRecord:
    """One OAI-PMH record (as kept in `raw`) to a record."""
    shown = raw.get("id") or raw.get("identifier")
    arxiv_id, _ = arxiv_id_in(shown, shown=shown)
    versions = raw.get("versions") or []
    version = None
    published, updated = raw.get("created"), raw.get("updated") or raw.get("created")
    if versions:
        numbers = [
            int(v["version"].lstrip("v")) for v in versions if str(v.get("version", "")).lstrip("v").isdigit()
        ]
        version = max(numbers) if numbers else None
        published, updated = versions[0].get("date"), versions[-1].get("date")
    return arxiv_record(
        SOURCE,
        arxiv_id,
        version,
        raw,
        abstract=raw.get("abstract"),
        comment=raw.get("comments"),
        authors=_oai_authors(raw.get("authors")),
        published_at=parse_datetime(published),
        updated_at_source=parse_datetime(updated),
    )
