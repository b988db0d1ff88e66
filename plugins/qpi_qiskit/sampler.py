"""``QPISampler``: Qiskit's ``SamplerV2`` primitive on a QPI QPU, one job per ``run``.

Every PUB of a ``run`` goes into ONE job: each PUB's circuit is sent once, unbound, with one
parameter row per binding of its ``BindingsArray`` (flattened in C order), and the server binds
them. Results come back as one ``BitArray`` per classical register, shaped like the bindings.
Shots within an experiment are synthesised from its counts (the QPU returns counts), so their
order carries no information; the registers of one shot always come from the same shot.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from qiskit.primitives import (
    BasePrimitiveJob,
    BaseSamplerV2,
    DataBin,
    PrimitiveResult,
    SamplerPubResult,
)
from qiskit.primitives.containers.sampler_pub import SamplerPub, SamplerPubLike
from qiskit.providers import JobStatus

from qpi import errors
from qpi.hooks import TranslatedCircuit
from qpi_qiskit.convert import translate
from qpi_qiskit.job import QPIJob, QPIJobTimeoutError
from qpi_qiskit.result import bit_arrays

if TYPE_CHECKING:
    from qpi_qiskit.backend import QPIBackend

__all__ = ["QPISampler", "QPISamplerJob"]


class QPISampler(BaseSamplerV2):
    """Qiskit's ``SamplerV2`` on a QPI QPU: all PUBs of a ``run`` in one job.

    Circuits need not be transpiled: gates outside OpenQASM 3's standard set are decomposed,
    and the QPU's driver maps circuits to its hardware.

    Args:
        backend: The backend whose QPU runs the jobs.
        default_shots: Shots for PUBs that set none, when ``run`` sets none either.

    Example:
        ```python
        sampler = QPISampler(client.get_backend("mock"))
        result = sampler.run([(ansatz, angles), bell], shots=1000).result()
        print(result[1].data.meas.get_counts())
        ```
    """

    def __init__(self, backend: QPIBackend, *, default_shots: int = 1024) -> None:
        if isinstance(default_shots, bool) or not isinstance(default_shots, int):
            raise errors.ValidationError(f"default_shots must be an integer, got {default_shots!r}")
        if default_shots < 1:
            raise errors.ValidationError(f"default_shots must be positive, got {default_shots}")
        self._backend = backend
        self._default_shots = default_shots

    @property
    def backend(self) -> QPIBackend:
        """The backend jobs run on."""
        return self._backend

    @property
    def default_shots(self) -> int:
        """Shots for PUBs that set none."""
        return self._default_shots

    def run(self, pubs: Iterable[SamplerPubLike], *, shots: int | None = None) -> QPISamplerJob:
        """Sample every PUB, all in one job.

        Args:
            pubs: Circuits, or ``(circuit, parameter_values[, shots])`` tuples.
            shots: Shots for PUBs that set none (default: :attr:`default_shots`).

        Returns:
            The job; its ``result()`` is a ``PrimitiveResult`` with one ``SamplerPubResult``
            per PUB.

        Raises:
            ValidationError: Before anything is sent, for circuits without measurements or
                with control flow, or invalid shots.
        """
        default = self._default_shots if shots is None else shots
        try:
            coerced = [SamplerPub.coerce(pub, default) for pub in pubs]
        except (TypeError, ValueError) as exc:
            raise errors.ValidationError(f"invalid sampler PUB: {exc}") from exc
        if not coerced:
            raise errors.ValidationError("run() got no PUBs")
        entries = [_entry(pub, default) for pub in coerced]
        job = self._backend.submit(entries, shots=default)
        return QPISamplerJob(job, coerced)


class QPISamplerJob(BasePrimitiveJob[PrimitiveResult[SamplerPubResult], JobStatus]):
    """The job of one :meth:`QPISampler.run`.

    Args:
        job: The Qiskit job all PUBs were submitted in.
        pubs: The PUBs, in submission order.
    """

    def __init__(self, job: QPIJob, pubs: Sequence[SamplerPub]) -> None:
        super().__init__(job.job_id())
        self._job = job
        self._pubs = tuple(pubs)
        self._result: PrimitiveResult[SamplerPubResult] | None = None

    def _repr_html_(self) -> str:
        return self._job._repr_html_()

    @property
    def qpi_job(self) -> QPIJob:
        """The underlying :class:`~qpi_qiskit.QPIJob`."""
        return self._job

    def result(
        self, timeout: float | None = None, wait: float = 5.0
    ) -> PrimitiveResult[SamplerPubResult]:
        """Wait for the job and return one ``SamplerPubResult`` per PUB.

        Args:
            timeout: Seconds to wait at most; ``None`` waits for ever.
            wait: The longest pause between two status requests, in seconds.

        Raises:
            QPIJobTimeoutError: If the job is not finished within ``timeout``.
            JobFailedError: If the job failed.
            JobCancelledError: If the job was cancelled.
        """
        if self._result is not None:
            return self._result
        try:
            job_result = self._job.qpi_job.result(timeout, max_interval=max(wait, 0.05))
        except errors.JobTimeoutError as exc:
            raise QPIJobTimeoutError(str(exc), job_id=exc.job_id, timeout=exc.timeout) from exc
        grouped = job_result.by_circuit()
        layouts = [entry.context["layout"] for entry in self._job.qpi_job.translated]
        pub_results = []
        for pub, layout, experiments in zip(self._pubs, layouts, grouped, strict=True):
            arrays = bit_arrays(experiments, layout, pub.shape, job_result.job_id)
            pub_results.append(
                SamplerPubResult(
                    DataBin(**arrays, shape=pub.shape),
                    metadata={"shots": pub.shots, "circuit_metadata": pub.circuit.metadata},
                )
            )
        self._result = PrimitiveResult(
            pub_results, metadata={"version": 2, "job_id": self.job_id(), **job_result.metadata}
        )
        return self._result

    def status(self) -> JobStatus:
        """The job's status."""
        return self._job.status()

    def done(self) -> bool:
        """Whether the job finished successfully."""
        return self.status() == JobStatus.DONE

    def running(self) -> bool:
        """Whether the job is running."""
        return self.status() == JobStatus.RUNNING

    def cancelled(self) -> bool:
        """Whether the job was cancelled."""
        return self.status() == JobStatus.CANCELLED

    def in_final_state(self) -> bool:
        """Whether the job is done, failed or cancelled."""
        return self.status() in (JobStatus.DONE, JobStatus.ERROR, JobStatus.CANCELLED)

    def cancel(self) -> bool:
        """Ask the server to cancel the job; returns whether it is now cancelled."""
        return self._job.cancel()


def _entry(pub: SamplerPub, default_shots: int) -> TranslatedCircuit:
    """One wire entry per PUB: the circuit once, one row per binding (C order)."""
    circuit = pub.circuit
    size = int(np.prod(pub.shape, dtype=int))
    bindings: Any = None
    if circuit.num_parameters:
        values = pub.parameter_values.as_array(circuit.parameters)
        bindings = values.reshape(size, circuit.num_parameters)
    shots = None if pub.shots == default_shots else pub.shots
    entry = translate(circuit, bindings, shots=shots)
    if not circuit.num_parameters and size != 1:
        # A parameterless circuit with an n-shaped (empty) binding: n identical experiments.
        payload = dataclasses.replace(entry.payload, parameter_values=[()] * size)
        entry = dataclasses.replace(entry, payload=payload)
    return entry
