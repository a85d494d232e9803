"""What a rebuild changes: the plan that turns freshly built topic drafts into stored-topic edits.

Pure: stored topics come in as `StoredTopic` snapshots and the plan comes out as plain data; the
service writes it (or, on a dry run, only reports it). Rules:

* drafts are matched to stored topics of the same kind (`tracking.match_topics`); a match to a
  merged topic feeds the topic it was merged into, so an operator's merge survives re-clustering;
* a matched topic keeps id, slug and label; its label changes only when the operator has not
  locked it, its keywords have drifted (`tracking.should_relabel`), the old label no longer names
  any of its new top keywords, and two rebuilds in a row propose the same new name (no flapping);
* unmatched drafts become new topics with a label no live topic of their kind carries (a subtopic
  and a technique may share the name their papers use) and a never-used slug (a subtopic named like
  a topic of another kind adds its area's name to its slug);
* leftovers of the same kind and (nearly) the same label are paired too (a topic keeps its name);
* unmatched stored topics go dormant, except pinned ones and techniques missing for fewer than
  `TECHNIQUE_GRACE` rebuilds, which stay alive on their frozen rule (`assign_to_topics`), and
  manual ones, whose members always come from their keywords.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from app.embed.vectors import from_bytes, to_bytes
from app.models.statuses import TopicStatus
from app.topics.labeling import assign_labels, free_slug, label_key, label_ok, near_duplicate, pretty
from app.topics.manual import keyword_members
from app.topics.model import TopicDraft
from app.topics.tracking import TopicRef, assign_to_topics, match_topics, should_relabel

LIVE = TopicStatus.live()
TECHNIQUE_GRACE = 2  # rebuilds in a row a technique may be missing before it goes dormant
MIN_KEPT_SIZE = 3  # a topic kept alive on its frozen rule needs at least this many papers
LABEL_MATCH_COSINE = 0.5


@dataclass(frozen=True, eq=False)
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
    missed_builds: int = 0
    proposed_label: str | None = None
    phrases: tuple[str, ...] = ()
    threshold: float | None = None
    mention_threshold: float | None = None
    parent_id: int | None = None

    def as_draft(self, parent_key: str | None = None) -> TopicDraft:
        """The frozen topic as `assign_to_topics` scores against it (`parent_key`: its area's slug)."""
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
            parent=parent_key,
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
        missed_builds=int(topic.missed_builds or 0),
        proposed_label=topic.proposed_label,
        phrases=tuple(params.get("phrases") or ()),
        threshold=params.get("threshold"),
        mention_threshold=params.get("mention_threshold"),
        parent_id=getattr(topic, "parent_id", None),
    )


def frozen_drafts(topics: Sequence[StoredTopic]) -> list[TopicDraft]:
    """`as_draft` of each topic, subtopics pointing at their area by slug (the drafts' keys)."""
    slugs = {t.id: t.slug for t in topics}
    return [t.as_draft(slugs.get(t.parent_id) if t.parent_id is not None else None) for t in topics]


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
    parents: dict[Target, Target] = field(default_factory=dict)  # subtopic -> its area

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


def _still_named(label: str, draft: TopicDraft) -> bool:
    """Whether the new build still supports the old label: it is (nearly) the new label or a top keyword."""
    key = label_key(label)
    return any(near_duplicate(key, label_key(k)) for k in [draft.label, *draft.keywords[:10], *draft.phrases])


def _label_free(
    label: str, kind: str, taken: Sequence[tuple[str, str]], *, ignore: str | None = None
) -> bool:
    """No live topic of the same kind carries (nearly) this label."""
    key = label_key(label)
    return not any(near_duplicate(key, label_key(t)) for k, t in taken if k == kind and t != ignore)


def _new_labels(drafts: Sequence[TopicDraft], taken: Sequence[tuple[str, str]]) -> list[str | None]:
    """Labels for new topics that are no duplicate or near-duplicate of a live label of their kind.

    Kinds apart: the subtopic "Quantization" of one area and the technique "Quantization" across
    areas are two views of one subject, and each keeps the name its papers use (topic pages say the
    kind and, for a subtopic, its area). Only names a label may be (`label_ok`): a draft whose own
    name is taken falls back to its keywords that are phrases of the field, never to an ordinary word.
    A new technique whose every name is taken names the same subject as a technique that exists: it
    gets None and is not created (its papers keep their area and subtopic); areas and subtopics
    always get a label.
    """
    labels: list[str | None] = []
    in_use = list(taken)
    for d in drafts:
        cands = list(dict.fromkeys(c for c in [d.label, *map(pretty, d.keywords)] if c and label_ok(c)))
        same_kind = [t for k, t in in_use if k == d.kind]
        (label,) = assign_labels([cands or [d.label]], taken=same_kind, required=d.kind != "technique")
        if label is not None:
            in_use.append((d.kind, label))
        labels.append(label)
    return labels


