"""Benchmark the proxy against a direct connection; prints figures, asserts nothing.

    .venv/bin/python bench/proxy_bench.py [--runs 3] [--pings 20000] [--gib 1.0] [--url URL]
                                          [--http-only]

Starts `chaos-proxy` as its own process (like toxiproxy-server) and an echo/sink server as
another, then measures on loopback:
  1. added round-trip latency, p50/p99, of 64-byte ping-pong (proxied minus direct);
  2. throughput in MB/s of a one-way transfer (default 1 GiB), direct and proxied;
  3. the error of a 20 ms downstream latency toxic, p50/p99 (proxied RTT - direct RTT - 20 ms),
     idle and again while a child process keeps one core busy (a loop bounded to 60 s);
  4. the cost of the HTTP toxics: added latency per request of a keep-alive HTTP/1.1 request
     stream through the proxy with no toxic (the TCP path), then with an http_error toxic that
     matches no request, then one whose percentage is 0 (every request parsed and judged), and
     the ratio of each to the TCP path's added latency (target: at most 2x); a noop toxic is
     measured too, for reference: what any toxic on a link costs, HTTP or not.
Each run starts a fresh proxy server; the summary gives each figure's min / median / max over
the runs, and the load average before and after (the figures mean little on a busy machine).
With --url, benchmarks an already running Toxiproxy-compatible server (a real Toxiproxy too;
it has no HTTP toxics, so row 4 shows only the TCP path).
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

SERVER = r"""
import socket, sys, threading
REPLY = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
def handle(c):
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    mode = c.recv(1, socket.MSG_PEEK)
    if mode not in (b"e", b"s"):  # HTTP/1.1 keep-alive: GETs without bodies, one reply each
        buf = b""
        while True:
            while b"\r\n\r\n" not in buf:
                if not (d := c.recv(65536)):
                    return c.close()
                buf += d
            _, _, buf = buf.partition(b"\r\n\r\n")
            c.sendall(REPLY)
    mode = c.recv(1)
    if mode == b"e":  # echo
        while d := c.recv(65536):
            c.sendall(d)
    else:  # sink: read the announced byte count, then report what arrived
        want = int(c.recv(20, socket.MSG_WAITALL))
        n = 0
        buf = bytearray(1 << 20)
        while n < want and (k := c.recv_into(buf)):
            n += k
        c.sendall(str(n).encode())
    c.close()
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0)); s.listen(64)
print(s.getsockname()[1], flush=True)
while True:
    c, _ = s.accept()
    threading.Thread(target=handle, args=(c,), daemon=True).start()
