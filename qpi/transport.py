"""HTTP transport: sessions, timeouts, retries and error mapping, kept out of the endpoints.

[`Transport`][qpi.transport.Transport] sends one logical request and returns the decoded JSON body.
It owns a
`requests.Session` per thread (sessions are not thread-safe), applies connect and read
timeouts to every request, retries idempotent requests with exponential backoff and full
jitter on connection errors, 429 (honouring ``Retry-After``), 502, 503 and 504, and turns
error answers into the typed errors of [`qpi.errors`][qpi.errors], carrying the server's message.

Moving the bytes is the job of a one-method transport underneath, as in httpx:
[`HTTPTransport`][qpi.transport.HTTPTransport] sends over the network and
[`ReplayTransport`][qpi.transport.ReplayTransport] refuses to (replay mode), so the policies
above never need to know which one they drive.

A non-idempotent request (a job submission) is retried only when the failure proves the server
never accepted it: the connection could not be opened, or the server answered 429. Any other
failure raises [`AmbiguousRequestError`][qpi.errors.AmbiguousRequestError] (a connection error, also
importable
from here) so the caller can ask the server what happened.

Whatever the server does, a call ends by its deadline (``Timeouts.total``, or the deadline of
the wait it belongs to): bodies are streamed with the deadline checked between reads, retries
never sleep past it, and a ``Retry-After`` beyond it raises at once. Bodies are capped
(decompressed with a bound), redirects are followed only to the same origin, and URLs and
headers in errors carry no credentials (see ``qpi._http``).
"""

from __future__ import annotations

import base64
import email.utils
import hashlib
import json
import logging
import random
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import quote

import requests
from urllib3.exceptions import MaxRetryError, NameResolutionError, NewConnectionError

from qpi import errors
from qpi._http import deadlines
from qpi._http.bodies import (
    ACCEPT_ENCODING,
    MAX_RESPONSE_BYTES,
    BodyTooLarge,
    BodyUnreadable,
    load_json,
    read_body,
)
from qpi._http.origins import MAX_REDIRECTS, REDIRECT_STATUSES, redirect_target, same_origin
from qpi._http.redact import redact_headers, redact_text, redact_url
from qpi.errors import AmbiguousRequestError

__all__ = [
    "AmbiguousRequestError",
    "BaseTransport",
    "Credentials",
    "HTTPTransport",
    "ReplayTransport",
    "RetryPolicy",
    "Timeouts",
    "Transport",
    "quote_segment",
]

#: Retries and reconnects are logged here at DEBUG (the "qpi" logger's tree).
LOGGER = logging.getLogger("qpi.transport")

#: Statuses retried for idempotent requests.
RETRY_STATUSES: frozenset[int] = frozenset({429, 502, 503, 504})


def quote_segment(value: str) -> str:
    """URL-encode one path segment (a job id, a QPU name), slashes included."""
    return quote(str(value), safe="")


@dataclass(frozen=True)
class Timeouts:
    """Timeouts in seconds.

    Attributes:
        connect: Time allowed to open the TCP connection.
        read: Time allowed between bytes of the answer.
        total: Time allowed for one call, retries and the whole body included; ``None``
            means ``connect + read``. A wait with a timeout bounds its calls by its own
            deadline too.
    """

    connect: float = 5.0
    read: float = 30.0
    total: float | None = None

    @property
    def overall(self) -> float:
        """The budget of one call: ``total``, else ``connect + read``."""
        return self.total if self.total is not None else self.connect + self.read

    @classmethod
    def coerce(cls, value: Timeouts | float | tuple[float, float] | None) -> Timeouts:
        """Build from a number (both), a ``(connect, read)`` pair, or ``None`` (defaults)."""
        if value is None:
            return cls()
        if isinstance(value, Timeouts):
            return value
        if isinstance(value, tuple):
            return cls(float(value[0]), float(value[1]))
        return cls(float(value), float(value))


