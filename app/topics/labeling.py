"""Names of the topic model: casing, near-duplicates, acronyms, label choice and slugs.

This module owns the rules every topic name follows (`pretty` casing that keeps LLM/LoRA,
`label_key` and `near_duplicate`, `is_acronym`, `assign_labels`, `slugify`). Phrase counting lives in
`phrases`, the shared word lists and stemmer in `words`; both are re-exported here for the callers
that import them from this module. Ranking phrases for one topic's name lives in `model`. Pure: plain
strings in, plain data out.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from functools import lru_cache
from typing import NamedTuple

from app.topics.phrases import PhraseCorpus, build_corpus
from app.topics.words import _PUNCT, _SMALL_WORDS, FIELD_WORDS, GENERIC_WORDS, STOP_WORDS, stem

__all__ = [
    "FIELD_WORDS",
    "GENERIC_WORDS",
    "STOP_WORDS",
    "PhraseCorpus",
    "assign_labels",
    "build_corpus",
    "is_acronym",
    "is_name_token",
    "label_key",
    "label_ok",
    "near_duplicate",
    "pretty",
    "same_thing",
    "slugify",
    "stem",
]

# Words whose presence or absence does not change what a label names ("Diffusion Models" = "Diffusion",
# "LLM Agents" = "AI Agents" = "Agents", "Multi-Agent Systems" = "Multi-Agent Framework").
_NOISE_STEMS = frozenset(
    stem(w) for w in ["model", "large", "method", "approach", "framework", "learning", "llm", "ai", "system"]
)

_LANGUAGE_MODEL = re.compile(r"^(large )?language models?\b|(?<= )large language models?\b", re.IGNORECASE)


def word_root(word_stem: str) -> str:
    """The noun under an adjective's or a quality's ending, for comparing labels: "agentic" -> "agent",
    "robotic" -> "robot", "explainability" / "explainable" -> "explainabl" (the stemmer keeps these
    apart because phrase counting must: "Agentic AI" titles are counted as written)."""
    if word_stem.endswith(("ability", "ibility")):
        return word_stem[:-5] + "l"
    if word_stem.endswith("ic") and len(word_stem) > 6:
        return word_stem[:-2]
    return word_stem


def _pretty_part(part: str, first: bool, title_case: bool) -> str:
    if any(c.isupper() for c in part[1:]) or any(c.isdigit() for c in part):
        return part  # an acronym or a name as authors write it: LLM, LoRA, NeRF, BF16, 3D
    if part.lower() in _SMALL_WORDS and not first:
        return part.lower()
    return part[:1].upper() + part[1:].lower() if title_case else part.lower()


def pretty(phrase: str, *, title_case: bool = True) -> str:
    """ "retrieval-augmented generation" -> "Retrieval-Augmented Generation"; "LoRA" stays "LoRA"."""
    return " ".join(
        "-".join(_pretty_part(p, i == j == 0, title_case) for j, p in enumerate(word.split("-")))
        for i, word in enumerate(phrase.split())
    )


def label_key(label: str) -> frozenset[str]:
    """Stems of a label, hyphens ignored: the identity used to find near-duplicate labels."""
    # "Language Model Agents" = "LLM Agents"; "Vision Language Models" keeps its "language".
    label = _LANGUAGE_MODEL.sub("LLM", label)
    words = _PUNCT.sub(" ", label.replace("-", " ")).split()
    return frozenset(word_root(stem(w)) for w in words if w.lower() not in STOP_WORDS)


def near_duplicate(a: frozenset[str], b: frozenset[str]) -> bool:
    """Same stems, give or take words like "models" or "large": "Diffusion" = "Diffusion Models",
    "Vision-Language Models" = "Large Vision-Language Models"; "Medical Image Segmentation" and
    "Image Segmentation", or "Video" and "Video Generation", name different things."""
    return not (a ^ b) - _NOISE_STEMS and bool(a - _NOISE_STEMS or a == b)


def is_acronym(short: str, long: str) -> bool:
    """Whether `short` abbreviates `long`: "RAG" / "retrieval-augmented generation", "LoRA" / "low-rank
    adaptation", "LVLMs" / "large vision-language models" (its capitals are the words' initials)."""
    caps = "".join(c for c in short if c.isupper())
    return len(caps) >= 2 and " " not in short.strip() and caps.lower() == initials(long)


def initials(phrase: str) -> str:
    """The first letters of a phrase's words but its small ones, lower case: "mre" for "Mixture of
    Retrieval Experts", "lra" for "Low-Rank Adaptation"."""
    return "".join(w[0] for w in re.split(r"[\s-]+", phrase) if w and w.lower() not in _SMALL_WORDS).lower()


def assign_labels(
    candidates: Sequence[Sequence[str]], *, taken: Sequence[str] = (), required: bool = True
) -> list[str | None]:
    """Pick one label per topic, in order, never reusing a label or a near-duplicate of one.

    Earlier topics choose first (pass the most important first); `taken` labels are already in use.
    When every candidate of a topic is taken, a `required` topic gets two candidates joined by "and"
    (never a number); an optional one gets None, meaning it duplicates another topic.
    """
    used = [label_key(t) for t in taken]
    labels: list[str | None] = []
    for cands in candidates:
        choice = next((c for c in cands if not any(near_duplicate(label_key(c), u) for u in used)), None)
        if choice is None and required:
            # Two of its own names joined ("Sparsity and Pruning"); a qualifier only as the last resort.
            combos = [f"{a} and {b}" for a in cands for b in cands if a != b and len(f"{a} {b}".split()) <= 3]
            combos += [f"{cands[0]} ({w})" for w in ("Related", "Further", "Assorted")] if cands else []
            choice = next((c for c in combos if all(label_key(c) != u for u in used)), combos[-1])
        if choice is not None:
            used.append(label_key(choice))
        labels.append(choice)
    return labels