def plan_build(
    stored_topics: Sequence[StoredTopic],
    drafts: Sequence[TopicDraft],
    *,
    paper_ids: Sequence[int],
    vectors: np.ndarray,
    titles: Sequence[str],
    abstracts: Sequence[str],
    used_slugs: set[str],
    technique_grace: int = TECHNIQUE_GRACE,
) -> BuildPlan:
    plan = BuildPlan(paper_ids=list(paper_ids))
    stored = {s.id: s for s in stored_topics}
    matchable = [s for s in stored_topics if not s.manual and s.centroid is not None]
    # Dormant topics have no papers to compare; a centroid alone is too weak to revive one under what
    # may be another subject, so they come back only by name (`_match_by_label`).
    current = [s for s in matchable if s.status != TopicStatus.DORMANT]
    if current and drafts:
        result = match_topics([s.as_ref() for s in current], list(drafts), new_member_ids=list(paper_ids))
        for draft_index, matched_id in result.mapping.items():
            plan.matched[drafts[draft_index].key] = matched_id
    _match_by_label(plan, matchable, drafts)

    fed = {resolve(stored, sid) for sid in plan.matched.values()}
    kept = [t for t in stored_topics if t.id not in fed and _kept_alive(t, technique_grace)]
    kept_ids = {t.id for t in kept}
    # Labels of live topics that keep theirs; new and relabelled topics must avoid them.
    taken = [
        (s.kind, s.label)
        for s in stored_topics
        if s.status != TopicStatus.MERGED and (s.id in fed or s.manual)
    ]
    taken += [(t.kind, t.label) for t in kept]
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
            "status": TopicStatus.ACTIVE,
            "missed_builds": 0,
        }
        drifted = should_relabel(list(topic.keywords), draft.keywords)
        drifted = drifted and not _still_named(topic.label, draft)
        proposal = draft.label if drifted and not topic.label_locked and draft.label else None
        update["proposed_label"] = proposal
        # A new name must be proposed by two rebuilds in a row: keywords reshuffle, labels should not flap.
        if (
            proposal
            and topic.proposed_label
            and near_duplicate(label_key(proposal), label_key(topic.proposed_label))
        ) and _label_free(proposal, topic.kind, taken, ignore=topic.label):
            taken = [t for t in taken if t != (topic.kind, topic.label)] + [(topic.kind, proposal)]
            update["label"] = proposal
            update["proposed_label"] = None
            plan.relabeled[topic.id] = (topic.label, proposal)
        plan.updates[topic.id] = update

    slugs = set(used_slugs)
    fresh = [d for d in drafts if d.key not in plan.matched]
    labels = dict(zip((d.key for d in fresh), _new_labels(fresh, taken), strict=True))
    area_label = {
        d.key: labels.get(d.key) or stored[resolve(stored, plan.matched[d.key])].label
        for d in drafts
        if d.kind == "area"
    }
    # Areas and techniques take their slugs first: a subtopic named like one of them has its area's
    # name in its slug ("quantization-vision-transformers").
    new_slugs = {
        d.key: free_slug(str(labels[d.key]), slugs, parent=area_label.get(d.parent or ""))
        for d in sorted(fresh, key=lambda d: d.kind == "subtopic")
        if labels[d.key] is not None
    }
    for draft in fresh:
        label = labels[draft.key]
        if label is None:
            continue  # a technique naming the same subject as a live technique (`_new_labels`)
        plan.new.append(
            NewTopic(
                key=draft.key,
                slug=new_slugs[draft.key],
                label=label,
                kind=draft.kind,
                keywords=list(draft.keywords),
                centroid=to_bytes(draft.centroid),
                assign_params=assign_params(draft),
            )
        )
        plan.add_members(draft.key, draft.kind, draft.members)

    _plan_parents(plan, stored, drafts)
    for topic in stored_topics:
        if topic.status == TopicStatus.MERGED or topic.merged_into_id is not None or topic.id in fed:
            continue
        if topic.manual:
            plan.add_members(topic.id, topic.kind, keyword_members(titles, abstracts, list(topic.keywords)))
            if topic.status not in LIVE:
                plan.updates[topic.id] = {"status": TopicStatus.ACTIVE}
        elif topic.id not in kept_ids and topic.status != TopicStatus.DORMANT:
            plan.dormant.add(topic.id)
    _keep_alive(plan, kept, vectors, list(zip(titles, abstracts, strict=True)))
    return plan


