"""The exception tree of the QPI SDK.

Every error the SDK raises on purpose derives from [`QPIError`][qpi.errors.QPIError]. Errors that
come from an
HTTP exchange ([`APIError`][qpi.errors.APIError] and its subclasses) carry the request method and
URL, the HTTP
status and the server's own message, so nothing the server said is lost. None of them ever
holds a token or a password: URLs carry no credentials and headers are never copied in.

For code written against the original client, the HTTP errors are also
`requests.HTTPError`, connection failures are `requests.ConnectionError`,
validation errors are `ValueError`, job failures and cancellations are
`RuntimeError` and timeouts are the built-in `TimeoutError`, so existing
``except`` clauses keep working.

The tree:

```text
QPIError
├── ValidationError           (also ValueError)
├── APIError                  (also requests.HTTPError)
│   ├── BadRequestError       (also ValueError)
│   ├── AuthenticationError
│   ├── NotFoundError
│   ├── RateLimitError
│   └── ServerError
├── ConnectionError           (also requests.ConnectionError)
│   └── AmbiguousRequestError
├── JobFailedError            (also RuntimeError)
├── JobCancelledError         (also RuntimeError)
├── JobTimeoutError           (also TimeoutError)
├── CacheError
│   └── CacheMissError        (also LookupError)
├── PluginError
└── MissingDependencyError    (also ModuleNotFoundError)
```

[`AmbiguousRequestError`][qpi.errors.AmbiguousRequestError] is the one error that leaves the outcome
open: a request that
is not safe to repeat (a create) failed after it may have reached the server, so it may or may
not have been applied. Job submissions never raise it (the client asks the server whether the
job was created before it sends again); other creates do, rather than risk a duplicate.
"""

from __future__ import annotations

import builtins
from typing import Any

import requests

__all__ = [
    "APIError",
    "AmbiguousRequestError",
    "AuthenticationError",
    "BadRequestError",
    "CacheError",
    "CacheMissError",
    "ConnectionError",
    "JobCancelledError",
    "JobFailedError",
    "JobTimeoutError",
    "LoginRequiredError",
    "MissingDependencyError",
    "NotFoundError",
    "PluginError",
    "QPIError",
    "RateLimitError",
    "ServerError",
    "ValidationError",
]


class QPIError(Exception):
    """Base class of every error raised by the QPI SDK."""


class ValidationError(QPIError, ValueError):
    """Bad input caught on the client, before any request was sent.

    The message names the offending value and says what would be accepted.
    """