@dataclass(frozen=True)
class RetryPolicy:
    """How failed requests are retried.

    Attributes:
        attempts: Total tries of one request (1 disables retries).
        backoff: First backoff in seconds; it doubles each retry, with full jitter.
        max_backoff: Cap of one backoff sleep.
        max_retry_after: Longest ``Retry-After`` honoured; a longer one raises at once.
        statuses: HTTP statuses retried for idempotent requests.
    """

    attempts: int = 5
    backoff: float = 0.1
    max_backoff: float = 5.0
    max_retry_after: float = 60.0
    statuses: frozenset[int] = field(default=RETRY_STATUSES)

    def delay(self, attempt: int, rng: random.Random) -> float:
        """Sleep before retry number ``attempt`` (1-based): full jitter over the backoff."""
        return rng.uniform(0, min(self.max_backoff, self.backoff * 2 ** (attempt - 1)))


#: Longest session token whose claims are read for the cache identity.
_MAX_SESSION_TOKEN = 8192


def session_subject(token: str) -> str | None:
    """The user a PocketBase session token names (``collectionId/id``), or None.

    Reads the token's claims without checking its signature: the answer only scopes cache
    entries on this machine, and the server checks the token on every request. A token that
    is not a readable JWT naming a record gives None (the caller falls back to its digest).
    """
    parts = token.split(".")
    if len(token) > _MAX_SESSION_TOKEN or len(parts) != 3:
        return None
    try:
        padded = parts[1] + "=" * (-len(parts[1]) % 4)
        claims = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (ValueError, UnicodeError, RecursionError):
        return None
    if not isinstance(claims, dict):
        return None
    record = claims.get("id")
    collection = claims.get("collectionId") or claims.get("collectionName") or ""
    if not isinstance(record, str) or not record or not isinstance(collection, str):
        return None
    return f"{collection}/{record}"


class Credentials:
    """The credentials a client sends, safe to share between threads.

    Holds an API token (sent as ``X-API-Token``) and, after a password login, a session token
    (sent as ``Authorization: Bearer``). Their values never appear in ``repr``.
    """

    def __init__(self, api_token: str | None = None) -> None:
        self._lock = threading.Lock()
        self._api_token = api_token or None
        self._session_token: str | None = None

    def set_session_token(self, token: str | None) -> None:
        """Use ``token`` (from a password login) as ``Authorization: Bearer``."""
        with self._lock:
            self._session_token = token or None

    @property
    def has_api_token(self) -> bool:
        """Whether an API token is configured."""
        return self._api_token is not None

    @property
    def has_session_token(self) -> bool:
        """Whether a password login has supplied a session token."""
        return self._session_token is not None

    @property
    def session_token(self) -> str | None:
        """The session token, if any (to check its expiry and renew it)."""
        with self._lock:
            return self._session_token

    def identity(self) -> str:
        """Who these credentials are, for scoping cache entries: a digest, never a token.

        ``token:<digest>`` for an API token; ``user:<digest>`` for a session token alone, from
        the user record the session names, so a renewed session or a new login of the same
        user keeps its cache entries; ``anonymous`` for neither.
        """
        with self._lock:
            secret, kind = (
                (self._api_token, "token") if self._api_token else (self._session_token, "session")
            )
        if not secret:
            return "anonymous"
        if kind == "session":
            subject = session_subject(secret)
            if subject is not None:
                secret, kind = subject, "user"
        digest = hashlib.sha256(b"qpi-cache-identity\0" + secret.encode()).hexdigest()
        return f"{kind}:{digest[:24]}"

    def headers(self) -> dict[str, str]:
        """The authentication headers for one request."""
        with self._lock:
            out = {}
            if self._api_token:
                out["X-API-Token"] = self._api_token
            if self._session_token:
                out["Authorization"] = f"Bearer {self._session_token}"
            return out

    def __repr__(self) -> str:
        return (
            f"Credentials(api_token={'<set>' if self._api_token else None}, "
            f"session={'<set>' if self._session_token else None})"
        )


class BaseTransport(Protocol):
    """The one method that moves a request; [`Transport`][qpi.transport.Transport] sits above."""

    def handle_request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None,
        body: bytes | None,
        headers: dict[str, str],
        timeout: tuple[float, float],
    ) -> requests.Response:
        """Send one request once and return the response, its body not read yet.

        No retries, no redirects followed, no error mapping: the policies above do those.

        Raises:
            requests.RequestException: When the request could not be completed.
        """

    def close(self) -> None:
        """Release connections."""


