"""What the exit status of a ``qpi`` command means, and which error maps to which status.

Scripts can tell the failures apart without reading the message: a job that failed on the QPU
(1) is not a typo on the command line (2), a wrong token (4) or a server that is down (5).
"""

from __future__ import annotations

from enum import IntEnum

from qpi import errors

__all__ = ["EXIT_CODES_HELP", "ExitCode", "exit_code_for"]


class ExitCode(IntEnum):
    """The exit statuses of the ``qpi`` command."""

    OK = 0
    """The command did what it was asked."""
    JOB_FAILED = 1
    """The job ran and failed ([`JobFailedError`][qpi.errors.JobFailedError])."""
    USAGE = 2
    """The command line is wrong (click's usage errors)."""
    NOT_FOUND = 3
    """The job or QPU does not exist ([`NotFoundError`][qpi.errors.NotFoundError])."""
    AUTHENTICATION = 4
    """The token or password was refused (`AuthenticationError`)."""
    CONNECTION = 5
    """The server could not be reached ([`ConnectionError`][qpi.errors.ConnectionError])."""
    TIMEOUT = 6
    """The job did not finish in time ([`JobTimeoutError`][qpi.errors.JobTimeoutError])."""
    CANCELLED = 7
    """The job was cancelled ([`JobCancelledError`][qpi.errors.JobCancelledError])."""
    CACHE_MISS = 8
    """Replay mode was asked for what the cache lacks (`CacheMissError`)."""
    BAD_INPUT = 9
    """The input is bad: a circuit, a parameter row, a config file or a cache export.

    Raised as [`ValidationError`][qpi.errors.ValidationError],
    [`BadRequestError`][qpi.errors.BadRequestError] or
    [`CacheError`][qpi.errors.CacheError].
    """
    OTHER = 10
    """Any other error: the server failed or answered nonsense, a plugin is missing, ...

    Raised as [`ServerError`][qpi.errors.ServerError],
    [`RateLimitError`][qpi.errors.RateLimitError],
    [`PluginError`][qpi.errors.PluginError], or anything not listed above.
    """
    INTERRUPTED = 130
    """Interrupted with Ctrl-C."""


# Most specific first: CacheMissError is a CacheError, BadRequestError an APIError, and so on.
_MAPPING: tuple[tuple[type[BaseException], ExitCode], ...] = (
    (errors.JobFailedError, ExitCode.JOB_FAILED),
    (errors.NotFoundError, ExitCode.NOT_FOUND),
    (errors.AuthenticationError, ExitCode.AUTHENTICATION),
    (errors.ConnectionError, ExitCode.CONNECTION),
    (errors.JobTimeoutError, ExitCode.TIMEOUT),
    (errors.JobCancelledError, ExitCode.CANCELLED),
    (errors.CacheMissError, ExitCode.CACHE_MISS),
    (errors.ValidationError, ExitCode.BAD_INPUT),
    (errors.BadRequestError, ExitCode.BAD_INPUT),
    (errors.CacheError, ExitCode.BAD_INPUT),
)

EXIT_CODES_HELP = """\b
Exit status:
  0  success                         6  the job timed out
  1  the job failed                  7  the job was cancelled
  2  usage error                     8  cache miss in replay mode
  3  job or QPU not found            9  bad input (circuit, parameters, export file)
  4  authentication failed          10  server error or other failure
  5  cannot reach the server       130  interrupted
Set QPI_DEBUG=1 to see a traceback instead of a one-line error."""
"""The exit statuses as shown at the end of ``qpi --help``.

A ``\\b`` line keeps click from re-wrapping the block.
"""


def exit_code_for(exc: BaseException) -> ExitCode:
    """The exit status a command ends with when ``exc`` stops it.

    Args:
        exc: The error that ended the command.

    Returns:
        The matching [`ExitCode`][qpi.cli.exitcodes.ExitCode];
        [`ExitCode.OTHER`][qpi.cli.exitcodes.ExitCode.OTHER] for anything unlisted.
    """
    for kind, code in _MAPPING:
        if isinstance(exc, kind):
            return code
    return ExitCode.OTHER
