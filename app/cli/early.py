"""Commands of early trending: `papertrend trending-model train|status|show|score|activate`."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from app.cli.common import database_errors, fail, settings, unit_of_work
from app.early.errors import ModelError
from app.models._common import utcnow

model_app = typer.Typer(
    help="The early-trending model: which new papers will trend, with honest odds.", no_args_is_help=True
)


def _embedding_model() -> str:
    from app.embed.encoder import stable_model_name

    return stable_model_name(settings().model_path)


def _pct(value: Any) -> str:
    return "–" if value is None else f"{float(value):.3f}"


def _scores_line(name: str, scores: dict[str, Any] | None) -> str:
    if not scores:
        return f"  {name:<28} not measured"
    return (
        f"  {name:<28} AUC {_pct(scores.get('auc'))}  AP {_pct(scores.get('average_precision'))}  "
        f"p@10 {_pct(scores.get('precision_at_k'))}  Brier {_pct(scores.get('brier'))}  "
        f"({scores.get('n', 0)} papers, {scores.get('positives', 0)} listed)"
    )


@model_app.command("train")
@database_errors(ModelError)
def train_command(
    force: Annotated[
        bool, typer.Option("--force", help="Train even when too few new labels arrived since the last model.")
    ] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Train and report; store nothing.")] = False,
) -> None:
    """Train a model on the labels known before today, evaluate it on a holdout and store it."""
    from app.early.service import EarlyOptions, ensure_bundled, train, training_due

    cfg = settings()
    options = EarlyOptions.from_settings(cfg)
    today = utcnow().date()
    with unit_of_work(cfg, dry_run=dry_run) as session:
        ensure_bundled(session, options)
        due, why = training_due(session, options, today)
        if not due and not force:
            fail(f"not training: {why} (--force trains anyway)", code=2)
        report = train(
            session, options, _embedding_model(), today, progress=lambda m: typer.echo(m, err=True)
        )
        if not report.trained:
            fail(f"not trained: {report.reason}")
        typer.echo(report.summary() + (" [dry run: nothing stored]" if dry_run else ""))
        if report.model is not None:
            _print_evaluation(report.model.evaluation)


def _print_evaluation(evaluation: dict[str, Any]) -> None:
    if not evaluation:
        typer.echo("evaluation: none stored")
        return
    typer.echo(
        f"evaluation ({evaluation.get('method', '?')}, "
        f"{evaluation.get('test_from')} to {evaluation.get('test_to')}):"
    )
    typer.echo(_scores_line("model", evaluation.get("model")))
    for name, scores in (evaluation.get("baselines") or {}).items():
        typer.echo(_scores_line(f"baseline: {name}", scores))
    if evaluation.get("error"):
        typer.echo(f"  evaluation failed: {evaluation['error']}")


@model_app.command("status")
@database_errors(ModelError)
def status_command() -> None:
    """Which models serve which days, how many papers are scored, and whether retraining is due."""
    from app.early import queries
    from app.early.service import EarlyOptions, label_counts, training_due

    cfg = settings()
    options = EarlyOptions.from_settings(cfg)
    today = utcnow().date()
    with unit_of_work(cfg, dry_run=True) as session:
        models = queries.all_models(session)
        counts = queries.prediction_counts(session)
        labels = label_counts(session, options, today)
        due, why = training_due(session, options, today)
        spans = queries.spans(queries.serving_models(session, options.rule.key))
        serving = {span.model.id: span for span in spans}
        typer.echo(f"label: {options.rule.name}" + ("" if cfg.early_trending else " (EARLY_TRENDING is off)"))
        typer.echo(
            f"labels here: {labels.labelled} papers, {labels.positives} listed"
            + (f" (announced {labels.first_day} to {labels.last_day})" if labels.first_day else "")
        )
        typer.echo(f"retraining: {'due' if due else 'not due'} ({why})")
        if not models:
            typer.echo("no model stored yet: `papertrend pipeline` stores the bundled one and scores papers")
            return
        typer.echo("models:")
        for m in models:
            span = serving.get(m.id)
            serves = (
                f"serves {span.start}{' to ' + str(span.end) if span.end else ' on'}"
                if span
                else "not serving"
            )
            auc = (m.evaluation.get("model") or {}).get("auc")
            typer.echo(
                f"  {m.name:<28} {m.kind:<8} cutoff {m.cutoff}  {m.n_train} papers ({m.n_positive} listed)  "
                f"AUC {_pct(auc)}  {serves}  {counts.get(m.id, 0)} predictions"
                + (f"  [{m.note}]" if m.note else "")
            )


@model_app.command("show")
@database_errors(ModelError)
def show_command(
    name: Annotated[str | None, typer.Argument(help="Model name (default: the newest serving one).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="The whole stored document as JSON.")] = False,
) -> None:
    """A model's card: training window, inputs, evaluation against the baselines, strongest inputs."""
    from app.early import queries
    from app.early.model import TrendModel
    from app.early.service import EarlyOptions

    cfg = settings()
    with unit_of_work(cfg, dry_run=True) as session:
        if name:
            model = queries.model_by_name(session, name)
        else:
            serving = queries.serving_models(session, EarlyOptions.from_settings(cfg).rule.key)
            model = serving[-1] if serving else None
        if model is None:
            fail(f"no model {name!r}" if name else "no model serves yet: run `papertrend pipeline`")
        document = dict(model.document)
        if as_json:
            typer.echo(json.dumps({**document, "active": model.active, "note": model.note}, indent=1))
            return
        typer.echo(f"{model.name} ({model.kind}, {'serving' if model.active else 'not serving'})")
        typer.echo(f"label: {model.label}; cutoff {model.cutoff}: learned only labels known before it")
        typer.echo(
            f"trained on {model.n_train} papers ({model.n_positive} listed), "
            f"{model.train_from} to {model.train_to}"
        )
        typer.echo(f"source: {document.get('source', '')}")
        typer.echo(f"inputs: {', '.join(model.features)}")
        _print_evaluation(model.evaluation)
        fitted = TrendModel.from_dict(document["model"])
        ranked = sorted(zip(fitted.features, fitted.coef, strict=True), key=lambda kv: -abs(kv[1]))[:12]
        typer.echo("strongest named inputs (log-odds per standard deviation):")
        for feature, coef in ranked:
            typer.echo(f"  {feature:<32} {coef:+.3f}")


