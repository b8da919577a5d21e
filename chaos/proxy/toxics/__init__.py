"""Toxics, one module each; importing this package registers them all in `TOXICS`."""

from chaos.proxy.toxics import noop  # noqa: F401  (registers itself)
from chaos.proxy.toxics._base import TOXICS, InvalidAttribute, Toxic, attribute, register

__all__ = ["TOXICS", "InvalidAttribute", "Toxic", "attribute", "register"]
