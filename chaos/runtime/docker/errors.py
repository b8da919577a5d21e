"""Errors of the Docker backend; the SDK's own exceptions are translated at this boundary.

RuntimeError
└── DockerError            an engine call failed (message: what, the object, the engine's words)
    ├── DockerUnavailable  no engine answers (not installed, not started, no permission)
    └── ImageMissing       an image setting names an image the engine does not have
"""

from __future__ import annotations

__all__ = ["DockerError", "DockerUnavailable", "ImageMissing"]


class DockerError(RuntimeError):
    """A Docker engine call failed."""


class DockerUnavailable(DockerError):
    """No Docker engine answers."""


class ImageMissing(DockerError):
    """The engine has no image of that name (no registry is asked: builds are local)."""