"""


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p / 100))]


def connect(port: int, mode: bytes) -> socket.socket:
    s = socket.create_connection(("127.0.0.1", port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s.sendall(mode)
    return s


def pingpong(port: int, count: int) -> list[float]:
    """Round-trip times in µs of `count` 64-byte ping-pongs on one connection."""
    s = connect(port, b"e")
    payload = b"x" * 64
    rtts = []
    for i in range(count + 200):
        t = time.perf_counter_ns()
        s.sendall(payload)
        got = 0
        while got < 64:
            got += len(s.recv(64 - got))
        if i >= 200:  # warm-up excluded
            rtts.append((time.perf_counter_ns() - t) / 1000)
    s.close()
    return rtts


HTTP_REQUEST = b"GET /bench HTTP/1.1\r\nHost: bench\r\nUser-Agent: proxy_bench\r\n\r\n"
HTTP_REPLY_SIZE = len(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")


def http_requests(port: int, count: int) -> list[float]:
    """Round-trip times in µs of `count` GETs, one after another on one keep-alive connection."""
    s = socket.create_connection(("127.0.0.1", port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    rtts = []
    for i in range(count + 200):
        t = time.perf_counter_ns()
        s.sendall(HTTP_REQUEST)
        got = 0
        while got < HTTP_REPLY_SIZE:
            chunk = s.recv(HTTP_REPLY_SIZE - got)
            if not chunk:
                raise SystemExit("the HTTP upstream closed the connection")
            got += len(chunk)
        if i >= 200:  # warm-up excluded
            rtts.append((time.perf_counter_ns() - t) / 1000)
    s.close()
    return rtts


def http_row(
    api: httpx.Client, upstream_port: int, proxy_port: int, count: int
) -> dict[str, float]:
    """Added latency per request with no toxic, then with http toxics that act on nothing.

    The variants take turns in rounds (one batch each per round), so a load that comes and
    goes on a shared machine weighs on all of them alike.
    """
    variants: dict[str, tuple[str, dict[str, object]] | None] = {
        "TCP path (no toxic)": None,
        "noop TCP toxic, downstream": ("noop", {}),
        "http_error matching no request": ("http_error", {"path": "/never"}),
        "http_error at percentage 0": ("http_error", {"percentage": 0}),
    }
    rounds = 10
    batch = max(100, count // rounds)
    samples: dict[str, list[float]] = {"direct": [], **{label: [] for label in variants}}
    for _ in range(rounds):
        samples["direct"] += http_requests(upstream_port, batch)
        for label, toxic in variants.items():
            if toxic is not None:
                body = {"type": toxic[0], "name": "bench_http", "attributes": toxic[1]}
                r = api.post("/proxies/bench/toxics", json=body)
                if r.status_code != 200:
                    print(f"HTTP toxics not supported by this server ({r.text.strip()})")
                    return {}
            samples[label] += http_requests(proxy_port, batch)
            if toxic is not None:
                api.delete("/proxies/bench/toxics/bench_http").raise_for_status()
    d50, d99 = pct(samples["direct"], 50), pct(samples["direct"], 99)
    print(f"HTTP keep-alive GET x{rounds * batch}: direct p50 {d50:.1f} µs p99 {d99:.1f} µs")
    added = {label: (pct(v, 50) - d50, pct(v, 99) - d99) for label, v in samples.items()}
    tcp, noop, nomatch, zero = variants
    t50, t99 = added[tcp]
    print(f"  {tcp}: ADDED p50 {t50:.1f} µs p99 {t99:.1f} µs")
    figures = {
        "http direct p50 µs": d50,
        "http direct p99 µs": d99,
        "http TCP path added p50 µs": t50,
        "http TCP path added p99 µs": t99,
    }
    # A reference, not a goal: what any toxic on a link costs (a task's turn per chunk).
    for label, key in ((noop, "noop (reference)"), (nomatch, "no match"), (zero, "percentage 0")):
        a50, a99 = added[label]
        r50 = a50 / t50 if t50 > 0 else float("nan")
        r99 = a99 / t99 if t99 > 0 else float("nan")  # noise can push a p99 below direct's
        print(
            f"  {label}: ADDED p50 {a50:.1f} µs p99 {a99:.1f} µs = "
            f"{r50:.2f}x / {r99:.2f}x the TCP path's"
        )
        name = key if key.startswith("noop") else f"http_error {key}"
        figures[f"{name}: x TCP path, p50"] = r50
        figures[f"{name}: x TCP path, p99"] = r99
    return figures


def transfer(port: int, nbytes: int) -> float:
    """MB/s of a one-way transfer of `nbytes` (the sink confirms the count)."""
    # A Toxiproxy closes both sides on a half-close, so the size is announced up front.
    s = connect(port, b"s")
    s.sendall(b"%020d" % nbytes)
    block = b"\0" * (1 << 20)
    t = time.perf_counter()
    sent = 0
    while sent < nbytes:
        n = min(len(block), nbytes - sent)
        s.sendall(block[:n] if n < len(block) else block)
        sent += n
    reply = s.recv(64)
    elapsed = time.perf_counter() - t
    s.close()
    if int(reply) != nbytes:
        raise SystemExit(f"sink received {reply!r} bytes, expected {nbytes}")
    return nbytes / elapsed / 1e6


def start_proxy_server() -> tuple[subprocess.Popen[bytes], str]:
    ready = Path(tempfile.mkdtemp()) / "url"
    proc = subprocess.Popen(
        [sys.executable, "-m", "chaos.proxy.cli", "-port", "0", "-ready-file", str(ready)],
        env={**os.environ, "LOG_LEVEL": "WARNING"},
    )
    deadline = time.monotonic() + 20
    while not ready.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise SystemExit("chaos-proxy did not start")
        time.sleep(0.05)
    return proc, ready.read_text().strip()


BUSY = r"""
import sys, time
end = time.monotonic() + float(sys.argv[1])
n = 0
while time.monotonic() < end:  # bounded in time: the other core busy, then gone
    n += 1
