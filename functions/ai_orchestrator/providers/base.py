"""base defines what every provider answers and the errors it raises."""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

from pydantic import BaseModel, ValidationError

from functions.ai_orchestrator.chunking import Chunk, clip
from functions.ai_orchestrator.findings import Finding, ReviewOutput, at_or_above
from functions.ai_orchestrator.prompts import ReviewConfig, render
from functions.ai_orchestrator.providers import upstream

if TYPE_CHECKING:
    import aiohttp

REPAIR_INSTRUCTION = (
    "Your previous answer did not match the required schema:\n{errors}\n"
    "Answer again with the complete, corrected findings object and nothing else."
)


class ProviderError(Exception):
    """A provider call failed; ``retryable`` tells the router whether to try again/elsewhere."""

    retryable = False

    def __init__(self, message: str, *, provider: str, status: int | None = None) -> None:
        super().__init__(f"{provider}: {message}")
        self.message = message
        self.provider = provider
        self.status = status


class RateLimited(ProviderError):
    """429: the provider asked us to wait ``retry_after`` seconds (None if it did not say)."""

    retryable = True

    def __init__(
        self,
        message: str,
        *,
        provider: str,
        status: int | None = 429,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, provider=provider, status=status)
        self.retry_after = retry_after


class Overloaded(ProviderError):
    """Anthropic's 529: the API as a whole is overloaded."""

    retryable = True


class ServerError(ProviderError):
    """A 5xx answer, or the connection failed before one came."""

    retryable = True


class Timeout(ProviderError):
    """No answer within the client's timeout."""

    retryable = True


class AuthError(ProviderError):
    """401/403: the key is wrong or lacks access; retrying cannot help."""


class InvalidRequest(ProviderError):
    """400 and other 4xx: the request itself is wrong; retrying cannot help."""


class BadResponse(ProviderError):
    """The answer was unparseable or failed the schema, even after one repair attempt."""

    retryable = True


class SkippedAnalyzer(BaseModel):
    """An analyzer that could not review a chunk, and why."""

    analyzer: str
    reason: str


class ReviewResult(BaseModel):
    """The findings of one chunk and what producing them cost."""

    findings: list[Finding]
    input_tokens: int
    output_tokens: int
    model: str
    provider: str
    # Analyzers that ran and those that could not (the local provider only).
    analyzers: list[str] = []
    skipped_analyzers: list[SkippedAnalyzer] = []
    # The provider's last raw answer, kept for debugging; never shown to end users.
    raw: dict[str, Any] | None = None


class Provider(Protocol):
    """A code reviewer behind a uniform interface."""

    name: str

    async def review(
        self,
        chunk: Chunk,
        config: ReviewConfig,
        *,
        model: str,
        client: aiohttp.ClientSession | None = None,
    ) -> ReviewResult:
        """Review ``chunk``: findings clipped to its lines and filtered by the threshold."""
        ...

    async def chat(
        self, request: Mapping[str, Any], *, client: aiohttp.ClientSession | None = None
    ) -> dict[str, Any]:
        """Answer an OpenAI Chat Completions request body with a ``chat.completion`` object."""
        ...


class RemoteProvider(ABC):
    """A provider behind a model API: one review call, and one repair call if the answer
    does not fill the findings schema; a second invalid answer is a ``BadResponse``.

    Subclasses supply only what differs per API: the turns, the body, the call, where the
    answer and its usage are, and the turns asking for a repair.

    Args:
        api_key: The API key (never logged or put in errors).
        base_url: The API root, as the official SDK takes it; ``default_base_url`` if None.
        timeout: Seconds to wait for one answer.
    """

    name: str
    default_base_url: str

    def __init__(self, *, api_key: str, base_url: str | None = None, timeout: float = 60.0) -> None:
        self._api_key = api_key
        self.base_url = (self.default_base_url if base_url is None else base_url).rstrip("/")
        self.timeout = timeout

    async def review(
        self,
        chunk: Chunk,
        config: ReviewConfig,
        *,
        model: str,
        client: aiohttp.ClientSession | None = None,
    ) -> ReviewResult:
        """Review ``chunk``: findings clipped to its lines and filtered by the threshold."""
        system, user = render(config, chunk)
        messages = self.opening(system, user)
        answer = await self.send(self.review_body(model, system, messages, config), client)
        input_tokens, output_tokens = self.usage(answer)
        try:
            output = parse_output(self.output(answer))
        except ValidationError as error:
            messages = [*messages, *self.repair(answer, error)]
            answer = await self.send(self.review_body(model, system, messages, config), client)
            more_input, more_output = self.usage(answer)
            input_tokens, output_tokens = input_tokens + more_input, output_tokens + more_output
            output = self._repaired(answer)
        return ReviewResult(
            findings=finish(output.findings, chunk, config),
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            model=str(answer.get("model", model)),
            provider=self.name,
            raw=answer,
        )

    def _repaired(self, answer: Mapping[str, Any]) -> ReviewOutput:
        try:
            return parse_output(self.output(answer))
        except ValidationError as error:
            raise BadResponse(
                f"answer still invalid after a repair attempt:\n{describe(error)}",
                provider=self.name,
            ) from error

    @abstractmethod
    def opening(self, system: str, user: str) -> list[dict[str, Any]]:
        """The conversation's first turns."""

    @abstractmethod
    def review_body(
        self, model: str, system: str, messages: list[dict[str, Any]], config: ReviewConfig
    ) -> dict[str, Any]:
        """The request body of a review call whose answer must fill the findings schema."""

    @abstractmethod
    async def send(
        self, body: Mapping[str, Any], client: aiohttp.ClientSession | None
    ) -> dict[str, Any]:
        """POST ``body`` to the API and return its decoded answer."""

    @abstractmethod
    def output(self, answer: Mapping[str, Any]) -> Any:
        """The findings payload of an answer, for ``parse_output``.

        Raises:
            BadResponse: the answer cannot be repaired (a refusal, no message).
        """

    @abstractmethod
    def usage(self, answer: Mapping[str, Any]) -> tuple[int, int]:
        """The answer's input and output tokens."""

    @abstractmethod
    def repair(self, answer: Mapping[str, Any], error: ValidationError) -> list[dict[str, Any]]:
        """The turns echoing the invalid ``answer`` and asking for a corrected one."""


