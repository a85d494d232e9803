"""Commands of the topics stage: `papertrend topics build|assign|list|export|rename|merge|hide|pin|add`
(`papertrend trends` lives in `app.cli.trends` and is registered here)."""

from __future__ import annotations

import json
import os
import sys
import time
from contextlib import nullcontext
from pathlib import Path
from typing import Annotated, Any, TextIO

import typer
from rich.console import Console
from rich.table import Table

from app.cli.common import database_errors, fail, settings, unit_of_work
from app.config import Settings
from app.models._common import utcnow
from app.models.statuses import TopicStatus

topics_app = typer.Typer(help="Build, inspect, export and edit topics.", no_args_is_help=True)


def _model_name(cfg: Settings, override: str | None) -> str:
    if override:
        return override
    from app.embed.encoder import stable_model_name

    return stable_model_name(cfg.model_path)


def _console() -> Console:
    return Console(stderr=True)


@topics_app.command("build")
@database_errors()
def build(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Build and report, write nothing.")] = False,
    seed: Annotated[int | None, typer.Option("--seed", help="Clustering seed (default: TOPIC_SEED).")] = None,
    model: Annotated[str | None, typer.Option("--model", help="Embedding model name of the vectors.")] = None,
) -> None:
    """Rebuild topics from every embedded paper, keep their ids, then refresh the trends."""
    # One BLAS thread (read when numpy loads, below): the build's matrix products are small (papers x
    # a few dozen centroids), and OpenBLAS's second thread spins between them, taking the core the
    # build's Python code needs; the k-means step ran twice as fast without it on 2 shared cores.
    # The products give the same numbers either way. A value in the environment wins.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    from app.browse.trends import configured_trend_params
    from app.topics.service import OperatorError, TopicsError, build_topics, compute_trends

    cfg = settings()
    console = _console()
    try:
        with unit_of_work(cfg, dry_run=dry_run) as session, console.status("building topics") as status:
            now = utcnow()
            report = build_topics(
                session,
                model_name=_model_name(cfg, model),
                seed=cfg.topic_seed if seed is None else seed,
                n_areas=cfg.topic_areas or None,
                max_techniques=cfg.topic_max_techniques or None,
                now=now,
                dry_run=dry_run,
                progress=lambda message: status.update(message),
            )
            trends = None
            if not dry_run:
                status.update("computing trends")
                trends = compute_trends(session, now=now, params=configured_trend_params(cfg))
    except (TopicsError, OperatorError) as exc:
        fail(str(exc))
    typer.echo(report.summary())
    if report.emerging:
        typer.echo(
            "new topics: " + ", ".join(report.emerging[:20]) + (" ..." if len(report.emerging) > 20 else "")
        )
    if report.relabeled:
        typer.echo("relabelled: " + "; ".join(report.relabeled))
    if trends is not None:
        typer.echo(trends.summary())


@topics_app.command("assign")
@database_errors()
def assign(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Place and report, write nothing.")] = False,
    model: Annotated[str | None, typer.Option("--model", help="Embedding model name of the vectors.")] = None,
) -> None:
    """Place papers embedded since the last rebuild in the existing topics."""
    from app.topics.service import assign_new_papers

    cfg = settings()
    with unit_of_work(cfg, dry_run=dry_run) as session:
        report = assign_new_papers(session, model_name=_model_name(cfg, model), now=utcnow())
    typer.echo(report.summary() + (" [dry run: nothing written]" if dry_run else ""))


