"""Topic identity across rebuilds (match_topics) and placing new papers (assign_to_topics)."""

from __future__ import annotations

import numpy as np
import pytest

from app.topics.model import TopicDraft, TopicModel, build_topic_model
from app.topics.tracking import (
    TopicRef,
    assign_to_topics,
    match_topics,
    refs_from_drafts,
    should_relabel,
)
from tests.topics.test_topic_model import AREAS, synthetic_papers

Papers = tuple[np.ndarray, list[str], list[str], list[str], list[str]]


@pytest.fixture(scope="module")
def papers() -> Papers:
    return synthetic_papers()


@pytest.fixture(scope="module")
def model(papers: Papers) -> TopicModel:
    return build_topic_model(papers[0], papers[1], papers[2], seed=0, n_areas=8)


def stored(model: TopicModel, first_id: int = 100) -> list[TopicRef]:
    return refs_from_drafts(model.topics, list(range(first_id, first_id + len(model.topics))))


def test_rebuild_on_the_same_data_keeps_the_ids(papers: Papers, model: TopicModel) -> None:
    again = build_topic_model(papers[0], papers[1], papers[2], seed=0, n_areas=8)
    result = match_topics(stored(model), again.topics)
    assert len(result.mapping) >= 0.95 * len(model.topics)
    assert result.mapping == {i: 100 + i for i in range(len(model.topics))}
    assert result.emerging == [] and result.dormant == [] and result.kept_share == 1.0
    assert all(cos > 0.999 and jac == 1.0 for cos, jac in result.similarity.values())


def test_another_seed_keeps_most_ids(papers: Papers, model: TopicModel) -> None:
    other = build_topic_model(papers[0], papers[1], papers[2], seed=11, n_areas=8)
    # A synthetic area has no inner structure, so its subtopics are arbitrary cuts that another seed
    # draws elsewhere; areas and techniques are real subjects and must keep their ids.
    kinds = ("area", "technique")
    old = [t for t in model.topics if t.kind in kinds]
    result = match_topics(
        refs_from_drafts(old, list(range(len(old)))), [t for t in other.topics if t.kind in kinds]
    )
    assert result.kept_share >= 0.95


def test_permuted_topics_are_matched_back(model: TopicModel) -> None:
    order = np.random.default_rng(0).permutation(len(model.topics)).tolist()
    shuffled = [model.topics[i] for i in order]
    result = match_topics(stored(model), shuffled)
    assert result.mapping == {pos: 100 + i for pos, i in enumerate(order)}


def test_new_cluster_emerges_and_removed_cluster_goes_dormant() -> None:
    names = list(AREAS)
    seven = synthetic_papers(areas=names[:7])
    eight = synthetic_papers(areas=names)
    before = build_topic_model(seven[0], seven[1], seven[2], n_areas=7, max_techniques=0).of_kind("area")
    after = build_topic_model(eight[0], eight[1], eight[2], n_areas=8, max_techniques=0).of_kind("area")
    # The same papers carry the same ids in both builds (the first 7 areas come first in both).
    grown = match_topics(refs_from_drafts(before, list(range(7))), after)
    assert len(grown.mapping) == 7 and grown.dormant == []
    (new,) = grown.emerging
    farming = {i for i, a in enumerate(eight[3]) if a == names[7]}
    assert {r for r, _ in after[new].members} == farming

    shrunk = match_topics(refs_from_drafts(after, list(range(8))), before)
    assert shrunk.emerging == [] and shrunk.dormant == [new]


def test_matching_uses_paper_ids_and_never_crosses_kinds(model: TopicModel) -> None:
    area = model.of_kind("area")[0]
    ref = TopicRef(id=7, kind="technique", centroid=area.centroid)
    assert match_topics([ref], [area]).mapping == {}
    ids = [1000 + r for r in range(model.n_papers)]
    refs = refs_from_drafts([area], [5], ids)
    moved = TopicDraft("k", "area", "x", [], -area.centroid, area.members)  # drifted centre, same papers
    result = match_topics(refs, [moved], new_member_ids=ids)
    assert result.mapping == {0: 5} and result.similarity[0][1] == 1.0
    assert match_topics(refs, [moved]).mapping == {}  # rows are not paper ids: no overlap, far centroid


def test_old_topics_may_be_drafts_and_centroids_may_be_missing(model: TopicModel) -> None:
    no_centroid = np.zeros(0, np.float32)
    old = [TopicDraft(t.key, t.kind, t.label, t.keywords, no_centroid, t.members) for t in model.topics]
    result = match_topics(old, model.topics)
    assert result.mapping == {i: i for i in range(len(old))}  # by shared members alone


def test_should_relabel() -> None:
    assert not should_relabel(["quantization", "low-bit", "int8"], ["quantization", "int8", "outliers"])
    assert should_relabel(["quantization", "low-bit", "int8"], ["pruning", "sparsity", "lottery"])


def test_assign_matches_the_build(papers: Papers, model: TopicModel) -> None:
    vectors, titles, abstracts = papers[0], papers[1], papers[2]
    placed = assign_to_topics(vectors, list(zip(titles, abstracts, strict=True)), model.topics)
    for index, topic in enumerate(model.topics):
        built = dict(topic.members)
        got = {row: score for row, hits in enumerate(placed) for i, score in hits if i == index}
        if topic.kind == "subtopic":
            # Nearest final centroid (or the subtopic the title names) vs k-means' own partition: the
            # same for nearly every paper, not for all.
            assert len(got.keys() & built.keys()) >= 0.8 * len(built), topic.label
            continue
        assert got.keys() == built.keys(), topic.label
        assert all(abs(got[r] - built[r]) < 1e-3 for r in built)
    assert all(sum(model.topics[i].kind == "area" for i, _ in hits) == 1 for hits in placed)
    assert all(sum(model.topics[i].kind == "subtopic" for i, _ in hits) == 1 for hits in placed)
    assert all(sum(model.topics[i].kind == "technique" for i, _ in hits) <= 3 for hits in placed)


def test_assign_new_papers_from_plain_texts(model: TopicModel) -> None:
    vectors, titles, abstracts, areas, techs = synthetic_papers(per_area=8, seed=99)
    texts = [f"{t}. {a}" for t, a in zip(titles, abstracts, strict=True)]
    # As the service stores topics: no trigger phrases or thresholds, keywords only.
    bare = [TopicDraft(t.key, t.kind, t.label, t.keywords, t.centroid, []) for t in model.topics]
    placed = assign_to_topics(vectors, texts, bare)
    quant = next(i for i, t in enumerate(bare) if "quantization" in t.label.lower())
    for row, hits in enumerate(placed):
        assert hits == sorted(hits, key=lambda h: (-h[1], h[0]))
        assert all(0 < s <= 1 for _, s in hits)
        area = [model.topics[i] for i, _ in hits if model.topics[i].kind == "area"]
        assert len(area) == 1 and AREAS[areas[row]][0].split()[0] in " ".join(area[0].keywords)
        if techs[row] == "quantization":
            assert quant in [i for i, _ in hits]
    assert assign_to_topics(vectors[:0], [], bare) == []
    assert assign_to_topics(vectors, texts, []) == [[] for _ in texts]


def test_far_papers_get_no_area(model: TopicModel) -> None:
    area = model.of_kind("area")[0]
    hits = assign_to_topics(-area.centroid[None, :], ["Nothing"], [area])
    assert hits == [[]]
    anyway = assign_to_topics(-area.centroid[None, :], ["Nothing"], [area], min_area_cosine=-1.0)
    assert anyway == [[(0, 0.0)]]  # scores stay in [0, 1]
