"""Run one test body against the sync and the async client alike."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

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


class Script:
    """A MockTransport that answers with the given responses in order and records requests."""

    def __init__(self, *replies: httpx.Response | Exception) -> None:
        self.replies = list(replies)
        self.requests: list[httpx.Request] = []
        self.transport = httpx.MockTransport(self._handle)

    def _handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        reply = self.replies.pop(0)
        if isinstance(reply, Exception):
            raise reply
        return reply
