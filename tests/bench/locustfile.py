"""locustfile loads the running platform through its gateway (``make load`` after ``make run``).

Each simulated user registers (registration is open in development), logs in with the
password grant, then reads its profile and the JWKS; a 401 (expired token) logs in again.
"""

from __future__ import annotations

import secrets
import uuid

from locust import HttpUser, between, task
from locust.exception import StopUser


class PlatformUser(HttpUser):
    host = "http://127.0.0.1:8000"
    wait_time = between(0.1, 0.5)

    def on_start(self) -> None:
        self.email = f"load-{uuid.uuid4().hex[:12]}@example.com"
        self.password = secrets.token_urlsafe(18)
        self.headers: dict[str, str] = {}
        body = {"email": self.email, "password": self.password, "name": "Load Test"}
        with self.client.post("/users", json=body, catch_response=True) as response:
            if response.status_code != 201:
                response.failure(f"register {self.email}: {response.status_code} {response.text}")
                raise StopUser()  # without an account every later request would fail too
        self.login()

    def login(self) -> None:
        form = {"grant_type": "password", "username": self.email, "password": self.password}
        with self.client.post("/token", data=form, catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"login {self.email}: {response.status_code} {response.text}")
                return
            self.headers = {"Authorization": f"Bearer {response.json()['access_token']}"}

    @task(3)
    def read_me(self) -> None:
        with self.client.get("/users/me", headers=self.headers, catch_response=True) as response:
            if response.status_code == 401:
                response.success()  # the access token expired (15 min): log in again
                self.login()
            elif response.status_code != 200 or response.json().get("email") != self.email:
                response.failure(f"/users/me: {response.status_code} {response.text[:200]}")

    @task(1)
    def read_jwks(self) -> None:
        with self.client.get("/.well-known/jwks.json", catch_response=True) as response:
            if response.status_code != 200 or not response.json().get("keys"):
                response.failure(f"jwks: {response.status_code} {response.text[:200]}")
