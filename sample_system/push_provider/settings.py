"""push-provider settings, read from the environment in one place."""

from collections.abc import Mapping
from dataclasses import dataclass

from sample_system.common.settings import Env


@dataclass(frozen=True)
class Settings:
    """push-provider configuration; see the package docstring for the variables."""

    host: str = "127.0.0.1"
    port: int = 8003
    seed: int = 0
    error_rate: float = 0.0
    delay_ms: int = 0
    error_status: int = 503
    log_level: str = "INFO"

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> "Settings":
        """Parse the PUSH_* variables."""
        env = Env(environ)
        return cls(
            host=env.text("PUSH_HOST", cls.host),
            port=env.integer("PUSH_PORT", cls.port, max=65535),
            seed=env.integer("PUSH_SEED", cls.seed, min=-(2**63), max=2**63),
            error_rate=env.number("PUSH_ERROR_RATE", cls.error_rate, max=1.0),
            delay_ms=env.integer("PUSH_DELAY_MS", cls.delay_ms, max=600_000),
            error_status=env.integer("PUSH_ERROR_STATUS", cls.error_status, min=400, max=599),
            log_level=env.text("LOG_LEVEL", cls.log_level),
        )
