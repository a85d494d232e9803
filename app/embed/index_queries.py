"""The SQL of published index versions (`index_artifacts`)."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from app.models import IndexArtifact


def latest(session: Session, model: str) -> IndexArtifact | None:
    """The newest published version for `model`, without its bytes."""
    return session.scalars(
        select(IndexArtifact)
        .where(IndexArtifact.model == model)
        .order_by(IndexArtifact.version.desc())
        .limit(1)
    ).first()


def data_of(session: Session, version: int) -> bytes | None:
    """The bytes kept in the database for one version (None when it lives in a file, or is gone)."""
    return session.scalar(select(IndexArtifact.data).where(IndexArtifact.version == version))


def older_than_kept(session: Session, model: str, keep: int) -> list[IndexArtifact]:
    """Versions of `model` beyond the newest `keep`, oldest first."""
    rows = session.scalars(
        select(IndexArtifact).where(IndexArtifact.model == model).order_by(IndexArtifact.version.desc())
    ).all()
    return list(reversed(rows[keep:]))


def delete_versions(session: Session, versions: list[int]) -> None:
    if versions:
        session.execute(delete(IndexArtifact).where(IndexArtifact.version.in_(versions)))


def latest_per_model(session: Session) -> list[tuple[str, int, int, int]]:
    """(model, version, vectors, size_bytes) of the newest version of every model."""
    rows = session.execute(
        select(
            IndexArtifact.model, IndexArtifact.version, IndexArtifact.vectors, IndexArtifact.size_bytes
        ).order_by(IndexArtifact.model, IndexArtifact.version.desc())
    ).all()
    seen: dict[str, tuple[str, int, int, int]] = {}
    for model, version, vectors, size in rows:
        seen.setdefault(model, (model, int(version), int(vectors), int(size)))
    return list(seen.values())


def newer_than(session: Session, model: str, version: int) -> list[IndexArtifact]:
    """Published versions of `model` newer than `version`, newest first (without their bytes)."""
    return list(
        session.scalars(
            select(IndexArtifact)
            .where(IndexArtifact.model == model, IndexArtifact.version > version)
            .order_by(IndexArtifact.version.desc())
        )
    )
