"""Encoders: the hashing encoder's guarantees and the sentence-transformers adapter."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from app.embed.encoder import (
    BUNDLED_MODEL_NAME,
    Encoder,
    EncoderError,
    HashingEncoder,
    SentenceTransformerEncoder,
    bundled_model_path,
    stable_model_name,
)
from app.ingest.records import embedding_text
from tests.embed.embed_support import seed_papers


def test_hashing_encoder_is_deterministic_normalised_and_word_sensitive() -> None:
    enc = HashingEncoder(dim=64)
    texts = [
        "low-bit quantization of LLM weights",
        "quantization of weights to low bit",
        "a recipe for bread",
    ]
    a = enc.encode(texts)
    b = HashingEncoder(dim=64).encode(texts)
    assert a.dtype == np.float32 and a.shape == (3, 64)
    assert np.array_equal(a, b)
    assert np.allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-6)
    sims = a @ a.T
    assert sims[0, 1] > 0.5 > abs(sims[0, 2])
    assert isinstance(enc, Encoder)


def test_hashing_encoder_handles_empty_input_and_reports_progress() -> None:
    enc = HashingEncoder(dim=16)
    assert enc.encode([]).shape == (0, 16)
    seen: list[int] = []
    out = enc.encode(["", "x y", "z"] * 3, batch_size=4, progress=seen.append)
    assert sum(seen) == 9
    assert np.allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-6)


def test_bundled_model_gets_a_portable_name_and_dimension_without_loading() -> None:
    path = bundled_model_path()
    assert path is not None and path.is_dir()
    enc = SentenceTransformerEncoder(path)
    assert enc.model_name == BUNDLED_MODEL_NAME == stable_model_name(str(path))
    assert enc.dim == 384
    assert enc._model is None  # the weights load on first encode only
    assert os.environ["HF_HUB_OFFLINE"] == "1"


def test_stable_name_of_other_locations(tmp_path: Path) -> None:
    snapshot = tmp_path / "models--sentence-transformers--all-mpnet-base-v2" / "snapshots" / ("a" * 40)
    snapshot.mkdir(parents=True)
    assert stable_model_name(str(snapshot)) == "all-mpnet-base-v2"
    assert stable_model_name("sentence-transformers/all-MiniLM-L12-v2") == "all-MiniLM-L12-v2"


def test_missing_model_folder_is_a_clear_error(tmp_path: Path) -> None:
    enc = SentenceTransformerEncoder(tmp_path / "nowhere" / "model")
    with pytest.raises(EncoderError, match="no model folder"):
        enc.encode(["x"])


def test_cuda_without_a_gpu_is_a_clear_error() -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    enc = SentenceTransformerEncoder(bundled_model_path() or "", device="cuda")
    assert enc.fp16 and enc.prefetch  # the GPU path: fp16 weights, tokenizing ahead of the model
    with pytest.raises(EncoderError, match="CUDA"):
        enc.encode(["x"])


@pytest.mark.slow
def test_real_encoder_matches_bare_sentence_transformers_in_both_loops() -> None:
    texts = [embedding_text(p["title"], p["abstract"]) for p in seed_papers()[:12]] + ["short", "LLM"]
    enc = SentenceTransformerEncoder(bundled_model_path() or "")
    ours = enc.encode(texts, batch_size=5)
    bare = enc.load().encode(texts, batch_size=5, normalize_embeddings=True)
    assert ours.shape == (14, 384) and ours.dtype == np.float32
    assert np.abs(ours - bare).max() < 1e-5
    # The prefetching loop (the GPU path) with two tokenizer threads gives the same vectors.
    threaded = SentenceTransformerEncoder(bundled_model_path() or "", prefetch=True, tokenizer_workers=2)
    threaded._model = enc.load()
    seen: list[int] = []
    assert np.abs(threaded.encode(texts, batch_size=3, progress=seen.append) - bare).max() < 1e-5
    assert sum(seen) == 14
    # A query runs on one thread (no waiting between cores); the thread count is restored after.
    import torch

    before = torch.get_num_threads()
    one = enc.encode(["low-bit weights for LLMs"])
    assert torch.get_num_threads() == before
    assert (
        np.abs(one - enc.load().encode(["low-bit weights for LLMs"], normalize_embeddings=True)).max() < 1e-5
    )
