"""An in-process Secret Manager answering ``AccessSecretVersion`` on both of Google's faces:
REST (``GET /v1/{name}:access``, what ``shared.config`` reads; ``address``) and gRPC (what
the official ``google-cloud-secret-manager`` client speaks; ``grpc_address``), from the
same secrets, with Google's error shapes on each."""

from __future__ import annotations

import base64
import contextlib
import json
import threading
import time
from collections.abc import Mapping
from concurrent import futures
from typing import Any

import grpc
from google.cloud.secretmanager_v1.types import (
    AccessSecretVersionRequest,
    AccessSecretVersionResponse,
    SecretPayload,
)

from tests.helpers import Answer, http_stub

SERVICE = "google.cloud.secretmanager.v1.SecretManagerService"


class FakeSecretManager:
    """Serves ``secrets`` (version resource name -> payload) on ``127.0.0.1:<port>``.

    ``fail_with`` makes every call fail with that status code (an outage); ``calls``
    lists the names asked for, in order; ``delay`` holds each answer that many seconds, and
    ``most_in_flight`` is the most calls it was answering at once; ``authorizations`` lists
    the ``Authorization`` header of each REST call ("" when none).
    """

    def __init__(self, secrets: dict[str, str] | None = None) -> None:
        self.secrets: dict[str, str] = dict(secrets or {})
        self.calls: list[str] = []
        self.fail_with: grpc.StatusCode | None = None
        self.delay = 0.0
        self.most_in_flight = 0
        self._in_flight = 0
        self._lock = threading.Lock()
        self.authorizations: list[str] = []
        self._server: grpc.Server | None = None
        self._rest_face = contextlib.ExitStack()
        self.address = ""
        self.grpc_address = ""

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
        self.grpc_address = f"127.0.0.1:{port}"
        self.address = self._rest_face.enter_context(http_stub(self._rest))
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop(grace=None)
            self._server = None
        self._rest_face.close()

    def _rest(self, method: str, path: str, headers: Mapping[str, str]) -> Answer:
        """``GET /v1/{name}:access`` as Google's REST front end answers it."""
        if method != "GET" or not (path.startswith("/v1/") and path.endswith(":access")):
            return 404, _error(404, "NOT_FOUND", f"No route {method} {path}.")
        name = path[len("/v1/") : -len(":access")]
        with self._lock:
            self.authorizations.append(headers.get("Authorization", ""))
        payload, failure = self._lookup(name)
        if failure is not None:
            status = _HTTP_STATUS.get(failure, 500)
            message = f"Secret Manager is failing with {failure.name}."
            return status, _error(status, failure.name, message)
        if payload is None:
            message = f"Secret [{name}] not found or has no versions."
            return 404, _error(404, "NOT_FOUND", message)
        data = base64.b64encode(payload.encode("utf-8")).decode()
        return 200, json.dumps({"name": name, "payload": {"data": data}}).encode()

    def _lookup(self, name: str) -> tuple[str | None, grpc.StatusCode | None]:
        """Record the call, hold it ``delay`` seconds; the payload and the failure set."""
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
        return payload, failure

    def _access(self, request: Any, context: grpc.ServicerContext) -> Any:
        name = request.name
        payload, failure = self._lookup(name)
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


# gRPC status -> HTTP status, as Google's REST front end maps them
_HTTP_STATUS = {
    grpc.StatusCode.INVALID_ARGUMENT: 400,
    grpc.StatusCode.UNAUTHENTICATED: 401,
    grpc.StatusCode.PERMISSION_DENIED: 403,
    grpc.StatusCode.NOT_FOUND: 404,
    grpc.StatusCode.RESOURCE_EXHAUSTED: 429,
    grpc.StatusCode.UNAVAILABLE: 503,
    grpc.StatusCode.DEADLINE_EXCEEDED: 504,
}


def _error(code: int, status: str, message: str) -> bytes:
    return json.dumps({"error": {"code": code, "message": message, "status": status}}).encode()
