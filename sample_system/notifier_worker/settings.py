"""notifier-worker settings, read from the environment in one place."""

from collections.abc import Mapping
from dataclasses import dataclass, field

from sample_system.common.amqp import read_queue_type
from sample_system.common.protections import Switches
from sample_system.common.settings import Env

PROTECTIONS = Switches(
    "notifier_worker",
    "WORKER_",
    (
        "ack_after_push",
        "dedupe",
        "breaker",
        "retry_backoff",
        "requeue_transient",
        "reconnect",
        "timeouts",
        "durable_queue",
    ),
    startup_only=frozenset({"durable_queue"}),
)


@dataclass(frozen=True)
class Settings:
    """notifier-worker configuration; see the package docstring for the variables."""

    host: str = "127.0.0.1"
    port: int = 8004
    amqp_urls: tuple[str, ...] = ("amqp://guest:guest@127.0.0.1:5672/%2F",)
    queue: str = "notifications"
    queue_type: str = "classic"
    prefetch: int = 10
    amqp_timeout_s: float = 2.0
    amqp_heartbeat_s: int = 30
    reconnect_backoff_s: float = 0.5
    reconnect_backoff_max_s: float = 5.0
    push_url: str = "http://127.0.0.1:8003"
    push_timeout_s: float = 2.0
    pool_size: int = 2
    db_path: str = "worker.sqlite3"
    breaker_fail_max: int = 5
    breaker_reset_s: float = 5.0
    retry_attempts: int = 3
    retry_max_s: float = 5.0
    retry_backoff_s: float = 0.1
    retry_backoff_max_s: float = 2.0
    retry_jitter_s: float = 0.1
    open_pause_s: float = 1.0
    log_level: str = "INFO"
    protections: Mapping[str, bool] = field(default_factory=PROTECTIONS.defaults)

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> "Settings":
        """Parse the WORKER_*, AMQP_URL and PUSH_URL variables."""
        env = Env(environ)
        p = "WORKER_"
        protections = PROTECTIONS.parse(env)
        return cls(
            host=env.text(p + "HOST", cls.host),
            port=env.integer(p + "PORT", cls.port, max=65535),
            amqp_urls=env.urls("AMQP_URL", cls.amqp_urls[0], ("amqp", "amqps")),
            queue=env.text(p + "QUEUE", cls.queue),
            queue_type=read_queue_type(env, p, durable=protections["durable_queue"]),
            prefetch=env.integer(p + "PREFETCH", cls.prefetch, min=1, max=65535),
            amqp_timeout_s=env.number(p + "AMQP_TIMEOUT_S", cls.amqp_timeout_s, min=0.01),
            amqp_heartbeat_s=env.integer(p + "AMQP_HEARTBEAT_S", cls.amqp_heartbeat_s, max=3600),
            reconnect_backoff_s=env.number(
                p + "RECONNECT_BACKOFF_S", cls.reconnect_backoff_s, min=0.01
            ),
            reconnect_backoff_max_s=env.number(
                p + "RECONNECT_BACKOFF_MAX_S", cls.reconnect_backoff_max_s, min=0.01
            ),
            push_url=env.url("PUSH_URL", cls.push_url, ("http", "https")),
            push_timeout_s=env.number(p + "PUSH_TIMEOUT_S", cls.push_timeout_s, min=0.001),
            pool_size=env.integer(p + "POOL_SIZE", cls.pool_size, min=1, max=1000),
            db_path=env.text(p + "DB_PATH", cls.db_path),
            breaker_fail_max=env.integer(p + "BREAKER_FAIL_MAX", cls.breaker_fail_max, min=1),
            breaker_reset_s=env.number(p + "BREAKER_RESET_S", cls.breaker_reset_s),
            retry_attempts=env.integer(p + "RETRY_ATTEMPTS", cls.retry_attempts, min=1, max=100),
            retry_max_s=env.number(p + "RETRY_MAX_S", cls.retry_max_s),
            retry_backoff_s=env.number(p + "RETRY_BACKOFF_S", cls.retry_backoff_s),
            retry_backoff_max_s=env.number(p + "RETRY_BACKOFF_MAX_S", cls.retry_backoff_max_s),
            retry_jitter_s=env.number(p + "RETRY_JITTER_S", cls.retry_jitter_s),
            open_pause_s=env.number(p + "OPEN_PAUSE_S", cls.open_pause_s, min=0.01),
            log_level=env.text("LOG_LEVEL", cls.log_level),
            protections=protections,
        )