@model_app.command("score")
@database_errors(ModelError)
def score_command() -> None:
    """Score every paper that has no prediction from the model serving its day (the pipeline does this)."""
    from app.early.service import EarlyOptions, ensure_bundled, score

    cfg = settings()
    options = EarlyOptions.from_settings(cfg)
    with unit_of_work(cfg) as session:
        ensure_bundled(session, options)
        report = score(
            session, options, _embedding_model(), utcnow().date(), progress=lambda m: typer.echo(m, err=True)
        )
    typer.echo(report.summary())


@model_app.command("activate")
@database_errors(ModelError)
def activate_command(
    name: Annotated[str, typer.Argument(help="Model name.")],
    off: Annotated[bool, typer.Option("--off", help="Stop using the model instead.")] = False,
) -> None:
    """Use a stored model again (or stop using it with --off); affected papers are rescored next run."""
    from app.early import queries

    cfg = settings()
    with unit_of_work(cfg) as session:
        model = queries.model_by_name(session, name)
        if model is None:
            fail(f"no model {name!r} (see `papertrend trending-model status`)")
        model.active = not off
        model.note = "turned off by the operator" if off else None
    typer.echo(
        f"{name} {'no longer serves' if off else 'serves'}; run `papertrend trending-model score` to rescore"
    )


def register(root: typer.Typer) -> None:
    root.add_typer(model_app, name="trending-model")
