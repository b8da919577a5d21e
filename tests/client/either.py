"""Run one test body against the sync and the async client alike."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any

from chaos.client import AsyncToxiproxy, Toxiproxy


async def settle(value: Any) -> Any:
    """Await `value` if it is awaitable (an async client's result), else return it."""
    return await value if inspect.isawaitable(value) else value


class Api:
    """Wraps either client so that every method is awaited: `await api.get_proxy("x")`."""

    def __init__(self, client: Toxiproxy | AsyncToxiproxy) -> None:
        self.client = client

    @property
    def is_async(self) -> bool:
        return isinstance(self.client, AsyncToxiproxy)

    def __getattr__(self, name: str) -> Callable[..., Awaitable[Any]]:
        method = getattr(self.client, name)

        async def call(*args: Any, **kwargs: Any) -> Any:
            return await settle(method(*args, **kwargs))

        return call
