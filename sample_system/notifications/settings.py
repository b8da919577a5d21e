"""notifications settings, read from the environment in one place."""

from collections.abc import Mapping
from dataclasses import dataclass, field

from sample_system.common.protections import Switches
from sample_system.common.settings import Env

PROTECTIONS = Switches("notifications", "NOTIFICATIONS_", ("timeouts",))


@dataclass(frozen=True)
class Settings:
    """notifications configuration; see the package docstring for the variables."""

    host: str = "127.0.0.1"
    port: int = 8002
    push_url: str = "http://127.0.0.1:8003"
    push_timeout_s: float = 2.0
    pool_size: int = 20
    pool_timeout_s: float = 1.0
    log_level: str = "INFO"
    protections: Mapping[str, bool] = field(default_factory=PROTECTIONS.defaults)

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> "Settings":
        """Parse the NOTIFICATIONS_* and PUSH_URL variables."""
        env = Env(environ)
        return cls(
            host=env.text("NOTIFICATIONS_HOST", cls.host),
            port=env.integer("NOTIFICATIONS_PORT", cls.port, max=65535),
            push_url=env.url("PUSH_URL", cls.push_url, ("http", "https")),
            push_timeout_s=env.number(
                "NOTIFICATIONS_PUSH_TIMEOUT_S", cls.push_timeout_s, min=0.001
            ),
            pool_size=env.integer("NOTIFICATIONS_POOL_SIZE", cls.pool_size, min=1, max=10_000),
            pool_timeout_s=env.number(
                "NOTIFICATIONS_POOL_TIMEOUT_S", cls.pool_timeout_s, min=0.001
            ),
            log_level=env.text("LOG_LEVEL", cls.log_level),
            protections=PROTECTIONS.parse(env),
        )
