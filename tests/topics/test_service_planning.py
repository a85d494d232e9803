"""The rebuild plan (pure): matching, names that do not flap, grace for techniques, revival by name."""

from __future__ import annotations

import numpy as np

from app.topics.model import TopicDraft
from app.topics.planning import StoredTopic, plan_build

DIM = 8


def unit(i: int, j: int | None = None) -> np.ndarray:
    v = np.zeros(DIM, dtype=np.float32)
    v[i] = 1.0
    if j is not None:
        v[j] = 0.3
    return v / np.linalg.norm(v)


def stored(
    topic_id: int, label: str, centroid: np.ndarray, members: set[int], **extra: object
) -> StoredTopic:
    fields: dict = {
        "slug": label.lower().replace(" ", "-"),
        "kind": "area",
        "status": "active",
        "keywords": tuple(label.lower().split()),
    }
    fields.update(extra)
    return StoredTopic(id=topic_id, label=label, centroid=centroid, members=frozenset(members), **fields)


def draft(key: str, label: str, centroid: np.ndarray, rows: list[int], kind: str = "area", **extra: object):
    keywords = list(extra.pop("keywords", label.lower().split()))  # type: ignore[call-overload]
    return TopicDraft(key, kind, label, keywords, centroid, [(r, 0.9) for r in rows], **extra)  # type: ignore[arg-type]


def plan(old: list[StoredTopic], new: list[TopicDraft], n: int = 40, titles: list[str] | None = None):
    ids = list(range(100, 100 + n))
    vectors = np.stack([unit(i % 3) for i in range(n)])
    return plan_build(
        old,
        new,
        paper_ids=ids,
        vectors=vectors,
        titles=titles or [f"paper {i}" for i in range(n)],
        abstracts=[""] * n,
        used_slugs={s.slug for s in old},
    )


def test_a_matched_topic_keeps_its_name_until_two_rebuilds_propose_the_same_new_one() -> None:
    old = stored(1, "Speech Recognition", unit(0), set(range(100, 120)), keywords=("speech", "asr", "audio"))
    new = draft("area-00", "Music Generation", unit(0), list(range(20)), keywords=["music", "song", "melody"])
    first = plan([old], [new])
    assert first.matched == {"area-00": 1}
    assert "label" not in first.updates[1] and first.updates[1]["proposed_label"] == "Music Generation"
    again = stored(
        1,
        "Speech Recognition",
        unit(0),
        set(range(100, 120)),
        keywords=("speech",),
        proposed_label="Music Generation",
    )
    second = plan([again], [new])
    assert second.updates[1]["label"] == "Music Generation" and second.relabeled == {
        1: ("Speech Recognition", "Music Generation")
    }
    locked = stored(
        1, "Speech Recognition", unit(0), set(range(100, 120)), label_locked=True, proposed_label="X"
    )
    assert "label" not in plan([locked], [new]).updates[1]


def test_a_label_the_new_keywords_still_name_is_kept() -> None:
    old = stored(1, "Speech Recognition", unit(0), set(range(100, 120)), keywords=("speech", "asr"))
    new = draft("a", "Spoken Dialogue", unit(0), list(range(20)), keywords=["dialogue", "speech recognition"])
    assert plan([old], [new]).updates[1]["proposed_label"] is None


def test_new_topics_never_take_a_kept_label_and_slugs_are_never_reused() -> None:
    old = [
        stored(1, "Speech Recognition", unit(0), set(range(100, 120))),
        stored(2, "Medical Imaging", unit(5), set(), status="dormant"),
    ]
    new = [
        draft("a", "Speech Recognition", unit(0), list(range(20))),
        draft("b", "Speech Recognition", unit(1), list(range(20, 40)), keywords=["speaker", "voice cloning"]),
        draft("c", "Medical Imaging Analysis", unit(2), list(range(30, 40))),
    ]
    result = plan(old, new)
    assert result.matched == {"a": 1}
    created = {t.key: t for t in result.new}
    assert created["b"].label not in {"Speech Recognition"} and created["b"].label
    # "c" is a near-duplicate name of the dormant topic 2 but far from its centroid: a new topic, new slug.
    assert created["c"].slug not in {"speech-recognition", "medical-imaging"}


