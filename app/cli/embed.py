"""Commands of the embedding stage: `embed` (+ `export`, `import`), `index rebuild|status` and `search`."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from app.cli.common import fail, progress_bar, session_factory, settings, unit_of_work
from app.db import session_scope

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from app.config import Settings
    from app.embed.encoder import Encoder, SentenceTransformerEncoder
    from app.embed.faiss_index import VectorIndex


def register(root: typer.Typer) -> None:
    embed_app = typer.Typer(
        help="Compute paper vectors (runs with no sub-command), or move them between machines.",
        invoke_without_command=True,
    )
    embed_app.callback(invoke_without_command=True)(embed)
    embed_app.command("export")(export)
    embed_app.command("import")(import_vectors)
    root.add_typer(embed_app, name="embed")

    index_app = typer.Typer(help="The vector index used by search and similar papers.", no_args_is_help=True)
    index_app.command("rebuild")(rebuild)
    index_app.command("status")(status)
    root.add_typer(index_app, name="index")

    root.command("search")(search)


def _encoder(cfg: Settings, device: str | None = None) -> SentenceTransformerEncoder:
    from app.embed.encoder import SentenceTransformerEncoder

    return SentenceTransformerEncoder.from_settings(cfg, device=device)


def _update_index(cfg: Settings, factory: sessionmaker[Session], model_name: str) -> str:
    from app.embed.fulltext import refresh_search_vectors
    from app.embed.index import IndexReport, ensure_index

    report = IndexReport(action="loaded")
    with session_scope(factory) as session:
        filled = refresh_search_vectors(session)
        index = ensure_index(
            session, cfg.index_dir, model_name, exact_threshold=cfg.index_exact_threshold, report=report
        )
        published = _publish(cfg, session, index)
    keywords = f"; {filled} paper(s) added to the keyword index" if filled else ""
    if report.action == "rebuilt":
        return f"index rebuilt: {index.ntotal} vectors ({index.kind}; {report.reason}){keywords}; {published}"
    return f"index: {index.ntotal} vectors (+{report.added}, -{report.removed}){keywords}; {published}"


def _publish(cfg: Settings, session: Session, index: VectorIndex) -> str:
    """Publish the saved index for the web processes; old versions' files go after the commit."""
    from app.embed.index import index_path
    from app.embed.index_artifacts import PublishOptions, publish_index, remove_files

    published = publish_index(
        session,
        index,
        index_path(cfg.index_dir, index.model_name),
        PublishOptions.from_settings(cfg),
        datetime.now(UTC),
    )
    session.commit()
    remove_files(published.remove_after_commit)
    return published.summary()


def embed(
    ctx: typer.Context,
    device: Annotated[str, typer.Option("--device", help="cpu or cuda (default: EMBEDDING_DEVICE).")] = "",
    batch_size: Annotated[
        int | None,
        typer.Option("--batch-size", min=1, help="Texts per batch (default: EMBEDDING_BATCH_SIZE)."),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Count what would be embedded; load no model.")
    ] = False,
    no_index: Annotated[bool, typer.Option("--no-index", help="Do not update the vector index.")] = False,
) -> None:
    """Embed every paper that has no vector yet or whose text changed, then update the vector index."""
    if ctx.invoked_subcommand is not None:
        return
    from app.embed.encoder import EncoderError
    from app.embed.service import EmbedError, count_pending, embed_pending

    cfg = settings()
    if device and device not in {"cpu", "cuda"} and not device.startswith("cuda:"):
        fail(f"--device must be cpu or cuda, not {device!r}")
    encoder = _encoder(cfg, device or None)
    size = batch_size or cfg.embedding_batch_size
    factory = session_factory(cfg)
    with unit_of_work(cfg, dry_run=True) as session:
        pending = count_pending(session, encoder.model_name)
    if dry_run:
        typer.echo(
            f"dry run: {pending} paper(s) would be embedded with {encoder.model_name}; nothing written"
        )
        return
    started = time.perf_counter()
    encoded = new = replaced = 0
    # One transaction per chunk: an interrupted backfill keeps everything already embedded.
    chunk = max(1024, size * 16)
    try:
        with progress_bar(f"embedding ({encoder.model_name}, {encoder.device})", pending) as advance:
            while True:
                with session_scope(factory) as session:
                    report = embed_pending(session, encoder, batch_size=size, progress=advance, limit=chunk)
                encoded, new, replaced = (
                    encoded + report.encoded,
                    new + report.new,
                    replaced + report.replaced,
                )
                if report.encoded < chunk:
                    break
    except (EncoderError, EmbedError) as exc:
        fail(f"embed: {exc}" + (f" ({encoded} papers embedded and kept before the error)" if encoded else ""))
    seconds = time.perf_counter() - started
    rate = f", {encoded / seconds:.1f} texts/s" if encoded else ""
    typer.echo(
        f"embedded {encoded} paper(s) with {encoder.model_name} ({new} new, {replaced} changed text) "
        f"in {seconds:.1f}s{rate}"
    )
    if not no_index:
        typer.echo(_update_index(cfg, factory, encoder.model_name))


