"""A spinner with the job's status and the time waited, on stderr while a command waits.

It is drawn only when stderr is a terminal, so pipes, files, ``--json`` consumers and CI logs
see nothing of it, and it is erased when the wait ends. A small thread redraws it so the clock
keeps ticking between polls.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TextIO

import click

__all__ = ["ProgressCallback", "job_progress", "still_running_on_interrupt"]

ProgressCallback = Callable[[dict[str, Any], float], None]
"""What [`job_progress`][qpi.cli.progress.job_progress] yields: ``callback(record, elapsed)``.

It has the signature of ``QPIClient.wait_for_job(callback=...)`` and
``Job.result(callback=...)``.
"""

_FRAMES = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
_REFRESH = 0.1  # seconds between redraws


class _Spinner:
    """One line on a terminal: frame, job id, last status seen, time waited."""

    def __init__(self, job_id: str, stream: TextIO) -> None:
        self.job_id = job_id
        self.stream = stream
        self.status = "submitted"
        self.start = time.monotonic()
        self.stopped = threading.Event()

    def update(self, record: dict[str, Any], elapsed: float) -> None:
        self.status = str(record.get("status") or self.status)

    def run(self) -> None:
        frame = 0
        while not self.stopped.wait(_REFRESH):
            elapsed = time.monotonic() - self.start
            glyph = _FRAMES[frame % len(_FRAMES)]
            self.stream.write(
                f"\r\x1b[2K{glyph} job {self.job_id}  {self.status}  {elapsed:6.1f} s"
            )
            self.stream.flush()
            frame += 1
        self.stream.write("\r\x1b[2K")
        self.stream.flush()


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
    spinner = _Spinner(job_id, sys.stderr)
    thread = threading.Thread(target=spinner.run, name="qpi-progress", daemon=True)
    thread.start()
    try:
        yield spinner.update
    finally:
        spinner.stopped.set()
        thread.join()


@contextmanager
def still_running_on_interrupt(job_id: str) -> Iterator[None]:
    """On Ctrl-C while waiting, say that the job keeps running and how to get back to it.

    The interrupt still ends the command (exit status 130); only the wait stops.
    """
    try:
        yield
    except KeyboardInterrupt:
        click.echo(
            f"\nStopped waiting; job {job_id} keeps running on the server. "
            f"Collect it with `qpi jobs wait {job_id}`, or stop it with "
            f"`qpi jobs cancel {job_id}`.",
            err=True,
        )
        raise
