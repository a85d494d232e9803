"""Field names for areas (app.topics.fields): when an area's own name names one subject inside it."""

from __future__ import annotations

import numpy as np

from app.topics.fields import FIELDS, field_labels
from app.topics.labeling import build_corpus, label_ok

# Three areas of 20 papers each, and 60 papers of other subjects so that the fields are rare overall.
VISION_3D = [
    ("Gaussian Splatting for Dynamic Scenes", "We render 3D scenes with Gaussian splatting."),
    ("Gaussian Splatting Compression", "We compress 3D Gaussian splatting scenes."),
] + [
    (f"3D Scene Completion {i}", f"We complete partial point clouds of scenes, case {i}.") for i in range(18)
]
GAMES = [
    (f"Equilibria of Repeated Play {i}", f"Nash equilibria of repeated games with incentives, case {i}.")
    for i in range(20)
]
SPEECH = [
    (f"Speech Recognition Benchmark {i}", f"A speech recognition benchmark for spoken audio, case {i}.")
    for i in range(20)
]
OTHER = [
    (f"Protein Folding Study {i}", f"We predict structures of proteins for drug design, case {i}.")
    for i in range(30)
] + [(f"Tabular Data Cleaning {i}", f"We clean tabular records in databases, case {i}.") for i in range(30)]


def _corpus():
    papers = VISION_3D + GAMES + SPEECH + OTHER
    corpus = build_corpus([t for t, _ in papers], [a for _, a in papers])
    rows = [np.arange(0, 20), np.arange(20, 40), np.arange(40, 60)]
    return corpus, rows


def test_an_area_named_after_one_subject_inside_it_takes_its_fields_name() -> None:
    corpus, rows = _corpus()
    labels = field_labels(corpus, rows, ["Gaussian Splatting", "", "Speech Recognition"], taken=[])
    # 2 of 20 papers write "Gaussian Splatting"; all of them write 3D or point clouds.
    assert labels[0] == "3D Vision"
    # No name of its own: its field names it.
    assert labels[1] == "Game Theory"
    # Every paper writes its own name: it keeps it.
    assert labels[2] == "Speech Recognition"


def test_a_field_that_a_technique_or_another_area_holds_is_not_taken() -> None:
    corpus, rows = _corpus()
    labels = field_labels(corpus, rows, ["Gaussian Splatting", "", "Speech Recognition"], taken=["3D Vision"])
    assert labels[0] == "Gaussian Splatting"
    labels = field_labels(corpus, rows, ["Gaussian Splatting", "Game Theory", ""], taken=[])
    assert labels[:2] == ["3D Vision", "Game Theory"]
    assert labels[2] == "Speech and Audio"


def test_an_area_without_papers_or_a_field_keeps_what_it_has() -> None:
    corpus, rows = _corpus()
    # Proteins and tables: half of it writes a biology term, but that is only twice as common as in
    # the corpus (FIELD_LIFT is 3), so no field is its own.
    other = np.arange(60, 120)
    labels = field_labels(corpus, [*rows[:1], np.arange(0), other], ["Gaussian Splatting", "", ""], taken=[])
    assert labels == ["3D Vision", "", ""]


def test_every_field_name_is_a_label_the_rules_allow() -> None:
    assert [name for name in FIELDS if not label_ok(name)] == []


def test_an_area_already_named_by_its_field_keeps_that_field() -> None:
    corpus, rows = _corpus()
    # Speech papers are covered by "Speech and Audio" whatever their own name; named so, they keep it
    # even when another field would rank as high.
    labels = field_labels(corpus, rows, ["", "", "Speech and Audio"], taken=[])
    assert labels[2] == "Speech and Audio"