class HTTPTransport:
    """Sends requests over the network, with one `requests.Session` per thread.

    Args:
        base_url: Root URL of the server (proxies are settled for it once per session).
        user_agent: The ``User-Agent`` header.
    """

    def __init__(self, base_url: str, user_agent: str = "qpi-sdk") -> None:
        self.base_url = base_url.rstrip("/")
        self.user_agent = user_agent
        self._local = threading.local()
        self._sessions: list[requests.Session] = []
        self._sessions_lock = threading.Lock()

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.headers["User-Agent"] = self.user_agent
            session.headers["Accept"] = "application/json"
            session.headers["Accept-Encoding"] = ACCEPT_ENCODING  # what read_body can bound
            _settle_environment(session, self.base_url)
            self._local.session = session
            with self._sessions_lock:
                self._sessions.append(session)
        return session

    def close(self) -> None:
        """Close every thread's session."""
        with self._sessions_lock:
            sessions, self._sessions = self._sessions, []
        for session in sessions:
            session.close()
        self._local = threading.local()

    def handle_request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None,
        body: bytes | None,
        headers: dict[str, str],
        timeout: tuple[float, float],
    ) -> requests.Response:
        """Send one request on this thread's session; the body is streamed, not read."""
        return self._session().request(
            method,
            url,
            params=params,
            data=body,
            headers=headers,
            timeout=timeout,
            allow_redirects=False,
            stream=True,
        )


class ReplayTransport:
    """A transport that refuses the network: what a client in replay mode sends through.

    Every request raises [`CacheMissError`][qpi.errors.CacheMissError], naming the request,
    so nothing in replay mode can ever open a connection.
    """

    def handle_request(self, method: str, url: str, **_: Any) -> requests.Response:
        """Refuse the request.

        Raises:
            CacheMissError: Always.
        """
        raise errors.CacheMissError(
            f"replay mode makes no network requests, and {method} {redact_url(url)} is not "
            "answered by the cache; switch to cache_mode='reuse' to reach the server"
        )

    def close(self) -> None:
        """Nothing to release."""


