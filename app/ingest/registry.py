"""The live sources: one record each, and everything that is derived from them.

A `LiveSource` names a source and joins its parts:

* `client`: the `SourceClient` subclass in `sources/<name>.py` (built from the settings);
* `run`: the run in the same module, `run(session, client, job) -> IngestReport`;
* `parser`: the function in `parse/<name>.py` that maps one stored raw item to a record
  (re-parsing stored papers after a parser fix uses it);
* `schedule`: the name of the setting with its cron (UTC); sources that share a setting
  run in one scheduled job, in registry order;
* `command` and `help`: its `papertrend ingest <command>`.

Derived from `SOURCES`, and nowhere else:

* the names INGEST_SOURCES accepts (`check_settings`, called where the settings are loaded:
  the CLI and `create_app`) and the sources a scheduled or `ingest all` run visits (`enabled`);
* the runner `app.ingest.flows.run_source` picks (`get`);
* the CLI commands (`app.cli.ingest` adds one per source; a source without options of its
  own gets a plain command with `--dry-run`);
* the scheduler's ingest jobs (`scheduled_ingest`: `ingest_<x>` for the setting `schedule_<x>`);
* the parser `app.ingest.reparse` uses for each stored raw item (`parser_for`);
* the sources `papertrend ingest status` lists (`status_keys`).

The order of `SOURCES` is the order a full run visits them: RSS first (today's
announcements), then the API, the OAI-PMH harvest and Hugging Face.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from app.config import ConfigError, Settings
from app.ingest.parse.arxiv_api import record_from_api_entry
from app.ingest.parse.arxiv_oai import record_from_oai
from app.ingest.parse.arxiv_rss import record_from_rss_item
from app.ingest.parse.files import record_from_row
from app.ingest.parse.hf_daily import record_from_hf_item
from app.ingest.records import PaperRecord
from app.ingest.report import IngestReport
from app.ingest.sources import arxiv_api, arxiv_oai, arxiv_rss, hf_daily
from app.ingest.sources.base import SourceRun
from app.ingest.sources.http import SourceClient

Runner = Callable[[Session, Any, SourceRun], IngestReport]
Parser = Callable[[Any], PaperRecord]


@dataclass(frozen=True)
class LiveSource:
    """One live source (see the module docstring for what is derived from it)."""

    name: str  # stored with its papers (`papers.raw`), its state and its runs (`ingest:<name>`)
    client: type[SourceClient]
    run: Runner
    parser: Parser
    schedule: str  # the Settings field with its cron, e.g. "schedule_arxiv"
    command: str  # `papertrend ingest <command>`
    help: str  # that command's help, first line
    extra_states: tuple[str, ...] = ()  # other `source_state` keys it keeps (a backfill cursor)

    @property
    def job_name(self) -> str:
        """Its scheduled job: `ingest_<x>` for the setting `schedule_<x>`."""
        return "ingest_" + self.schedule.removeprefix("schedule_")


SOURCES: dict[str, LiveSource] = {
    source.name: source
    for source in (
        LiveSource(
            name="arxiv_rss",
            client=arxiv_rss.ArxivRssClient,
            run=arxiv_rss.run,
            parser=record_from_rss_item,
            schedule="schedule_arxiv",
            command="rss",
            help="arXiv RSS: today's announcements (new, cross-lists, replacements). Empty on weekends.",
        ),
        LiveSource(
            name="arxiv_api",
            client=arxiv_api.ArxivApiClient,
            run=arxiv_api.run,
            parser=record_from_api_entry,
            schedule="schedule_arxiv",
            command="arxiv",
            help="arXiv API: the categories' papers submitted or updated since the last run.",
        ),
        LiveSource(
            name="arxiv_oai",
            client=arxiv_oai.ArxivOaiClient,
            run=arxiv_oai.run,
            parser=record_from_oai,
            schedule="schedule_oai",
            command="oai",
            help="arXiv OAI-PMH: every record of the set changed since the last harvest.",
            extra_states=(arxiv_oai.BACKFILL_STATE,),
        ),
        LiveSource(
            name="hf_daily",
            client=hf_daily.HfDailyClient,
            run=hf_daily.run,
            parser=record_from_hf_item,
            schedule="schedule_hf",
            command="hf",
            help="Hugging Face Daily Papers: upvotes, comments, code links; recent days are refreshed.",
        ),
    )
}


def names() -> list[str]:
    return list(SOURCES)


def get(name: str) -> LiveSource:
    """The source called `name`; ValueError naming the known ones otherwise."""
    try:
        return SOURCES[name]
    except KeyError:
        raise ValueError(f"unknown source {name!r}; known: {', '.join(SOURCES)}") from None


def check_settings(settings: Settings) -> None:
    """Refuse INGEST_SOURCES naming a source that does not exist (one line, like every setting).

    `app.config` cannot know the sources (it sits below everything), so whoever loads the
    settings for a process calls this: the CLI and `create_app`.
    """
    unknown = [name for name in settings.ingest_sources.split() if name not in SOURCES]
    if unknown:
        raise ConfigError(
            f"invalid configuration: INGEST_SOURCES: unknown source {unknown[0]!r}; "
            f"known: {', '.join(SOURCES)} (got {settings.ingest_sources!r})"
        )


def enabled(settings: Settings) -> list[LiveSource]:
    """The sources INGEST_SOURCES enables, in the order it names them."""
    check_settings(settings)
    return [SOURCES[name] for name in settings.ingest_sources.split()]


def scheduled_ingest(settings: Settings) -> dict[str, tuple[str, list[str]]]:
    """Scheduled ingest job name → (cron, the sources it runs in order), one job per schedule setting.

    Every registered source has its job; a job runs only the sources that are enabled when it fires.
    """
    jobs: dict[str, tuple[str, list[str]]] = {}
    for source in SOURCES.values():
        cron = str(getattr(settings, source.schedule))
        jobs.setdefault(source.job_name, (cron, []))[1].append(source.name)
    return jobs


def parser_for(source: str) -> Parser:
    """The parser of a stored raw item: the live source's, else a file's (any other name was a file)."""
    if source in SOURCES:
        return SOURCES[source].parser
    return lambda raw: record_from_row(raw, source=source)


def is_live(source: str) -> bool:
    return source in SOURCES


def status_keys() -> list[str]:
    """Every `source_state` key the live sources keep, for `papertrend ingest status`."""
    return [key for source in SOURCES.values() for key in (source.name, *source.extra_states)]
