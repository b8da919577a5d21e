"""The web front: `POST /orders {"id": ...}` enqueues the order and answers 202 Accepted.

Run as `python -m orders.web PORT`. One thread serves every request: Dramatiq keeps a broker
connection per thread, so a thread per request would open a connection per request.
"""

import json
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer

from orders.tasks import broker, process_order


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self._answer(200 if self.path == "/health" else 404, {})

    def do_POST(self) -> None:
        if self.path != "/orders":
            return self._answer(404, {})
        try:
            order_id = str(json.loads(self.rfile.read(int(self.headers["Content-Length"])))["id"])
        except (TypeError, ValueError, KeyError) as exc:
            return self._answer(400, {"error": f"expected a JSON body with an id: {exc!r}"})
        try:
            process_order.send(order_id)
        except Exception as exc:  # not enqueued: the client must not think it was accepted
            return self._answer(503, {"error": repr(exc)})
        self._answer(202, {"id": order_id})

    def _answer(self, status: int, body: dict[str, str]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        pass  # a line per request would drown the log


class Server(HTTPServer):
    request_queue_size = 128  # open-loop load keeps arriving on schedule while we are busy


if __name__ == "__main__":
    # Connect and declare the queue before listening: the port opens once the broker answers.
    broker.declare_queue(process_order.queue_name, ensure=True)
    Server(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