class Transport:
    """Sends requests to one QPI server with timeouts, retries and typed errors.

    Args:
        base_url: Root URL of the server, e.g. ``http://localhost:8090``.
        credentials: What to authenticate with.
        timeouts: Connect and read timeouts.
        retry: The retry policy.
        user_agent: The ``User-Agent`` header.
        max_response_bytes: Largest decoded answer accepted; a larger one raises
            [`ServerError`][qpi.errors.ServerError] without being held in memory.
        transport: What moves the bytes (default: an
            [`HTTPTransport`][qpi.transport.HTTPTransport]; replay mode passes a
            [`ReplayTransport`][qpi.transport.ReplayTransport]).
    """

    def __init__(
        self,
        base_url: str,
        credentials: Credentials,
        *,
        timeouts: Timeouts | None = None,
        retry: RetryPolicy | None = None,
        user_agent: str = "qpi-sdk",
        max_response_bytes: int = MAX_RESPONSE_BYTES,
        transport: BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.max_response_bytes = max_response_bytes
        self.credentials = credentials
        self.timeouts = timeouts or Timeouts()
        self.retry = retry or RetryPolicy()
        self.user_agent = user_agent
        self._wire: BaseTransport = transport or HTTPTransport(self.base_url, user_agent)
        self._rng = random.Random()

    def close(self) -> None:
        """Close the connections of the transport underneath."""
        self._wire.close()

    # -- requests -------------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        json_text: str | None = None,
        idempotent: bool | None = None,
        gone_means_done: bool | None = None,
    ) -> Any:
        """Send one request (retrying as the policy allows) and return the decoded JSON.

        Args:
            method: HTTP method.
            path: Path below the base URL, starting with ``/``; segments already quoted.
            params: Query parameters.
            json_body: A JSON-serialisable body (sent with ``Content-Type: application/json``).
            json_text: A body already serialised to JSON text, sent as it is (instead of
                ``json_body``).
            idempotent: Whether repeating the request is harmless. Defaults to ``True`` for
                GET, PUT, DELETE, HEAD and OPTIONS.
            gone_means_done: Whether a 404 to a retry, after an attempt whose answer was lost,
                means that attempt did the job (the record it deleted or cancelled is gone)
                and so is a success answered with ``None``. Defaults to ``True`` for DELETE.

        Returns:
            The decoded JSON body, or ``None`` for an empty body (e.g. 204).

        Raises:
            APIError: A subclass matching the error status, with the server's message.
            ConnectionError: The server could not be reached and retries ran out.
            AmbiguousRequestError: A non-idempotent request failed after it may have arrived.
        """
        method = method.upper()
        if idempotent is None:
            idempotent = method in ("GET", "HEAD", "PUT", "DELETE", "OPTIONS")
        url = self.base_url + path
        shown = redact_url(url)
        body = None
        if json_text is not None:
            body = json_text.encode()
        elif json_body is not None:
            body = json.dumps(json_body, separators=(",", ":"), allow_nan=False).encode()
        if gone_means_done is None:
            gone_means_done = method == "DELETE"
        deadline = time.monotonic() + self.timeouts.overall
        outer = deadlines.current()
        if outer is not None:
            deadline = min(deadline, outer)
        attempt = 0
        maybe_applied = False  # an earlier attempt may have been carried out
        while True:
            attempt += 1
            last = attempt >= self.retry.attempts
            try:
                response = self._send(method, url, params, body, deadline)
            except errors.QPIError:
                raise  # a verdict on the answer (refused redirect, hostile body), not a fault
            except requests.RequestException as exc:
                maybe_applied = maybe_applied or not _never_sent(exc)
                if not idempotent and not _never_sent(exc):
                    raise AmbiguousRequestError(
                        f"{method} {path}: the connection failed after the request may have "
                        f"reached the server ({_describe(exc)})",
                        exc,
                        method=method,
                        url=shown,
                    ) from exc
                wait = self.retry.delay(attempt, self._rng)
                permanent = _permanent(exc)
                if last or permanent or time.monotonic() + wait >= deadline:
                    raise errors.ConnectionError(
                        f"{method} {shown} failed after {attempt} attempt(s): {_describe(exc)}. "
                        + (permanent or "Check that the server is running and the URL is right."),
                        method=method,
                        url=shown,
                    ) from exc
                LOGGER.debug(
                    "%s %s: %s; reconnecting in %.2f s (attempt %d of %d)",
                    *(method, shown, _describe(exc), wait, attempt + 1, self.retry.attempts),
                )
                time.sleep(wait)
                continue
            status = response.status_code
            if status < 400:
                return _decode(response, method, shown)
            if status == 404 and gone_means_done and maybe_applied:
                return None  # the attempt whose answer was lost deleted (or cancelled) it
            maybe_applied = maybe_applied or status >= 500
            retryable = status in self.retry.statuses and (idempotent or status == 429)
            if not retryable:
                error = error_from_response(response, method, shown)
                if not idempotent and status >= 500:
                    raise AmbiguousRequestError(
                        str(error), error, method=method, url=shown
                    ) from error
                raise error
            wait = self._retry_wait(response, attempt)
            # Never sleep past the deadline: a wait the caller cannot afford raises now.
            if last or wait is None or time.monotonic() + wait >= deadline:
                raise error_from_response(response, method, shown)
            LOGGER.debug(
                "%s %s answered %d; retrying in %.2f s (attempt %d of %d)",
                *(method, shown, status, wait, attempt + 1, self.retry.attempts),
            )
            time.sleep(wait)

    def _send(
        self,
        method: str,
        url: str,
        params: Mapping[str, Any] | None,
        body: bytes | None,
        deadline: float,
    ) -> requests.Response:
        """One attempt: same-origin redirects followed, the body read under the deadline."""
        start_url = url
        for _ in range(MAX_REDIRECTS + 1):
            response = self._send_once(method, url, params, body, deadline)
            location = response.headers.get("Location")
            if response.status_code not in REDIRECT_STATUSES or not location:
                return self._read(response, deadline)
            response.close()
            target = redirect_target(url, location)
            if not same_origin(start_url, target):
                raise _cross_origin(method, start_url, target, response.status_code)
            if response.status_code not in (307, 308):
                method, body = ("HEAD" if method == "HEAD" else "GET"), None
            url, params = target, None  # the Location carries its own query
        raise errors.APIError(
            f"{method} {redact_url(start_url)} was redirected more than {MAX_REDIRECTS} times",
            status_code=response.status_code,
            method=method,
            url=redact_url(start_url),
        )

    def _send_once(
        self,
        method: str,
        url: str,
        params: Mapping[str, Any] | None,
        body: bytes | None,
        deadline: float,
    ) -> requests.Response:
        left = deadline - time.monotonic()
        if left <= 0:
            raise requests.ReadTimeout("the deadline passed before the request was sent")
        headers = self.credentials.headers()
        if body is not None:
            headers["Content-Type"] = "application/json"
        return self._wire.handle_request(
            method,
            url,
            params=params,
            body=body,
            headers=headers,
            timeout=(min(self.timeouts.connect, left), min(self.timeouts.read, left)),
        )

    def _read(self, response: requests.Response, deadline: float) -> requests.Response:
        """Read the streamed body (bounded in time and size) into the response."""
        try:
            content = read_body(
                response,
                deadline=deadline,
                read_timeout=self.timeouts.read,
                max_bytes=self.max_response_bytes,
            )
        except (BodyTooLarge, BodyUnreadable) as exc:
            response.close()
            url = redact_url(response.url)
            what = (
                f"is larger than the client's limit of {self.max_response_bytes} bytes"
                if isinstance(exc, BodyTooLarge)
                else f"cannot be read: {exc}"
            )
            raise errors.ServerError(
                f"{response.request.method} {url} answered {response.status_code} with a body "
                f"that {what}; is this a QPI server?",
                status_code=response.status_code,
                method=response.request.method,
                url=url,
            ) from None
        finally:
            response.close()
        response._content = content  # what requests itself sets once a body is read
        # An error carries its response: never its credentials.
        redact_headers(response.request.headers)
        response.request.url = redact_url(response.request.url or "")
        response.url = redact_url(response.url)
        return response

    def _retry_wait(self, response: requests.Response, attempt: int) -> float | None:
        """Seconds to wait before retrying, or ``None`` if the server asks for too long."""
        backoff = self.retry.delay(attempt, self._rng)
        after = parse_retry_after(response.headers.get("Retry-After"))
        if after is None:
            return backoff
        if after > self.retry.max_retry_after:
            return None
        return max(after, backoff)


