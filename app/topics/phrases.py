"""Phrase statistics of the topic model: tokens, n-gram codes and key-phrase counts per paper.

This module owns what turns titles and abstracts into phrase statistics (`build_corpus` ->
`PhraseCorpus`: which 1-3 word phrases each paper uses, written the way authors write them, how whole
each phrase is, one column per phrase however it is hyphenated). The word lists and the stemmer it
shares with the naming rules live in `words`; the rules for names and slugs in `labeling`. Pure: plain
strings in, arrays out.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import repeat

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import scipy.sparse as sp

from app.topics.words import _PUNCT, FIELD_WORDS, GENERIC_WORDS, STOP_WORDS, stem

_LETTER = re.compile(r"[^\W\d_]")
_BREAK = -1
# ASCII text takes a faster path (see `_split_words`): the same characters as _PUNCT, mapped to ".".
_ASCII_PUNCT = {c: "." for c in range(1, 128) if _PUNCT.fullmatch(chr(c))}
_END = "\x00"  # closes each paper in the token stream (never a word: _PUNCT removes it from text)

_GENERIC_STEMS = frozenset(stem(w) for w in GENERIC_WORDS)


def _is_break(word: str) -> bool:
    low = word.lower()
    return (
        len(low) < 2
        or len(low) > 40
        or low in STOP_WORDS
        or not (low.isalpha() or _LETTER.search(low))  # numbers, punctuation: no numbering in labels
    )


@dataclass(frozen=True)
class PhraseCorpus:
    """Phrase counts of a list of papers: rows are papers, columns are phrases (1-3 stems)."""

    keys: list[str]  # stem key of each phrase, e.g. "quantiz", "represent learn"
    phrases: list[str]  # display form: the most frequent way titles write it ("Quantization", "LoRA")
    n_words: np.ndarray  # words per phrase (int)
    complete: np.ndarray  # 1 = a whole phrase in titles, 0 = a fragment ("Retrieval-Augmented")
    title: sp.csr_matrix  # papers x phrases, occurrences in the title
    abstract: sp.csr_matrix  # papers x phrases, occurrences in the abstract


@dataclass(frozen=True)
class _Tokens:
    ids: np.ndarray  # stem id per position; _BREAK for stop words, numbers, punctuation, paper ends
    docs: np.ndarray  # paper of each position
    word_ids: np.ndarray  # distinct-word id per position (to recover the written form)
    words: list[str]  # distinct words, in order of first use


def _clean_text(texts: Sequence[str], lower: bool) -> str:
    """All of `texts` as one string: punctuation turned into "." tokens, each paper closed by _END.

    Consecutive ASCII papers (nearly all) are joined and cleaned by one `str.translate`, which does
    in C what `_PUNCT.sub` does; the others take the regex. Either way a paper is one string
    operation at most, not one per token. (A run of punctuation becomes several "." tokens instead
    of one: the same break between phrases.)
    """
    pieces: list[str] = []
    run: list[str] = []
    for text in [*texts, None]:
        if text is not None and text.isascii() and _END not in text:
            run.append(text)
            continue
        if run:
            joined = f" {_END} ".join(run)
            joined = joined.lower() if lower else joined
            # Mapping to "." and then replacing it is 4x faster than mapping to " . " directly:
            # str.translate has a fast path only for one-character ASCII replacements.
            pieces.append(joined.translate(_ASCII_PUNCT).replace(".", " . "))
            run.clear()
        if text is not None:
            pieces.append(_PUNCT.sub(" . ", text.lower() if lower else text))
    return f" {_END} ".join([*pieces, ""])


def _word_ids(text: str) -> tuple[np.ndarray, list[str]]:
    """The whitespace-separated words of `text` as ids, numbered in order of first use, and the words.

    Arrow splits and dictionary-encodes in C++: the same result as `str.split()` and a dict
    lookup per token, which cost about 0.8 s of CPU for 5 million abstract tokens (the largest
    part of a 25k-paper build). Both split on exactly the characters `str.isspace` accepts.
    """
    # No trailing whitespace: Arrow 26's utf8_split_whitespace sometimes keeps it on the last token
    # ("\x00 " instead of "\x00"); without it the split matched str.split() on 20,000 random
    # strings (tests/topics/test_phrases_tokens.py checks the same on every build's kind of input).
    text = text.rstrip()
    if not text:
        return np.zeros(0, dtype=np.int64), []
    tokens = pc.list_flatten(pc.utf8_split_whitespace(pa.array([text], type=pa.large_string())))
    tokens = pc.filter(tokens, pc.greater(pc.utf8_length(tokens), 0))  # "" before leading spaces
    encoded = pc.dictionary_encode(tokens)
    return np.asarray(encoded.indices, dtype=np.int64), encoded.dictionary.to_pylist()


@lru_cache(maxsize=1 << 18)
def _word_stem(word: str) -> str:
    """The stem of a token, or "" for a break."""
    return "" if _is_break(word) else stem(word)


def _tokenize(texts: Sequence[str], stem_ids: dict[str, int], *, lower: bool, grow: bool) -> _Tokens:
    """Stem ids of every word; with `grow` false, a stem missing from `stem_ids` is a break (it
    cannot belong to a phrase mined from titles), and the written forms are not kept (`word_ids` is
    empty: only titles need them)."""
    word_ids, words = _word_ids(_clean_text(texts, lower))
    stems = list(map(_word_stem, words))
    if grow:
        stem_of = np.asarray([stem_ids.setdefault(s, len(stem_ids)) if s else _BREAK for s in stems])
    else:  # "" (a break) is never a key
        stem_of = np.fromiter(map(stem_ids.get, stems, repeat(_BREAK)), dtype=np.int64, count=len(stems))
    ids = stem_of[word_ids] if len(word_ids) else np.zeros(0, dtype=np.int64)
    end = words.index(_END) if _END in words else -1
    ends = np.flatnonzero(word_ids == end) if end >= 0 else np.zeros(0, dtype=np.int64)
    if len(ends) != len(texts):
        raise AssertionError("tokenizer lost a paper boundary")
    # Each paper's tokens, its closing _END included, carry its index.
    docs = np.repeat(np.arange(len(texts), dtype=np.int64), np.diff(ends, prepend=-1))
    if not grow:
        return _Tokens(ids, docs, np.zeros(0, dtype=np.int64), [])
    return _Tokens(ids, docs, word_ids, words)


def _ngram_codes(
    ids: np.ndarray, n: int, base: int, allowed: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes of the n-grams without a break (and, given `allowed` (n x stems), whose j-th stem is
    allowed at place j), and where they start."""
    m = len(ids) - n + 1
    if m <= 0:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    ok = ids[:m] >= 0
    for j in range(n):
        if j:
            ok &= ids[j : j + m] >= 0
        if allowed is not None:
            ok &= allowed[j][np.maximum(ids[j : j + m], 0)]
    pos = np.flatnonzero(ok)
    code = np.zeros(len(pos), dtype=np.int64)
    for j in range(n):
        code = code * base + (ids[pos + j] + 1)  # + 1: a code never starts with a zero digit
    return code, pos


