"""A newcomer's first digest has papers even when the newest ones are months old, and says when they
were announced; a paper without an announcement date reaches digests by the day it was first seen.

Both databases; the email is rendered by the real renderer, as the outbox would hold it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy.orm import Session

from app.digest.queries import recent_paper_days
from app.digest.service import BuildReport, DigestOptions, build_due_digests, preview_digest
from app.embed.service import load_vectors
from app.mail.compose import MailSetup
from app.mail.message import MailIdentity
from app.mail.render import Renderer
from app.models import Paper
from app.subscribers.tokens import TokenSigner
from tests.digest.digest_support import ENCODER, add_paper, add_subscriber, add_topic

NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)  # a Thursday; the newest papers are from July
OPTIONS = DigestOptions(first_days=3, model_name=ENCODER.model_name)


def build(db: Session, now: datetime = NOW) -> BuildReport:
    return build_due_digests(db, now=now, options=OPTIONS, load_vectors=load_vectors)


def _setup() -> MailSetup:
    identity = MailIdentity.create("papertrend <digest@news.example.org>", "https://news.example.org")
    return MailSetup(identity=identity, signer=TokenSigner.from_keys("k" * 40), renderer=Renderer())


def test_first_digest_of_an_archive_whose_newest_papers_are_months_old_has_papers(db: Session) -> None:
    """The demo case: papers up to 1 July, a subscriber on 3 December. Three calendar days hold
    nothing; the three latest days with papers do."""
    quant = add_topic(db, "Quantization")
    days = [date(2026, 7, 1), date(2026, 6, 30), date(2026, 6, 29), date(2026, 6, 26)]
    papers = {d: add_paper(db, f"Quantized transformers on {d}", day=d, topics={quant: 0.9}) for d in days}
    add_subscriber(db, "newcomer@example.org", topics=[quant])
    report = build(db)
    assert report.built == 1, report.summary()
    (digest,) = report.digests
    assert {i.paper_id for i in digest.items} == {papers[d].id for d in days[:3]}
    assert digest.note == "Your first digest: the newest papers we have for you, from 29 June – 1 July 2026."
    rendered = _setup().renderer.digest(_setup().digest_view(digest))
    assert "Your first digest" in rendered.text and "Announced 1 July 2026" in rendered.text
    assert "Announced 29 June 2026" in rendered.html
    # Its second digest goes back to the ordinary window: nothing new since, so no email.
    assert build(db, NOW + timedelta(days=1)).built == 0


def test_the_preview_shows_the_same_first_digest(db: Session) -> None:
    quant = add_topic(db, "Quantization")
    add_paper(db, "Quantized paper of July", day=date(2026, 7, 1), topics={quant: 0.9})
    sub = add_subscriber(db, "newcomer@example.org", topics=[quant])
    preview = preview_digest(db, sub, now=NOW, options=OPTIONS, load_vectors=load_vectors)
    assert preview is not None and preview.items and preview.note.endswith("from 1 July 2026.")


def test_recent_paper_days_skip_withdrawn_and_future_papers(db: Session) -> None:
    quant = add_topic(db, "Quantization")
    add_paper(db, "Announced tomorrow", day=date(2026, 12, 5), topics={quant: 0.9})
    gone = add_paper(db, "Withdrawn one", day=date(2026, 11, 30), topics={quant: 0.9})
    gone.withdrawn = True
    add_paper(db, "Ordinary", day=date(2026, 11, 27), topics={quant: 0.9})
    db.flush()
    assert recent_paper_days(db, until=date(2026, 12, 4), count=3) == [date(2026, 11, 27)]


def test_paper_without_announcement_date_reaches_digests_by_the_day_first_seen(db: Session) -> None:
    """A file without dates: no announcement day, no publication date; it counts from when it arrived."""
    quant = add_topic(db, "Quantization")
    dated = add_paper(db, "Quantized paper with a date", day=date(2026, 12, 2), topics={quant: 0.9})
    undated = add_paper(
        db, "Quantized paper from a file without dates", day=date(2026, 12, 3), topics={quant: 0.9},
        created_at=NOW - timedelta(hours=2),
    )  # fmt: skip
    undated.announced_date = None
    undated.published_at = None
    db.flush()
    add_subscriber(db, "ada@example.org", topics=[quant])
    (first,) = build(db).digests
    items = {i.paper_id: i for i in first.items}
    assert set(items) == {dated.id, undated.id}
    assert (items[undated.id].day, items[undated.id].day_kind) == (date(2026, 12, 3), "first seen")
    rendered = _setup().renderer.digest(_setup().digest_view(first))
    assert "First seen 3 December 2026" in rendered.text

    # A later digest takes one that arrives after it, by the same rule.
    later = add_paper(
        db, "Another quantized paper without dates", day=date(2026, 12, 4), topics={quant: 0.9},
        created_at=NOW + timedelta(hours=20),
    )  # fmt: skip
    later.announced_date = None
    db.flush()
    (second,) = build(db, NOW + timedelta(days=1)).digests
    assert [i.paper_id for i in second.items if i.section == "for_you"] == [later.id]
    assert db.get(Paper, later.id) is not None


def test_undated_papers_loaded_today_do_not_hide_the_dated_archive(db: Session) -> None:
    """The demo loads undated seed papers (first seen today) beside arXiv papers of July: a first
    digest takes the three latest days with papers, so both kinds appear, each with its date,
    and a paper without authors has no empty line."""
    quant = add_topic(db, "Quantization")
    seed = add_paper(
        db, "Quantized seed paper without dates", day=NOW.date(), topics={quant: 0.9}, authors=[],
        created_at=NOW - timedelta(hours=1),
    )  # fmt: skip
    seed.announced_date = None
    seed.authors = []
    july = [
        add_paper(db, f"Quantized paper of {d}", day=d, topics={quant: 0.8})
        for d in (date(2026, 7, 1), date(2026, 6, 30))
    ]
    db.flush()
    add_subscriber(db, "newcomer@example.org", topics=[quant])
    (digest,) = build(db).digests
    assert {i.paper_id for i in digest.items} == {seed.id, *(p.id for p in july)}
    assert digest.note.endswith("from 30 June – 3 December 2026.")
    text = _setup().renderer.digest(_setup().digest_view(digest)).text
    assert "First seen 3 December 2026" in text and "Announced 1 July 2026" in text
    block = text.split("Quantized seed paper without dates", 1)[1]
    assert block.startswith("\n   First seen 3 December 2026\n"), block[:80]
