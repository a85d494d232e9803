"""Pure ranking: followed topics by name, what marks teach about each signal, the calibrated floor."""

from __future__ import annotations

import numpy as np

from app.digest.selection import Candidate, Pool, Profile, Weights, select


def _cand(pid: int, title: str, abstract: str = "", topics: dict[int, float] | None = None) -> Candidate:
    return Candidate(
        paper_id=pid, title=title, text=f"{title} {abstract}", abstract=abstract, topics=topics or {}
    )


def _ids(profile: Profile, pool: Pool, weights: Weights = Weights()) -> list[int]:
    rows = list(range(len(pool.candidates)))
    return [p.paper_id for p in select(profile, pool, rows, {7: "Machine Translation"}, weights)]


def test_a_paper_naming_its_followed_topic_ranks_first_in_it() -> None:
    pool = Pool(
        [
            _cand(1, "Multilingual instruction tuning", topics={7: 0.75}),
            _cand(2, "Low-resource machine translation", topics={7: 0.65}),
        ]
    )
    profile = Profile(topic_ids=frozenset({7}), include_trending=False)
    assert _ids(profile, pool) == [2, 1]
    assert _ids(profile, pool, Weights(topic_named=0.0)) == [1, 2]  # by membership alone


def _marks(liked: bool, titles: list[str]) -> list[tuple[bool, Candidate, None]]:
    return [(liked, _cand(100 + i, t), None) for i, t in enumerate(titles)]


def test_a_keyword_that_brought_rejected_papers_counts_less_the_others_keep_their_weight() -> None:
    pool = Pool(
        [
            _cand(1, "Recommendation of hyperparameters for training"),
            _cand(2, "Collaborative filtering at scale"),
        ]
    )
    profile = Profile(keywords=("recommendation", "collaborative filtering"), include_trending=False)
    assert set(_ids(profile, pool)) == {1, 2}
    rejected = ["Recommendation of optimizers", "Recommendation of prompts", "Recommendation for clinicians"]
    taught = Profile(**{**profile.__dict__, "marks": _marks(False, rejected)})
    assert _ids(taught, pool) == [2]  # "collaborative filtering" was borne out best: it keeps its full weight
    # Marks on papers of every keyword alike re-weigh nothing: feedback never silences the digest.
    both = Profile(
        **{
            **profile.__dict__,
            "marks": _marks(False, ["Recommendation engines", "Collaborative filtering engines"]),
        }
    )
    assert set(_ids(both, pool)) == {1, 2}


def _pool_with_one_outlier(cosine: float, n: int = 80) -> tuple[Pool, np.ndarray]:
    """`n` papers far from the interest (cosines around 0.1) and paper 0 at `cosine`."""
    rng = np.random.default_rng(0)
    interest = np.zeros(16, dtype=np.float32)
    interest[0] = 1.0
    rows = []
    for i in range(n + 1):
        c = cosine if i == 0 else 0.1 + 0.02 * rng.standard_normal()
        rest = rng.standard_normal(15)
        rest = rest / np.linalg.norm(rest) * np.sqrt(1 - c * c)
        rows.append(np.concatenate(([c], rest)).astype(np.float32))
    pool = Pool([_cand(i, f"Paper {i}") for i in range(n + 1)], np.stack(rows))
    return pool, interest


def test_a_text_only_interest_takes_a_paper_that_stands_out_from_the_pool() -> None:
    pool, interest = _pool_with_one_outlier(0.46)
    text_only = Profile(interest=interest, interest_label="sign language", include_trending=False)
    assert _ids(text_only, pool) == [0]  # below the absolute mark (0.54) but far above every other
    assert _ids(text_only, pool, Weights(outlier_z=100.0)) == []  # the absolute mark alone: empty
    low, _ = _pool_with_one_outlier(0.40)
    assert _ids(text_only, low) == []  # never below `interest_min_cos`
    with_words = Profile(**{**text_only.__dict__, "keywords": ("gesture",)})
    assert _ids(with_words, pool) == []  # keywords say more precisely: the absolute mark only


def test_a_moved_interest_direction_keeps_the_floors_calibration() -> None:
    pool, interest = _pool_with_one_outlier(0.5, n=3)  # too few papers for the outlier rule
    profile = Profile(interest=interest, interest_label="x", include_trending=False)
    assert _ids(profile, pool) == []
    liked = pool.vectors[1:3]  # two far papers marked "more like this"
    from app.digest.learning import Learned

    direction = interest + 0.2 * liked.mean(axis=0)
    direction = (direction / np.linalg.norm(direction)).astype(np.float32)
    moved = Profile(**{**profile.__dict__, "learned": Learned(direction=direction)})
    # The cosines to the moved direction are shifted back to the text's level: paper 0 still fails.
    assert 0 not in _ids(moved, pool)


def test_a_keyword_that_brought_liked_papers_rises_against_the_others() -> None:
    pool = Pool(
        [
            _cand(1, "Recommendation of hyperparameters for training"),
            _cand(2, "Collaborative filtering at scale"),
        ]
    )
    profile = Profile(keywords=("recommendation", "collaborative filtering"), include_trending=False)
    liked = [
        "Collaborative filtering for music",
        "Collaborative filtering with graphs",
        "Collaborative filtering",
    ]
    taught = Profile(**{**profile.__dict__, "marks": _marks(True, liked)})
    assert _ids(taught, pool) == [2]
