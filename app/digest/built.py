"""The plain data of a digest build: options in, built digests and the report out.

Also the two small interfaces a build needs from the embedding layer (an encoder for interest
texts, a loader for stored paper vectors), so digest code never imports `app.embed`. Kept
apart from the building code so the mail layer can use these types without pulling it in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Protocol

from sqlalchemy.orm import Session

from app.digest.selection import Vector, Weights

if TYPE_CHECKING:
    from app.config import Settings


class TextEncoder(Protocol):
    """What digest building needs of an encoder (app.embed.encoder provides it)."""

    @property
    def model_name(self) -> str: ...

    def encode(self, texts: list[str], *, batch_size: int = 32) -> Vector: ...


class VectorLoader(Protocol):
    def __call__(
        self, session: Session, model_name: str, paper_ids: list[int]
    ) -> tuple[list[int], Vector]: ...


@dataclass(frozen=True)
class DigestOptions:
    first_days: int = 3  # a first digest covers this many of the latest days with papers
    model_name: str | None = None  # embedding model of the stored paper vectors
    quiet_note: bool = False  # mail a short note when new papers exist but none matched
    weights: Weights = field(default_factory=Weights)

    @classmethod
    def from_settings(cls, settings: Settings, model_name: str | None) -> DigestOptions:
        return cls(
            first_days=settings.digest_first_days, model_name=model_name, quiet_note=settings.quiet_day_note
        )


@dataclass
class BuiltItem:
    paper_id: int
    rank: int
    section: str
    reason: str
    score: float
    public_id: str
    title: str
    abstract: str
    authors: list[str]
    abs_url: str | None
    code_url: str | None
    upvotes: int | None
    topics: list[tuple[int, str, str]]  # (id, slug, label), strongest first
    day: date | None = None  # when the paper was announced (or published, or first seen: `day_kind`)
    day_kind: str = "announced"  # announced | published | first seen


@dataclass
class BuiltDigest:
    digest_id: int
    subscriber_id: int
    email: str
    link_key: str
    period: str
    frequency: str
    kind: str  # digest | quiet
    subject: str
    heading: str
    items: list[BuiltItem]
    note: str = ""  # a line under the heading (a first digest says which days it covers)
    sections: dict[str, str] = field(default_factory=dict)  # "i:<id>" → the named interest's name


@dataclass
class BuildReport:
    subscribers: int = 0
    due: int = 0
    already_built: int = 0
    built: int = 0
    quiet: int = 0
    nothing_new: int = 0
    items: int = 0
    interests_encoded: int = 0
    seconds: float = 0.0
    digests: list[BuiltDigest] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"{self.built} digests built ({self.items} papers, {self.quiet} quiet notes) "
            f"for {self.due} due of {self.subscribers} subscribers; {self.already_built} already built, "
            f"{self.nothing_new} with nothing new; {self.seconds:.1f}s"
        )