def export(
    out: Annotated[Path, typer.Option("--out", help="Vectors file to write (.npy).")],
    ids: Annotated[Path, typer.Option("--ids", help="Ids file to write, one public id per row.")],
    model: Annotated[str, typer.Option("--model", help="Model name (default: the configured model).")] = "",
    dtype: Annotated[
        str, typer.Option("--dtype", help="float32 (exact) or float16 (half the size).")
    ] = "float32",
) -> None:
    """Write every stored vector of a model to FILE.npy + ids file (+ FILE.npy.json with model and dim)."""
    from app.embed.service import TransferError, export_vectors

    cfg = settings()
    model_name = model or _encoder(cfg).model_name
    started = time.perf_counter()
    try:
        with unit_of_work(cfg, dry_run=True) as session:
            report = export_vectors(session, model_name, out, ids, dtype=dtype)
    except (TransferError, OSError) as exc:
        fail(f"export: {exc}")
    typer.echo(
        f"exported {report.count} vector(s) of {report.model} ({report.dim}-d, {dtype}) to {out} and {ids} "
        f"in {time.perf_counter() - started:.1f}s"
    )


def import_vectors(
    file: Annotated[Path, typer.Argument(help="Vectors file (.npy, float16 or float32, one row per id).")],
    ids: Annotated[Path, typer.Option("--ids", help="Ids file: arXiv ids or source:source_id, one per row.")],
    model: Annotated[
        str, typer.Option("--model", help="Model that made the vectors (default: configured).")
    ] = "",
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check the files and count matches only.")
    ] = False,
    no_index: Annotated[bool, typer.Option("--no-index", help="Do not update the vector index.")] = False,
) -> None:
    """Load vectors computed elsewhere; refuses a file of another model or dimension."""
    from app.embed.service import TransferError
    from app.embed.service import import_vectors as do_import

    cfg = settings()
    encoder = _encoder(cfg)
    model_name = model or encoder.model_name
    expected_dim = encoder.dim if model_name == encoder.model_name else None
    started = time.perf_counter()
    try:
        with unit_of_work(cfg, dry_run=dry_run) as session:
            report = do_import(session, file, ids, model_name=model_name, expected_dim=expected_dim)
    except (TransferError, OSError) as exc:
        fail(f"import: {exc}")
    prefix = "dry run: would have " if dry_run else ""
    typer.echo(f"{prefix}{report.summary()} in {time.perf_counter() - started:.1f}s")
    if not dry_run and not no_index and report.imported:
        typer.echo(_update_index(cfg, session_factory(cfg), model_name))


def rebuild(
    model: Annotated[str, typer.Option("--model", help="Model name (default: the configured model).")] = "",
) -> None:
    """Rebuild the vector index from the database (exact or IVF-SQ8 by size) and save it atomically.

    Also fills the keyword-search vectors still missing (PostgreSQL: papers new or edited since
    the last index step).
    """
    from app.embed.fulltext import refresh_search_vectors
    from app.embed.index import index_path, rebuild_index

    cfg = settings()
    model_name = model or _encoder(cfg).model_name
    started = time.perf_counter()
    with unit_of_work(cfg) as session:
        filled = refresh_search_vectors(session)
    typer.echo(f"keyword index: {filled} paper(s) added in {time.perf_counter() - started:.1f}s")
    started = time.perf_counter()
    with unit_of_work(cfg, dry_run=True) as session:
        index = rebuild_index(session, cfg.index_dir, model_name, exact_threshold=cfg.index_exact_threshold)
    with unit_of_work(cfg) as session:
        typer.echo(_publish(cfg, session, index))
    tuning = (
        f", nprobe {index.nprobe}, recall@10 {index.info.recall_at_10:.3f}" if index.kind != "exact" else ""
    )
    typer.echo(
        f"index rebuilt: {index.ntotal} vectors of {model_name} ({index.kind}{tuning}) "
        f"in {time.perf_counter() - started:.1f}s -> {index_path(cfg.index_dir, model_name)}"
    )