@topics_app.command("list")
@database_errors()
def list_topics(
    all_topics: Annotated[
        bool, typer.Option("--all", help="Include hidden, dormant and merged topics.")
    ] = False,
    kind: Annotated[
        str | None, typer.Option("--kind", help="Only `area`, `subtopic` or `technique` topics.")
    ] = None,
    sort: Annotated[str, typer.Option("--sort", help="id, size, momentum or label.")] = "size",
) -> None:
    """Topics as a table: id, label, kind, size, momentum, trend and status."""
    from app.topics import queries

    if kind not in {None, "area", "subtopic", "technique"}:
        fail(f"--kind must be area, subtopic or technique (got {kind!r})")
    keys: dict[str, Any] = {
        "id": lambda t: t.id,
        "size": lambda t: (-t.size, t.id),
        "momentum": lambda t: (-(t.momentum or 0.0), t.id),
        "label": lambda t: (t.label.casefold(), t.id),
    }
    if sort not in keys:
        fail(f"--sort must be one of {', '.join(keys)} (got {sort!r})")
    with unit_of_work(dry_run=True) as session:
        topics = queries.all_topics(session)
        session.expunge_all()  # read-only: keep the loaded values after the session ends
    shown = [
        t
        for t in topics
        if (all_topics or (not t.hidden and t.status not in {TopicStatus.DORMANT, TopicStatus.MERGED}))
        and (kind is None or t.kind == kind)
    ]
    shown.sort(key=lambda t: (not t.pinned, keys[sort](t)))
    if not shown:
        typer.echo("no topics yet: run `papertrend topics build`" if not topics else "no topic matches")
        return
    table = Table(show_lines=False)
    for column, justify in (("id", "right"), ("label", "left"), ("kind", "left"), ("size", "right")):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    table.add_column("momentum", justify="right")
    table.add_column("trend")
    table.add_column("status")
    for t in shown:
        flags = [t.status] + [name for name in ("pinned", "hidden", "manual") if getattr(t, name)]
        if t.label_locked and not t.manual:
            flags.append("renamed")
        if t.merged_into_id:
            flags.append(f"-> {t.merged_into_id}")
        table.add_row(
            str(t.id),
            t.label,
            t.kind,
            str(t.size),
            f"{t.momentum or 0.0:+.2f}",
            t.trend_state,
            " ".join(flags),
        )
    Console(width=max(100, Console().width)).print(table)
    typer.echo(
        f"{len(shown)} topics" + ("" if all_topics else f" ({len(topics) - len(shown)} more with --all)")
    )


def export_lines(session: Any) -> Any:
    """One JSON object per paper: {"paper", "title", "topics": [{"id", "slug", "label", "kind", "parent",
    "parent_id", "score"}]}; `parent` is the slug of a subtopic's area (null for areas and techniques)."""
    from app.topics import queries

    slugs = {t.id: t.slug for t in queries.all_topics(session)}
    for paper, topics in queries.iter_paper_topics(session):
        yield json.dumps(
            {
                "paper": paper.public_id,
                "title": paper.title,
                "topics": [
                    {
                        "id": t.id,
                        "slug": t.slug,
                        "label": t.label,
                        "kind": t.kind,
                        "parent": slugs.get(t.parent_id) if t.parent_id else None,
                        "parent_id": t.parent_id,
                        "score": round(score, 4),
                    }
                    for t, score in topics
                ],
            },
            ensure_ascii=False,
        )


@topics_app.command("export")
@database_errors()
def export(
    fmt: Annotated[str, typer.Option("--format", help="Only `jsonl`: one JSON object per paper.")] = "jsonl",
    out: Annotated[
        Path | None, typer.Option("--out", help="File to write (default: standard output).")
    ] = None,
) -> None:
    """Every paper with its topics (a subtopic with its area as `parent`), one JSON line per paper."""
    if fmt != "jsonl":
        fail(f"unknown export format {fmt!r}; the only format is jsonl")
    started = time.perf_counter()
    count = 0
    target = out.with_name(out.name + ".tmp") if out else None
    try:
        stream: Any = target.open("w", encoding="utf-8") if target else nullcontext(sys.stdout)
    except OSError as exc:
        fail(f"cannot write {out}: {exc.strerror}")
    try:
        with stream as handle, unit_of_work(dry_run=True) as session:
            writer: TextIO = handle
            for line in export_lines(session):
                writer.write(line + "\n")
                count += 1
        if out and target:
            target.replace(out)  # a reader never sees half a file
    finally:
        if target is not None:
            target.unlink(missing_ok=True)
    print(f"exported {count} papers in {time.perf_counter() - started:.1f}s", file=sys.stderr)


