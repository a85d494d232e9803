"""The faiss adapter: a vector index keyed by paper id, saved atomically with a versioned header.

Two kinds, by size: `exact` (inner product over every vector, `IndexIDMap2(IndexFlatIP)`) and
`ivf-sq8` (an inverted file of `nlist` k-means cells with 8-bit scalar-quantised residuals;
`nprobe` cells are scanned per query). On L2-normalised vectors inner product is cosine.
IVF-SQ8 is chosen over HNSW: about a quarter of HNSW32's memory, cheap daily `add`, and a
2.5M index builds in minutes on two cores where HNSW takes over ten (docs/BENCHMARKS.md).

The file is one blob: magic, a JSON header (format version, model, dimension, kind, count,
the largest embedding id included), then faiss's own serialisation. It is written to a temporary
file, fsynced and renamed, so a reader sees the old index or the new one, never half of one.
"""

from __future__ import annotations

import io
import json
import math
import os
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import faiss
import numpy as np
import numpy.typing as npt

from app.embed.vectors import Matrix, exact_top_k, recall_at_k

MAGIC = b"PTVIDX\n"
FORMAT_VERSION = 1
EXACT = "exact"
IVF_SQ8 = "ivf-sq8"
KINDS = (EXACT, IVF_SQ8)
DEFAULT_NPROBE = 16
# Recall@10 that calibration aims at for paper-like queries; a point of margin over the 0.95 promised.
TARGET_RECALL = 0.96
# Text queries need more cells than paper vectors for the same recall. Measured on the 25k real
# vectors (512 cells) with 250 encoded title-word queries: recall 0.90 at the nprobe where paper
# queries reach 0.96-0.98 (64), 0.95 at 2x, 0.98 at 4x (docs/BENCHMARKS.md, section search).
TEXT_QUERY_FACTOR = 4
# And never fewer than 1/16 of the cells: where paper vectors come in tight groups (1M synthetic
# vectors) paper queries need very few cells while text queries still need ~1/16 for 0.95; a
# query then scans ~6 % of the index (1M vectors: 5 ms).
MIN_PROBE_DIVISOR = 16
# Selector sets above this size cost more to build than over-fetching and filtering afterwards.
MAX_SELECTOR_IDS = 200_000


class IndexFormatError(ValueError):
    """The file is not a vector index this version can read (or it is damaged)."""


def nlist_for(n: int) -> int:
    """Cells for n vectors: about 4·sqrt(n), a power of two, 64 to 65,536, at least 39 vectors per cell."""
    target = 4 * math.sqrt(max(n, 1))
    cells = 2 ** round(math.log2(target))
    while cells > 64 and n // cells < 39:
        cells //= 2
    return int(min(65_536, max(64, cells)))


def training_size(nlist: int, n: int) -> int:
    # faiss wants at least 39 points per cell; 64 gives stable cells without slow training.
    return min(n, max(nlist * 64, 10_000))


def choose_kind(n: int, exact_threshold: int) -> str:
    return EXACT if n < exact_threshold or n < 10_000 else IVF_SQ8


@dataclass
class IndexInfo:
    model_name: str
    dim: int
    kind: str
    watermark: int = 0  # largest embedding row id whose vector is in the index
    trained_size: int = 0
    nlist: int = 0
    nprobe: int = 0  # calibrated cells per query (0: not calibrated)
    recall_at_10: float | None = None  # measured against brute force when calibrated


