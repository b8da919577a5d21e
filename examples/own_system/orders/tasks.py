"""The worker: a Dramatiq actor that charges an order, then records its delivery.

Settings come from the environment: ORDERS_AMQP_URL (the broker), ORDERS_PAYMENTS (host:port
of the payment provider), ORDERS_MAX_RETRIES (0: give up at once), ORDERS_STORE (orders.store).
"""

import http.client
import json
import os

import dramatiq
from dramatiq.brokers.rabbitmq import RabbitmqBroker

from orders import store

broker = RabbitmqBroker(url=os.environ.get("ORDERS_AMQP_URL"), confirm_delivery=True)
dramatiq.set_broker(broker)

PAYMENTS = os.environ.get("ORDERS_PAYMENTS", "127.0.0.1:8001")
MAX_RETRIES = int(os.environ.get("ORDERS_MAX_RETRIES", "20"))


@dramatiq.actor(queue_name="orders", max_retries=MAX_RETRIES, min_backoff=100, max_backoff=500)
def process_order(order_id: str) -> None:
    """Charge the order (an error means Dramatiq retries it later), then record it."""
    payments = http.client.HTTPConnection(PAYMENTS, timeout=2)
    try:
        payments.request("POST", "/charge", json.dumps({"order": order_id}))
        status = payments.getresponse().status
    finally:
        payments.close()
    if status != 200:
        raise RuntimeError(f"payments answered {status} for order {order_id}")
    store.record(order_id)
