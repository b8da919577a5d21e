"""GET /metrics: Toxiproxy's proxy counters and the process's runtime metrics, for Prometheus."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import (
    CollectorRegistry,
    GCCollector,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector

from chaos.proxy.server import ProxyServer

__all__ = ["CONTENT_TYPE_LATEST", "ProxyCollector", "build_registry", "render"]

LABELS = ["direction", "listener", "proxy", "upstream"]
# (metric name, key in Proxy.totals(), help), named as Toxiproxy names them.
_COUNTERS = (
    ("toxiproxy_proxy_received_bytes_total", "received_bytes", "Bytes received by the proxy"),
    ("toxiproxy_proxy_sent_bytes_total", "sent_bytes", "Bytes sent by the proxy"),
    (
        "toxiproxy_proxy_received_packets_total",
        "received_chunks",
        "Chunks (socket reads) received by the proxy",
    ),
    (
        "toxiproxy_proxy_sent_packets_total",
        "sent_chunks",
        "Chunks (socket writes) sent by the proxy",
    ),
)


class ProxyCollector(Collector):
    """Reads every proxy's totals at scrape time (closed connections included)."""

    def __init__(self, server: ProxyServer) -> None:
        self.server = server

    def collect(self) -> Iterator[Metric]:
        proxies = self.server.sorted()
        totals = [(proxy, proxy.totals()) for proxy in proxies]
        for name, key, help_text in _COUNTERS:
            family = CounterMetricFamily(name, help_text, labels=LABELS)
            for proxy, values in totals:
                for direction in ("upstream", "downstream"):
                    family.add_metric(
                        [direction, proxy.listen, proxy.name, proxy.upstream],
                        values[f"{direction}.{key}"],
                    )
            yield family


def build_registry(
    server: ProxyServer, *, proxy_metrics: bool, runtime_metrics: bool
) -> CollectorRegistry | None:
    """A registry with what was asked for, or None when /metrics is not served at all."""
    if not (proxy_metrics or runtime_metrics):
        return None
    registry = CollectorRegistry(auto_describe=False)
    if proxy_metrics:
        registry.register(ProxyCollector(server))
    if runtime_metrics:
        ProcessCollector(registry=registry)
        PlatformCollector(registry=registry)
        GCCollector(registry=registry)
    return registry


def render(registry: CollectorRegistry) -> bytes:
    return generate_latest(registry)
