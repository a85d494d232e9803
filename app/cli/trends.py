"""`papertrend trends`: every live topic's state over the week, month and quarter, with the reason,
and the title phrases whose share of papers moved (topic or not).

Without --as-of the trends are recomputed from the latest data and stored (what the site shows);
with --as-of DATE they are computed from the papers announced up to DATE only, and nothing is written.
"""

from __future__ import annotations

import json
import sys
from datetime import date
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from app.cli.common import database_errors, fail, settings, unit_of_work
from app.models._common import utcnow

GROUPS = (
    ("Rising", ("emerging", "bursting", "rising")),
    ("Falling", ("falling",)),
    ("Steady", ("steady",)),
)
ARROWS = {"rising": "↑", "falling": "↓", "steady": "→", None: "·"}


def _parse_day(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        fail(f"--as-of must be a date like 2025-10-31 (got {text!r})")


def stored_view(session: Any) -> dict[str, Any]:
    """What the last trends run stored, in the shape of `TrendsView.as_dict()`."""
    from app.topics import queries
    from app.topics.trends import LIVE_STATUSES, STATE_ORDER

    topics = queries.all_topics(session)
    labels = {t.id: t.label for t in topics}
    live = [t for t in topics if not t.hidden and t.status in LIVE_STATUSES]
    rows = [
        {
            "id": t.id,
            "slug": t.slug,
            "label": t.label,
            "kind": t.kind,
            "parent": labels.get(t.parent_id) if t.parent_id else None,
            "state": t.trend_state or "steady",
            "momentum": round(t.momentum or 0.0, 3),
            "explanation": (t.trend or {}).get("explanation", ""),
            "deciding": (t.trend or {}).get("deciding"),
            "horizons": (t.trend or {}).get("horizons", {}),
        }
        for t in live
    ]
    rows.sort(
        key=lambda r: (
            STATE_ORDER.get(r["state"], 9),
            r["momentum"] if r["state"] == "falling" else -r["momentum"],
            r["label"].casefold(),
        )
    )
    as_of = next((t.trend.get("as_of") for t in live if t.trend and t.trend.get("as_of")), None)
    phrases = [
        {
            "label": p.label,
            "key": p.key,
            "state": p.state,
            "momentum": round(p.momentum, 3),
            "explanation": p.trend.get("explanation", ""),
            "deciding": p.trend.get("deciding"),
            "horizons": p.trend.get("horizons", {}),
        }
        for p in queries.stored_phrase_trends(session)
    ]
    return {
        "as_of": None,
        "reference_day": as_of,
        "papers": None,
        "states": {s: sum(1 for r in rows if r["state"] == s) for s in STATE_ORDER},
        "topics": rows,
        "phrases": phrases,
    }


def _cell(h: dict[str, Any] | None) -> str:
    """One horizon in a table cell: arrow, share now / before, ratio, papers now."""
    if not h:
        return ""
    if h.get("note") in {"history", "empty"}:
        return "· no history"
    ratio = h.get("ratio")
    shown = "new" if ratio is None else f"{ratio:.2f}×"
    now, before = 100 * h.get("share", 0.0), 100 * h.get("baseline_share", 0.0)
    few = " few" if h.get("note") == "few" else ""
    return f"{ARROWS.get(h.get('state'), '·')} {now:.2f}/{before:.2f} % {shown} n={h.get('count', 0)}{few}"


def print_table(view: dict[str, Any], limit: int) -> None:
    console = Console(width=max(150, Console().width))
    rows = view["topics"]
    for title, states in GROUPS:
        group = [r for r in rows if r["state"] in states]
        shown = group[:limit] if limit else group
        if not group:
            typer.echo(f"{title}: none")
            continue
        table = Table(title=f"{title} ({len(group)})", title_justify="left")
        for column in ("id", "label", "kind", "parent", "state", "week", "month", "quarter"):
            table.add_column(column, justify="right" if column == "id" else "left")
        for r in shown:
            h = r.get("horizons") or {}
            table.add_row(
                str(r["id"]),
                r["label"],
                r["kind"],
                r["parent"] or "",
                r["state"],
                _cell(h.get("week")),
                _cell(h.get("month")),
                _cell(h.get("quarter")),
            )
        console.print(table)
    phrases = view.get("phrases") or []
    if phrases:
        table = Table(title=f"Title phrases moving ({len(phrases)})", title_justify="left")
        for column in ("phrase", "state", "week", "month", "quarter"):
            table.add_column(column)
        for r in phrases[:limit] if limit else phrases:
            h = r.get("horizons") or {}
            table.add_row(
                r["label"], r["state"], _cell(h.get("week")), _cell(h.get("month")), _cell(h.get("quarter"))
            )
        console.print(table)
    moved = [r for r in rows if r["state"] != "steady" and r.get("explanation")]
    if moved or phrases:
        typer.echo("Why:")
        for _title, states in GROUPS[:2]:
            group = [r for r in moved if r["state"] in states]
            for r in group[:limit] if limit else group:
                typer.echo(f"  {r['label']} ({r['state']}): {r['explanation']}")
        for r in phrases[:limit] if limit else phrases:
            typer.echo(f'  "{r["label"]}" in titles ({r["state"]}): {r["explanation"]}')
    typer.echo(
        "cells: share of papers now / in the baseline, their ratio, papers now; "
        "week = last 7 days vs 8 weeks before, month = 4 weeks vs 12, quarter = 13 weeks vs 26"
    )


def trends(
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", metavar="DATE", help="Only papers announced up to DATE; writes nothing."),
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
    limit: Annotated[int, typer.Option("--limit", min=0, help="Topics per group (0: all).")] = 0,
    refresh: Annotated[
        bool, typer.Option("--refresh/--no-refresh", help="Recompute before printing (without --as-of).")
    ] = True,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Recompute but write nothing.")] = False,
) -> None:
    """Every live topic's trend over the week, month and quarter, the title phrases that moved, and why."""

    from app.browse.trends import configured_trend_params
    from app.topics.trends import refresh_trends, topic_trends

    if fmt not in {"table", "json"}:
        fail(f"--format must be table or json (got {fmt!r})")
    day = _parse_day(as_of)
    cfg = settings()
    params = configured_trend_params(cfg)
    now = utcnow()
    summary = ""
    with database_errors():
        if day is not None:
            with unit_of_work(cfg, dry_run=True) as session:
                view = topic_trends(session, as_of=day, today=now.date(), params=params).as_dict()
            if view["reference_day"] is None:
                summary = f"no papers announced up to {day}"
            else:
                papers, last = view["papers"], view["reference_day"]
                summary = f"trends as of {day} from {papers:,} papers announced up to {last}"
                if day > now.date():
                    summary += " (a date in the future: the latest data)"
        else:
            with unit_of_work(cfg, dry_run=dry_run) as session:
                if refresh:
                    report, fresh = refresh_trends(session, now=now, params=params, dry_run=dry_run)
                    summary, view = report.summary(), fresh.as_dict()
                else:
                    view = stored_view(session)
                    summary = f"stored trends as of {view['reference_day'] or 'never'} (not recomputed)"
    if fmt == "json":
        print(summary, file=sys.stderr)
        typer.echo(json.dumps(view, ensure_ascii=False, indent=1))
        return
    typer.echo(summary)
    if view["reference_day"] is None and day is not None:
        return  # nothing announced up to that day: the summary said so
    if not view["topics"]:
        typer.echo("no topics yet: run `papertrend topics build`")
        return
    print_table(view, limit)


def register(root: typer.Typer) -> None:
    root.command("trends")(trends)
