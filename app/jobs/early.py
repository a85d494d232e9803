"""The pipeline's early-trending step: train when enough new labels arrived, then score new papers.

Runs after the trends step (a paper's topic momentum is read from the day's counts). Training
and scoring are separate transactions: a failed training leaves the serving models scoring.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from app.browse.cache import bump_generation
from app.config import Settings
from app.db import session_scope
from app.early.service import EarlyOptions, ensure_bundled, score, train, training_due
from app.jobs.runs import StepResult, run_step

log = logging.getLogger("papertrend.jobs")


def step_early(
    settings: Settings, factory: sessionmaker[Session], model_name: str, now: datetime
) -> StepResult:
    def work(result: StepResult) -> None:
        if not settings.early_trending:
            result.summary = "off (EARLY_TRENDING=false)"
            return
        options = EarlyOptions.from_settings(settings)
        today = now.date()
        with session_scope(factory) as session:
            ensure_bundled(session, options)
            due, why = training_due(session, options, today)
        trained = "no retraining: " + why
        if due:
            with session_scope(factory) as session:
                report = train(session, options, model_name, today)
            trained = report.summary()
            result.stats["trained"] = report.model.name if report.model is not None else None
        with session_scope(factory) as session:
            scored = score(session, options, model_name, today)
            if scored.scored or scored.removed:
                bump_generation(session)  # cached pages show the new chances
        result.stats.update({"scored": scored.scored, "rescored": scored.rescored, "models": scored.models})
        result.summary = f"{scored.summary()}; {trained}"

    return run_step(factory, "pipeline:early", work)
