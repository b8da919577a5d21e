"""gateway settings, read from the environment in one place."""

from collections.abc import Mapping
from dataclasses import dataclass, field

from sample_system.common.protections import Switches
from sample_system.common.settings import Env

PROTECTIONS = Switches("gateway", "GATEWAY_", ("breaker", "bounded_concurrency", "timeouts"))


@dataclass(frozen=True)
class Settings:
    """gateway configuration; see the package docstring for the variables."""

    host: str = "127.0.0.1"
    port: int = 8000
    reactions_url: str = "http://127.0.0.1:8001"
    timeout_s: float = 5.0
    pool_size: int = 10
    pool_timeout_s: float = 5.0
    max_concurrency: int = 20
    queue_timeout_ms: int = 1000
    breaker_fail_max: int = 5
    breaker_reset_s: float = 5.0
    log_level: str = "INFO"
    protections: Mapping[str, bool] = field(default_factory=PROTECTIONS.defaults)

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> "Settings":
        """Parse the GATEWAY_* and REACTIONS_URL variables."""
        env = Env(environ)
        p = "GATEWAY_"
        return cls(
            host=env.text(p + "HOST", cls.host),
            port=env.integer(p + "PORT", cls.port, max=65535),
            reactions_url=env.url("REACTIONS_URL", cls.reactions_url, ("http", "https")),
            timeout_s=env.number(p + "TIMEOUT_S", cls.timeout_s, min=0.001),
            pool_size=env.integer(p + "POOL_SIZE", cls.pool_size, min=1, max=10_000),
            pool_timeout_s=env.number(p + "POOL_TIMEOUT_S", cls.pool_timeout_s, min=0.001),
            max_concurrency=env.integer(p + "MAX_CONCURRENCY", cls.max_concurrency, min=1),
            queue_timeout_ms=env.integer(p + "QUEUE_TIMEOUT_MS", cls.queue_timeout_ms),
            breaker_fail_max=env.integer(p + "BREAKER_FAIL_MAX", cls.breaker_fail_max, min=1),
            breaker_reset_s=env.number(p + "BREAKER_RESET_S", cls.breaker_reset_s),
            log_level=env.text("LOG_LEVEL", cls.log_level),
            protections=PROTECTIONS.parse(env),
        )