class APIError(QPIError, requests.HTTPError):
    """The server answered with an error status.

    Attributes:
        status_code: The HTTP status (e.g. ``404``).
        method: The HTTP method of the request (e.g. ``"GET"``).
        url: The URL of the request (never contains credentials).
        server_message: The ``message`` field of the QPI error body, if there was one.
        data: The ``data`` field of the QPI error body (field errors), if there was one.
        response: The `requests.Response`, when the error came from a live exchange.
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        method: str | None = None,
        url: str | None = None,
        server_message: str | None = None,
        data: Any = None,
        response: requests.Response | None = None,
    ) -> None:
        super().__init__(message, response=response)
        self.status_code = status_code
        self.method = method
        self.url = url
        self.server_message = server_message
        self.data = data

    def __reduce__(self) -> tuple[Any, ...]:
        # Keep errors picklable (they cross process pools) without the live response.
        kwargs = {
            "status_code": self.status_code,
            "method": self.method,
            "url": self.url,
            "server_message": self.server_message,
            "data": self.data,
        }
        return (_rebuild_api_error, (type(self), str(self), kwargs))


def _rebuild_api_error(cls: type[APIError], message: str, kwargs: dict[str, Any]) -> APIError:
    return cls(message, **kwargs)


class BadRequestError(APIError, ValueError):
    """The server refused the request as malformed (HTTP 400 or 422)."""


class AuthenticationError(APIError):
    """The credentials were missing, wrong or insufficient (HTTP 401 or 403).

    A 403 also covers an exhausted QPU-seconds balance; the message says which.
    """


class LoginRequiredError(AuthenticationError):
    """Only a logged-in user can read this from the server; an API token cannot.

    Raised for a finished job on a QPI v0.1.2 server, whose job routes return the payload
    where the results belong: it shows the true results only to a user session. The message
    says how to log in (``client.auth_with_password(...)`` or ``qpi login --email ...``).
    """


class NotFoundError(APIError):
    """The job, QPU, token or record does not exist or is not yours (HTTP 404)."""


class RateLimitError(APIError):
    """The server asked the client to slow down (HTTP 429) and retries ran out.

    Attributes:
        retry_after: Seconds the server asked to wait, if it said.
    """

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class ServerError(APIError):
    """The server failed (HTTP 5xx) and retries ran out, or it answered something unreadable."""


class ConnectionError(QPIError, requests.ConnectionError):  # noqa: A001 - mirrors requests
    """The server could not be reached (refused, reset, DNS, or timed out) and retries ran out.

    Attributes:
        method: The HTTP method of the request.
        url: The URL of the request.
    """

    def __init__(self, message: str, *, method: str | None = None, url: str | None = None) -> None:
        super().__init__(message)
        self.method = method
        self.url = url

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (str(self),), {"method": self.method, "url": self.url})


class AmbiguousRequestError(ConnectionError):
    """A request that is not safe to repeat failed after it may have reached the server.

    It may or may not have been applied: the connection broke after the request was sent (a
    reset, a read timeout) or the server answered 5xx. The SDK does not resend it; look the
    record up before trying again.

    Attributes:
        cause: The underlying error (a ``requests`` exception, or an
            [`APIError`][qpi.errors.APIError] for a
            5xx answer).
        method: The HTTP method of the request.
        url: The URL of the request.
    """

    def __init__(
        self,
        message: str,
        cause: BaseException | None = None,
        *,
        method: str | None = None,
        url: str | None = None,
    ) -> None:
        super().__init__(message, method=method, url=url)
        self.cause = cause

    def __reduce__(self) -> tuple[Any, ...]:
        # The cause crosses a pickle only when it is one of ours (a requests exception may
        # hold a live connection).
        cause = self.cause if isinstance(self.cause, QPIError) else None
        return (type(self), (str(self), cause), {"method": self.method, "url": self.url})


class JobFailedError(QPIError, RuntimeError):
    """The job ran and failed; the message carries the server's (or driver's) explanation.

    Attributes:
        job_id: The failed job's id.
        server_message: The error text the QPU driver reported.
    """

    def __init__(
        self, message: str, *, job_id: str | None = None, server_message: str = ""
    ) -> None:
        super().__init__(message)
        self.job_id = job_id
        self.server_message = server_message

    def __reduce__(self) -> tuple[Any, ...]:
        return (
            type(self),
            (str(self),),
            {"job_id": self.job_id, "server_message": self.server_message},
        )


class JobCancelledError(QPIError, RuntimeError):
    """The job was cancelled before it produced a result.

    Attributes:
        job_id: The cancelled job's id.
    """

    def __init__(self, message: str, *, job_id: str | None = None) -> None:
        super().__init__(message)
        self.job_id = job_id

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (str(self),), {"job_id": self.job_id})


class JobTimeoutError(QPIError, builtins.TimeoutError):
    """The job did not reach a final state within the given timeout.

    The job keeps running on the server; wait again with the same job id to collect it.

    Attributes:
        job_id: The job's id.
        timeout: The timeout that expired, in seconds.
    """

    def __init__(
        self, message: str, *, job_id: str | None = None, timeout: float | None = None
    ) -> None:
        super().__init__(message)
        self.job_id = job_id
        self.timeout = timeout

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (str(self),), {"job_id": self.job_id, "timeout": self.timeout})


class CacheError(QPIError):
    """The cache (or a cache export file) is unreadable, corrupt or was tampered with."""


class CacheMissError(CacheError, LookupError):
    """Replay mode was asked for something the cache does not hold.

    Attributes:
        fingerprint: The payload fingerprint (or job id) that was looked up.
    """

    def __init__(self, message: str, *, fingerprint: str | None = None) -> None:
        super().__init__(message)
        self.fingerprint = fingerprint

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (str(self),), {"fingerprint": self.fingerprint})


class PluginError(QPIError):
    """No installed plugin knows how to handle the given object (or a plugin broke)."""


class MissingDependencyError(QPIError, ModuleNotFoundError):
    """An optional part of qpi was used without the extra that installs what it needs.

    The message names the part, the missing package and the ``pip install`` line that brings
    it; ``name`` is the missing module, as for any `ModuleNotFoundError`.
    """
