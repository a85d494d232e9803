"""What one ingest run did: counts, errors and notes, with a one-line summary."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

MAX_ERROR_MESSAGES = 200


@dataclass
class IngestReport:
    """Counts of one run of one source. `errors` keeps the first messages; `skipped` counts all."""

    source: str
    fetched: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[str] = field(default_factory=list)
    duration_s: float = 0.0
    skipped: int = 0  # items that could not be parsed
    requests: int = 0
    notes: list[str] = field(default_factory=list)
    watermark: str | None = None  # the watermark after the run
    failed: bool = False  # the source could not be read to the end (network, upstream error)
    dry_run: bool = False

    def add_error(self, message: str) -> None:
        if len(self.errors) < MAX_ERROR_MESSAGES:
            self.errors.append(message)
        elif len(self.errors) == MAX_ERROR_MESSAGES:
            self.errors.append("… further errors not shown")

    def add_counts(self, *, new: int, updated: int, unchanged: int, errors: list[str]) -> None:
        """Fold in one upsert batch; its errors are items that were skipped."""
        self.new += new
        self.updated += updated
        self.unchanged += unchanged
        self.skipped += len(errors)
        for message in errors:
            self.add_error(message)

    def fail(self, message: str) -> None:
        self.failed = True
        self.add_error(message)

    @property
    def status(self) -> str:
        if self.failed:
            return "failed" if self.fetched == 0 else "partial"
        return "ok"

    def summary(self) -> str:
        verb = "would add" if self.dry_run else "added"
        parts = [
            f"{self.source}: {self.fetched} fetched, {verb} {self.new} new, {self.updated} updated, "
            f"{self.unchanged} unchanged"
        ]
        if self.skipped:
            parts.append(f"{self.skipped} skipped")
        if self.failed:
            parts.append(f"FAILED: {self.errors[-1] if self.errors else 'unknown error'}")
        elif self.errors and not self.skipped:
            parts.append(f"{len(self.errors)} errors")
        parts.extend(self.notes)
        return "; ".join(parts) + f" ({self.duration_s:.1f}s)"

    def as_stats(self) -> dict[str, Any]:
        return {
            "fetched": self.fetched,
            "new": self.new,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "skipped": self.skipped,
            "errors": self.errors[:20],
            "requests": self.requests,
            "notes": self.notes,
            "watermark": self.watermark,
            "duration_s": round(self.duration_s, 3),
            "summary": self.summary(),  # the line status pages show
        }
