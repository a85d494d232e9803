"""Who counts as "picked up by the community", and from which day that is known (pure).

Rules for a model trained at cutoff C (it learns only what was known before day C):

* A paper is *featured* when Hugging Face Daily Papers listed it: its `hf_date` (the listing
  day), or a file's `hf_daily_listed: true` without a date. The fact is known from the listing
  day on; without a date, it counts once the paper is settled (and feeds the authors' history
  from `settle_days` after the announcement).
* A paper is *settled* when it was announced at least `settle_days` before C: almost every
  listing happens within a week of the announcement (97 % in the labelled sample), so an
  unlisted paper that old is a real negative and not one whose listing is still to come.
  Papers announced later are left out of training at C, featured or not (keeping only their
  positives would teach the model that recent papers trend).
* A settled paper counts only if its announcement day is *labelled*: inside the days Hugging
  Face was followed (between the first and the last listing known before C, less
  `settle_days`), or a day for which a file said of some papers that they were not listed.
  Elsewhere nothing is known, listed or not (an instance that never read Hugging Face has no
  labels at all; a listed paper alone on an unlabelled day would be a hit without its misses).
* On a labelled day, a paper is a *positive* when its listing is known before C (and, with
  `min_upvotes`, when it has at least that many upvotes), otherwise a *negative*. A paper
  listed only on day C or later is a negative at C: nobody knew yet.

Nothing dated C or later changes a label at C: that is what keeps every model leak-free.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True)
class LabelFacts:
    """What the database knows about one paper's reception."""

    day: date  # announcement day (or publication day when arXiv gave none)
    hf_date: date | None = None  # day Hugging Face Daily Papers listed it
    hf_listed: bool | None = None  # True/False when a file said so; None when unknown
    upvotes: int | None = None


@dataclass(frozen=True)
class LabelRule:
    settle_days: int = 7
    min_upvotes: int = 0  # 0: being featured is the label; N: featured with at least N upvotes

    def __post_init__(self) -> None:
        if self.settle_days < 1:
            raise ValueError("settle_days must be at least 1")
        if self.min_upvotes < 0:
            raise ValueError("min_upvotes must not be negative")

    @property
    def name(self) -> str:
        if self.min_upvotes:
            return f"featured on Hugging Face Daily Papers with at least {self.min_upvotes} upvotes"
        return "featured on Hugging Face Daily Papers"

    @property
    def key(self) -> str:
        """A short stable name stored with each model: a model only serves the label it learned."""
        return f"upvotes>={self.min_upvotes}" if self.min_upvotes else "featured"

    def featured_known(self, facts: LabelFacts) -> date | None:
        """The day from which the paper's listing is known, or None when it was never listed."""
        if facts.hf_date is not None:
            return facts.hf_date
        if facts.hf_listed:
            return facts.day + timedelta(days=self.settle_days)
        return None

    def coverage(self, papers: Sequence[LabelFacts], cutoff: date) -> tuple[date, date] | None:
        """First and last listing day known before `cutoff` (None: no listing known yet)."""
        days = [p.hf_date for p in papers if p.hf_date is not None and p.hf_date < cutoff]
        return (min(days), max(days)) if days else None

    def explicit_days(self, papers: Sequence[LabelFacts]) -> frozenset[date]:
        """Days on which a source said of some paper that it was not listed (files' negatives)."""
        return frozenset(p.day for p in papers if p.hf_listed is False)

    def label(
        self,
        facts: LabelFacts,
        cutoff: date,
        coverage: tuple[date, date] | None,
        explicit: frozenset[date] = frozenset(),
    ) -> int | None:
        """1, 0, or None (not usable at `cutoff`), following the module's rules.

        A day counts only when both classes are known on it: inside the coverage, or a day a
        file gave negatives for (its positives come with it). A listed paper of another day is
        left out, since its unlisted neighbours are unknown and keeping it alone would teach the
        model (and tell an evaluation) that such days are all hits.
        """
        settled_by = facts.day + timedelta(days=self.settle_days)
        if settled_by > cutoff:
            return None
        covered = coverage is not None and coverage[0] <= facts.day and settled_by <= coverage[1]
        if not covered and facts.day not in explicit:
            return None
        known = self.featured_known(facts)
        # An undated listing is taken to have happened within the settling days.
        if known is not None and (known < cutoff or facts.hf_date is None):
            if self.min_upvotes and (facts.upvotes or 0) < self.min_upvotes:
                return 0
            return 1
        return 0

    def labels_at(self, papers: Sequence[LabelFacts], cutoff: date) -> list[int | None]:
        """The label of every paper at `cutoff` (None where it is not known then)."""
        span = self.coverage(papers, cutoff)
        explicit = self.explicit_days(papers)
        return [self.label(p, cutoff, span, explicit) for p in papers]
