"""What a rebuild changes: the plan that turns freshly built topic drafts into stored-topic edits.

Pure: stored topics come in as `StoredTopic` snapshots and the plan comes out as plain data; the
service writes it (or, on a dry run, only reports it). Rules:

* drafts are matched to stored topics of the same kind (`tracking.match_topics`); a match to a
  merged topic feeds the topic it was merged into, so an operator's merge survives re-clustering;
* a matched topic keeps id, slug and label; its label changes only when the operator has not
  locked it and its keywords have drifted (`tracking.should_relabel`);
* unmatched drafts become new topics with a label no live topic carries and a never-used slug;
* unmatched stored topics go dormant, except pinned ones, which stay alive on their frozen centroid,
  and manual ones, whose members always come from their keywords.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from app.embed.vectors import from_bytes, to_bytes
from app.topics.labeling import assign_labels, label_key, near_duplicate, pretty, slugify
from app.topics.manual import keyword_members
from app.topics.model import TopicDraft
from app.topics.tracking import TopicRef, assign_to_topics, match_topics, should_relabel

LIVE = frozenset({"active", "emerging"})


@dataclass(frozen=True)
class StoredTopic:
    """A stored topic as the planner sees it (members are paper ids)."""

    id: int
    slug: str
    label: str
    kind: str
    status: str
    keywords: tuple[str, ...]
    centroid: np.ndarray | None
    members: frozenset[int]
    label_locked: bool = False
    pinned: bool = False
    hidden: bool = False
    manual: bool = False
    merged_into_id: int | None = None
    phrases: tuple[str, ...] = ()
    threshold: float | None = None
    mention_threshold: float | None = None

    def as_draft(self) -> TopicDraft:
        """The frozen topic as `assign_to_topics` scores against it."""
        centroid = self.centroid if self.centroid is not None else np.zeros(0, dtype=np.float32)
        return TopicDraft(
            key=self.slug,
            kind=self.kind,  # type: ignore[arg-type]
            label=self.label,
            keywords=list(self.keywords),
            centroid=centroid,
            members=[],
            phrases=list(self.phrases),
            threshold=self.threshold,
            mention_threshold=self.mention_threshold,
        )

    def as_ref(self) -> TopicRef:
        return TopicRef(self.id, self.kind, self.centroid, self.members, self.label)  # type: ignore[arg-type]


def assign_params(draft: TopicDraft) -> dict[str, Any]:
    """What a stored topic keeps of a draft so new papers join it exactly as a build would place them."""
    return {
        "phrases": list(draft.phrases),
        "threshold": draft.threshold,
        "mention_threshold": draft.mention_threshold,
    }


def stored_topic(topic: Any, members: set[int]) -> StoredTopic:
    """Snapshot of a Topic row (any object with the Topic attributes)."""
    centroid = from_bytes(topic.centroid) if topic.centroid else None
    params = topic.assign_params or {}
    return StoredTopic(
        id=topic.id,
        slug=topic.slug,
        label=topic.label,
        kind=topic.kind,
        status=topic.status,
        keywords=tuple(topic.keywords or ()),
        centroid=centroid,
        members=frozenset(members),
        label_locked=bool(topic.label_locked),
        pinned=bool(topic.pinned),
        hidden=bool(topic.hidden),
        manual=bool(topic.manual),
        merged_into_id=topic.merged_into_id,
        phrases=tuple(params.get("phrases") or ()),
        threshold=params.get("threshold"),
        mention_threshold=params.get("mention_threshold"),
    )


@dataclass
class NewTopic:
    key: str
    slug: str
    label: str
    kind: str
    keywords: list[str]
    centroid: bytes
    assign_params: dict[str, Any]


Target = int | str  # a stored topic id, or the key of a new topic


@dataclass
class BuildPlan:
    paper_ids: list[int]
    matched: dict[str, int] = field(default_factory=dict)  # draft key -> stored topic id it matched
    updates: dict[int, dict[str, Any]] = field(default_factory=dict)  # stored id -> column values
    new: list[NewTopic] = field(default_factory=list)
    dormant: set[int] = field(default_factory=set)
    kept_alive: set[int] = field(default_factory=set)
    relabeled: dict[int, tuple[str, str]] = field(default_factory=dict)
    members: dict[Target, dict[int, float]] = field(default_factory=dict)  # target -> paper id -> score
    kinds: dict[Target, str] = field(default_factory=dict)

    def add_members(self, target: Target, kind: str, rows: Sequence[tuple[int, float]]) -> None:
        bucket = self.members.setdefault(target, {})
        self.kinds[target] = kind
        for row, score in rows:
            pid = self.paper_ids[row]
            bucket[pid] = max(bucket.get(pid, 0.0), float(score))

    def rows(self, key_to_id: dict[str, int]) -> list[tuple[int, int, float]]:
        out: list[tuple[int, int, float]] = []
        for target, papers in self.members.items():
            topic_id = key_to_id[target] if isinstance(target, str) else target
            out.extend((pid, topic_id, round(score, 6)) for pid, score in papers.items())
        out.sort()
        return out

    @property
    def topic_count(self) -> int:
        return len(self.members)

    def kind_count(self, kind: str) -> int:
        return sum(1 for target in self.members if self.kinds.get(target) == kind)

    @property
    def assignment_count(self) -> int:
        return sum(len(p) for p in self.members.values())

    @property
    def without_area(self) -> int:
        with_area: set[int] = set()
        for target, papers in self.members.items():
            if self.kinds.get(target) == "area":
                with_area.update(papers)
        return len(self.paper_ids) - len(with_area & set(self.paper_ids))


def resolve(stored: dict[int, StoredTopic], topic_id: int) -> int:
    """Follow merged_into_id to the topic that now stands for `topic_id` (cycles are cut)."""
    seen = {topic_id}
    current = stored[topic_id]
    while current.merged_into_id is not None and current.merged_into_id in stored:
        if current.merged_into_id in seen:
            break
        seen.add(current.merged_into_id)
        current = stored[current.merged_into_id]
    return current.id


def _label_free(label: str, taken: Sequence[str], *, ignore: str | None = None) -> bool:
    key = label_key(label)
    return not any(near_duplicate(key, label_key(t)) for t in taken if t != ignore)


def _new_labels(drafts: Sequence[TopicDraft], taken: Sequence[str]) -> list[str]:
    """Labels for new topics that are no duplicate or near-duplicate of a live topic's label."""
    candidates = [
        [d.label, *(pretty(k) for k in d.keywords if 1 <= len(k.split()) <= 4)]
        if d.label
        else list(d.keywords)
        for d in drafts
    ]
    return [str(label) for label in assign_labels(candidates, taken=list(taken), required=True)]


