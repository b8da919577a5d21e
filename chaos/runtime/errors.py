"""Errors of the runtime: a supervised service that fails to come up, a broker that misbehaves."""

from __future__ import annotations

from pathlib import Path

__all__ = ["RabbitMQError", "ServiceError", "ServiceExited", "ServiceNotReady"]


class ServiceError(RuntimeError):
    """A supervised service failed; the message carries the evidence needed to see why."""

    def __init__(
        self,
        summary: str,
        *,
        name: str,
        exit_code: int | None = None,
        last_error: str | None = None,
        log_path: Path | None = None,
        log_tail: str = "",
    ) -> None:
        self.name = name
        self.exit_code = exit_code
        self.last_error = last_error
        self.log_path = log_path
        self.log_tail = log_tail
        parts = [f"service {name!r}: {summary}"]
        if exit_code is not None:
            parts.append(f"exit code: {exit_code}")
        if last_error:
            parts.append(f"last readiness error: {last_error}")
        if log_path is not None:
            parts.append(f"log: {log_path}")
        if log_tail:
            parts.append("last log lines:\n" + log_tail)
        super().__init__("\n".join(parts))


class ServiceNotReady(ServiceError):
    """The service kept running but never passed its readiness check in time."""


class ServiceExited(ServiceError):
    """The service exited before it became ready."""


class RabbitMQError(RuntimeError):
    """A RabbitMQ broker misbehaved (a rabbitmqctl call, a connection or a broker signal failed)."""
