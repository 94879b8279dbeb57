"""One Settings object, built from TAKEDOWN_* environment variables at start-up and passed down.

Nothing below the entry points reads the environment, so tests build Settings directly.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from takedown.core.decisions import webhook_targets
from takedown.core.errors import InvalidInput

DEFAULT_DATA_DIR = Path("takedown-data")


@dataclass(frozen=True)
class Settings:
    data_dir: Path = DEFAULT_DATA_DIR
    database_url: str | None = None
    queue_url: str | None = None
    max_body_bytes: int = 32 * 1024 * 1024
    max_item_bytes: int = 16 * 1024 * 1024
    max_batch_items: int = 1000
    webhook_urls: tuple[str, ...] = field(default=(), repr=False)
    webhook_secret: str = field(default="", repr=False)
    webhook_max_attempts: int = 360
    webhook_backoff_seconds: float = 2.0
    webhook_max_backoff_seconds: float = 10.0
    worker_threads: int = 1
    # Added to each worker thread's nice value (services/priority.py); 0 leaves it as it is.
    worker_nice: int = 0
    # Threads of each process's native math pools (BLAS, OpenMP); 0: the libraries' defaults.
    native_threads: int = 1
    lease_seconds: float = 60.0
    policy_path: Path | None = None
    flood_per_hour: int = 100
    classifier: bool = True
    mastodon_url: str | None = None
    mastodon_token: str = field(default="", repr=False)
    mastodon_webhook_secret: str = field(default="", repr=False)
    mastodon_status_removal: str = "admin"
    exchange_sources: Path | None = None
    crisis_retro_hours: float = 24.0
    # The bank change feed is read on another process's push signal, and at least this often.
    bank_poll_seconds: float = 1.0
    hub_database_url: str | None = None
    hub_dispute_votes: int = 2
    hub_rate_per_minute: int = 600
    hub_redis_url: str | None = None
    audit_key_file: Path | None = None
    audit_checkpoint_seconds: float = 3600.0
    evidence_key_file: Path | None = None
    evidence_retention_days: int = 183
    sor_endpoint: str | None = None
    sor_token: str = field(default="", repr=False)
    worker_batch: int = 64
    batch_budget_seconds: float = 10.0
    max_text_chars: int = 100_000
    json_logs: bool = True
    rate_limit_per_second: float = 5000.0
    rate_limit_burst: int = 10000
    # Receivers that get only one tenant's (integrator's) items and accounts, as (tenant, url);
    # `webhook_urls` are the operator's receivers and get every tenant's.
    tenant_webhook_urls: tuple[tuple[str, str], ...] = field(default=(), repr=False)
    pdq_index_file: Path | None = None
    pdq_snapshot_seconds: float = 0.0

    def webhook_targets(self, tenant: str | None) -> tuple[str, ...]:
        """Where a decision about `tenant`'s item or account goes: the global receivers, then
        that tenant's own. Another tenant's receiver never hears of it."""
        return webhook_targets(self.webhook_urls, self.tenant_webhook_urls, tenant)

    @property
    def effective_pdq_index_file(self) -> Path:
        """The PDQ snapshot matchers start from (services/pdq_snapshot.py)."""
        return self.pdq_index_file or self.data_dir / "pdq-index.tdx"

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'takedown.db').resolve()}"

    @property
    def effective_hub_database_url(self) -> str:
        if self.hub_database_url:
            return self.hub_database_url
        return f"sqlite:///{(self.data_dir / 'hub.db').resolve()}"

    @property
    def effective_audit_key_file(self) -> Path:
        """The Ed25519 checkpoint key: a file, never a database row."""
        return self.audit_key_file or self.data_dir / "audit-ed25519.pem"

    @property
    def audit_log_file(self) -> Path:
        """The second copy of every signed checkpoint, beside the key."""
        return self.effective_audit_key_file.with_name("audit-checkpoints.jsonl")

    @property
    def effective_evidence_key_file(self) -> Path:
        return self.evidence_key_file or self.data_dir / "evidence.keys"

    def with_(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env

        def get_int(name: str, default: int) -> int:
            raw = env.get(name)
            if raw is None or raw == "":
                return default
            try:
                return int(raw)
            except ValueError:
                raise InvalidInput(f"{name} must be an integer, got {raw!r}") from None

        def get_float(name: str, default: float) -> float:
            raw = env.get(name)
            if raw is None or raw == "":
                return default
            try:
                return float(raw)
            except ValueError:
                raise InvalidInput(f"{name} must be a number, got {raw!r}") from None

        urls = tuple(
            u.strip() for u in env.get("TAKEDOWN_WEBHOOK_URLS", "").split(",") if u.strip()
        )
        policy = env.get("TAKEDOWN_POLICY")
        sources = env.get("TAKEDOWN_EXCHANGE_SOURCES")
        return cls(
            data_dir=Path(env.get("TAKEDOWN_DATA_DIR", str(DEFAULT_DATA_DIR))),
            database_url=env.get("TAKEDOWN_DATABASE_URL") or None,
            queue_url=env.get("TAKEDOWN_QUEUE_URL") or None,
            max_body_bytes=get_int("TAKEDOWN_MAX_BODY_BYTES", cls.max_body_bytes),
            max_item_bytes=get_int("TAKEDOWN_MAX_ITEM_BYTES", cls.max_item_bytes),
            max_batch_items=get_int("TAKEDOWN_MAX_BATCH_ITEMS", cls.max_batch_items),
            webhook_urls=urls,
            webhook_secret=env.get("TAKEDOWN_WEBHOOK_SECRET", ""),
            webhook_max_attempts=get_int("TAKEDOWN_WEBHOOK_MAX_ATTEMPTS", cls.webhook_max_attempts),
            webhook_backoff_seconds=get_float(
                "TAKEDOWN_WEBHOOK_BACKOFF_SECONDS", cls.webhook_backoff_seconds
            ),
            webhook_max_backoff_seconds=get_float(
                "TAKEDOWN_WEBHOOK_MAX_BACKOFF_SECONDS", cls.webhook_max_backoff_seconds
            ),
            worker_threads=get_int("TAKEDOWN_WORKER_THREADS", cls.worker_threads),
            worker_nice=get_int("TAKEDOWN_WORKER_NICE", cls.worker_nice),
            native_threads=get_int("TAKEDOWN_NATIVE_THREADS", cls.native_threads),
            lease_seconds=get_float("TAKEDOWN_LEASE_SECONDS", cls.lease_seconds),
            policy_path=Path(policy) if policy else None,
            flood_per_hour=get_int("TAKEDOWN_FLOOD_PER_HOUR", cls.flood_per_hour),
            classifier=env.get("TAKEDOWN_CLASSIFIER", "on").lower() not in ("off", "0", "false"),
            mastodon_url=env.get("TAKEDOWN_MASTODON_URL") or None,
            mastodon_token=env.get("TAKEDOWN_MASTODON_TOKEN", ""),
            mastodon_webhook_secret=env.get("TAKEDOWN_MASTODON_WEBHOOK_SECRET", ""),
            mastodon_status_removal=env.get("TAKEDOWN_MASTODON_STATUS_REMOVAL", "admin"),
            exchange_sources=Path(sources) if sources else None,
            crisis_retro_hours=get_float("TAKEDOWN_CRISIS_RETRO_HOURS", cls.crisis_retro_hours),
            bank_poll_seconds=get_float("TAKEDOWN_BANK_POLL_SECONDS", cls.bank_poll_seconds),
            hub_database_url=env.get("TAKEDOWN_HUB_DATABASE_URL") or None,
            hub_dispute_votes=get_int("TAKEDOWN_HUB_DISPUTE_VOTES", cls.hub_dispute_votes),
            hub_rate_per_minute=get_int("TAKEDOWN_HUB_RATE_PER_MINUTE", cls.hub_rate_per_minute),
            hub_redis_url=env.get("TAKEDOWN_HUB_REDIS_URL") or None,
            audit_key_file=_path(env.get("TAKEDOWN_AUDIT_KEY_FILE")),
            audit_checkpoint_seconds=get_float(
                "TAKEDOWN_AUDIT_CHECKPOINT_SECONDS", cls.audit_checkpoint_seconds
            ),
            evidence_key_file=_path(env.get("TAKEDOWN_EVIDENCE_KEY_FILE")),
            evidence_retention_days=get_int(
                "TAKEDOWN_EVIDENCE_RETENTION_DAYS", cls.evidence_retention_days
            ),
            sor_endpoint=env.get("TAKEDOWN_SOR_ENDPOINT") or None,
            sor_token=env.get("TAKEDOWN_SOR_TOKEN", ""),
            worker_batch=get_int("TAKEDOWN_WORKER_BATCH", cls.worker_batch),
            batch_budget_seconds=get_float(
                "TAKEDOWN_BATCH_BUDGET_SECONDS", cls.batch_budget_seconds
            ),
            max_text_chars=get_int("TAKEDOWN_MAX_TEXT_CHARS", cls.max_text_chars),
            json_logs=env.get("TAKEDOWN_JSON_LOGS", "on").lower() not in ("off", "0", "false"),
            rate_limit_per_second=get_float(
                "TAKEDOWN_RATE_LIMIT_PER_SECOND", cls.rate_limit_per_second
            ),
            rate_limit_burst=get_int("TAKEDOWN_RATE_LIMIT_BURST", cls.rate_limit_burst),
            tenant_webhook_urls=_tenant_urls(env.get("TAKEDOWN_TENANT_WEBHOOK_URLS", "")),
            pdq_index_file=_path(env.get("TAKEDOWN_PDQ_INDEX_FILE")),
            pdq_snapshot_seconds=get_float(
                "TAKEDOWN_PDQ_SNAPSHOT_SECONDS", cls.pdq_snapshot_seconds
            ),
        )


def _tenant_urls(raw: str) -> tuple[tuple[str, str], ...]:
    """`tenant=url,tenant=url`: a tenant may have several receivers, a receiver one tenant."""
    pairs: list[tuple[str, str]] = []
    for part in (p.strip() for p in raw.split(",")):
        if not part:
            continue
        tenant, sep, url = part.partition("=")
        if not sep or not tenant.strip() or "://" not in url:
            raise InvalidInput(
                f"TAKEDOWN_TENANT_WEBHOOK_URLS entry {part!r} is not TENANT=URL",
                hint="e.g. TAKEDOWN_TENANT_WEBHOOK_URLS=acme=https://acme.example/hook",
            )
        pairs.append((tenant.strip(), url.strip()))
    return tuple(pairs)


def _path(raw: str | None) -> Path | None:
    return Path(raw) if raw else None