def _decode(codes: np.ndarray, n: int, base: int, offset: int = 1) -> np.ndarray:
    """The (len, n) ids behind n-gram codes."""
    out = np.empty((len(codes), n), dtype=np.int64)
    rest = np.asarray(codes, dtype=np.int64).copy()
    for j in range(n - 1, -1, -1):
        out[:, j] = rest % base - offset
        rest //= base
    return out


def _lookup(vocab: np.ndarray, codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Column of each code in the sorted `vocab`, and whether it is there."""
    if not len(vocab):
        return np.zeros(len(codes), np.int64), np.zeros(len(codes), bool)
    if vocab[-1] < 1 << 20:  # single words: a table is faster than a binary search per code
        table = np.zeros(int(vocab[-1]) + 1, dtype=np.int64)
        table[vocab] = np.arange(len(vocab))
        col = table[np.minimum(codes, vocab[-1])]
        return col, vocab[col] == codes
    col = np.minimum(np.searchsorted(vocab, codes), len(vocab) - 1)
    return col, vocab[col] == codes


def _unique_pairs(first: np.ndarray, second: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`np.unique(np.stack([first, second]), axis=1, return_inverse=True, return_counts=True)` for
    non-negative ints, as one sort of combined int64 keys when they fit (several times faster)."""
    if not len(first):
        empty = np.zeros((2, 0), dtype=np.int64)
        return empty, np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    width = int(second.max()) + 1
    if int(first.max()) < (1 << 62) // width:
        keys, inverse, counts = np.unique(
            first.astype(np.int64) * width + second, return_inverse=True, return_counts=True
        )
        return np.stack([keys // width, keys % width]), inverse.ravel(), counts
    pairs, inverse, counts = np.unique(
        np.stack([first, second]), axis=1, return_inverse=True, return_counts=True
    )
    return pairs, inverse.ravel(), counts


def _counts(codes: np.ndarray, docs: np.ndarray, vocab: np.ndarray, n_docs: int) -> sp.csr_matrix:
    """Papers x vocabulary occurrence counts; `docs` is ascending (tokens come in paper order), so
    the rows need no sorting: the CSR row pointers are a running count."""
    col, hit = _lookup(vocab, codes)
    rows = docs[hit]
    indptr = np.zeros(n_docs + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n_docs), out=indptr[1:])
    data = np.ones(len(rows), dtype=np.float32)
    out = sp.csr_matrix((data, col[hit], indptr), shape=(n_docs, len(vocab)))
    out.sum_duplicates()
    return out


def build_corpus(
    titles: Sequence[str],
    abstracts: Sequence[str],
    *,
    min_df: int = 2,
    max_words: int = 3,
    vocabulary: Sequence[str] | None = None,
) -> PhraseCorpus:
    """Count key phrases in titles and abstracts.

    The vocabulary is every run of 1-`max_words` non-stop words in at least `min_df` titles, unless made
    only of generic words: authors name their topic in the title, so mining titles is cheaper and cleaner
    than mining abstracts. With `vocabulary` (phrases as written) only those phrases are counted."""
    if len(titles) != len(abstracts):
        raise ValueError("titles and abstracts must have the same length")
    stem_ids: dict[str, int] = {}
    fixed = [_tokenize([p], stem_ids, lower=True, grow=True).ids[:-1] for p in vocabulary or ()]
    tit = _tokenize(titles, stem_ids, lower=False, grow=True)
    abs_ = _tokenize(abstracts, stem_ids, lower=True, grow=False)
    base, n_docs = len(stem_ids) + 2, len(titles)
    stems = sorted(stem_ids, key=stem_ids.__getitem__)  # stem of each id
    generic = np.asarray([s in _GENERIC_STEMS for s in stems] + [False])
    lower: dict[str, int] = {}
    low_id = np.asarray([lower.setdefault(w.lower(), len(lower)) for w in tit.words], dtype=np.int64)

    keys: list[str] = []
    phrases: list[str] = []
    n_words: list[int] = []
    complete: list[np.ndarray] = []
    title_parts, abstract_parts = [], []
    for n in range(1, max_words + 1):
        codes, pos = _ngram_codes(tit.ids, n, base)
        if vocabulary is not None:
            vocab = np.unique(np.concatenate([_ngram_codes(f, n, base)[0] for f in fixed] + [codes[:0]]))
        else:
            pairs = _unique_pairs(codes, tit.docs[pos])[0]  # one count per title
            uniq, df = np.unique(pairs[0], return_counts=True)
            vocab = uniq[df >= min_df]
            vocab = vocab[~generic[_decode(vocab, n, base)].all(axis=1)]
        parts = _decode(vocab, n, base)
        keys.extend(" ".join(stems[p] for p in row) for row in parts.tolist())
        n_words.extend([n] * len(vocab))
        title_parts.append(_counts(codes, tit.docs[pos], vocab, n_docs))
        surfaces = _surfaces(codes, pos, tit, vocab, n)
        phrases.extend(surfaces)
        complete.append(_completeness(codes, pos, n, tit, low_id, lower, vocab, surfaces))
        allowed = np.zeros((n, base), dtype=bool)
        for j in range(n):
            allowed[j, parts[:, j]] = True  # only n-grams that can be in the vocabulary are coded
        a_codes, a_pos = _ngram_codes(abs_.ids, n, base, allowed)
        abstract_parts.append(_counts(a_codes, abs_.docs[a_pos], vocab, n_docs))
    if vocabulary is not None:  # phrases never seen in a title: as given, and whole
        phrases = [p or k for p, k in zip(phrases, keys, strict=True)]
        complete = [np.ones(len(c)) for c in complete]
    corpus = PhraseCorpus(
        keys=keys,
        phrases=phrases,
        n_words=np.asarray(n_words, dtype=np.int64),
        complete=np.concatenate(complete),
        title=sp.hstack(title_parts, format="csr", dtype=np.float32),
        abstract=sp.hstack(abstract_parts, format="csr", dtype=np.float32),
    )
    return _merge_spellings(corpus)


def _merge_spellings(corpus: PhraseCorpus) -> PhraseCorpus:
    """One column per phrase however it is hyphenated: "vision-language model" = "vision language model"."""
    group_of: dict[str, int] = {}  # groups numbered in order of first appearance
    n_keys = len(corpus.keys)
    cols = np.fromiter(
        (group_of.setdefault(key.replace(" ", ""), len(group_of)) for key in corpus.keys),
        dtype=np.int64,
        count=n_keys,
    )
    if len(group_of) == n_keys:
        return corpus
    title_df = np.bincount(corpus.title.indices, minlength=n_keys).astype(np.float64)
    # Each group is shown as its most used spelling (ties: the first): sorted by group, then use.
    index = np.arange(n_keys)
    order = np.lexsort((index, -title_df, cols))
    reps = order[np.r_[True, cols[order][1:] != cols[order][:-1]]].tolist()
    merge = sp.csr_matrix((np.ones(n_keys, np.float32), (index, cols)), shape=(n_keys, len(reps)))
    weights = merge.T @ title_df
    complete = (merge.T @ (corpus.complete * title_df)) / np.maximum(weights, 1)
    return PhraseCorpus(
        keys=[corpus.keys[j] for j in reps],
        phrases=[corpus.phrases[j] for j in reps],
        n_words=corpus.n_words[reps],
        complete=np.where(weights > 0, complete, corpus.complete[reps]),
        title=(corpus.title @ merge).tocsr(),
        abstract=(corpus.abstract @ merge).tocsr(),
    )


def _surfaces(codes: np.ndarray, pos: np.ndarray, tit: _Tokens, vocab: np.ndarray, n: int) -> list[str]:
    """The most frequent written form of each phrase in the titles (ties: the first distinct form);
    forms ending in "-ed" count half: "Quantization" names a topic better than "Quantized [Models]"."""
    out = [""] * len(vocab)
    col, hit = _lookup(vocab, codes)
    if not hit.any():
        return out
    col, start = col[hit], pos[hit]
    forms = np.zeros(len(col), dtype=np.int64)
    for j in range(n):
        forms = forms * (len(tit.words) + 1) + tit.word_ids[start + j]
    pairs, inverse, _ = _unique_pairs(col, forms)
    participle = np.asarray([w.lower().endswith("ed") for w in tit.words] + [False])
    weight = np.where(participle[tit.word_ids[start + n - 1]], 0.5, 1.0)
    counts = np.bincount(inverse.ravel(), weights=weight, minlength=pairs.shape[1])
    order = np.lexsort((pairs[1], -counts, pairs[0]))  # by phrase, most frequent form first
    first = order[np.r_[True, pairs[0][order][1:] != pairs[0][order][:-1]]]
    words = _decode(pairs[1][first], n, len(tit.words) + 1, offset=0)
    for c, row in zip(pairs[0][first].tolist(), words.tolist(), strict=True):
        out[c] = " ".join(tit.words[w] for w in row)
    return out


def _completeness(
    codes: np.ndarray, pos: np.ndarray, n: int, tit: _Tokens, low_id: np.ndarray, lower: dict[str, int],
    vocab: np.ndarray, surfaces: list[str],
) -> np.ndarray:  # fmt: skip
    """How whole each phrase is in titles: the share of its uses that no content word follows (only uses
    ending in the displayed word: "Quantized Models" says nothing about "Quantization"), capped by 1 -
    the share of its most frequent predecessor. "Retrieval-Augmented" (+ "Generation"), "Video" (+
    "Generation", "Understanding") and "Answering" ("Question" +) are fragments: counted, seldom names."""
    col, hit = _lookup(vocab, codes)
    shown = np.asarray([lower.get(s.split()[-1].lower(), -1) if s else -1 for s in surfaces], dtype=np.int64)
    counted = hit & (low_id[tit.word_ids[pos + n - 1]] == shown[col]) if len(vocab) else hit
    ends = tit.ids[np.minimum(pos + n, len(tit.ids) - 1)] < 0
    total = np.bincount(col[counted], minlength=len(vocab))
    closed = np.bincount(col[counted], weights=ends[counted].astype(np.float64), minlength=len(vocab))
    before = tit.ids[np.maximum(pos - 1, 0)]
    lead = np.zeros(len(vocab))
    prev = hit & (before >= 0) & (pos > 0)
    if prev.any():
        pairs, _, counts = _unique_pairs(col[prev], before[prev])
        np.maximum.at(lead, pairs[0], counts)
    uses = np.bincount(col[hit], minlength=len(vocab))
    whole = closed / np.maximum(total, 1)
    if len(vocab):
        # A name of several words that many different words follow ("Time Series" + forecasting,
        # classification, anomaly detection; "Point Cloud" + registration, completion) is whole: what
        # follows it names its subtopics. Only a follower that nearly always comes ("Large Language" +
        # "Models") makes it a fragment. Hyphen compounds ("Zero-Shot", "Retrieval-Augmented") are
        # modifiers whatever follows them.
        after = tit.ids[np.minimum(pos + n, len(tit.ids) - 1)]
        nxt = counted & (after >= 0)
        follow = np.zeros(len(vocab))
        if nxt.any():
            pairs, _, counts = _unique_pairs(col[nxt], after[nxt])
            np.maximum.at(follow, pairs[0], counts)
        # The same holds for a field's one-word name ("Jailbreak" + attacks, prompts, defenses).
        spaced = np.asarray(
            [(" " in s.strip()) if n >= 2 else s.strip().lower() in FIELD_WORDS for s in surfaces], dtype=bool
        )
        diverse = 1.0 - follow / np.maximum(total, 1)
        whole = np.where(spaced, np.maximum(whole, diverse), whole)
    return np.minimum(whole, 1.0 - lead / np.maximum(uses, 1))
