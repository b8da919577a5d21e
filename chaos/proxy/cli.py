"""`chaos-proxy`: the standalone proxy server, with toxiproxy-server's flags."""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import os
import signal
import sys
from pathlib import Path

from chaos import __version__
from chaos.proxy.runner import ServerOptions, new_event_loop, serve

__all__ = ["main", "parser"]


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="chaos-proxy",
        description="A Toxiproxy-compatible TCP fault proxy server (HTTP API on -host:-port).",
    )
    # Single-dash long flags as toxiproxy-server spells them; the double-dash forms work too.
    p.add_argument("-host", "--host", default="127.0.0.1", help="API host (default 127.0.0.1)")
    p.add_argument("-port", "--port", type=int, default=8474, help="API port (0: pick a free one)")
    p.add_argument("-config", "--config", type=Path, help="JSON file of proxies to create")
    p.add_argument("-seed", "--seed", type=int, help="seed for toxicity rolls and jitter")
    p.add_argument(
        "-proxy-metrics",
        "--proxy-metrics",
        action="store_true",
        help="serve per-proxy byte counters on /metrics",
    )
    p.add_argument(
        "-runtime-metrics",
        "--runtime-metrics",
        action="store_true",
        help="serve process metrics on /metrics",
    )
    p.add_argument(
        "-ready-file",
        "--ready-file",
        type=Path,
        help="write the API URL to this file once listening (for supervisors)",
    )
    p.add_argument("-version", "--version", action="version", version=__version__)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(
        level=os.environ.get("LOG_LEVEL", "INFO").upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if args.config is not None and not args.config.is_file():
        print(f"chaos-proxy: -config {args.config}: no such file", file=sys.stderr)
        return 2
    try:
        options = ServerOptions(
            host=args.host,
            port=args.port,
            config=args.config,
            seed=args.seed,
            proxy_metrics=args.proxy_metrics,
            runtime_metrics=args.runtime_metrics,
        )
    except ValueError as exc:
        print(f"chaos-proxy: {exc}", file=sys.stderr)
        return 2

    def ready(url: str, _server: object) -> None:
        # Everything loaded at start-up (the API, uvicorn, pydantic) is moved out of the
        # collector's reach: a full collection no longer walks it, and stalls live links.
        gc.freeze()
        print(f"chaos-proxy {__version__} API on {url}", flush=True)
        if args.ready_file is not None:
            tmp = args.ready_file.with_suffix(".tmp")
            tmp.write_text(url + "\n")
            tmp.replace(args.ready_file)  # atomic: a reader never sees half a URL

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await serve(options, stop, ready)

    with asyncio.Runner(loop_factory=new_event_loop) as runner:
        try:
            runner.run(run())
        except Exception as exc:
            message = getattr(exc, "message", None) or str(exc)
            print(f"chaos-proxy: cannot start: {message}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
