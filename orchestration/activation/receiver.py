"""A local webhook receiver on 127.0.0.1, for the demo, the tests and the fault-injection run:
it checks the HMAC signature, applies each batch's ops to an audience it keeps (key ->
fields) once per idempotency key (a repeated key gets the first answer back, applied
nothing), and can misbehave on purpose: answer 429 (with Retry-After), 500, reply slowly,
or drop the connection, each with a given probability. Optionally it persists what it holds
to a JSON file after each applied batch, so a test can read it from another process.

`python -m orchestration.activation.receiver --port 0 --secret-env VAR [--state FILE]
[--faults 0.3]` prints the URL, then serves until killed."""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import random
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class Receiver:
    def __init__(self, secret: bytes, faults: float = 0.0, seed: int | None = None,
                 state_file: Path | None = None, reject: set[str] | None = None, slow_seconds: float = 0.3):
        self.secret = secret
        self.faults = faults
        self.random = random.Random(seed)
        self.state_file = state_file
        self.reject = reject or set()  # keys to refuse (reported back as rejected)
        self.slow_seconds = slow_seconds
        self.audience: dict[str, dict] = {}
        self.applied_keys: list[str] = []  # idempotency keys applied, in order
        self.answers: dict[str, dict] = {}
        self.requests = 0
        self.bad_signatures = 0
        self.faults_served: dict[str, int] = {}
        self.bodies: list[dict] = []  # every accepted body, as received
        self.lock = threading.Lock()
        self.server: ThreadingHTTPServer | None = None
        self.replayed = 0  # requests whose idempotency key had been applied already
        # hold the reply after applying the n-th batch this long (a test kills the client meanwhile)
        self.stall_after: dict[int, float] = {}

    def _fault(self) -> str | None:
        if self.faults <= 0 or self.random.random() >= self.faults:
            return None
        return self.random.choice(["429", "500", "slow", "drop"])

    def handle(self, handler: BaseHTTPRequestHandler) -> None:
        body = handler.rfile.read(int(handler.headers.get("Content-Length") or 0))
        with self.lock:
            self.requests += 1
            fault = self._fault()
            if fault:
                self.faults_served[fault] = self.faults_served.get(fault, 0) + 1
        if fault == "drop":  # close without an answer: the client sees a dropped connection
            handler.connection.shutdown(socket.SHUT_RDWR)
            handler.close_connection = True
            return
        if fault == "slow":
            time.sleep(self.slow_seconds)
        if fault in ("429", "500"):
            handler.send_response(int(fault))
            if fault == "429":
                handler.send_header("Retry-After", "0")
            handler.send_header("Content-Length", "0")
            handler.end_headers()
            return
        expected = "sha256=" + hmac.new(self.secret, body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, handler.headers.get("X-Tianwen-Signature", "")):
            with self.lock:
                self.bad_signatures += 1
            self._reply(handler, 401, {"error": "bad signature"})
            return
        key = handler.headers.get("Idempotency-Key", "")
        with self.lock:
            stall = 0.0
            if key in self.answers:  # seen: same answer, nothing applied again
                answer = self.answers[key]
                self.replayed += 1
            else:
                payload = json.loads(body)
                self.bodies.append(payload)
                rejected = []
                for op in payload["operations"]:
                    if op["key"] in self.reject:
                        rejected.append({"key": op["key"], "message": "invalid recipient"})
                    elif op["op"] == "remove":
                        self.audience.pop(op["key"], None)
                    else:
                        self.audience[op["key"]] = op.get("fields") or {}
                answer = {"rejected": rejected}
                self.answers[key] = answer
                self.applied_keys.append(key)
                self._persist()
                stall = self.stall_after.get(len(self.applied_keys), 0.0)
        time.sleep(stall)
        self._reply(handler, 200, answer)

    def _persist(self) -> None:
        if self.state_file is None:
            return
        tmp = self.state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps({"audience": self.audience, "applied_keys": self.applied_keys,
                                   "requests": self.requests, "faults": self.faults_served}))
        os.replace(tmp, self.state_file)

    @staticmethod
    def _reply(handler, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    def start(self, port: int = 0) -> str:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):  # noqa: N802 - the http.server API
                receiver.handle(self)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self.server.server_port}/audience"

    def stop(self) -> None:
        if self.server:
            self.server.shutdown()
            self.server.server_close()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--secret-env", required=True)
    p.add_argument("--state", type=Path, default=None)
    p.add_argument("--faults", type=float, default=0.0)
    p.add_argument("--seed", type=int, default=None)
    args = p.parse_args()
    receiver = Receiver(os.environ[args.secret_env].encode(), faults=args.faults, seed=args.seed,
                        state_file=args.state)
    print(receiver.start(args.port), flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