def status(
    model: Annotated[str, typer.Option("--model", help="Model name (default: the configured model).")] = "",
) -> None:
    """Show the saved index and how far it is behind the database."""
    from app.embed import index_queries, queries
    from app.embed.index import IndexFormatError, VectorIndex, index_path

    cfg = settings()
    model_name = model or _encoder(cfg).model_name
    path = index_path(cfg.index_dir, model_name)
    with unit_of_work(cfg, dry_run=True) as session:
        stored = queries.count_embeddings(session, model_name)
        newest = queries.max_embedding_id(session, model_name)
        published = index_queries.latest(session, model_name)
        if published is None:
            shown = "no version yet (web processes use their own index file)"
        else:
            folder = cfg.published_index_dir
            where = f"file {folder / published.location}" if published.location else "database"
            shown = (
                f"version {published.version}, {published.vectors} vector(s), "
                f"{published.size_bytes} bytes, in the {where}, sha256 {published.checksum[:12]}"
            )
    typer.echo(f"database: {stored} vector(s) of {model_name}")
    typer.echo(f"published: {shown}")
    if not path.exists():
        typer.echo(f"index: none at {path} (built by `papertrend embed` or `papertrend index rebuild`)")
        return
    try:
        header = VectorIndex.read_header(path)
    except (IndexFormatError, OSError) as exc:
        typer.echo(
            f"index: unusable ({exc}); the next `papertrend embed` or pipeline run rebuilds it, "
            "or run `papertrend index rebuild` now"
        )
        return
    behind = (
        "up to date" if header.get("watermark", 0) >= newest else "behind: new vectors since it was saved"
    )
    typer.echo(
        f"index: {header['ntotal']} vector(s), {header['kind']}, {header['dim']}-d, "
        f"nprobe {header.get('nprobe') or '-'}, {behind} ({path})"
    )


def _parse_day(value: str, flag: str) -> date | None:
    if not value:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        fail(f"{flag} must be a date like 2026-01-31, not {value!r}")


def _search_state(cfg: Settings, factory: sessionmaker[Session]) -> tuple[Encoder | None, VectorIndex | None]:
    """The encoder and an up-to-date index, or (None, None) for keyword search when there are none."""
    from app.embed.encoder import EncoderError
    from app.embed.index import ensure_index

    encoder = _encoder(cfg)
    with session_scope(factory) as session:
        index = ensure_index(
            session, cfg.index_dir, encoder.model_name, exact_threshold=cfg.index_exact_threshold
        )
    if index.ntotal == 0:
        typer.echo("no vectors yet (run `papertrend embed`): searching by keywords only", err=True)
        return None, None
    try:
        encoder.load()
    except EncoderError as exc:
        typer.echo(f"model unavailable ({exc}): searching by keywords only", err=True)
        return None, None
    return encoder, index


def search(
    query: Annotated[
        str, typer.Argument(help='Words, "a quoted phrase", or an arXiv id; empty: recent papers.')
    ],
    topic: Annotated[str, typer.Option("--topic", help="Only papers of this topic (its slug).")] = "",
    date_from: Annotated[str, typer.Option("--from", help="Earliest date, YYYY-MM-DD.")] = "",
    date_to: Annotated[str, typer.Option("--to", help="Latest date, YYYY-MM-DD.")] = "",
    category: Annotated[str, typer.Option("--category", help="arXiv category such as cs.LG, or cs.")] = "",
    limit: Annotated[int, typer.Option("--limit", min=1, max=100, help="Results to show.")] = 10,
    keyword_only: Annotated[bool, typer.Option("--keyword-only", help="Words only; loads no model.")] = False,
) -> None:
    """Search papers by meaning and by words (hybrid), with optional filters."""
    from sqlalchemy import select

    from app.embed.search import hybrid_search
    from app.models import Paper, Topic

    cfg = settings()
    first, last = _parse_day(date_from, "--from"), _parse_day(date_to, "--to")
    factory = session_factory(cfg)
    encoder, index = (None, None) if keyword_only else _search_state(cfg, factory)
    started = time.perf_counter()
    with unit_of_work(cfg, dry_run=True) as session:
        topic_id = None
        if topic:
            topic_id = session.scalar(select(Topic.id).where(Topic.slug == topic))
            if topic_id is None:
                fail(f"no topic with slug {topic!r} (see `papertrend topics list`)")
        try:
            result = hybrid_search(
                session,
                query,
                encoder=encoder,
                index=index,
                topic_id=topic_id,
                date_from=first,
                date_to=last,
                category=category or None,
                limit=limit,
            )
        except ValueError as exc:
            fail(f"search: {exc}")
        elapsed = (time.perf_counter() - started) * 1000
        papers = {
            p.id: p
            for p in session.scalars(select(Paper).where(Paper.id.in_([h.paper_id for h in result.hits])))
        }
        for rank, hit in enumerate(result.hits, start=1):
            paper = papers.get(hit.paper_id)
            if paper is None:
                continue
            day = paper.sort_date.isoformat() if paper.sort_date else "          "
            title = " ".join(paper.title.split())
            typer.echo(f"{rank:>3}. {hit.score:5.3f}  {paper.public_id:<20} {day}  {title[:90]}")
    typer.echo(f"{len(result.hits)} of {result.total} result(s), {result.mode} search, {elapsed:.0f} ms")