def _plan_parents(plan: BuildPlan, stored: dict[int, StoredTopic], drafts: Sequence[TopicDraft]) -> None:
    """Each subtopic of the build points at the topic that now stands for its area: the stored area its
    area matched (or the one that area was merged into), else the new area. A subtopic fed into another
    topic by an operator's merge keeps that topic's parent."""

    def target(draft: TopicDraft) -> Target:
        matched = plan.matched.get(draft.key)
        return resolve(stored, matched) if matched is not None else draft.key

    areas = {d.key: d for d in drafts if d.kind == "area"}
    for draft in drafts:
        if draft.kind != "subtopic" or draft.parent not in areas:
            continue
        child = target(draft)
        matched = plan.matched.get(draft.key)
        if matched is not None and resolve(stored, matched) != matched:
            continue
        parent = target(areas[draft.parent])
        if isinstance(child, int) and stored[child].parent_id == parent:
            continue
        plan.parents[child] = parent


def _kept_alive(topic: StoredTopic, technique_grace: int) -> bool:
    """Whether an unmatched stored topic lives on its frozen rule: pinned, or a technique that missed
    fewer than `technique_grace` rebuilds in a row (technique mining keeps the strongest few, so one
    near the cut comes and goes between builds; its papers did not)."""
    if (
        topic.manual
        or topic.merged_into_id is not None
        or topic.centroid is None
        or topic.status == TopicStatus.MERGED
    ):
        return False
    if topic.pinned:
        return True
    return topic.kind == "technique" and topic.status in LIVE and topic.missed_builds < technique_grace


def _keep_alive(
    plan: BuildPlan, kept: list[StoredTopic], vectors: np.ndarray, texts: list[tuple[str, str]]
) -> None:
    if not kept:
        return
    hits = assign_to_topics(vectors, texts, frozen_drafts(kept))
    per_topic: list[list[tuple[int, float]]] = [[] for _ in kept]
    for row, row_hits in enumerate(hits):
        for index, score in row_hits:
            per_topic[index].append((row, score))
    for topic, rows in zip(kept, per_topic, strict=True):
        if len(rows) < MIN_KEPT_SIZE and not topic.pinned:
            if topic.status != TopicStatus.DORMANT:
                plan.dormant.add(topic.id)
            continue
        plan.kept_alive.add(topic.id)
        plan.add_members(topic.id, topic.kind, rows)
        plan.updates[topic.id] = {"status": TopicStatus.ACTIVE, "missed_builds": topic.missed_builds + 1}


def _match_by_label(plan: BuildPlan, matchable: Sequence[StoredTopic], drafts: Sequence[TopicDraft]) -> None:
    """Pair leftover drafts with leftover stored topics of the same kind and (nearly) the same name.

    The Hungarian match works on centroids and shared papers; a topic whose papers moved but whose
    name is the same (and whose centre is not far off) is still the topic readers follow.
    """
    taken_ids = set(plan.matched.values())
    pairs = []
    for draft in drafts:
        if draft.key in plan.matched or not draft.label:
            continue
        key = label_key(draft.label)
        for topic in matchable:
            if topic.id in taken_ids or topic.kind != draft.kind or topic.centroid is None:
                continue
            if topic.centroid.shape != np.asarray(draft.centroid).shape:
                continue
            cosine = float(np.dot(topic.centroid, draft.centroid))
            if cosine >= LABEL_MATCH_COSINE and near_duplicate(key, label_key(topic.label)):
                pairs.append((cosine, draft.key, topic.id))
    for _, draft_key, topic_id in sorted(pairs, reverse=True):
        if draft_key not in plan.matched and topic_id not in taken_ids:
            plan.matched[draft_key] = topic_id
            taken_ids.add(topic_id)