def test_a_subtopic_and_a_technique_may_share_a_name_but_not_a_slug() -> None:
    """Kinds apart: the subtopic "Quantization" of one area and the technique "Quantization" across
    areas both keep the name; the technique keeps the plain slug, the subtopic adds its area's. Two
    techniques of one name are one too many: the second is not created."""
    new = [
        draft("area", "Vision Transformers", unit(0), list(range(20))),
        draft("sub", "Quantization", unit(0, 1), list(range(10)), kind="subtopic", parent="area"),
        draft("tech", "Quantization", unit(1), list(range(5, 30)), kind="technique"),
        draft("tech2", "Quantization", unit(2), list(range(30, 40)), kind="technique"),
    ]
    created = {t.key: t for t in plan([], new).new}
    assert (created["sub"].label, created["tech"].label) == ("Quantization", "Quantization")
    assert created["tech"].slug == "quantization"
    assert created["sub"].slug == "quantization-vision-transformers"
    assert "tech2" not in created


def test_a_dormant_topic_comes_back_by_name_only() -> None:
    dormant = stored(2, "Medical Imaging", unit(2), set(), status="dormant")
    same_place_other_name = draft("x", "Protein Folding", unit(2), list(range(10)))
    result = plan([dormant], [same_place_other_name])
    assert result.matched == {} and len(result.new) == 1
    same_name = draft("y", "Medical Imaging", unit(2, 3), list(range(10)))
    revived = plan([dormant], [same_name])
    assert revived.matched == {"y": 2} and revived.updates[2]["status"] == "active"


def test_a_missing_technique_stays_alive_for_a_rebuild_then_goes_dormant() -> None:
    titles = ["Quantization of speech models" if i % 4 == 0 else f"paper {i}" for i in range(40)]
    tech = stored(
        7, "Quantization", unit(4), {100, 104}, kind="technique", phrases=("quantization",), threshold=0.99
    )
    result = plan([tech], [], titles=titles)
    assert 7 in result.kept_alive and result.updates[7] == {"status": "active", "missed_builds": 1}
    assert set(result.members[7]) == {100 + i for i in range(0, 40, 4)}
    tired = stored(
        7, "Quantization", unit(4), set(), kind="technique", phrases=("quantization",), missed_builds=2
    )
    assert plan([tired], [], titles=titles).dormant == {7}
    area = stored(8, "Speech Recognition", unit(0), set(range(100, 110)))
    assert plan([area], [], titles=titles).dormant == {8}  # areas get no grace


def test_a_match_to_a_merged_topic_feeds_its_target() -> None:
    target = stored(1, "Speech Recognition", unit(0), set(range(100, 110)))
    merged = stored(2, "Speaker Verification", unit(1), set(), status="merged", merged_into_id=1)
    new = [
        draft("a", "Speech Recognition", unit(0), list(range(10))),
        draft("b", "Speaker ID", unit(1), [20, 21]),
    ]
    result = plan([target, merged], new)
    assert result.matched == {"a": 1, "b": 2}
    assert set(result.members) == {1} and set(result.members[1]) == set(range(100, 110)) | {120, 121}
    assert 2 not in result.updates and 2 not in result.dormant


def test_pinned_and_manual_topics_survive_without_a_match() -> None:
    titles = [f"Lidar mapping {i}" if i < 5 else f"paper {i}" for i in range(40)]
    pinned = stored(3, "Autonomous Driving", unit(0), set(range(100, 110)), pinned=True, threshold=0.5)
    manual = stored(4, "Lidar", unit(6), set(), manual=True, keywords=("lidar",))
    result = plan([pinned, manual], [], titles=titles)
    assert 3 in result.kept_alive and result.members[3]  # on its frozen centroid
    assert set(result.members[4]) == {100, 101, 102, 103, 104}
    assert result.dormant == set()