def slugify(label: str) -> str:
    """URL-safe lowercase ASCII: "LoRA & Parameter-Efficient Tuning" -> "lora-parameter-efficient-tuning"."""
    ascii_text = unicodedata.normalize("NFKD", label).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug or "topic"


def free_slug(label: str, used: set[str], *, parent: str | None = None) -> str:
    """A slug not in `used` (which it joins): the label's, else (a subtopic named like a topic of
    another kind) the label and its area's, else a number added ("pruning-2")."""
    base = slugify(label)
    if base in used and parent:
        base = slugify(f"{label} {parent}")
    slug, n = base, 2
    while slug in used:
        slug, n = f"{base}-{n}", n + 1
    used.add(slug)
    return slug


def is_name_token(word: str) -> bool:
    """An acronym or a name written with inner capitals or digits after letters: LoRA, NeRF, RLHF, GPT-4o;
    not "3D" or "2D" (a digit and one letter name no field)."""
    letters = sum(c.isalpha() for c in word)
    # A capital right after a hyphen is title case, not a name: "Retrieval-Augmented", "Multi-Agent"
    # and "Zero-Shot" are fragments of a phrase, while "LoRA", "NeRF" and "GPT-4o" are names.
    inner = [c for i, c in enumerate(word) if i > 0 and word[i - 1] != "-"]
    return letters >= 2 and any(c.isupper() for c in inner)


def label_ok(label: str) -> bool:
    """Whether a phrase may be a topic's label: 1-4 words, not made of stop words, no numbering, and a
    single word only when the field uses it alone (FIELD_WORDS) or it is an acronym or a name."""
    words = label.split()
    if not 1 <= len(words) <= 4 or "_" in label or any(w.isdigit() for w in words):
        return False
    if all(w.lower() in STOP_WORDS for w in words) or words[0].lower() in _SMALL_WORDS:
        return False
    if words[-1].lower() in _SMALL_WORDS or label.startswith("-") or label.endswith("-"):
        return False
    if len(words) == 1:
        word = words[0]
        # The field's own word, as written (not its stem: "Robotic" is no field, "Robotics" is), a
        # name, or a phrase written as one word ("Mixture-of-Experts", "Text-to-Speech").
        return word.lower() in FIELD_WORDS or is_name_token(word) or _linked_phrase(word)
    return True


def _linked_phrase(word: str) -> bool:
    """A noun phrase hyphenated into one word around a small word: "Mixture-of-Experts",
    "Chain-of-Thought", "Text-to-Speech", "Sim-to-Real"; not "Zero-Shot" (a fragment of a longer
    phrase) or "End-to-End" and "State-of-the-Art" (generic words)."""
    parts = word.lower().split("-")
    return (
        len(parts) >= 3
        and all(parts)
        and any(p in _SMALL_WORDS for p in parts[1:-1])
        and parts[-1] not in _SMALL_WORDS
        and word.lower() not in GENERIC_WORDS
    )


def same_thing(a: str, b: str) -> bool:
    """Whether two labels name the same thing: near-duplicate stems ("Diffusion" / "Diffusion Models"),
    or one is the other's acronym ("RAG" / "Retrieval-Augmented Generation")."""
    fa, fb = _facts(a), _facts(b)
    if near_duplicate(fa.key, fb.key):
        return True
    # Only a written acronym ("RAG", "LoRA") abbreviates: "Self-Supervised" is no acronym of
    # "Semantic Segmentation" although its capitals are that phrase's initials.
    ca, cb = _facts(fa.core), _facts(fb.core)
    return any(_abbreviates(s, t) for s, t in ((ca, cb), (cb, ca), (fa, fb), (fb, fa)))


class _Facts(NamedTuple):
    """What `same_thing` reads of one label, computed once per distinct label: a build compares each
    candidate name with every name taken so far (tens of thousands of pairs of a few hundred labels)."""

    key: frozenset[str]  # label_key
    core: str  # the label without words like "models" or "large" (or the label, if nothing is left)
    acronym: str | None  # its capitals, lowercased, if it is written as an acronym that may abbreviate
    has_lower: bool  # "CoT" vs "CT"
    initials: str  # of its words, small words skipped, as `is_acronym` reads a long form
    inner_small: bool  # a small word inside a hyphenated word: "Chain-of-Thought"


@lru_cache(maxsize=1 << 16)
def _facts(label: str) -> _Facts:
    caps = "".join(c for c in label if c.isupper())
    writes_acronym = is_name_token(label) and "-" not in label and len(caps) >= 2 and " " not in label.strip()
    words = [w for w in re.split(r"[\s-]+", label) if w and w.lower() not in _SMALL_WORDS]
    return _Facts(
        key=label_key(label),
        core=" ".join(w for w in label.split() if stem(w) not in _NOISE_STEMS) or label,
        acronym=caps.lower() if writes_acronym else None,
        has_lower=any(c.islower() for c in label),
        initials="".join(w[0] for w in words).lower(),
        inner_small=any(p.lower() in _SMALL_WORDS for w in label.split() for p in w.split("-")[1:-1]),
    )


def _abbreviates(short: _Facts, long: _Facts) -> bool:
    """A written acronym of `long` (`is_name_token`, no hyphen, and `is_acronym`); a long form with
    inner small words ("Chain-of-Thought") is written with them ("CoT"), so "CT" (computed tomography)
    does not abbreviate it."""
    if short.acronym is None or short.acronym != long.initials:
        return False
    return not long.inner_small or short.has_lower