def _free_slug(label: str, used: set[str]) -> str:
    base = slugify(label) or "topic"
    slug, n = base, 2
    while slug in used:
        slug, n = f"{base}-{n}", n + 1
    used.add(slug)
    return slug


def plan_build(
    stored_topics: Sequence[StoredTopic],
    drafts: Sequence[TopicDraft],
    *,
    paper_ids: Sequence[int],
    vectors: np.ndarray,
    titles: Sequence[str],
    abstracts: Sequence[str],
    used_slugs: set[str],
) -> BuildPlan:
    plan = BuildPlan(paper_ids=list(paper_ids))
    stored = {s.id: s for s in stored_topics}
    matchable = [s for s in stored_topics if not s.manual and s.centroid is not None]
    if matchable and drafts:
        result = match_topics([s.as_ref() for s in matchable], list(drafts), new_member_ids=list(paper_ids))
        for draft_index, matched_id in result.mapping.items():
            plan.matched[drafts[draft_index].key] = matched_id

    # Labels of live topics that keep theirs; new and relabelled topics must avoid them.
    matched_ids = set(plan.matched.values())
    taken = [
        s.label
        for s in stored_topics
        if s.status != "merged" and (s.id in matched_ids or s.manual or (s.pinned and s.status in LIVE))
    ]
    for draft in drafts:
        stored_id = plan.matched.get(draft.key)
        if stored_id is None:
            continue
        target = resolve(stored, stored_id)
        plan.add_members(target, stored[target].kind, draft.members)
        if target != stored_id:  # fed into the topic it was merged into; that one keeps its own state
            continue
        topic = stored[target]
        update: dict[str, Any] = {
            "keywords": list(draft.keywords),
            "centroid": to_bytes(draft.centroid),
            "assign_params": assign_params(draft),
            "status": "active",
        }
        drifted = should_relabel(list(topic.keywords), draft.keywords)
        if (
            not topic.label_locked
            and drifted
            and draft.label
            and _label_free(draft.label, taken, ignore=topic.label)
        ):
            taken = [t for t in taken if t != topic.label] + [draft.label]
            update["label"] = draft.label
            plan.relabeled[topic.id] = (topic.label, draft.label)
        plan.updates[topic.id] = update

    slugs = set(used_slugs)
    fresh = [d for d in drafts if d.key not in plan.matched]
    for draft, label in zip(fresh, _new_labels(fresh, taken), strict=True):
        plan.new.append(
            NewTopic(
                key=draft.key,
                slug=_free_slug(label, slugs),
                label=label,
                kind=draft.kind,
                keywords=list(draft.keywords),
                centroid=to_bytes(draft.centroid),
                assign_params=assign_params(draft),
            )
        )
        plan.add_members(draft.key, draft.kind, draft.members)

    fed = {resolve(stored, sid) for sid in plan.matched.values()}
    texts = list(zip(titles, abstracts, strict=True))
    alive: list[StoredTopic] = []
    for topic in stored_topics:
        if topic.status == "merged" or topic.merged_into_id is not None or topic.id in fed:
            continue
        if topic.manual:
            plan.add_members(topic.id, topic.kind, keyword_members(titles, abstracts, list(topic.keywords)))
            if topic.status not in LIVE:
                plan.updates[topic.id] = {"status": "active"}
        elif topic.pinned and topic.centroid is not None:
            alive.append(topic)
        elif topic.status != "dormant":
            plan.dormant.add(topic.id)
    if alive:
        hits = assign_to_topics(vectors, texts, [t.as_draft() for t in alive])
        per_topic: list[list[tuple[int, float]]] = [[] for _ in alive]
        for row, row_hits in enumerate(hits):
            for index, score in row_hits:
                per_topic[index].append((row, score))
        for topic, rows in zip(alive, per_topic, strict=True):
            plan.kept_alive.add(topic.id)
            plan.add_members(topic.id, topic.kind, rows)
            if topic.status not in LIVE:
                plan.updates[topic.id] = {"status": "active"}
    return plan
