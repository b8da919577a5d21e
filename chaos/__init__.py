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
    "CallableReady",
    "HttpReady",
    "ManagedProcess",
    "NotReady",
    "PortAllocator",
    "PortExhausted",
    "QueueConsumerReady",
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
    )
    from chaos.experiment import (
        ContainmentBroken as ContainmentBroken,
    )
    from chaos.experiment import (
        DeliveryLag as DeliveryLag,
    )
    from chaos.experiment import (
        Experiment as Experiment,
    )
    from chaos.experiment import (
        FakeClock as FakeClock,
    )
    from chaos.experiment import (
        Fault as Fault,
    )
    from chaos.experiment import (
        FaultEvent as FaultEvent,
    )
    from chaos.experiment import (
        HintedProbe as HintedProbe,
    )
    from chaos.experiment import (
        HttpTarget as HttpTarget,
    )
    from chaos.experiment import (
        HypothesisFailed as HypothesisFailed,
    )
    from chaos.experiment import (
        InsufficientData as InsufficientData,
    )
    from chaos.experiment import (
        LedgerResult as LedgerResult,
    )
    from chaos.experiment import (
        LedgerViolation as LedgerViolation,
    )
    from chaos.experiment import (
        MetricNotFound as MetricNotFound,
    )
    from chaos.experiment import (
        NotRecovered as NotRecovered,
    )
    from chaos.experiment import (
        PhaseLag as PhaseLag,
    )
    from chaos.experiment import (
        PhaseResult as PhaseResult,
    )
    from chaos.experiment import (
        Plan as Plan,
    )
    from chaos.experiment import (
        Probe as Probe,
    )
    from chaos.experiment import (
        ProbeError as ProbeError,
    )
    from chaos.experiment import (
        ProbeHints as ProbeHints,
    )
    from chaos.experiment import (
        ProxyHandle as ProxyHandle,
    )
    from chaos.experiment import (
        RateProfile as RateProfile,
    )
    from chaos.experiment import (
        RawHttpTarget as RawHttpTarget,
    )
    from chaos.experiment import (
        RecordingTarget as RecordingTarget,
    )
    from chaos.experiment import (
        RequestFailed as RequestFailed,
    )
    from chaos.experiment import (
        Run as Run,
    )
    from chaos.experiment import (
        Sampler as Sampler,
    )
    from chaos.experiment import (
        SettleTimeout as SettleTimeout,
    )
    from chaos.experiment import (
        Target as Target,
    )
    from chaos.experiment import (
        Timeline as Timeline,
    )
    from chaos.experiment import (
        Tolerance as Tolerance,
    )
    from chaos.experiment import (
        Verdict as Verdict,
    )
    from chaos.experiment import (
        assert_cascade as assert_cascade,
    )
    from chaos.experiment import (
        assert_contained as assert_contained,
    )
    from chaos.experiment import (
        assert_lag_recovered as assert_lag_recovered,
    )
    from chaos.experiment import (
        assert_recovered as assert_recovered,
    )
    from chaos.experiment import (
        burst as burst,
    )
    from chaos.experiment import (
        check_cascade as check_cascade,
    )
    from chaos.experiment import (
        check_contained as check_contained,
    )
    from chaos.experiment import (
        check_lag_recovered as check_lag_recovered,
    )
    from chaos.experiment import (
        check_ledger as check_ledger,
    )
    from chaos.experiment import (
        check_recovered as check_recovered,
    )
    from chaos.experiment import (
        delivery_lag as delivery_lag,
    )
    from chaos.experiment import (
        fault as fault,
    )
    from chaos.experiment import (
        http_metric as http_metric,
    )
    from chaos.experiment import (
        http_target as http_target,
    )
    from chaos.experiment import (
        judge as judge,
    )
    from chaos.experiment import (
        negative_control as negative_control,
    )
    from chaos.experiment import (
        probe as probe,
    )
    from chaos.experiment import (
        prometheus_value as prometheus_value,
    )
    from chaos.experiment import (
        raw_http_target as raw_http_target,
    )
    from chaos.experiment import (
        recording_target as recording_target,
    )
    from chaos.experiment import (
        settle_ledger as settle_ledger,
    )
    from chaos.experiment import (
        steps as steps,
    )
    from chaos.experiment import (
        wait_until as wait_until,
    )
    from chaos.pytest_plugin import ChaosConfig as ChaosConfig
    from chaos.pytest_plugin import get_config as get_config
    from chaos.runtime import (
        Broker as Broker,
    )
    from chaos.runtime import (
        CallableReady as CallableReady,
    )
    from chaos.runtime import (
        HttpReady as HttpReady,
    )
    from chaos.runtime import (
        ManagedProcess as ManagedProcess,
    )
    from chaos.runtime import (
        NotReady as NotReady,
    )
    from chaos.runtime import (
        PortAllocator as PortAllocator,
    )
    from chaos.runtime import (
        PortExhausted as PortExhausted,
    )
    from chaos.runtime import (
        QueueConsumerReady as QueueConsumerReady,
    )
    from chaos.runtime import (
        RabbitMQError as RabbitMQError,
    )
    from chaos.runtime import (
        RabbitMQNode as RabbitMQNode,
    )
    from chaos.runtime import (
        RabbitMQNotInstalled as RabbitMQNotInstalled,
    )
    from chaos.runtime import (
        Readiness as Readiness,
    )
    from chaos.runtime import (
        ServiceError as ServiceError,
    )
    from chaos.runtime import (
        ServiceExited as ServiceExited,
    )
    from chaos.runtime import (
        ServiceNotReady as ServiceNotReady,
    )
    from chaos.runtime import (
        TcpReady as TcpReady,
    )
    from chaos.runtime import (
        allocate_port as allocate_port,
    )
    from chaos.runtime import (
        wait_for_port as wait_for_port,
    )