@topics_app.command("rename")
@database_errors()
def rename(
    topic_id: Annotated[int, typer.Argument(help="Topic id.")],
    label: Annotated[str, typer.Argument(help="New label (kept by every rebuild).")] = "",
    unlock: Annotated[bool, typer.Option("--unlock", help="Let rebuilds name the topic again.")] = False,
) -> None:
    """Rename a topic; rebuilds keep the new label (and the slug, so links keep working)."""
    from app.topics.service import rename_topic

    if not label and not unlock:
        fail("give the new label, or --unlock")
    topic = _edit(lambda s: rename_topic(s, topic_id, label, unlock=unlock))
    typer.echo(f"topic {topic.id}: {topic.label!r}" + (" (label unlocked)" if unlock else " (locked)"))


@topics_app.command("merge")
@database_errors()
def merge(
    source: Annotated[int, typer.Argument(metavar="SRC", help="Topic that disappears into DST.")],
    target: Annotated[int, typer.Argument(metavar="DST", help="Topic that receives SRC's papers.")],
) -> None:
    """Merge topic SRC into DST: SRC's papers move to DST; rebuilds keep them together."""
    from app.topics.service import merge_topics

    topic = _edit(lambda s: merge_topics(s, source, target))
    typer.echo(f"topic {source} merged into topic {topic.id} {topic.label!r} ({topic.size} papers)")


@topics_app.command("hide")
@database_errors()
def hide(
    topic_id: Annotated[int, typer.Argument(help="Topic id.")],
    undo: Annotated[bool, typer.Option("--undo", help="Show the topic again.")] = False,
) -> None:
    """Hide a topic from the site, subscriptions and trending."""
    from app.topics.service import hide_topic

    topic = _edit(lambda s: hide_topic(s, topic_id, hidden=not undo))
    typer.echo(f"topic {topic.id} {topic.label!r} is {'hidden' if topic.hidden else 'shown'}")


@topics_app.command("pin")
@database_errors()
def pin(
    topic_id: Annotated[int, typer.Argument(help="Topic id.")],
    undo: Annotated[bool, typer.Option("--undo", help="Unpin.")] = False,
) -> None:
    """Pin a topic: listed first and kept even when a rebuild does not find it again."""
    from app.topics.service import pin_topic

    topic = _edit(lambda s: pin_topic(s, topic_id, pinned=not undo))
    typer.echo(f"topic {topic.id} {topic.label!r} is {'pinned' if topic.pinned else 'unpinned'}")


@topics_app.command("add")
@database_errors()
def add(
    label: Annotated[str, typer.Argument(help="The topic's name.")],
    keywords: Annotated[
        str, typer.Option("--keywords", help="Comma-separated; `word*` matches a prefix.")
    ] = "",
    kind: Annotated[str, typer.Option("--kind", help="area or technique.")] = "technique",
) -> None:
    """Add a topic by name and keywords: papers naming one in the title (or twice in the abstract) join."""
    from app.topics.manual import parse_keywords
    from app.topics.service import add_topic

    cfg = settings()
    words = parse_keywords(keywords)
    topic = _edit(
        lambda s: add_topic(s, label, words, now=utcnow(), kind=kind, model_name=_model_name(cfg, None))
    )
    typer.echo(f"added topic {topic.id} {topic.label!r} ({topic.slug}) with {topic.size} papers")


def _edit(action: Any) -> Any:
    from app.browse.cache import bump_generation
    from app.topics.service import OperatorError

    try:
        with unit_of_work() as session:
            result = action(session)
            bump_generation(session)  # the site's cached pages show the edit at once
            return result
    except OperatorError as exc:
        fail(str(exc))


def register(root: typer.Typer) -> None:
    """Add `topics ...` and `trends` to the root command."""
    from app.cli import trends

    root.add_typer(topics_app, name="topics")
    trends.register(root)
