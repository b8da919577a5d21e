"""`chaos-sample`: bring the sample system up for a person to try; Ctrl-C stops everything."""

from __future__ import annotations

import argparse
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path

from chaos.placement import LocalPlacement
from chaos.runtime import HttpReady, ManagedProcess, PortAllocator
from chaos.runtime.rabbitmq import DEFAULT_RABBITMQ_SERVER, RabbitMQNode, RabbitMQNotInstalled
from chaos.stack import SampleStack

__all__ = ["main"]


def _follow(paths: list[Path], stop: threading.Event) -> None:
    """Print new lines of every log, prefixed with its file name, until `stop`."""
    offsets = dict.fromkeys(paths, 0)
    while not stop.wait(0.3):
        for path in paths:
            if not path.exists():
                continue
            with path.open("rb") as f:
                f.seek(offsets[path])
                for line in f:
                    print(f"{path.stem:>16} | {line.decode(errors='replace').rstrip()}")
                offsets[path] = f.tell()


def _terminate(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # SIGTERM stops everything the way Ctrl-C does


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="chaos-sample", description=__doc__)
    p.add_argument("--mode", choices=("sync", "async"), default="sync")
    p.add_argument("--logs", action="store_true", help="stream the services' logs")
    p.add_argument("--workdir", type=Path, help="where data and logs go (default: a temp dir)")
    p.add_argument("--rabbitmq-server", default=str(DEFAULT_RABBITMQ_SERVER))
    args = p.parse_args(argv)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="chaos-sample-"))
    allocator = PortAllocator()
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, _terminate)
    port = allocator.allocate()
    proxy_server = ManagedProcess(
        "chaos-proxy",
        [sys.executable, "-m", "chaos.proxy.cli", "-port", str(port)],
        log_path=workdir / "chaos-proxy.log",
        readiness=HttpReady(f"http://127.0.0.1:{port}/version"),
    )
    try:
        node = RabbitMQNode(workdir / "rabbitmq", server_path=args.rabbitmq_server)
    except RabbitMQNotInstalled as exc:
        print(f"chaos-sample: {exc}", file=sys.stderr)
        return 2
    began = time.monotonic()
    try:
        with node, proxy_server:
            print("starting RabbitMQ ...", flush=True)
            node.start()
            allocator.release(port)
            proxy_server.start()
            url = f"http://127.0.0.1:{port}"
            placement = LocalPlacement(workdir, allocator)
            with SampleStack(url, node.network_address, placement, mode=args.mode) as stack:
                print(f"\nsample system up in {time.monotonic() - began:.1f} s (mode {args.mode})")
                for service in stack.services:
                    print(f"  {service:<16} {stack.url(service)}")
                print(f"  {'rabbitmq':<16} {node.amqp_url}")
                print(f"\nproxy server {url} (any Toxiproxy client works); proxies:")
                for name, proxy in stack.proxies.items():
                    print(f"  {name:<24} {proxy.listen} -> {proxy.upstream}")
                print(
                    f"\ntry: curl -X POST {stack.url('gateway')}/reactions "
                    '-d \'{"post_id":"p1","user_id":"u1","kind":"like"}\''
                )
                print(f"logs and data: {workdir}\nCtrl-C stops everything.", flush=True)
                if args.logs:
                    logs = [workdir / f"{s}.log" for s in stack.services]
                    threading.Thread(target=_follow, args=(logs, stopping), daemon=True).start()
                while True:
                    time.sleep(3600)
    except KeyboardInterrupt:
        print("\nstopping ...", flush=True)
    finally:
        stopping.set()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
