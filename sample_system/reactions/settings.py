"""reactions settings, read from the environment in one place."""

from collections.abc import Mapping
from dataclasses import dataclass, field

from sample_system.common.amqp import read_queue_type
from sample_system.common.protections import Switches
from sample_system.common.settings import Env

MODES = ("sync", "async")

PROTECTIONS = Switches(
    "reactions",
    "REACTIONS_",
    (
        "confirms",
        "persistent",
        "durable_queue",
        "outbox",
        "delete_after_confirm",
        "reconnect",
        "retry_backoff",
        "timeouts",
    ),
    startup_only=frozenset({"durable_queue"}),
)


@dataclass(frozen=True)
class Settings:
    """reactions configuration; see the package docstring for the variables."""

    host: str = "127.0.0.1"
    port: int = 8001
    db_path: str = "reactions.sqlite3"
    mode: str = "sync"
    notifications_url: str = "http://127.0.0.1:8002"
    notify_timeout_s: float = 2.0
    pool_size: int = 20
    pool_timeout_s: float = 1.0
    amqp_urls: tuple[str, ...] = ("amqp://guest:guest@127.0.0.1:5672/%2F",)
    queue: str = "notifications"
    queue_type: str = "classic"
    amqp_timeout_s: float = 1.0
    amqp_heartbeat_s: int = 10
    publish_queue_size: int = 1000
    publish_timeout_s: float = 3.0
    publish_attempts: int = 3
    publish_max_s: float = 2.0
    publish_backoff_s: float = 0.05
    publish_backoff_max_s: float = 0.5
    broker_cooldown_s: float = 1.0
    drain_backoff_s: float = 0.2
    drain_backoff_max_s: float = 5.0
    drain_poll_s: float = 1.0
    log_level: str = "INFO"
    protections: Mapping[str, bool] = field(default_factory=PROTECTIONS.defaults)

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> "Settings":
        """Parse the REACTIONS_*, NOTIFICATIONS_URL and AMQP_URL variables."""
        env = Env(environ)
        p = "REACTIONS_"
        protections = PROTECTIONS.parse(env)
        return cls(
            host=env.text(p + "HOST", cls.host),
            port=env.integer(p + "PORT", cls.port, max=65535),
            db_path=env.text(p + "DB_PATH", cls.db_path),
            mode=env.choice(p + "MODE", cls.mode, MODES),
            notifications_url=env.url(
                "NOTIFICATIONS_URL", cls.notifications_url, ("http", "https")
            ),
            notify_timeout_s=env.number(p + "NOTIFY_TIMEOUT_S", cls.notify_timeout_s, min=0.001),
            pool_size=env.integer(p + "POOL_SIZE", cls.pool_size, min=1, max=10_000),
            pool_timeout_s=env.number(p + "POOL_TIMEOUT_S", cls.pool_timeout_s, min=0.001),
            amqp_urls=env.urls("AMQP_URL", cls.amqp_urls[0], ("amqp", "amqps")),
            queue=env.text(p + "QUEUE", cls.queue),
            queue_type=read_queue_type(env, p, durable=protections["durable_queue"]),
            amqp_timeout_s=env.number(p + "AMQP_TIMEOUT_S", cls.amqp_timeout_s, min=0.01),
            amqp_heartbeat_s=env.integer(p + "AMQP_HEARTBEAT_S", cls.amqp_heartbeat_s, max=3600),
            publish_queue_size=env.integer(
                p + "PUBLISH_QUEUE_SIZE", cls.publish_queue_size, min=1, max=1_000_000
            ),
            publish_timeout_s=env.number(p + "PUBLISH_TIMEOUT_S", cls.publish_timeout_s, min=0.01),
            publish_attempts=env.integer(
                p + "PUBLISH_ATTEMPTS", cls.publish_attempts, min=1, max=100
            ),
            publish_max_s=env.number(p + "PUBLISH_MAX_S", cls.publish_max_s, min=0.0),
            publish_backoff_s=env.number(p + "PUBLISH_BACKOFF_S", cls.publish_backoff_s),
            publish_backoff_max_s=env.number(
                p + "PUBLISH_BACKOFF_MAX_S", cls.publish_backoff_max_s
            ),
            broker_cooldown_s=env.number(p + "BROKER_COOLDOWN_S", cls.broker_cooldown_s),
            drain_backoff_s=env.number(p + "DRAIN_BACKOFF_S", cls.drain_backoff_s, min=0.001),
            drain_backoff_max_s=env.number(
                p + "DRAIN_BACKOFF_MAX_S", cls.drain_backoff_max_s, min=0.001
            ),
            drain_poll_s=env.number(p + "DRAIN_POLL_S", cls.drain_poll_s, min=0.001),
            log_level=env.text("LOG_LEVEL", cls.log_level),
            protections=protections,
        )