class VectorIndex:
    """Search by inner product over L2-normalised vectors, keyed by paper id (int64)."""

    def __init__(self, info: IndexInfo, index: Any, *, nprobe: int | None = None) -> None:
        if info.kind not in KINDS:
            raise IndexFormatError(f"unknown index kind {info.kind!r}")
        self.info = info
        self._index = index
        self._nprobe = nprobe

    @property
    def nprobe(self) -> int:
        """Cells scanned per query: the caller's choice, else the calibrated value, else 16."""
        return self._nprobe or self.info.nprobe or DEFAULT_NPROBE

    @nprobe.setter
    def nprobe(self, value: int | None) -> None:
        self._nprobe = value

    # --- creation -------------------------------------------------------------------

    @classmethod
    def create(
        cls, dim: int, *, model_name: str, kind: str = EXACT, nlist: int = 0, nprobe: int | None = None
    ) -> VectorIndex:
        """An empty index; an `ivf-sq8` one must be `train`ed before vectors are added."""
        index: Any
        if kind == EXACT:
            index = faiss.IndexIDMap2(faiss.IndexFlatIP(dim))
        elif kind == IVF_SQ8:
            if nlist < 1:
                raise ValueError("an ivf-sq8 index needs nlist >= 1")
            quantizer = faiss.IndexFlatIP(dim)
            index = faiss.IndexIVFScalarQuantizer(
                quantizer, dim, nlist, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT
            )
            index.cp.niter = 15  # cells barely move after ~15 rounds; each round costs seconds at 4k cells
            index.cp.seed = 1234
        else:
            raise ValueError(f"unknown index kind {kind!r}; expected one of {', '.join(KINDS)}")
        info = IndexInfo(model_name=model_name, dim=dim, kind=kind, nlist=nlist if kind == IVF_SQ8 else 0)
        return cls(info, index, nprobe=nprobe)

    @classmethod
    def build(
        cls,
        ids: npt.ArrayLike,
        vectors: Matrix,
        *,
        model_name: str,
        exact_threshold: int,
        kind: str | None = None,
        nprobe: int | None = None,
        seed: int = 0,
    ) -> VectorIndex:
        """An index over the given vectors, exact below `exact_threshold`, IVF-SQ8 above (or `kind`).

        An IVF index is calibrated: the smallest nprobe reaching recall@10 of 0.96 is stored with it.
        """
        id_array = np.asarray(ids, dtype=np.int64)
        n, dim = vectors.shape
        kind = kind or choose_kind(n, exact_threshold)
        index = cls.create(dim, model_name=model_name, kind=kind, nlist=nlist_for(n), nprobe=nprobe)
        if kind == IVF_SQ8:
            rng = np.random.default_rng(seed)
            size = training_size(index.info.nlist, n)
            sample = vectors[np.sort(rng.choice(n, size=size, replace=False))] if size < n else vectors
            index.train(sample)
        for start in range(0, n, 100_000):
            index.add(id_array[start : start + 100_000], vectors[start : start + 100_000], replace=False)
        index.calibrate(id_array, vectors, seed=seed)
        return index

    def train(self, sample: Matrix) -> None:
        if self.info.kind != IVF_SQ8:
            return
        if sample.shape[0] < self.info.nlist:
            raise ValueError(f"{sample.shape[0]} training vectors for {self.info.nlist} cells")
        self._index.train(np.ascontiguousarray(sample, dtype=np.float32))
        self.info.trained_size = int(sample.shape[0])

    def calibrate(
        self,
        ids: npt.NDArray[np.int64],
        vectors: npt.NDArray[np.floating],
        *,
        queries: int = 200,
        seed: int = 0,
    ) -> float:
        """Choose nprobe from the recall@10 it reaches against brute force; returns that recall.

        Queries are indexed vectors (each one's own id ignored on both sides): the smallest nprobe
        reaching TARGET_RECALL for them is found, then multiplied by TEXT_QUERY_FACTOR and kept at
        1/MIN_PROBE_DIVISOR of the cells or more, because a short text query lies far from every
        paper (best cosine ~0.5 instead of ~0.8) and its neighbours spread over more cells. The
        recall stored is that of paper queries at the final nprobe; bench/search.py measures text
        queries.
        """
        if self.info.kind != IVF_SQ8 or self.ntotal == 0:
            return 1.0
        rng = np.random.default_rng(seed)
        pick = rng.choice(ids.shape[0], size=min(queries, ids.shape[0]), replace=False)
        q = np.asarray(vectors[pick], dtype=np.float32)
        q /= np.linalg.norm(q, axis=1, keepdims=True).clip(min=1e-12)
        truth = _without_self(ids[exact_top_k(q, vectors, 11)], ids[pick])
        recall, probe = 0.0, 4
        while True:
            _, found = self.search(q, 11, nprobe=probe)
            recall = recall_at_k(truth, _without_self(found, ids[pick]), 10)
            if recall >= TARGET_RECALL or probe >= self.info.nlist:
                break
            probe = min(self.info.nlist, probe * 2)
        final = min(self.info.nlist, max(probe * TEXT_QUERY_FACTOR, self.info.nlist // MIN_PROBE_DIVISOR))
        if final != probe:
            _, found = self.search(q, 11, nprobe=final)
            recall = recall_at_k(truth, _without_self(found, ids[pick]), 10)
        self.info.nprobe, self.info.recall_at_10 = final, recall
        return recall

    # --- contents -------------------------------------------------------------------

    @property
    def ntotal(self) -> int:
        return int(self._index.ntotal)

    @property
    def dim(self) -> int:
        return self.info.dim

    @property
    def kind(self) -> str:
        return self.info.kind

    @property
    def model_name(self) -> str:
        return self.info.model_name

    def add(self, ids: npt.ArrayLike, vectors: Matrix, *, replace: bool = True) -> None:
        """Add vectors under paper ids; with `replace`, an id already present gets the new vector."""
        id_array = np.ascontiguousarray(ids, dtype=np.int64)
        matrix = np.ascontiguousarray(vectors, dtype=np.float32)
        if matrix.ndim != 2 or matrix.shape[1] != self.dim or matrix.shape[0] != id_array.shape[0]:
            raise ValueError(
                f"expected {id_array.shape[0]} vectors of dimension {self.dim}, got {matrix.shape}"
            )
        if id_array.size == 0:
            return
        if replace and self.ntotal:
            self.remove(id_array)
        self._index.add_with_ids(matrix, id_array)

    def remove(self, ids: npt.ArrayLike) -> int:
        id_array = np.ascontiguousarray(ids, dtype=np.int64)
        if id_array.size == 0 or self.ntotal == 0:
            return 0
        return int(self._index.remove_ids(faiss.IDSelectorBatch(id_array)))

    def ids(self) -> npt.NDArray[np.int64]:
        """Every paper id in the index (unordered)."""
        if self.info.kind == EXACT:
            return faiss.vector_to_array(self._index.id_map).astype(np.int64)
        lists = self._index.invlists
        parts = [
            faiss.rev_swig_ptr(lists.get_ids(i), lists.list_size(i)).copy()
            for i in range(self._index.nlist)
            if lists.list_size(i)
        ]
        return np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, dtype=np.int64)

    # --- search ---------------------------------------------------------------------

    def search(
        self,
        vectors: Matrix,
        k: int,
        *,
        nprobe: int | None = None,
        allowed_ids: npt.ArrayLike | None = None,
    ) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.int64]]:
        """Top-k (scores, ids) per query row, best first; missing places have id -1.

        `allowed_ids` restricts the search to those papers (a filter); the IVF then scans more
        cells, in proportion to how few papers the filter keeps, so it still finds k of them.
        """
        queries = np.ascontiguousarray(np.atleast_2d(vectors), dtype=np.float32)
        if queries.shape[1] != self.dim:
            raise ValueError(f"query dimension {queries.shape[1]} != index dimension {self.dim}")
        k = max(1, min(int(k), max(self.ntotal, 1)))
        if self.ntotal == 0:
            return (
                np.full((queries.shape[0], k), -np.inf, dtype=np.float32),
                np.full((queries.shape[0], k), -1, dtype=np.int64),
            )
        probe = nprobe or self.nprobe
        selector = None
        if allowed_ids is not None:
            allowed = np.ascontiguousarray(allowed_ids, dtype=np.int64)
            selector = faiss.IDSelectorBatch(allowed)
            probe = math.ceil(probe * self.ntotal / max(allowed.size, 1))
        params: Any = None
        if self.info.kind == IVF_SQ8:
            params = faiss.SearchParametersIVF()
            params.nprobe = min(self._index.nlist, probe)
        elif selector is not None:
            params = faiss.SearchParameters()
        if selector is not None:
            params.sel = selector
        scores, ids = self._index.search(queries, k, params=params)
        return scores.astype(np.float32, copy=False), ids.astype(np.int64, copy=False)

    # --- persistence ----------------------------------------------------------------

    def header(self) -> dict[str, Any]:
        return {
            "format": FORMAT_VERSION,
            "model": self.info.model_name,
            "dim": self.info.dim,
            "kind": self.info.kind,
            "ntotal": self.ntotal,
            "watermark": self.info.watermark,
            "trained_size": self.info.trained_size,
            "nlist": self.info.nlist,
            "nprobe": self.info.nprobe,
            "recall_at_10": self.info.recall_at_10,
            "faiss": faiss.__version__,
        }

    def save(self, path: Path) -> None:
        """Write atomically: a temporary file in the same folder, fsync, rename over `path`."""
        path.parent.mkdir(parents=True, exist_ok=True)
        payload = faiss.serialize_index(self._index)
        header = self.header() | {"payload_bytes": int(payload.nbytes)}
        head = json.dumps(header).encode()
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            with open(tmp, "wb") as fh:
                fh.write(MAGIC + struct.pack("<I", len(head)) + head)
                payload.tofile(fh)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
        _fsync_dir(path.parent)

    @staticmethod
    def read_header(path: Path) -> dict[str, Any]:
        """The header, after checking the file holds the whole payload it announces (IndexFormatError)."""
        with open(path, "rb") as fh:
            header, offset = _read_header(fh, path)
        expected = header.get("payload_bytes")
        present = path.stat().st_size - offset
        if present <= 0 or (isinstance(expected, int) and present != expected):
            shown = f"{present} of {expected}" if isinstance(expected, int) else f"{present}"
            raise IndexFormatError(f"{path} is truncated ({shown} payload bytes)")
        return header

    @classmethod
    def load(cls, path: Path, *, nprobe: int | None = None) -> VectorIndex:
        """Read an index written by `save`. Raises FileNotFoundError or IndexFormatError."""
        with open(path, "rb") as fh:
            header, offset = _read_header(fh, path)
        payload = np.fromfile(path, dtype=np.uint8, offset=offset)
        return cls._from_parts(header, payload, str(path), nprobe)

    @classmethod
    def from_bytes(cls, data: bytes, *, source: str = "index", nprobe: int | None = None) -> VectorIndex:
        """Read an index from the bytes of a saved file (a published copy kept in the database)."""
        header, offset = _read_header(io.BytesIO(data), source)
        payload = np.frombuffer(data, dtype=np.uint8, offset=min(offset, len(data)))
        return cls._from_parts(header, payload, source, nprobe)

    @classmethod
    def _from_parts(
        cls, header: dict[str, Any], payload: npt.NDArray[np.uint8], source: str, nprobe: int | None
    ) -> VectorIndex:
        expected = header.get("payload_bytes")
        if expected is not None and payload.size != expected:
            raise IndexFormatError(f"{source} is truncated ({payload.size} of {expected} bytes)")
        if payload.size == 0:
            raise IndexFormatError(f"{source} is truncated (nothing after its header)")
        try:
            index = faiss.deserialize_index(np.ascontiguousarray(payload))
        except RuntimeError as exc:
            raise IndexFormatError(f"{source} is damaged: {str(exc).splitlines()[0]}") from exc
        try:
            info = IndexInfo(
                model_name=str(header["model"]),
                dim=int(header["dim"]),
                kind=str(header["kind"]),
                watermark=int(header.get("watermark", 0)),
                trained_size=int(header.get("trained_size", 0)),
                nlist=int(header.get("nlist", 0)),
                nprobe=int(header.get("nprobe") or 0),
                recall_at_10=header.get("recall_at_10"),
            )
        except (TypeError, ValueError) as exc:
            raise IndexFormatError(f"{source} has a damaged header ({exc})") from exc
        if index.d != info.dim or index.ntotal != header.get("ntotal", index.ntotal):
            raise IndexFormatError(f"{source}: header does not match the index it holds")
        return cls(info, index, nprobe=nprobe)


