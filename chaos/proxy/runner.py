"""Run the proxy server: the HTTP API and every proxy share one event loop.

`serve()` is the whole server as a coroutine (the `chaos-proxy` console script runs it in
the main thread); `EmbeddedServer` runs it on a background thread for unit tests.
Shutdown goes in stages: stop accepting API requests, let in-flight ones finish (bounded),
then stop every proxy, which closes every proxied connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import uvicorn

from chaos.proxy.address import bind, split_host_port
from chaos.proxy.timer import set_timer_slack

__all__ = ["EmbeddedServer", "ServerOptions", "new_event_loop", "serve"]

log = logging.getLogger(__name__)
T = TypeVar("T")

API_SHUTDOWN_TIMEOUT = 5.0
PROXY_SHUTDOWN_TIMEOUT = 5.0
# Toxiproxy's http.Server timeouts (contract 0.8). uvicorn can express only the idle one:
# - IdleTimeout 60 s: an idle keep-alive connection is closed -> `timeout_keep_alive`.
# - ReadTimeout 15 s (whole request, body included) and WriteTimeout 30 s (whole response):
#   uvicorn has no per-request read or write deadline. Our responses are small and the 25 s
#   handler limit (api._app.HANDLER_TIMEOUT, 503) bounds the slow part, so only a client that
#   trickles its request can hold a connection longer than Go would let it.
IDLE_TIMEOUT = 60


def new_event_loop() -> asyncio.AbstractEventLoop:
    """uvloop where installed (much faster sockets), else asyncio's default loop."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


@dataclass(frozen=True)
class ServerOptions:
    """What `toxiproxy-server`'s flags set."""

    host: str = "127.0.0.1"
    port: int = 8474
    config: Path | None = None
    seed: int | None = None
    proxy_metrics: bool = False
    runtime_metrics: bool = False

    def __post_init__(self) -> None:
        if not 0 <= self.port <= 65535:
            raise ValueError(f"port must be within 0..65535, got {self.port}")


class _Uvicorn(uvicorn.Server):
    """uvicorn without its own signal handling: the caller owns signals and shutdown."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def serve(
    options: ServerOptions,
    stop: asyncio.Event,
    ready: Callable[[str, Any], None] | None = None,
) -> None:
    """Serve until `stop` is set; `ready(url, proxy_server)` is called once listening."""
    from chaos.proxy.api import create_app
    from chaos.proxy.server import ProxyServer

    # The loop thread's epoll waits are not deferred by up to 50 µs to batch wake-ups.
    set_timer_slack(1)
    server = ProxyServer(seed=options.seed)
    sock, bound = bind(f"{options.host}:{options.port}")
    try:
        if options.config is not None:
            await server.populate_config(options.config)
        app = create_app(
            server, proxy_metrics=options.proxy_metrics, runtime_metrics=options.runtime_metrics
        )
        config = uvicorn.Config(
            app,
            lifespan="off",
            log_level="warning",
            access_log=False,
            server_header=False,
            timeout_graceful_shutdown=int(API_SHUTDOWN_TIMEOUT),
            timeout_keep_alive=IDLE_TIMEOUT,
        )
        api = _Uvicorn(config)
        host, port = split_host_port(bound)
        url = f"http://{host if ':' not in host else '[' + host + ']'}:{port}"
        serving = asyncio.get_running_loop().create_task(api.serve(sockets=[sock]))
        while not api.started and not serving.done():
            await asyncio.sleep(0.01)
        if serving.done():
            await serving  # raises why uvicorn could not start
        log.info("chaos-proxy API listening on %s", url)
        if ready is not None:
            ready(url, server)
        stopped = asyncio.get_running_loop().create_task(stop.wait())
        await asyncio.wait({serving, stopped}, return_when=asyncio.FIRST_COMPLETED)
        api.should_exit = True
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(serving, API_SHUTDOWN_TIMEOUT + 1)
        stopped.cancel()
    finally:
        try:
            await asyncio.wait_for(server.shutdown(), PROXY_SHUTDOWN_TIMEOUT)
        finally:
            sock.close()


class EmbeddedServer:
    """The proxy server on a background thread, with its own event loop; a context manager."""

    def __init__(self, options: ServerOptions | None = None, **kwargs: Any) -> None:
        self.options = options or ServerOptions(**{"port": 0, **kwargs})
        self.url = ""
        self.server: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None

    def start(self, timeout: float = 10.0) -> EmbeddedServer:
        if self._thread is not None:
            return self
        self._thread = threading.Thread(target=self._run, name="chaos-proxy", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            raise TimeoutError(f"embedded proxy server not ready after {timeout} s")
        if self._error is not None:
            self._thread.join(timeout)
            raise RuntimeError(f"embedded proxy server failed to start: {self._error}") from (
                self._error
            )
        return self

    def _run(self) -> None:
        loop = self._loop = new_event_loop()
        asyncio.set_event_loop(loop)
        self._stop = asyncio.Event()

        def ready(url: str, server: Any) -> None:
            self.url, self.server = url, server
            self._ready.set()

        try:
            loop.run_until_complete(serve(self.options, self._stop, ready))
        except BaseException as exc:
            self._error = exc
            log.debug("embedded proxy server died", exc_info=True)
        finally:
            self._ready.set()
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    def call(self, fn: Callable[[], Awaitable[T]], timeout: float = 10.0) -> T:
        """Run a coroutine function on the server's loop and return its result."""
        assert self._loop is not None, "server not started"

        async def run() -> T:
            return await fn()

        return asyncio.run_coroutine_threadsafe(run(), self._loop).result(timeout)

    def submit(self, coro: Coroutine[Any, Any, T], timeout: float = 10.0) -> T:
        assert self._loop is not None, "server not started"
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def stop(self, timeout: float = 15.0) -> None:
        """Stop the API and every proxy; idempotent."""
        thread, self._thread = self._thread, None
        if thread is None:
            return
        if self._loop is not None and self._stop is not None and not self._loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop may have just closed
                self._loop.call_soon_threadsafe(self._stop.set)
        thread.join(timeout)
        if thread.is_alive():
            raise TimeoutError(f"embedded proxy server did not stop within {timeout} s")

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    def __enter__(self) -> EmbeddedServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