def _cross_origin(method: str, url: str, target: str, status: int) -> errors.APIError:
    shown = redact_url(target)
    return errors.APIError(
        f"{method} {redact_url(url)} was redirected ({status}) to another origin, {shown}; "
        "the client never sends credentials or a job to another scheme, host or port. If the "
        f"server has moved, point the client at it (base_url / QPI_URL = {shown!r}).",
        status_code=status,
        method=method,
        url=redact_url(url),
    )


def _settle_environment(session: requests.Session, base_url: str) -> None:
    """Read proxies, the CA bundle and ``.netrc`` from the environment once per session.

    ``requests`` reads them again for every request when ``trust_env`` is on, which costs
    about a quarter of a small request's client time (~0.15 ms). Every request of a session
    goes to the same scheme and host, so the answer is the same each time: take it once and
    turn the per-request lookup off.
    """
    settings = session.merge_environment_settings(base_url, {}, None, None, None)
    session.proxies.update(settings["proxies"] or {})
    session.verify = settings["verify"]
    if session.auth is None:
        session.auth = requests.utils.get_netrc_auth(base_url)
    session.trust_env = False


def _never_sent(exc: requests.RequestException) -> bool:
    """Whether a failure happened before any byte of the request left the client."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    reason = exc.args[0] if exc.args else None
    if isinstance(reason, MaxRetryError):
        reason = reason.reason
    # Refused connections and failed name lookups never reach the server.
    return isinstance(reason, NewConnectionError)


def _permanent(exc: requests.RequestException) -> str | None:
    """What to fix when retrying cannot help (a TLS or name-lookup failure), else ``None``."""
    if isinstance(exc, requests.exceptions.SSLError):
        if "wrong version number" in str(exc).lower() or "record layer" in str(exc).lower():
            return "The server does not speak TLS: use an http:// URL instead of https://."
        return "Check the server's certificate, or the CA bundle (REQUESTS_CA_BUNDLE)."
    reason = exc.args[0] if exc.args else None
    if isinstance(reason, MaxRetryError):
        reason = reason.reason
    if isinstance(reason, NameResolutionError):
        return "The host name does not resolve: check the URL's spelling and your network."
    return None


def _describe(exc: BaseException) -> str:
    if isinstance(exc, requests.ConnectTimeout):
        return "timed out while connecting"
    if isinstance(exc, requests.ReadTimeout):
        return "timed out waiting for the answer"
    if isinstance(exc, requests.exceptions.SSLError):
        return "the TLS handshake failed"
    text = redact_text(str(exc))
    if "Connection refused" in text:
        return "connection refused"
    if "Name or service not known" in text or "NameResolutionError" in text:
        return "the host name could not be resolved"
    if "reset" in text.lower() or "aborted" in text.lower():
        return "connection reset"
    return f"{type(exc).__name__}: {_clip_words(text, 200)}"


def _clip_words(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters at a word boundary, marked with "..."."""
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0].rstrip(",;:(") + " ..."