def _without_self(found: npt.NDArray[np.int64], own: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Each row's ids minus the query's own id, cut to 10 (rows have 11 ids)."""
    rows = [[i for i in row.tolist() if i != me][:10] for row, me in zip(found, own.tolist(), strict=True)]
    return np.array([r + [-2] * (10 - len(r)) for r in rows], dtype=np.int64)


MAX_HEADER_BYTES = 1 << 20  # a header is a few hundred bytes; more means the length field is garbage


def _read_header(fh: Any, path: Path | str) -> tuple[dict[str, Any], int]:
    """The JSON header and where the payload starts; IndexFormatError for anything cut off or damaged."""
    magic = fh.read(len(MAGIC))
    if magic != MAGIC:
        raise IndexFormatError(f"{path} is not a papertrend vector index")
    size = fh.read(4)
    if len(size) < 4:
        raise IndexFormatError(f"{path} is cut off inside its header")
    (length,) = struct.unpack("<I", size)
    if length > MAX_HEADER_BYTES:
        raise IndexFormatError(f"{path} has a damaged header (length {length})")
    raw = fh.read(length)
    if len(raw) < length:
        raise IndexFormatError(f"{path} is cut off inside its header ({len(raw)} of {length} bytes)")
    try:
        header = json.loads(raw)
    except ValueError as exc:
        raise IndexFormatError(f"{path} has a damaged header") from exc
    if not isinstance(header, dict):
        raise IndexFormatError(f"{path} has a damaged header")
    if header.get("format") != FORMAT_VERSION:
        raise IndexFormatError(
            f"{path} has index format {header.get('format')}, this version reads {FORMAT_VERSION}"
        )
    for key in ("model", "dim", "kind"):
        if key not in header:
            raise IndexFormatError(f"{path} header lacks {key!r}")
    return header, len(MAGIC) + 4 + length


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
