from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pika
import pika.exceptions
import pytest
from pika.adapters.utils.connection_workflow import AMQPConnectorException

from chaos.runtime import _procfs
from chaos.runtime.rabbitmq import (
    RabbitMQError,
    RabbitMQNode,
    RabbitMQNotInstalled,
    rabbitmq_available,
)
from tests.runtime._helpers import all_gone, wait_until

needs_rabbitmq = [
    pytest.mark.rabbitmq,
    pytest.mark.skipif(
        not rabbitmq_available(),
        reason="rabbitmq-server is not installed (apt-get install -y rabbitmq-server)",
    ),
    pytest.mark.timeout(180),
]


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RabbitMQNode]:
    with RabbitMQNode(tmp_path_factory.mktemp("rabbitmq")) as running:
        yield running


def publish(node: RabbitMQNode, queue: str, bodies: list[bytes]) -> None:
    """Publish persistent messages to a durable queue, each confirmed by the broker."""
    with pika.BlockingConnection(node.connection_parameters()) as connection:
        channel = connection.channel()
        channel.confirm_delivery()
        channel.queue_declare(queue, durable=True)
        for body in bodies:
            channel.basic_publish("", queue, body, pika.BasicProperties(delivery_mode=2))


def drain(node: RabbitMQNode, queue: str) -> list[bytes]:
    bodies = []
    with pika.BlockingConnection(node.connection_parameters()) as connection:
        channel = connection.channel()
        while True:
            method, _, body = channel.basic_get(queue, auto_ack=True)
            if method is None:
                return bodies
            bodies.append(body)


def test_missing_server_script_says_how_to_install(tmp_path: Path) -> None:
    missing = tmp_path / "no" / "rabbitmq-server"
    with pytest.raises(RabbitMQNotInstalled) as info:
        RabbitMQNode(tmp_path, server_path=missing)
    assert "apt-get install -y rabbitmq-server" in str(info.value)
    assert str(missing) in str(info.value)


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [({"boot_timeout": 0}, "boot_timeout=0"), ({"name_prefix": "a b"}, "name_prefix='a b'")],
)
def test_bad_arguments_fail_in_the_constructor(
    tmp_path: Path, kwargs: dict[str, object], fragment: str
) -> None:
    if not rabbitmq_available():
        pytest.skip("rabbitmq-server is not installed (apt-get install -y rabbitmq-server)")
    with pytest.raises(ValueError, match=fragment):
        RabbitMQNode(tmp_path, **kwargs)  # type: ignore[arg-type]


