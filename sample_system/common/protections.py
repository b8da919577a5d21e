"""On/off switches of a service's protections: all on unless an environment variable or an
admin call turns one off (experiments remove one protection to prove it is needed).

Each switch ``name`` of a service is read from ``<PREFIX><NAME>`` (on/off) at start-up and changed
at run time by ``PUT /admin/protections`` with ``{"name": bool, ...}``. A start-up-only switch
(one that cannot change on a live object, like a queue's durability) refuses a run-time change
with a 409 naming its variable.
"""

from collections.abc import Mapping
from dataclasses import dataclass

from sample_system.common.settings import Env


class ProtectionError(ValueError):
    """A switch update is unusable; ``status`` is the HTTP status to answer with."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Switches:
    """The protections of one service: their names, the variable prefix, the start-up-only ones."""

    service: str
    prefix: str
    names: tuple[str, ...]
    startup_only: frozenset[str] = frozenset()

    def env_var(self, name: str) -> str:
        """Return the variable that sets ``name`` at start-up, e.g. REACTIONS_CONFIRMS."""
        return self.prefix + name.upper()

    def defaults(self) -> dict[str, bool]:
        """Every protection on."""
        return dict.fromkeys(self.names, True)

    def parse(self, env: Env) -> dict[str, bool]:
        """Read every switch from the environment (default on)."""
        return {name: env.flag(self.env_var(name), True) for name in self.names}


class Protections:
    """The current state of one service's switches, shared by the threads that read them.

    Reads and writes of single dict items are atomic in CPython, so readers need no lock.
    """

    def __init__(self, switches: Switches, values: Mapping[str, bool] | None = None) -> None:
        self.switches = switches
        unknown = set(values or {}) - set(switches.names)
        if unknown:
            raise ValueError(
                f"unknown {switches.service} protections {sorted(unknown)}; "
                f"known: {', '.join(switches.names)}"
            )
        self._values = switches.defaults() | dict(values or {})

    def __getitem__(self, name: str) -> bool:
        return self._values[name]

    def switch(self, name: str, value: bool) -> None:
        """Set one run-time switch (the older admin endpoints, /admin/outbox and /admin/breaker)."""
        self.update({name: value})

    def as_dict(self) -> dict[str, bool]:
        """Return the JSON form used by ``GET /admin/protections``."""
        return dict(self._values)

    def update(self, body: object) -> set[str]:
        """Apply ``{"name": bool, ...}`` all or nothing; return the names whose value changed."""
        if not isinstance(body, dict):
            raise ProtectionError(f"body must be a JSON object of name: bool, got {body!r}")
        unknown = set(body) - set(self.switches.names)
        if unknown:
            raise ProtectionError(
                f"unknown protections {sorted(unknown)}; {self.switches.service} has: "
                f"{', '.join(self.switches.names)}"
            )
        for name, value in body.items():
            if not isinstance(value, bool):
                raise ProtectionError(f"protection {name!r} must be true or false, got {value!r}")
        changed = {name for name, value in body.items() if value != self._values[name]}
        frozen = sorted(changed & self.switches.startup_only)
        if frozen:
            hints = ", ".join(
                f"{self.switches.env_var(n)}={'on' if body[n] else 'off'}" for n in frozen
            )
            raise ProtectionError(
                f"{', '.join(frozen)}: start-up only; restart {self.switches.service} with {hints}",
                status=409,
            )
        for name in changed:
            self._values[name] = body[name]
        return changed
