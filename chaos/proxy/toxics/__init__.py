"""Toxics, one module each; importing this package registers them all in `TOXICS`."""

# Each module registers itself on import.
from chaos.proxy.toxics import (  # noqa: F401
    bandwidth,
    http_error,
    http_latency,
    latency,
    limit_data,
    noop,
    reset_peer,
    slicer,
    slow_close,
    timeout,
)
from chaos.proxy.toxics._base import TOXICS, InvalidAttribute, Toxic, attribute, register

__all__ = ["TOXICS", "InvalidAttribute", "Toxic", "attribute", "register"]
