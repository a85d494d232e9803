"""arXiv RSS (rss.arxiv.org/rss/{cat+cat}): the client and the run (the day's announcements).

Every request goes through the shared arXiv limiter. The feed is empty on weekends and
arXiv holidays; its date is the watermark.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from app.ingest.bookkeeping import get_watermark, set_watermark
from app.ingest.parse.arxiv_rss import parse_rss_feed
from app.ingest.parse.common import Parsed
from app.ingest.report import IngestReport
from app.ingest.sources.base import SourceRun, upsert_parsed
from app.ingest.sources.http import SourceClient, SourceError

PAGE_ATTEMPTS = 3


class ArxivRssClient(SourceClient):
    url_setting = "arxiv_rss_url"

    def feed(self, categories: Sequence[str]) -> Parsed:
        """Today's feed for the categories (joined with '+', as arXiv expects)."""
        url = f"{self.base_url}/{'+'.join(categories)}"
        return self.get_parsed(url, parse_rss_feed, upstream="arXiv RSS", attempts=PAGE_ATTEMPTS)


def run(session: Session, client: ArxivRssClient, job: SourceRun) -> IngestReport:
    """Today's announcements (new, cross-lists, replacements) of the categories."""
    report = IngestReport(source="arxiv_rss")
    report.watermark = get_watermark(session, "arxiv_rss")
    try:
        parsed = client.feed(job.categories)
    except SourceError as exc:
        report.fail(str(exc))
        report.requests = client.requests
        return report
    report.requests = client.requests
    upsert_parsed(session, parsed, report)
    kinds: dict[str, int] = {}
    for record in parsed.records:
        kind = str(record.raw.get("announce_type") or "unknown")
        kinds[kind] = kinds.get(kind, 0) + 1
    if not parsed.records and not parsed.errors:
        report.notes.append("empty feed: no announcements (weekend or arXiv holiday)")
    elif kinds:
        report.notes.append(", ".join(f"{n} {k}" for k, n in sorted(kinds.items())))
    if parsed.feed_date is not None:
        report.watermark = parsed.feed_date.isoformat()
        set_watermark(session, "arxiv_rss", report.watermark)
    return report
