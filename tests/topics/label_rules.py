"""What every topic label must respect, checked by the tests of real builds (seed papers, demo)."""

from __future__ import annotations

from collections.abc import Sequence

from app.topics.labeling import is_acronym, label_key, near_duplicate

# Single words a field uses alone as the name of what it follows. Any other single word (Bias,
# Memory, Codes, Thought, Motion, 3D) names no field and must not be a label; acronyms and names with
# inner capitals (LoRA, NeRF, RLHF) are names.
FIELD_NAMES = {
    "quantization", "pruning", "sparsity", "distillation", "robotics", "interpretability", "explainability",
    "watermarking", "summarization", "unlearning", "segmentation", "forecasting", "recommendation",
    "hallucination", "fairness", "privacy", "cybersecurity", "radiology", "pathology", "tokenization",
    "captioning", "denoising", "inpainting", "super-resolution", "jailbreaking", "steganography",
    "cryptography", "genomics", "reranking",
}  # fmt: skip


def label_problems(topics: Sequence[tuple[str, str]]) -> list[str]:
    """Problems of (kind, label) pairs: bad single words, numbering, length, two of one kind naming
    the same thing (same stems give or take "models"/"large", or one the acronym of the other)."""
    problems = []
    for i, (kind, label) in enumerate(topics):
        words = label.split()
        if not 1 <= len(words) <= 4 or "_" in label or any(w.isdigit() for w in words):
            problems.append(f"malformed: {label!r}")
        if len(words) == 1:
            w = words[0]
            # A name has a capital inside (LoRA, NeRF, RLHF), not only after a hyphen ("Multi-Agent").
            inner = [c for k, c in enumerate(w) if k > 0 and w[k - 1] != "-"]
            name = sum(c.isalpha() for c in w) >= 2 and any(c.isupper() for c in inner)
            # A phrase hyphenated into one word around a small word is a phrase ("Chain-of-Thought").
            parts = w.lower().split("-")
            linked = len(parts) >= 3 and any(p in {"of", "to", "in", "for"} for p in parts[1:-1])
            if not name and not linked and w.lower() not in FIELD_NAMES:
                problems.append(f"ordinary single word: {label!r}")
        for other_kind, other in topics[:i]:
            if other_kind != kind:
                continue
            same = near_duplicate(label_key(label), label_key(other))
            if same or _acronym(label, other) or _acronym(other, label):
                problems.append(f"two {kind}s name the same thing: {label!r} / {other!r}")
    return problems


def _acronym(short: str, long: str) -> bool:
    """ "RAG" abbreviates "Retrieval-Augmented Generation"; "CT" does not abbreviate "Chain-of-Thought"
    (that is "CoT": a long form with inner small words is abbreviated with them); a hyphenated word
    ("Cross-Attention", "Self-Evolution") is no acronym although its capitals are initials."""
    if "-" in short or not is_acronym(short, long):
        return False
    return "-of-" not in long.lower() or any(c.islower() for c in short)