class TestSharedNode:
    pytestmark = needs_rabbitmq

    def test_boots_a_private_node_on_loopback(self, node: RabbitMQNode) -> None:
        assert node.running
        assert node.boot_seconds is not None and node.boot_seconds > 0
        assert node.amqp_url == f"amqp://guest:guest@127.0.0.1:{node.port}/%2F"
        names = {name for _, name in node.processes()}
        assert {"beam.smp", "epmd"} <= names
        assert node.beam_pid is not None
        assert Path(node.base_dir, "rabbit.pid").read_text().strip() == str(node.beam_pid)
        with pika.BlockingConnection(pika.URLParameters(node.amqp_url)) as connection:
            assert connection.is_open

    def test_persistent_message_survives_kill_9(self, node: RabbitMQNode) -> None:
        node.delete_queues(["durable-q"])
        publish(node, "durable-q", [b"one", b"two"])
        assert node.queue_depth("durable-q") == 2
        # Confirms cover the messages, not the queue's declaration: Mnesia writes that through a
        # delayed-write log (flushed within ~2 s), so a kill -9 right now could lose the queue.
        node.rabbitmqctl("eval", "mnesia:sync_log().")
        beam = node.beam_pid
        assert beam is not None
        with node.crashed():
            assert not node.running
            assert not _procfs.pid_alive(beam)
            with pytest.raises(pika.exceptions.AMQPConnectionError):
                pika.BlockingConnection(node.connection_parameters(stack_timeout=3))
        assert node.running and node.beam_pid != beam
        assert node.recovery_seconds is not None and node.recovery_seconds > 0
        assert node.queue_depth("durable-q") == 2
        assert drain(node, "durable-q") == [b"one", b"two"]

    def test_a_restart_on_a_port_taken_meanwhile_names_who_holds_it(
        self, node: RabbitMQNode
    ) -> None:
        # What lost a CI run its broker: while it was down, a client connected to its port from
        # that same port (a self-connect, possible only in the ephemeral range).
        client = pika.BlockingConnection(node.connection_parameters())
        node.kill()  # the broker's end of `client` stays in TIME_WAIT on its port
        with contextlib.suppress(pika.exceptions.AMQPError):
            client.close()
        with socket.socket() as taker:
            # Past the broker's TIME_WAITs, then held as a client's connect() holds it.
            taker.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            taker.bind(("127.0.0.1", node.port))
            taker.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 0)
            taker.connect(("127.0.0.1", node.port))
            with pytest.raises(RabbitMQError) as info:
                node.start()
            # Closed by a reset: a TIME_WAIT left behind would hold the port for another 60 s.
            taker.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        message = str(info.value)
        assert f"port {node.port}: pid {os.getpid()} (" in message, message
        assert f"127.0.0.1:{node.port} -> 127.0.0.1:{node.port} ESTABLISHED" in message
        assert "services_port_range" in message  # the hint
        node.start()
        assert node.running

    def test_pause_makes_connections_time_out_and_resume_heals(self, node: RabbitMQNode) -> None:
        with node.paused():
            assert node.running  # frozen, not dead
            assert _procfs.process_state(node.beam_pid) == "T"  # type: ignore[arg-type]
            began = time.monotonic()
            # pika reports a handshake timeout as AMQPConnectorStackTimeout, not an AMQPError.
            with pytest.raises(AMQPConnectorException, match="Timeout during AMQP handshake"):
                pika.BlockingConnection(
                    node.connection_parameters(socket_timeout=1.0, stack_timeout=2.0)
                )
            # The kernel accepts the TCP connect; the AMQP handshake is what times out.
            assert time.monotonic() - began >= 0.5
        with pika.BlockingConnection(node.connection_parameters()) as connection:
            assert connection.is_open

    def test_queue_depth_of_a_missing_queue_is_a_lookup_error(self, node: RabbitMQNode) -> None:
        with pytest.raises(LookupError, match="queue 'never-declared' does not exist"):
            node.queue_depth("never-declared")

    def test_queue_stats_count_what_a_consumer_holds_unacked(
        self, node: RabbitMQNode, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        node.delete_queues(["stats-q"])
        publish(node, "stats-q", [b"1", b"2", b"3"])
        with pika.BlockingConnection(node.connection_parameters()) as connection:
            channel = connection.channel()
            channel.basic_qos(prefetch_count=2)
            channel.basic_consume("stats-q", lambda *args: None)  # never acks
            connection.process_data_events(time_limit=0.5)
            assert node.queue_stats("stats-q") == {"ready": 1, "unacked": 2}  # by erl_call
            monkeypatch.setattr(shutil, "which", lambda name: None)  # no erl_call: rabbitmqctl
            assert node.queue_stats("stats-q") == {"ready": 1, "unacked": 2}
        node.delete_queues(["stats-q"])

    def test_queue_stats_of_a_missing_queue_is_a_lookup_error(self, node: RabbitMQNode) -> None:
        with pytest.raises(LookupError, match="no queue 'never-declared' on node"):
            node.queue_stats("never-declared")

    def test_purge_all_and_delete_all_queues_clean_between_tests(self, node: RabbitMQNode) -> None:
        publish(node, "clean-a", [b"1", b"2", b"3"])
        publish(node, "clean-b", [b"4"])
        assert {"clean-a", "clean-b"} <= set(node.list_queues())
        purged = node.purge_all()
        assert purged["clean-a"] == 3 and purged["clean-b"] == 1
        assert node.queue_depth("clean-a") == 0
        deleted = node.delete_all_queues()
        assert {"clean-a", "clean-b"} <= set(deleted)
        assert node.list_queues() == []


@pytest.mark.rabbitmq
@pytest.mark.skipif(not rabbitmq_available(), reason="rabbitmq-server is not installed")
@pytest.mark.timeout(180)
def test_stop_and_close_leave_no_process_behind() -> None:
    node = RabbitMQNode()
    base_dir = node.base_dir
    try:
        node.start()
        tree = node.processes()
        names = {name for _, name in tree}
        assert {"rabbitmq-server", "beam.smp", "erl_child_setup", "epmd"} <= names, names
        broker_pids = [pid for pid, name in tree if name != "epmd"]
        epmd_pids = [pid for pid, name in tree if name == "epmd"]
        node.stop()
        assert all_gone(broker_pids, timeout=1), node.processes()
        assert all(_procfs.pid_alive(pid) for pid in epmd_pids)  # epmd outlives a broker stop
    finally:
        node.close()
    assert all_gone([pid for pid, _ in tree], timeout=1)
    assert not base_dir.exists()  # an auto-created base dir goes with the node
    node.close()  # idempotent


PARENT = """
import json, os, sys, time
from chaos.runtime.rabbitmq import RabbitMQNode
node = RabbitMQNode(sys.argv[1])
node.start()
info = {"pids": [pid for pid, _ in node.processes()], "names": [n for _, n in node.processes()]}
with open(sys.argv[2] + ".tmp", "w") as f:
    json.dump(info, f)
os.rename(sys.argv[2] + ".tmp", sys.argv[2])
time.sleep(300)
"""


@pytest.mark.rabbitmq
@pytest.mark.skipif(not rabbitmq_available(), reason="rabbitmq-server is not installed")
@pytest.mark.timeout(180)
def test_sigkill_of_the_parent_takes_the_whole_broker_tree_down(tmp_path: Path) -> None:
    info_path = tmp_path / "info.json"
    with open(tmp_path / "parent.err", "wb") as err:
        parent = subprocess.Popen(
            [sys.executable, "-c", PARENT, str(tmp_path / "node"), str(info_path)],
            cwd=Path(__file__).parents[2],
            stdout=subprocess.DEVNULL,
            stderr=err,
            start_new_session=True,
        )
    try:
        assert wait_until(lambda: info_path.exists() or parent.poll() is not None, 150)
        assert info_path.exists(), (tmp_path / "parent.err").read_text()
    finally:
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait(30)
    info = json.loads(info_path.read_text())
    assert {"beam.smp", "erl_child_setup", "epmd"} <= set(info["names"])
    assert all_gone(info["pids"]), [p for p in info["pids"] if _procfs.pid_alive(p)]