def _decode(response: requests.Response, method: str, url: str) -> Any:
    if not response.content:
        return None
    try:
        return load_json(response.content)
    except ValueError as exc:
        what = str(exc) if isinstance(exc, BodyUnreadable) else "a body that is not JSON"
        raise errors.ServerError(
            f"{method} {url} answered {response.status_code} with {what} "
            f"({response.content[:120]!r}); is this a QPI server?",
            status_code=response.status_code,
            method=method,
            url=url,
            response=response,
        ) from None


def parse_retry_after(value: str | None) -> float | None:
    """Parse a ``Retry-After`` header (seconds or an HTTP date) into seconds from now."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


_HINTS: dict[int, str] = {
    401: "Check your API token (QPI_API_TOKEN, `qpi login`, or api_token=...).",
    404: "Check the id or name; jobs of other users are not visible.",
    413: "The request is too large; split the job into smaller ones.",
    429: "The server is rate-limiting this client; wait and try again.",
}


def error_from_response(response: requests.Response, method: str, url: str) -> errors.APIError:
    """Build the typed error for an error answer, keeping the server's message and data."""
    status = response.status_code
    server_message, data = None, None
    url = redact_url(url)
    try:
        body = load_json(response.content) if response.content else None
    except ValueError:
        body = None
    if isinstance(body, Mapping):
        server_message = body.get("message") or body.get("detail") or body.get("error")
        data = body.get("data") or None
        if not isinstance(server_message, str):
            server_message = json.dumps(server_message) if server_message else None
    elif response.text:
        server_message = response.text.strip()[:300]
    path = url.split("://", 1)[-1]
    path = path[path.find("/") :] if "/" in path else path
    text = f"{method} {path} failed with HTTP {status}"
    if server_message:
        text += f": {server_message}"
    if data:
        text += f" (details: {json.dumps(data, default=str)[:300]})"
    hint = _hint(status, server_message or "", url)
    if hint:
        text += f" {hint}"
    cls = _error_class(status)
    kwargs: dict[str, Any] = {
        "status_code": status,
        "method": method,
        "url": url,
        "server_message": server_message,
        "data": data,
        "response": response,
    }
    if cls is errors.RateLimitError:
        kwargs["retry_after"] = parse_retry_after(response.headers.get("Retry-After"))
    return cls(text, **kwargs)


def _hint(status: int, message: str, url: str = "") -> str:
    lowered = message.lower()
    if status == 404 and "/api/api/" in url:
        return (
            "The server URL ends in /api, and the client adds /api itself: give the server's "
            "root URL (e.g. http://host:8090)."
        )
    if status == 403 and "qpu seconds" in lowered:
        return "Ask for more QPU time (client.create_time_request) or an admin allocation."
    if status == 403 and "admin" in lowered:
        return "This call needs a superuser login (auth_with_password(..., superuser=True))."
    return _HINTS.get(status, "")


def _error_class(status: int) -> type[errors.APIError]:
    if status in (401, 403):
        return errors.AuthenticationError
    if status == 404:
        return errors.NotFoundError
    if status == 429:
        return errors.RateLimitError
    if status >= 500:
        return errors.ServerError
    if status in (400, 413, 422):
        return errors.BadRequestError
    return errors.APIError