"""


def latency_error(
    api: httpx.Client, proxy_port: int, direct_median: float, n: int, busy_s: float = 0.0
) -> tuple[float, float]:
    """Error p50/p99 in ms of a 20 ms downstream latency toxic; with `busy_s`, a core is busy."""
    api.post(
        "/proxies/bench/toxics",
        json={"type": "latency", "stream": "downstream", "attributes": {"latency": 20}},
    ).raise_for_status()
    busy = subprocess.Popen([sys.executable, "-c", BUSY, str(busy_s)]) if busy_s else None
    try:
        delayed = pingpong(proxy_port, n)
    finally:
        if busy is not None:
            busy.kill()
            busy.wait(10)
        api.delete("/proxies/bench/toxics/latency_downstream").raise_for_status()
    errors = [(r - 20_000 - direct_median) / 1000 for r in delayed]
    e50, e99 = pct(errors, 50), pct(errors, 99)
    label = "with a core busy" if busy_s else "idle"
    print(f"latency toxic 20 ms x{n} ({label}): error p50 {e50:+.2f} ms p99 {e99:+.2f} ms")
    return e50, e99


def one_run(args: argparse.Namespace, upstream_port: int) -> dict[str, float]:
    """Every figure of one run, against a fresh server (or the one at --url)."""
    proxy_proc = None
    try:
        if args.url:
            url = args.url
        else:
            proxy_proc, url = start_proxy_server()
        api = httpx.Client(base_url=url, timeout=10)
        api.delete("/proxies/bench")
        r = api.post(
            "/proxies",
            json={
                "name": "bench",
                "listen": "127.0.0.1:0",
                "upstream": f"127.0.0.1:{upstream_port}",
            },
        )
        r.raise_for_status()
        proxy_port = int(r.json()["listen"].rsplit(":", 1)[1])
        print(f"server {url}  upstream :{upstream_port}  proxy :{proxy_port}")
        figures: dict[str, float] = {}
        if args.http_only:
            figures |= http_row(api, upstream_port, proxy_port, max(1000, args.pings // 4))
            api.delete("/proxies/bench")
            return figures

        direct = pingpong(upstream_port, args.pings)
        proxied = pingpong(proxy_port, args.pings)
        d50, d99 = pct(direct, 50), pct(direct, 99)
        p50, p99 = pct(proxied, 50), pct(proxied, 99)
        print(
            f"ping-pong 64 B x{args.pings}: direct p50 {d50:.1f} µs p99 {d99:.1f} µs; "
            f"proxied p50 {p50:.1f} µs p99 {p99:.1f} µs"
        )
        print(f"  ADDED latency: p50 {p50 - d50:.1f} µs  p99 {p99 - d99:.1f} µs")
        figures |= {
            "ping direct p50 µs": d50,
            "ping direct p99 µs": d99,
            "ping added p50 µs": p50 - d50,
            "ping added p99 µs": p99 - d99,
        }

        nbytes = int(args.gib * (1 << 30))
        mbps_direct = transfer(upstream_port, nbytes)
        mbps_proxy = transfer(proxy_port, nbytes)
        print(
            f"throughput {nbytes / 1e6:.0f} MB: direct {mbps_direct:.0f} MB/s, "
            f"proxied {mbps_proxy:.0f} MB/s"
        )
        figures |= {"throughput direct MB/s": mbps_direct, "throughput proxied MB/s": mbps_proxy}

        n = max(200, min(1000, args.pings // 20))
        median = statistics.median(direct)
        e50, e99 = latency_error(api, proxy_port, median, n)
        b50, b99 = latency_error(api, proxy_port, median, n, busy_s=60.0)
        figures |= {
            "latency 20 ms error p50 ms": e50,
            "latency 20 ms error p99 ms": e99,
            "latency 20 ms error p50 ms, core busy": b50,
            "latency 20 ms error p99 ms, core busy": b99,
        }
        figures |= http_row(api, upstream_port, proxy_port, max(1000, args.pings // 4))
        api.delete("/proxies/bench")
        return figures
    finally:
        if proxy_proc is not None:
            proxy_proc.terminate()
            proxy_proc.wait(10)


def spread(runs: list[dict[str, float]]) -> None:
    """Each figure's min / median / max over the runs."""
    print(f"\nover {len(runs)} runs: min / median / max")
    for key in runs[0]:
        # A ratio is n/a (nan) in a run whose TCP path's p99 fell below the direct one's.
        values = sorted(v for r in runs if key in r and (v := r[key]) == v)
        missing = sum(1 for r in runs if key in r) - len(values)
        fmt = ".2f" if "ms" in key or "x TCP" in key else ".1f" if "µs" in key else ".0f"
        shown = (
            f"{values[0]:{fmt}} / {statistics.median(values):{fmt}} / {values[-1]:{fmt}}"
            if values
            else "n/a"
        )
        print(f"  {key:<44} {shown}" + (f"  ({missing} run(s) n/a)" if missing else ""))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pings", type=int, default=20000)
    ap.add_argument("--gib", type=float, default=1.0)
    ap.add_argument("--runs", type=int, default=3, help="runs, each with a fresh proxy server")
    ap.add_argument("--url", help="use a running server instead of starting chaos-proxy")
    ap.add_argument("--http-only", action="store_true", help="only row 4, the HTTP toxics")
    args = ap.parse_args()

    echo = subprocess.Popen([sys.executable, "-c", SERVER], stdout=subprocess.PIPE)
    try:
        assert echo.stdout is not None
        upstream_port = int(echo.stdout.readline())
        print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        runs = []
        for i in range(args.runs):
            print(f"\n== run {i + 1} of {args.runs}")
            runs.append(one_run(args, upstream_port))
        print(f"\nload average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        spread(runs)
    finally:
        echo.kill()
        echo.wait()


if __name__ == "__main__":
    main()
