"""pytest-chaos: resilience chaos experiments as pytest tests, on your own system.

Everything an experiment needs is `chaos.X` (the plugin's fixtures supply the rest):

    import chaos

    PLAN = chaos.Plan(baseline=3, fault=4, recovery=3)

    def test_orders_survive_a_slow_db(experiment: chaos.Experiment, proxy, service):
        db = proxy("127.0.0.1:5432")
        web = service("web", [...], ready=chaos.HttpReady("http://127.0.0.1:8000/health"))
        orders = chaos.recording_target("POST", "http://127.0.0.1:8000/orders",
                                        json=lambda rid: {"id": rid})
        run = experiment(PLAN, {"orders": (orders, 20)}, fault=lambda: db.latency(300))
        chaos.assert_contained(run.phase("orders", "baseline"), run.phase("orders", "fault"))

Parts, each with its own namespace too: `chaos.experiment` (the instruments), `chaos.runtime`
(processes, brokers, ports, readiness), `chaos.client` (the Toxiproxy API client),
`chaos.proxy` (the proxy server), `chaos.report` (journal and HTML report),
`chaos.pytest_plugin` (fixtures, factories, settings). Names load on first use, so
`import chaos` stays cheap.

Exceptions:

    AssertionError
     ├── chaos.HypothesisFailed         a verdict failed (raised by the assert_* checks)
     │    ├── chaos.CascadeNotObserved  the fault did not spread as the hypothesis says
     │    ├── chaos.ContainmentBroken   the fault was not contained within the tolerance
     │    ├── chaos.NotRecovered        the system did not return to its steady state
     │    └── chaos.InsufficientData    too few settled requests to judge (inconclusive)
     └── chaos.LedgerViolation          accepted messages lost, or delivered twice
    TimeoutError
     └── chaos.SettleTimeout            `wait_until` (`settle_ledger`) gave up; `.last`: last seen
    RuntimeError
     ├── chaos.ServiceError             a supervised process or container misbehaved
     │    ├── chaos.ServiceExited       it exited (while starting, or when it should not)
     │    └── chaos.ServiceNotReady     it never became ready; the message has its log tail
     ├── chaos.RabbitMQError            a broker operation failed
     ├── chaos.NetnsUnavailable         no network namespaces here (not root, no ip/iptables)
     ├── chaos.PortExhausted            no free port in the allowed range
     └── chaos.ProbeError               a probe could not read its source
          └── chaos.MetricNotFound      (also a LookupError) no such sample in the metrics
    FileNotFoundError
     └── chaos.RabbitMQNotInstalled     no rabbitmq-server where the settings say
    Exception
     ├── chaos.RequestFailed            a load target's request failed; `.kind` says how
     ├── chaos.NotReady                 a readiness check found the service not ready yet
     └── chaos.client.ToxiproxyError    the proxy API (its own tree in `chaos.client`)
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPERIMENT = (
    "CascadeNotObserved",
    "ContainmentBroken",
    "DeliveryLag",
    "Experiment",
    "FakeClock",
    "Fault",
    "FaultEvent",
    "HintedProbe",
    "HttpTarget",
    "HypothesisFailed",
    "InsufficientData",
    "LedgerResult",
    "LedgerViolation",
    "MetricNotFound",
    "NotRecovered",
    "PhaseLag",
    "PhaseResult",
    "Plan",
    "Probe",
    "ProbeError",
    "ProbeHints",
    "ProxyHandle",
    "RateProfile",
    "RawHttpTarget",
    "RecordingTarget",
    "RequestFailed",
    "Run",
    "Sampler",
    "SettleTimeout",
    "Target",
    "Timeline",
    "Tolerance",
    "Verdict",
    "assert_cascade",
    "assert_contained",
    "assert_lag_recovered",
    "assert_recovered",
    "burst",
    "check_cascade",
    "check_contained",
    "check_lag_recovered",
    "check_ledger",
    "check_recovered",
    "delivery_lag",
    "fault",
    "http_metric",
    "http_target",
    "judge",
    "negative_control",
    "probe",
    "prometheus_value",
    "raw_http_target",
    "recording_target",
    "settle_ledger",
    "steps",
    "wait_until",
)
_RUNTIME = (
    "Broker",
    "BrokerCluster",
    "CallableReady",
    "HttpReady",
    "ManagedProcess",
    "NetnsUnavailable",
    "NodeView",
    "NotReady",
    "PortAllocator",
    "PortExhausted",
    "QueueConsumerReady",
    "RabbitMQCluster",
    "RabbitMQError",
    "RabbitMQNode",
    "RabbitMQNotInstalled",
    "Readiness",
    "ServiceError",
    "ServiceExited",
    "ServiceNotReady",
    "TcpReady",
    "allocate_port",
    "wait_for_port",
)
_PLUGIN = ("ChaosConfig", "get_config")

_HOMES = {
    **dict.fromkeys(_EXPERIMENT, "chaos.experiment"),
    **dict.fromkeys(_RUNTIME, "chaos.runtime"),
    **dict.fromkeys(_PLUGIN, "chaos.pytest_plugin"),
}

__all__ = sorted(_HOMES)


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'chaos' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted([*__all__, "__version__"])


if TYPE_CHECKING:  # `X as X`: an explicit re-export, so a user's mypy --strict sees chaos.X
    from chaos.experiment import (
        CascadeNotObserved as CascadeNotObserved,
        ContainmentBroken as ContainmentBroken,
        DeliveryLag as DeliveryLag,
        Experiment as Experiment,
        FakeClock as FakeClock,
        Fault as Fault,
        FaultEvent as FaultEvent,
        HintedProbe as HintedProbe,
        HttpTarget as HttpTarget,
        HypothesisFailed as HypothesisFailed,
        InsufficientData as InsufficientData,
        LedgerResult as LedgerResult,
        LedgerViolation as LedgerViolation,
        MetricNotFound as MetricNotFound,
        NotRecovered as NotRecovered,
        PhaseLag as PhaseLag,
        PhaseResult as PhaseResult,
        Plan as Plan,
        Probe as Probe,
        ProbeError as ProbeError,
        ProbeHints as ProbeHints,
        ProxyHandle as ProxyHandle,
        RateProfile as RateProfile,
        RawHttpTarget as RawHttpTarget,
        RecordingTarget as RecordingTarget,
        RequestFailed as RequestFailed,
        Run as Run,
        Sampler as Sampler,
        SettleTimeout as SettleTimeout,
        Target as Target,
        Timeline as Timeline,
        Tolerance as Tolerance,
        Verdict as Verdict,
        assert_cascade as assert_cascade,
        assert_contained as assert_contained,
        assert_lag_recovered as assert_lag_recovered,
        assert_recovered as assert_recovered,
        burst as burst,
        check_cascade as check_cascade,
        check_contained as check_contained,
        check_lag_recovered as check_lag_recovered,
        check_ledger as check_ledger,
        check_recovered as check_recovered,
        delivery_lag as delivery_lag,
        fault as fault,
        http_metric as http_metric,
        http_target as http_target,
        judge as judge,
        negative_control as negative_control,
        probe as probe,
        prometheus_value as prometheus_value,
        raw_http_target as raw_http_target,
        recording_target as recording_target,
        settle_ledger as settle_ledger,
        steps as steps,
        wait_until as wait_until,
    )
    from chaos.pytest_plugin import ChaosConfig as ChaosConfig, get_config as get_config
    from chaos.runtime import (
        Broker as Broker,
        BrokerCluster as BrokerCluster,
        CallableReady as CallableReady,
        HttpReady as HttpReady,
        ManagedProcess as ManagedProcess,
        NetnsUnavailable as NetnsUnavailable,
        NodeView as NodeView,
        NotReady as NotReady,
        PortAllocator as PortAllocator,
        PortExhausted as PortExhausted,
        QueueConsumerReady as QueueConsumerReady,
        RabbitMQCluster as RabbitMQCluster,
        RabbitMQError as RabbitMQError,
        RabbitMQNode as RabbitMQNode,
        RabbitMQNotInstalled as RabbitMQNotInstalled,
        Readiness as Readiness,
        ServiceError as ServiceError,
        ServiceExited as ServiceExited,
        ServiceNotReady as ServiceNotReady,
        TcpReady as TcpReady,
        allocate_port as allocate_port,
        wait_for_port as wait_for_port,
    )
