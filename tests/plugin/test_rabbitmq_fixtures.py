"""`rabbitmq_proc` and `rabbitmq` in one inner session (a broker boots in ~8 s).

Persistent messages in a durable queue survive a kill -9 and restart (a transient queue, the
negative control, does not); a paused broker makes a new connection time out; a test that fails
with the broker frozen or dead leaves it running for the next; queues are deleted between tests;
exclusive queues of connections still open are left to them, and the summary names them; the
terminal summary reports the boot time.
"""

from __future__ import annotations

import pytest

from chaos.runtime import rabbitmq_available

pytest_plugins = ["pytester"]

pytestmark = [
    pytest.mark.rabbitmq,
    pytest.mark.skipif(not rabbitmq_available(), reason="rabbitmq-server is not installed"),
]

TESTS = """
import time

import pika
import pytest
from pika.adapters.utils.connection_workflow import AMQPConnectorStackTimeout

DURABLE, TRANSIENT = "orders", "scratch"
KEPT = {}


def publish(channel, queue, bodies, durable):
    channel.queue_declare(queue, durable=durable)
    for body in bodies:
        channel.basic_publish(
            "", queue, body, pika.BasicProperties(delivery_mode=2 if durable else 1)
        )


def drain(channel, queue):
    bodies = []
    while (got := channel.basic_get(queue, auto_ack=True))[0] is not None:
        bodies.append(got[2])
    return bodies


def test_persistent_messages_survive_kill_and_start(rabbitmq_proc, rabbitmq):
    channel = rabbitmq.channel()
    channel.confirm_delivery()  # every publish below is on disk when basic_publish returns
    bodies = [f"m{i}".encode() for i in range(5)]
    publish(channel, DURABLE, bodies, durable=True)
    publish(channel, TRANSIENT, [b"gone"], durable=False)
    # Confirms cover the messages, not the queue's declaration: Mnesia writes that through a
    # delayed-write log (flushed within ~2 s), so a kill -9 right now could lose the queue.
    rabbitmq_proc.rabbitmqctl("eval", "mnesia:sync_log().")
    beam = rabbitmq_proc.beam_pid
    rabbitmq_proc.kill()
    assert not rabbitmq_proc.running and rabbitmq_proc.beam_pid is None
    rabbitmq_proc.start()
    assert rabbitmq_proc.beam_pid not in (None, beam)
    with pika.BlockingConnection(rabbitmq_proc.connection_parameters()) as connection:
        channel = connection.channel()
        assert drain(channel, DURABLE) == bodies
        with pytest.raises(pika.exceptions.ChannelClosedByBroker, match="NOT_FOUND"):
            channel.queue_declare(TRANSIENT, passive=True)  # the control: it was lost


def test_paused_broker_makes_a_new_connection_time_out(rabbitmq_proc):
    params = rabbitmq_proc.connection_parameters(socket_timeout=1.0, stack_timeout=2.0)
    with rabbitmq_proc.paused():
        started = time.monotonic()
        with pytest.raises(AMQPConnectorStackTimeout, match="Timeout during AMQP handshake"):
            pika.BlockingConnection(params)
        waited = time.monotonic() - started
    assert waited >= 1.8, f"stack_timeout is 2 s, yet it gave up after {waited:.2f}s"
    pika.BlockingConnection(params).close()


def test_freeze_then_fail(rabbitmq_proc, rabbitmq):
    rabbitmq_proc.pause()
    assert False, "fails with the broker frozen"


def test_crash_then_fail(rabbitmq_proc, rabbitmq):
    rabbitmq_proc.kill()
    assert False, "fails with the broker down"


def test_leave_a_queue_behind(rabbitmq):  # needs the broker running and awake again
    publish(rabbitmq.channel(), "leftover", [b"x"], durable=True)


def test_next_test_sees_no_leftover_queue(rabbitmq_proc, rabbitmq):
    assert rabbitmq_proc.list_queues() == []


def test_a_worker_still_holds_an_exclusive_queue(rabbitmq_proc, rabbitmq):
    # A user's worker connection, still open when the fixture tears down (405 RESOURCE_LOCKED
    # if the teardown tried to delete its queue).
    worker = pika.BlockingConnection(rabbitmq_proc.connection_parameters())
    worker.channel().queue_declare("worker-reply", exclusive=True)
    KEPT["worker"] = worker


def test_the_exclusive_queue_was_left_to_its_connection(rabbitmq_proc):
    assert rabbitmq_proc.list_queues(exclusive=True) == ["worker-reply"]
    KEPT.pop("worker").close()
    assert rabbitmq_proc.list_queues() == []
"""


@pytest.mark.timeout(240)
def test_rabbitmq_fixtures(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_broker=TESTS)
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "-rfE", "-o", "timeout=60", "--durations=0"
    )
    result.stdout.fnmatch_lines(
        [
            "E  *AssertionError: fails with the broker frozen",
            "E  *AssertionError: fails with the broker down",
        ]
    )
    result.assert_outcomes(passed=6, failed=2)
    result.stdout.fnmatch_lines(
        [
            "rabbitmq chaos-*@localhost: booted in *.* s, last recovery *.* s",
            "rabbitmq teardown of test_broker.py::test_a_worker_still_holds_an_exclusive_queue "
            "left 1 exclusive queue(s) of connections still open: worker-reply *",
        ]
    )
