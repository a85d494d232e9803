"""build_topic_model on a small synthetic corpus (no encoder): areas, techniques, labels, determinism."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import normalized_mutual_info_score

from app.topics.clustering import spherical_kmeans
from app.topics.labeling import STOP_WORDS, label_key, near_duplicate
from app.topics.model import TopicModel, build_topic_model

AREAS: dict[str, list[str]] = {
    "protein": ["protein folding", "molecular dynamics", "enzyme design"],
    "astronomy": ["galaxy surveys", "exoplanet detection", "stellar spectra"],
    "speech": ["speech recognition", "speaker verification", "spoken dialogue"],
    "medical": ["medical imaging", "tumor segmentation", "radiology reports"],
    "driving": ["autonomous driving", "trajectory prediction", "lidar perception"],
    "legal": ["legal documents", "contract review", "court rulings"],
    "music": ["music generation", "melody transcription", "audio mixing"],
    "farming": ["crop yield", "soil moisture", "plant disease"],
}
TECHNIQUES = ["quantization", "knowledge distillation", "contrastive learning"]


def synthetic_papers(
    per_area: int = 50, *, areas: list[str] | None = None, seed: int = 7, dim: int = 32
) -> tuple[np.ndarray, list[str], list[str], list[str], list[str]]:
    """(vectors, titles, abstracts, area of each paper, technique of each paper or "").

    Each area has its own direction and phrases; a quarter of the papers also use one of three
    techniques, which adds the technique's direction to the vector and its phrase to the text.
    Directions are fixed; `seed` draws the noise, so two seeds give two samples of the same topics.
    """
    directions = np.random.default_rng(1234)
    names = list(AREAS)
    area_dirs = {a: directions.normal(size=dim) for a in names}
    tech_dirs = {t: directions.normal(size=dim) for t in TECHNIQUES}
    rng = np.random.default_rng(seed)
    vectors, titles, abstracts, truth, techs = [], [], [], [], []
    for area in areas or names:
        for i in range(per_area):
            p1, p2, p3 = (AREAS[area][(i + k) % 3] for k in range(3))
            tech = TECHNIQUES[i % 3] if i % 4 == 0 else ""
            v = area_dirs[area] + 0.35 * np.linalg.norm(area_dirs[area]) * rng.normal(size=dim) / np.sqrt(dim)
            if tech:
                v = v + 0.6 * tech_dirs[tech]
                if i % 8:
                    titles.append(f"{tech.title()} for {p1.title()}")
                elif tech == "quantization":
                    titles.append(f"Quantized {p1.title()}")  # an inflection the stemmer must catch
                else:
                    titles.append(f"{p1.title()} via {tech.title()}")
                abstracts.append(f"We apply {tech} to {p1}. With {tech}, {p2} and {p3} improve.")
            else:
                titles.append(f"{p1.title()} and {p2.title()}")
                abstracts.append(f"We study {p1}. Experiments cover {p2} and {p3}.")
            vectors.append(v / np.linalg.norm(v))
            truth.append(area)
            techs.append(tech)
    return np.asarray(vectors, dtype=np.float32), titles, abstracts, truth, techs


@pytest.fixture(scope="module")
def corpus() -> tuple[np.ndarray, list[str], list[str], list[str], list[str]]:
    return synthetic_papers()


@pytest.fixture(scope="module")
def model(corpus: tuple[np.ndarray, list[str], list[str], list[str], list[str]]) -> TopicModel:
    vectors, titles, abstracts, _, _ = corpus
    return build_topic_model(vectors, titles, abstracts, seed=0, n_areas=8)


def test_areas_recover_the_synthetic_areas(model: TopicModel, corpus: tuple) -> None:
    truth = corpus[3]
    best = np.full(len(truth), -1)
    for i, topic in enumerate(model.of_kind("area")):
        best[[r for r, _ in topic.members]] = i
    assert len(model.of_kind("area")) == 8
    assert not model.without_area and (best >= 0).all()
    assert normalized_mutual_info_score(truth, best) > 0.95


def test_techniques_are_found_across_areas(model: TopicModel, corpus: tuple) -> None:
    titles, techs = corpus[1], corpus[4]
    labels = {t.label.lower(): t for t in model.of_kind("technique")}
    for tech in TECHNIQUES:
        topic = next(t for label, t in labels.items() if tech in label)
        members = {r for r, _ in topic.members}
        named = {i for i, t in enumerate(techs) if t == tech}
        assert named <= members, f"{tech}: {len(named - members)} papers that name it are missing"
        assert len(members - named) <= 0.1 * len(named)
        assert tech.split()[0] in topic.keywords[0]
        assert topic.phrases and topic.threshold is not None and topic.mention_threshold is not None
    quantized = [i for i, t in enumerate(titles) if t.startswith("Quantized")]
    quant = next(t for label, t in labels.items() if "quantization" in label)
    assert quantized and set(quantized) <= {r for r, _ in quant.members}


def test_members_are_scored_and_ranked(model: TopicModel) -> None:
    for topic in model.topics:
        scores = [s for _, s in topic.members]
        assert all(0.0 <= s <= 1.0 for s in scores)
        assert scores == sorted(scores, reverse=True)
        assert len({r for r, _ in topic.members}) == len(topic.members)
        assert topic.centroid.dtype == np.float32
        assert abs(float(np.linalg.norm(topic.centroid)) - 1.0) < 1e-4
    assert len({t.key for t in model.topics}) == len(model.topics)


def test_labels_follow_the_rules(model: TopicModel) -> None:
    for kind in ("area", "subtopic", "technique"):
        labels = [t.label for t in model.of_kind(kind)]
        assert len({lab.lower() for lab in labels}) == len(labels)
        keys = [label_key(lab) for lab in labels]
        for i, label in enumerate(labels):
            words = label.split()
            assert 1 <= len(words) <= 4, label
            assert any(w.lower() not in STOP_WORDS for w in words), label
            assert not any(w.isdigit() for w in words), label
            assert "_" not in label
            assert not any(near_duplicate(keys[i], keys[j]) for j in range(i)), (label, labels[:i])
    for topic in model.topics:
        assert 3 <= len(topic.keywords) <= 10
        assert not any(k.lower() in STOP_WORDS for k in topic.keywords)


def test_same_seed_same_model(corpus: tuple) -> None:
    vectors, titles, abstracts, _, _ = corpus
    a = build_topic_model(vectors, titles, abstracts, seed=3, n_areas=8)
    b = build_topic_model(vectors.copy(), list(titles), list(abstracts), seed=3, n_areas=8)
    assert [(t.key, t.kind, t.label, t.keywords, t.members, t.phrases) for t in a.topics] == [
        (t.key, t.kind, t.label, t.keywords, t.members, t.phrases) for t in b.topics
    ]
    assert all(np.array_equal(s.centroid, t.centroid) for s, t in zip(a.topics, b.topics, strict=True))


def test_default_sizes_and_small_inputs() -> None:
    vectors, titles, abstracts, _, _ = synthetic_papers(per_area=2)
    model = build_topic_model(vectors, titles, abstracts)
    assert 2 <= len(model.of_kind("area")) <= 16
    assert build_topic_model(np.zeros((0, 8)), [], []).topics == []
    one = build_topic_model(vectors[:1], titles[:1], abstracts[:1])
    assert [t.kind for t in one.topics].count("area") == 1


def test_bad_inputs_raise() -> None:
    with pytest.raises(ValueError):
        build_topic_model(np.zeros((2, 4)), ["a"], ["b", "c"])
    with pytest.raises(ValueError):
        build_topic_model(np.zeros(4), ["a"], ["b"])


def test_kmeans_splits_empty_clusters_and_is_deterministic() -> None:
    """More areas than distinct points: seeding repeats a centre, the empty areas are split off a
    large one, and every paper still gets a valid area; the same seed gives the same result."""
    rng = np.random.default_rng(3)
    points = np.repeat(rng.normal(size=(2, 8)).astype(np.float32), 20, axis=0)
    first = spherical_kmeans(points, 4, seed=1)
    again = spherical_kmeans(points, 4, seed=1)
    centroids, labels, cosines = first
    assert centroids.shape == (4, 8)
    assert set(labels.tolist()) <= set(range(4)) and len(set(labels[:20].tolist())) == 1
    assert labels[0] != labels[-1]
    np.testing.assert_allclose(cosines, 1.0, atol=1e-3)
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a, b)


def test_techniques_that_name_the_same_thing_are_one() -> None:
    from app.topics.clustering import TechniqueGroup, merge_groups

    unit = np.eye(3, dtype=np.float32)
    big = TechniqueGroup([4], np.array([1, 3, 5]), np.array([1.0, 0.6, 0.5], np.float32), unit[0], 0.7, 0.6)
    small = TechniqueGroup([9], np.array([3, 8]), np.array([1.0, 0.5], np.float32), unit[1], 0.5, 0.4)
    merged = merge_groups(big, [small])
    assert merged.phrases == [4, 9]  # the holder's phrase names it
    assert merged.members.tolist() == [1, 3, 5, 8]  # every member of either, once
    assert merged.scores.tolist() == pytest.approx([1.0, 1.0, 0.5, 0.5])  # row 3: its best score
    assert merged.centroid is big.centroid and merged.threshold == 0.7


def test_an_area_without_a_name_of_its_own_takes_the_broad_name_its_titles_use() -> None:
    from app.topics.model import _broad_area_labels

    titles = (
        [f"Scaling data curation for LLMs, part {i}" for i in range(10)]
        + [f"Large language models judge essays, study {i}" for i in range(10)]
        + [f"Protein folding with lattice sampling, case {i}" for i in range(20)]
        + [f"LLMs write proofs, attempt {i}" for i in range(2)]
    )
    rows = [np.arange(0, 10), np.arange(10, 20), np.arange(20, 42)]
    labels = ["", "", ""]
    _broad_area_labels(titles, rows, labels)
    # The first two both say "LLMs": the name goes once, to the one that writes it most (a tie: the
    # first); the protein area writes it in 2 of 22 titles, less often than the corpus does.
    assert labels == ["Large Language Models", "", ""]
    named = ["Protein Folding", "", ""]
    _broad_area_labels(titles, rows, named)
    assert named == ["Protein Folding", "Large Language Models", ""]


def test_a_word_titles_write_for_one_technique_brings_all_its_papers() -> None:
    """ "Federated X" papers about the technique join "Federated Learning" even when they sit
    farther from it than the papers that write the whole name; "MoE" papers join
    "Mixture-of-Experts"; "Sparse X" papers on other subjects stay out of "Sparse Autoencoders"."""
    vectors, titles, abstracts, truth, _ = synthetic_papers(per_area=40)
    rng = np.random.default_rng(3)
    dim = vectors.shape[1]
    names = list(AREAS)
    area_dirs = {a: vectors[[i for i, t in enumerate(truth) if t == a]].mean(axis=0) for a in names}
    directions = {name: rng.normal(size=dim) for name in ("federated learning", "moe", "sae")}
    nouns = iter(
        [
            "retrieval",
            "pretraining",
            "alignment",
            "captioning",
            "tracking",
            "hashing",
            "clustering",
            "grounding",
            "parsing",
            "ranking",
            "matching",
            "labeling",
            "denoising",
            "fusion",
            "probing",
            "coding",
            "pooling",
            "search",
        ]
    )
    extra: list[tuple[str, str, float]] = []  # title, technique direction, its weight
    for i in range(8):
        area = AREAS[names[i]]
        extra += [
            (f"Federated Learning of {area[0].title()}", "federated learning", 1.0),
            (f"Federated {next(nouns).title()} of {area[1].title()}", "federated learning", 0.7),
            (f"Mixture-of-Experts (MoE) for {area[2].title()}", "moe", 1.0),
            (f"MoE {('Routing', 'Layers')[i % 2]} in {area[0].title()}", "moe", 0.7),
        ]
        if i % 2 == 0:
            extra.append((f"Sparse Autoencoders for {area[0].title()}", "sae", 1.0))
        else:  # "sparse" as a plain adjective, nothing to do with autoencoders
            extra.append((f"Sparse {next(nouns).title()} of {area[2].title()}", "", 0.0))
    rows = []
    for k, (title, tech, weight) in enumerate(extra):
        v = area_dirs[names[k % 8]] / np.linalg.norm(area_dirs[names[k % 8]]) + 0.2 * rng.normal(size=dim)
        if tech:
            v = v + weight * 1.2 * directions[tech] / np.linalg.norm(directions[tech])
        rows.append(v / np.linalg.norm(v))
        titles.append(title)
        abstracts.append(f"We study {title.lower()}. " + (f"It uses {tech}." if tech else ""))
    model = build_topic_model(np.vstack([vectors, rows]).astype(np.float32), titles, abstracts, n_areas=8)
    held = {t.label: {titles[r] for r, _ in t.members} for t in model.of_kind("technique")}

    def written(prefix: str) -> set[str]:
        return {t for t in titles if t.startswith(prefix)}

    assert written("Federated") <= held["Federated Learning"]
    assert written("MoE") | written("Mixture") <= held["Mixture-of-Experts"]
    assert not (written("Sparse") - written("Sparse Autoencoders")) & held.get("Sparse Autoencoders", set())