def parse_output(payload: Any) -> ReviewOutput:
    """Validate a model's answer (a JSON string or an already decoded object).

    Raises:
        ValidationError: the answer is not JSON or does not match ``ReviewOutput``.
    """
    if isinstance(payload, str):
        return ReviewOutput.model_validate_json(payload)
    return ReviewOutput.model_validate(payload)


def describe(error: ValidationError) -> str:
    """The validation errors as lines a model can act on (no input values echoed)."""
    lines = []
    for item in error.errors(include_url=False, include_input=False):
        location = ".".join(str(part) for part in item["loc"]) or "(root)"
        lines.append(f"- {location}: {item['msg']}")
    return "\n".join(lines)


def finish(findings: list[Finding], chunk: Chunk, config: ReviewConfig) -> list[Finding]:
    """Clip to the chunk, apply the severity threshold and order by line."""
    kept = at_or_above(clip(findings, chunk), config.severity_threshold)
    return sorted(kept, key=lambda finding: (finding.line, finding.end_line, finding.rule))


def error_for_status(
    provider: str, status: int, message: str, headers: Mapping[str, str]
) -> ProviderError:
    """The ``ProviderError`` an HTTP error answer maps to."""
    if status == 429:
        return RateLimited(message, provider=provider, retry_after=retry_after(headers))
    if status == 529:
        return Overloaded(message, provider=provider, status=status)
    if status in (401, 403):
        return AuthError(message, provider=provider, status=status)
    if status >= 500:
        return ServerError(message, provider=provider, status=status)
    return InvalidRequest(message, provider=provider, status=status)


def retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds to wait from ``retry-after-ms`` (OpenAI) or ``retry-after`` (seconds)."""
    for name, scale in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            seconds = float(value) / scale
        except ValueError:
            continue
        if seconds >= 0:
            return seconds
    return None


def error_message(body: bytes, *, fallback: str) -> str:
    """The message of an OpenAI ``{"error": {...}}`` or Anthropic ``{"type": "error"}`` body."""
    try:
        decoded = json.loads(body)
    except ValueError:
        return fallback
    error = decoded.get("error") if isinstance(decoded, dict) else None
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        return str(error["message"])
    if isinstance(error, str):
        return error
    return fallback


async def post(
    url: str,
    body: Mapping[str, Any],
    *,
    provider: str,
    headers: Mapping[str, str],
    seconds: float,
    client: aiohttp.ClientSession | None,
) -> dict[str, Any]:
    """POST ``body`` as JSON, waiting ``seconds`` at most, and return the decoded answer.

    Not retried here: the router decides between retrying, waiting and falling back.

    Raises:
        ProviderError: the subclass matching the failure.
    """
    try:
        response = await upstream.post(
            url, json.dumps(body).encode(), headers=headers, seconds=seconds, client=client
        )
    except upstream.Unreachable as error:
        if error.timed_out:
            raise Timeout(f"no answer from {url} within {seconds:g}s", provider=provider) from error
        raise ServerError(f"could not reach {url} ({error})", provider=provider) from error
    if response.status >= 400:
        message = error_message(response.body, fallback=f"HTTP {response.status}")
        raise error_for_status(provider, response.status, message, response.headers)
    try:
        decoded = json.loads(response.body)
    except ValueError as error:
        raise BadResponse(f"answer from {url} is not JSON", provider=provider) from error
    if not isinstance(decoded, dict):
        raise BadResponse(f"answer from {url} is not a JSON object", provider=provider)
    return decoded
