"""Research-field names for areas whose own phrases name one subject inside them, or nothing.

An area is broad (10-30 of them in a corpus), and the phrase its titles write most distinctively often
names one subject inside it: "Gaussian Splatting" for all of 3D vision, "Watermarking" for attacks,
jailbreaks and privacy, "ASR" for speech and multilingual work. Sometimes its titles write no phrase
often enough at all (game theory, wireless communications). Researchers name such an area by its
field: "3D Vision", "Security and Privacy", "Speech and Audio". `FIELDS` lists the fields with the terms
their papers write; a field covers a paper whose title or abstract writes any of its terms.

For one area, with o = the share of its papers whose title or abstract writes its own name, and for a
field, c = the share of the area's papers the field covers and lift = c / the share of all papers it
covers:

    a field may name an area that has a name  when  o < KEEP_OWN,  c >= FIELD_COVER  and  c >= 2 o
    a field may name an area without a name   when  c >= FIELD_COVER_UNNAMED
    in both cases                                    lift >= FIELD_LIFT
    rank = c * log(lift), and first the field that is the area's own name ("Medical Imaging")

so a field replaces a name only when it covers far more of the area, and only a field that is the
area's own (several times as common there as in the corpus) names it. Fields are given best rank first
over all areas; each names one area at most (an area whose name is a field's takes the field's
writing: "Medical Imaging" for "Medical Image"), and never one whose name a technique or another area holds
(`labeling.same_thing`). Pure: the phrase counts in, labels out.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

from app.topics.labeling import PhraseCorpus, same_thing, stem

# An own name written by this share of the area's papers covers the area: it is kept.
KEEP_OWN = 0.3
# A field must cover this share of a named area's papers (and twice its own name's share) ...
FIELD_COVER = 0.4
# ... or this share of an area that has no name of its own ...
FIELD_COVER_UNNAMED = 0.3
# ... and be this many times as common in the area as in the corpus.
FIELD_LIFT = 3.0

# Research fields and the terms their papers write (as written; matched by stem like every phrase, a
# hyphen joining the words). Terms are specific to the field: a word every field writes ("model",
# "efficient", "text") would tell nothing.
FIELDS: dict[str, tuple[str, ...]] = {
    "3D Vision": (
        "3D", "point cloud", "point clouds", "depth estimation", "Gaussian splatting", "NeRF",
        "radiance field", "radiance fields", "mesh", "multi-view", "stereo", "novel view synthesis",
        "3DGS", "LiDAR",
    ),
    "Medical Imaging": (
        "medical image", "medical images", "medical imaging", "MRI", "CT", "X-ray", "radiology",
        "histopathology", "ultrasound", "lesion", "tumor", "pathology", "whole slide",
    ),
    "Healthcare AI": (
        "clinical", "patient", "patients", "medical", "health", "healthcare", "EHR", "disease",
        "diagnosis",
    ),
    "Speech and Audio": ("speech", "audio", "ASR", "speaker", "spoken", "acoustic", "music", "voice"),
    "Multilingual NLP": (
        "multilingual", "cross-lingual", "low-resource languages", "machine translation", "translation",
        "bilingual", "dialects",
    ),
    "Security and Privacy": (
        "attack", "attacks", "adversarial", "security", "privacy", "jailbreak", "watermark",
        "watermarking", "backdoor", "malware", "defense", "deepfake", "forgery",
    ),
    "AI Safety": ("safety", "harmful", "jailbreak", "red teaming", "misalignment", "refusal"),
    "Game Theory": (
        "game", "games", "equilibrium", "equilibria", "mechanism design", "auction", "auctions", "Nash",
        "game-theoretic", "incentive", "incentives",
    ),
    "Wireless Communications": (
        "wireless", "MIMO", "antenna", "beamforming", "6G", "ISAC", "reconfigurable intelligent surface",
        "channel estimation", "base station", "mmWave", "OFDM", "communication", "communications",
        "transmission", "receiver", "transmitter", "channel", "channels",
    ),
    "Information Theory": (
        "information theory", "information-theoretic", "codes", "channel capacity", "coding", "entropy",
    ),
    "Robotics": (
        "robot", "robots", "robotic", "robotics", "manipulation", "locomotion", "embodied", "grasping",
        "humanoid",
    ),
    "Autonomous Driving": ("autonomous driving", "driving", "vehicle", "vehicles", "trajectory prediction"),
    "Remote Sensing": (
        "remote sensing", "satellite", "hyperspectral", "SAR", "aerial", "earth observation", "UAV",
    ),
    "Graph Learning": ("graph neural network", "graph neural networks", "GNN", "GNNs", "node classification"),
    "Time Series": ("time series", "forecasting", "time-series"),
    "Recommender Systems": ("recommendation", "recommender", "collaborative filtering", "recommendations"),
    "Information Retrieval": ("retrieval", "search engine", "ranking", "queries", "RAG", "retriever"),
    "Reinforcement Learning": ("reinforcement learning", "RL", "policy", "reward", "rewards", "MDP"),
    "Generative Models": ("diffusion", "generative", "GAN", "GANs", "flow matching", "diffusion models"),
    "Video Understanding": ("video", "videos", "temporal grounding", "action recognition"),
    "Human-Centric Vision": (
        "human", "humans", "pose", "motion", "body", "hand", "face", "avatar", "gesture", "person",
    ),
    "Image Restoration": (
        "restoration", "denoising", "super-resolution", "deblurring", "dehazing", "low-light", "deraining",
    ),
    "Mathematical Optimization": (
        "optimization", "convex", "gradient descent", "stochastic gradient", "convergence",
    ),
    "Learning Theory": ("generalization bound", "sample complexity", "regret", "PAC", "lower bound"),
    "Quantum Computing": ("quantum", "qubit", "qubits", "quantum circuits"),
    "Computational Biology": (
        "protein", "proteins", "molecular", "gene", "genes", "single-cell", "genomic", "drug", "biological",
    ),
    "Chemistry and Materials": (
        "molecule", "molecules", "materials", "chemical", "crystal", "chemistry",
    ),
    "Software Engineering": ("code", "software", "program", "programs", "bug", "repository", "developers"),
    "AI for Education": (
        "education", "educational", "student", "students", "teacher", "teachers", "learners",
    ),
    "Human-Computer Interaction": ("user study", "interface", "participants", "users", "interactive"),
    "Social Computing": (
        "social media", "misinformation", "news", "hate speech", "online", "political", "Reddit", "Twitter",
    ),
    "Knowledge Graphs": ("knowledge graph", "knowledge graphs", "entity", "entities", "relation extraction"),
    "LLM Agents": ("agent", "agents", "agentic", "tool use", "multi-agent", "tool calling"),
    "Scientific Computing": (
        "PDE", "PDEs", "physics-informed", "partial differential equations", "finite element",
        "numerical simulation", "computational fluid dynamics", "solvers",
    ),
    "Climate and Weather": ("climate", "weather", "precipitation", "ocean", "atmospheric"),
    "Computational Finance": ("financial", "finance", "stock", "market", "trading"),
    "Signal Processing": ("signal", "signals", "frequency", "spectral", "radar", "EEG"),
    "Document Understanding": ("document", "documents", "OCR", "table", "tables", "chart", "charts"),
    "Interpretability": (
        "interpretability", "explainability", "mechanistic", "sparse autoencoder", "probing", "attribution",
        "explanations", "interpretable",
    ),
    "Efficient Deep Learning": (
        "quantization", "pruning", "compression", "KV cache", "sparse", "low-bit", "latency", "acceleration",
        "distillation",
    ),
    "Hardware and Systems": (
        "hardware", "FPGA", "GPU", "GPUs", "accelerator", "serving", "throughput",
    ),
    "Control Systems": ("control", "controller", "controllers", "dynamical system", "stability", "MPC"),
    "Computational Neuroscience": (
        "brain", "neural activity", "fMRI", "neurons", "cognitive", "neuroscience",
    ),
}  # fmt: skip


def _phrase_key(term: str) -> str:
    return " ".join(stem(w) for w in term.split())


def _covered(used: sp.csc_matrix, columns: Sequence[int]) -> np.ndarray:
    """Which papers write any of these phrases (columns of `used`: papers x phrases counts)."""
    if not columns:
        return np.zeros(used.shape[0], dtype=bool)
    return np.asarray(used[:, list(columns)].sum(axis=1)).ravel() > 0


def field_labels(
    corpus: PhraseCorpus, area_rows: Sequence[np.ndarray], labels: Sequence[str], taken: Sequence[str]
) -> list[str]:
    """Each area's label after the field rule (see the module docstring): its own, or a field's name.

    `labels` are the areas' own names ("" where it has none), `taken` the techniques' names."""
    used = (corpus.title + corpus.abstract).tocsc()
    column = {key: j for j, key in enumerate(corpus.keys)}
    lowered: dict[str, int] = {}
    for j, phrase in enumerate(corpus.phrases):
        lowered.setdefault(phrase.lower(), j)
    fields = {
        name: _covered(used, sorted({column[k] for k in map(_phrase_key, terms) if k in column}))
        for name, terms in FIELDS.items()
    }
    corpus_share = {name: max(float(hits.mean()), 1e-9) for name, hits in fields.items()}
    options: list[tuple[float, int, str]] = []
    for i, (rows, own) in enumerate(zip(area_rows, labels, strict=True)):
        if not len(rows):
            continue
        own_col = lowered.get(own.lower()) if own else None
        own_share = float(_covered(used, [own_col])[rows].mean()) if own_col is not None else 0.0
        if own and own_share >= KEEP_OWN:
            continue
        for name, hits in fields.items():
            cover = float(hits[rows].mean())
            lift = cover / corpus_share[name]
            if lift < FIELD_LIFT:
                continue
            if own and (cover < FIELD_COVER or cover < 2 * own_share):
                continue
            if not own and cover < FIELD_COVER_UNNAMED:
                continue
            # A field that is the area's own name comes first: the area is already named by its field.
            first = bool(own) and same_thing(name, own)
            options.append((float("inf") if first else cover * float(np.log(lift)), i, name))
    out = list(labels)
    renamed: set[int] = set()
    for _, i, name in sorted(options, key=lambda o: (-o[0], o[1], o[2])):
        if i in renamed:
            continue
        others = [lab for j, lab in enumerate(out) if j != i and lab]
        is_own = bool(labels[i]) and same_thing(name, labels[i])  # its own name, as the field writes it
        if not is_own and any(same_thing(name, u) for u in [*others, *taken]):
            continue
        out[i] = name
        renamed.add(i)
    return out
