"""Publishing the vector index as versioned artifacts, and loading a published version safely.

The process that rebuilds the index (the pipeline's index step, `papertrend embed`,
`papertrend index rebuild`) publishes what it saved: a row in `index_artifacts` with a version
that only grows, the SHA-256 and size of the file, its vector count and model. The bytes travel

* inside the row when the file is at most INDEX_INLINE_MAX_BYTES (no shared folder needed), or
* as an immutable file `<model>.v<version>.faiss` in INDEX_SHARED_DIR (a folder every web
  replica can read: a shared volume, NFS), hard-linked when the saved index sits on the same
  file system, copied otherwise.

Publishing an index whose bytes equal the newest version's does nothing, so a pipeline run
without new vectors adds no version. The newest INDEX_KEEP_VERSIONS versions are kept; the
files of older ones are removed after the transaction that forgot them commits (`remove_files`).

A replica loads a version with `load_artifact`: the size and checksum of the bytes it reads
must match the row, and the index inside must be of the row's model and size, else the
version is refused (`ArtifactRefused`) and the replica keeps what it serves. A file not there
yet (a shared folder still syncing) is `ArtifactUnavailable`: tried again at the next poll.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from app.embed import index_queries as queries
from app.embed.faiss_index import IndexFormatError, VectorIndex
from app.models import IndexArtifact

if TYPE_CHECKING:
    from app.config import Settings

log = logging.getLogger("papertrend.embed")

CHUNK = 4 * 1024 * 1024


class ArtifactRefused(Exception):
    """A published version whose bytes do not match its row (or hold no usable index)."""


class ArtifactUnavailable(Exception):
    """A published version whose bytes cannot be read yet (file missing, version pruned)."""


@dataclass(frozen=True)
class PublishOptions:
    folder: Path  # the shared index folder
    inline_max_bytes: int
    keep_versions: int

    @classmethod
    def from_settings(cls, settings: Settings) -> PublishOptions:
        return cls(
            folder=settings.published_index_dir,
            inline_max_bytes=settings.index_inline_max_bytes,
            keep_versions=settings.index_keep_versions,
        )


@dataclass
class Published:
    """What `publish_index` did. `new` is False when the newest version already had these bytes."""

    version: int
    checksum: str
    size_bytes: int
    vectors: int
    new: bool
    stored: str  # "database" | "file"
    remove_after_commit: list[Path] = field(default_factory=list)

    def summary(self) -> str:
        if not self.new:
            return f"index version {self.version} unchanged"
        return (
            f"published index version {self.version} ({self.vectors} vectors, "
            f"{self.size_bytes} bytes, in the {self.stored})"
        )


def artifact_file_name(model: str, version: int) -> str:
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", model).strip("._") or "model"
    return f"{safe}.v{version}.faiss"


def file_digest(path: Path) -> tuple[str, int]:
    """(SHA-256 hex, size) of a file, read in chunks."""
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def publish_index(
    session: Session, index: VectorIndex, saved: Path, options: PublishOptions, now: datetime
) -> Published:
    """Publish the index saved at `saved` (flushes, never commits; see the module docstring)."""
    checksum, size = file_digest(saved)
    current = queries.latest(session, index.model_name)
    if current is not None and current.checksum == checksum and current.size_bytes == size:
        return Published(current.version, checksum, size, current.vectors, new=False, stored=_where(current))
    row = IndexArtifact(
        model=index.model_name,
        checksum=checksum,
        size_bytes=size,
        vectors=index.ntotal,
        kind=index.kind,
        watermark=index.info.watermark,
        created_at=now,
    )
    if size <= options.inline_max_bytes:
        data = saved.read_bytes()
        row.checksum, row.size_bytes = hashlib.sha256(data).hexdigest(), len(data)
        row.data = data
    session.add(row)
    session.flush()  # the version number names the file
    if row.data is None:
        name = artifact_file_name(index.model_name, row.version)
        _place(saved, options.folder / name)
        # The row describes the published bytes, read back from where replicas will read them.
        row.checksum, row.size_bytes = file_digest(options.folder / name)
        row.location = name
    old = queries.older_than_kept(session, index.model_name, options.keep_versions)
    queries.delete_versions(session, [a.version for a in old])
    session.flush()
    published = Published(
        row.version,
        row.checksum,
        row.size_bytes,
        row.vectors,
        new=True,
        stored=_where(row),
        remove_after_commit=[options.folder / a.location for a in old if a.location],
    )
    log.info("%s", published.summary())
    return published


def remove_files(paths: Iterable[Path]) -> None:
    """Delete the files of versions no longer kept (after their rows are gone for good)."""
    for path in paths:
        try:
            path.unlink(missing_ok=True)
        except OSError as exc:  # a read-only share: the operator cleans up; nothing reads it any more
            log.warning("could not remove old index file %s: %s", path, exc.strerror)


def _where(row: IndexArtifact) -> str:
    return "file" if row.location else "database"


def _place(source: Path, target: Path) -> None:
    """Put a copy of `source` at `target` atomically: a hard link when possible, else a copy."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    try:
        try:
            # The saved index is replaced by rename, never rewritten, so a link keeps these bytes.
            os.link(source, tmp)
        except OSError:
            with open(source, "rb") as src, open(tmp, "wb") as dst:
                shutil.copyfileobj(src, dst, CHUNK)
                dst.flush()
                os.fsync(dst.fileno())
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


# Loading on a web replica -----------------------------------------------------------------


def load_artifact(
    session: Session, artifact: IndexArtifact, folder: Path, *, nprobe: int | None = None
) -> VectorIndex:
    """The index of one published version, after checking its bytes against the row."""
    label = f"index version {artifact.version}"
    if artifact.location is None:
        data = queries.data_of(session, artifact.version)
        if data is None:
            raise ArtifactUnavailable(f"{label} is no longer in the database")
        _check(artifact, hashlib.sha256(data).hexdigest(), len(data))
        try:
            index = VectorIndex.from_bytes(data, source=label, nprobe=nprobe)
        except IndexFormatError as exc:
            raise ArtifactRefused(str(exc)) from exc
    else:
        path = folder / artifact.location
        if not path.is_file():
            raise ArtifactUnavailable(
                f"{label}: no file {path} (is INDEX_SHARED_DIR shared with this machine?)"
            )
        checksum, size = file_digest(path)
        _check(artifact, checksum, size)
        try:
            index = VectorIndex.load(path, nprobe=nprobe)
        except IndexFormatError as exc:
            raise ArtifactRefused(str(exc)) from exc
    if index.model_name != artifact.model or index.ntotal != artifact.vectors:
        raise ArtifactRefused(
            f"{label} holds {index.ntotal} vectors of {index.model_name}, "
            f"its record says {artifact.vectors} of {artifact.model}"
        )
    return index


def _check(artifact: IndexArtifact, checksum: str, size: int) -> None:
    if size != artifact.size_bytes:
        raise ArtifactRefused(
            f"index version {artifact.version} has {size} bytes, {artifact.size_bytes} were published"
        )
    if checksum != artifact.checksum:
        raise ArtifactRefused(
            f"index version {artifact.version} fails its checksum (sha256 {checksum[:12]}…)"
        )
