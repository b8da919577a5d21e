"""Typed reading of environment variables with errors that name the variable and the value."""

from collections.abc import Mapping
from urllib.parse import urlsplit


class SettingsError(ValueError):
    """An environment variable holds a value the service cannot use."""


class Env:
    """Read typed values from an environment mapping (``os.environ`` in production)."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._environ = environ

    def _raw(self, name: str) -> str | None:
        value = self._environ.get(name)
        if value is None or value.strip() == "":
            return None
        return value.strip()

    def text(self, name: str, default: str) -> str:
        """Return the variable as a non-empty string, or the default when unset."""
        raw = self._raw(name)
        return default if raw is None else raw

    def integer(self, name: str, default: int, *, min: int = 0, max: int = 2**31) -> int:
        """Return the variable as an integer within [min, max]."""
        raw = self._raw(name)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise SettingsError(
                f"{name}={raw!r} is not an integer; e.g. {name}={default}"
            ) from None
        if not min <= value <= max:
            raise SettingsError(f"{name}={value} is out of range; expected {min}..{max}")
        return value

    def number(self, name: str, default: float, *, min: float = 0.0, max: float = 1e9) -> float:
        """Return the variable as a float within [min, max]."""
        raw = self._raw(name)
        if raw is None:
            return default
        try:
            value = float(raw)
        except ValueError:
            raise SettingsError(f"{name}={raw!r} is not a number; e.g. {name}={default}") from None
        if not min <= value <= max or value != value:
            raise SettingsError(f"{name}={value} is out of range; expected {min}..{max}")
        return value

    def choice(self, name: str, default: str, choices: tuple[str, ...]) -> str:
        """Return the variable, which must be one of ``choices`` (case-insensitive)."""
        raw = self._raw(name)
        if raw is None:
            return default
        value = raw.lower()
        if value not in choices:
            raise SettingsError(f"{name}={raw!r} is not one of {', '.join(choices)}")
        return value

    def flag(self, name: str, default: bool) -> bool:
        """Return the variable as a boolean spelled on/off, true/false, 1/0 or yes/no."""
        raw = self._raw(name)
        if raw is None:
            return default
        value = raw.lower()
        if value in ("on", "true", "1", "yes"):
            return True
        if value in ("off", "false", "0", "no"):
            return False
        raise SettingsError(f"{name}={raw!r} is not a boolean; use on or off")

    def url(self, name: str, default: str, schemes: tuple[str, ...]) -> str:
        """Return the variable as a URL with one of ``schemes`` and a host."""
        value = self.text(name, default)
        parts = urlsplit(value)
        if parts.scheme not in schemes or not parts.hostname:
            raise SettingsError(
                f"{name}={value!r} is not a {'/'.join(schemes)} URL with a host; "
                f"e.g. {name}={default}"
            )
        return value.rstrip("/")

    def urls(self, name: str, default: str, schemes: tuple[str, ...]) -> tuple[str, ...]:
        """Return the variable as a comma-separated list of URLs, each checked as by ``url``."""
        raw = self.text(name, default)
        parts = tuple(part.strip() for part in raw.split(","))
        if not all(parts):
            raise SettingsError(
                f"{name}={raw!r} holds an empty URL; separate URLs with single commas, "
                f"e.g. {name}={default},{default}"
            )
        return tuple(Env({name: part}).url(name, default, schemes) for part in parts)
