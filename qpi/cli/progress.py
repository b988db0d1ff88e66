"""A spinner with the job's status and the time waited, on stderr while a command waits.

It is drawn only when stderr is a terminal, so pipes, files, ``--json`` consumers and CI logs
see nothing of it, and it is erased when the wait ends.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["ProgressCallback", "job_progress"]

ProgressCallback = Callable[[dict[str, Any], float], None]
"""What :func:`job_progress` yields: ``callback(record, elapsed)``.

It has the signature of ``QPIClient.wait_for_job(callback=...)`` and
``Job.result(callback=...)``.
"""


class _JobLine:
    """The renderable of the spinner: re-read on every refresh, so the clock keeps ticking."""

    def __init__(self, job_id: str) -> None:
        from rich.spinner import Spinner

        self.job_id = job_id
        self.status = "submitted"
        self.start = time.monotonic()
        self.spinner = Spinner("dots", style="cyan")

    def update(self, record: dict[str, Any], elapsed: float) -> None:
        self.status = str(record.get("status") or self.status)

    def __rich__(self) -> Any:
        elapsed = time.monotonic() - self.start
        self.spinner.update(text=f"job {self.job_id}  {self.status}  {elapsed:6.1f} s")
        return self.spinner


@contextmanager
def job_progress(job_id: str, *, enabled: bool | None = None) -> Iterator[ProgressCallback]:
    """Show a spinner for ``job_id`` on stderr while the body waits on it.

    Args:
        job_id: The job being waited on.
        enabled: Force the spinner on or off; ``None`` draws it when stderr is a terminal.

    Yields:
        The callback to pass to the wait, which updates the shown status.
    """
    if enabled is None:
        enabled = sys.stderr.isatty()
    if not enabled:
        yield lambda record, elapsed: None
        return
    from rich.console import Console
    from rich.live import Live

    line = _JobLine(job_id)
    with Live(line, console=Console(stderr=True), refresh_per_second=12, transient=True):
        yield line.update
