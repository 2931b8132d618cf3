"""An in-process Secret Manager: a real gRPC server answering ``AccessSecretVersion``."""

from __future__ import annotations

import threading
import time
from concurrent import futures
from typing import Any

import grpc
from google.cloud.secretmanager_v1.types import (
    AccessSecretVersionRequest,
    AccessSecretVersionResponse,
    SecretPayload,
)

SERVICE = "google.cloud.secretmanager.v1.SecretManagerService"


class FakeSecretManager:
    """Serves ``secrets`` (version resource name -> payload) on ``127.0.0.1:<port>``.

    ``fail_with`` makes every call fail with that status code (an outage); ``calls``
    lists the names asked for, in order; ``delay`` holds each answer that many seconds, and
    ``most_in_flight`` is the most calls it was answering at once.
    """

    def __init__(self, secrets: dict[str, str] | None = None) -> None:
        self.secrets: dict[str, str] = dict(secrets or {})
        self.calls: list[str] = []
        self.fail_with: grpc.StatusCode | None = None
        self.delay = 0.0
        self.most_in_flight = 0
        self._in_flight = 0
        self._lock = threading.Lock()
        self._server: grpc.Server | None = None
        self.address = ""

    @property
    def call_count(self) -> int:
        with self._lock:
            return len(self.calls)

    def start(self) -> FakeSecretManager:
        server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        handler = grpc.method_handlers_generic_handler(
            SERVICE,
            {
                "AccessSecretVersion": grpc.unary_unary_rpc_method_handler(
                    self._access,
                    request_deserializer=AccessSecretVersionRequest.deserialize,
                    response_serializer=AccessSecretVersionResponse.serialize,
                )
            },
        )
        server.add_generic_rpc_handlers((handler,))
        port = server.add_insecure_port("127.0.0.1:0")
        server.start()
        self._server = server
        self.address = f"127.0.0.1:{port}"
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop(grace=None)
            self._server = None

    def _access(self, request: Any, context: grpc.ServicerContext) -> Any:
        name = request.name
        with self._lock:
            self.calls.append(name)
            failure = self.fail_with
            payload = self.secrets.get(name)
            self._in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self._in_flight)
        try:
            if self.delay:
                time.sleep(self.delay)
        finally:
            with self._lock:
                self._in_flight -= 1
        if failure is not None:
            context.abort(failure, f"Secret Manager is failing with {failure.name}.")
        if payload is None:
            # abort raises, ending the call with this status, as Google's server answers
            context.abort(
                grpc.StatusCode.NOT_FOUND, f"Secret [{name}] not found or has no versions."
            )
            raise AssertionError("unreachable")
        return AccessSecretVersionResponse(
            name=name, payload=SecretPayload(data=payload.encode("utf-8"))
        )
