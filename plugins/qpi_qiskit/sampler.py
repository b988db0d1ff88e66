"""``QPISampler``: Qiskit's ``SamplerV2`` primitive on a QPI QPU, one job per ``run``.

Every PUB of a ``run`` goes into ONE job: each PUB's circuit is sent once, unbound, with one
parameter row per binding of its ``BindingsArray`` (flattened in C order), and the server binds
them. Results come back as one ``BitArray`` per classical register, shaped like the bindings.
Shots within an experiment are synthesised from its counts (the QPU returns counts), so their
order carries no information; the registers of one shot always come from the same shot.

A PUB whose circuit measures nothing is not sent (a QPU would return nothing): as Qiskit's
``StatevectorSampler`` does, its registers read all zeros, and a circuit without classical
registers gives empty data and a warning.
"""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from qiskit.primitives import BaseSamplerV2, BitArray, DataBin, PrimitiveResult, SamplerPubResult
from qiskit.primitives.containers.sampler_pub import SamplerPub, SamplerPubLike

from qpi import errors
from qpi.hooks import TranslatedCircuit
from qpi.result import ExperimentResult, JobResult
from qpi_qiskit.convert import translate
from qpi_qiskit.job import QPIJob
from qpi_qiskit.layout import Layout
from qpi_qiskit.options import PrimitiveOptions
from qpi_qiskit.primitive_job import QPIPrimitiveJob, check_complete, result_metadata
from qpi_qiskit.result import bit_arrays

if TYPE_CHECKING:
    from qpi_qiskit.backend import QPIBackend

__all__ = ["QPISampler", "QPISamplerJob", "SamplerOptions", "sampler_job"]

#: IBM Runtime's ``meas_type`` values → the wire's ``(meas_level, meas_return)``.
MEAS_TYPES: dict[str, tuple[int, str]] = {
    "classified": (2, "single"),
    "kerneled": (1, "single"),
    "avg_kerneled": (1, "avg"),
}
_NO_REGISTERS = (
    "One of your circuits has no output classical registers and so the result will be empty. "
    "Did you mean to add measurement instructions?"
)

#: The job handle of a ``QPISampler.run`` (the same class serves the estimator).
QPISamplerJob = QPIPrimitiveJob


@dataclass
class SamplerOptions(PrimitiveOptions):
    """Options of [`QPISampler`][qpi_qiskit.QPISampler], named as IBM's ``SamplerV2`` names them.

    Attributes:
        default_shots: Shots of PUBs that set none, when ``run`` sets none either.
        seed_simulator: Seeds the order of the shots synthesised from each experiment's
            counts (``None``: seeded by the job id). The QPU's sampling itself takes no seed
            over the wire.
        meas_type: ``"classified"`` (bits, ``meas_level=2``), ``"kerneled"`` (one complex IQ
            point per shot and bit, ``meas_level=1``) or ``"avg_kerneled"`` (one averaged
            point per bit).
    """

    default_shots: int = 1024
    seed_simulator: int | None = None
    meas_type: str = "classified"

    primitive = "sampler"

    def validate(self) -> None:
        """Raise ``ValidationError`` for an invalid value."""
        self.checked()

    def checked(self) -> SamplerOptions:
        """These options with numpy integers made ``int``; raises for invalid values."""
        seed = self.seed_simulator
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral)):
            raise errors.ValidationError(f"seed_simulator must be an integer, got {seed!r}")
        if self.meas_type not in MEAS_TYPES:
            raise errors.ValidationError(
                f"meas_type must be one of {sorted(MEAS_TYPES)}, got {self.meas_type!r}"
            )
        return SamplerOptions(
            positive_shots(self.default_shots, "default_shots"),
            None if seed is None else int(seed),
            self.meas_type,
        )


def positive_shots(value: Any, what: str = "shots") -> int:
    """``value`` as a positive ``int`` (numpy integers included); else ``ValidationError``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise errors.ValidationError(f"{what} must be a positive integer, got {value!r}")
    return int(value)


class QPISampler(BaseSamplerV2):
    """Qiskit's ``SamplerV2`` on a QPI QPU: all PUBs of a ``run`` in one job.

    Circuits need not be transpiled: gates outside OpenQASM 3's standard set are decomposed,
    and the QPU's driver maps circuits to its hardware. Each circuit is checked against the
    backend (qubit count, instructions the QPU runs) before anything is sent.

    Args:
        backend: The backend whose QPU runs the jobs.
        default_shots: Shots for PUBs that set none, when ``run`` sets none either.
        options: A [`SamplerOptions`][qpi_qiskit.sampler.SamplerOptions] or a mapping of its
            fields; ``options["default_shots"]`` wins over ``default_shots``.

    Example:
        ```python
        sampler = QPISampler(client.get_backend("mock"))
        sampler.options.default_shots = 2000
        result = sampler.run([(ansatz, angles), bell]).result()
        print(result[1].data.meas.get_counts())
        ```
    """

    def __init__(
        self,
        backend: QPIBackend,
        *,
        default_shots: int = 1024,
        options: SamplerOptions | Mapping[str, Any] | None = None,
    ) -> None:
        self._backend = backend
        self._options = SamplerOptions(default_shots=default_shots)
        self._options.update(options)

    @property
    def backend(self) -> QPIBackend:
        """The backend jobs run on."""
        return self._backend

    @property
    def options(self) -> SamplerOptions:
        """The sampler's options; change them in place (``sampler.options.default_shots = 500``)."""
        return self._options

    @property
    def default_shots(self) -> int:
        """Shots for PUBs that set none (``options.default_shots``)."""
        return self._options.default_shots

    def run(self, pubs: Iterable[SamplerPubLike], *, shots: int | None = None) -> QPIPrimitiveJob:
        """Sample every PUB, all in one job.

        Args:
            pubs: Circuits, or ``(circuit, parameter_values[, shots])`` tuples.
            shots: Shots for PUBs that set none (default: ``options.default_shots``).

        Returns:
            The job; its ``result()`` is a ``PrimitiveResult`` with one ``SamplerPubResult``
            per PUB.

        Raises:
            ValidationError: Before anything is sent: for a circuit wider than the QPU, with
                instructions the QPU cannot run, invalid shots or options.
        """
        options = self._options.checked()
        default = options.default_shots if shots is None else positive_shots(shots)
        try:
            coerced = [SamplerPub.coerce(pub, default) for pub in pubs]
        except (TypeError, ValueError) as exc:
            raise errors.ValidationError(f"invalid sampler PUB: {exc}") from exc
        if not coerced:
            raise errors.ValidationError("run() got no PUBs")
        if any(not pub.circuit.cregs for pub in coerced):
            warnings.warn(_NO_REGISTERS, UserWarning, stacklevel=2)
        entries = []
        for index, pub in enumerate(coerced):
            self._backend.check_circuit(pub.circuit, where=f"PUB {index}")
            positive_shots(pub.shots, f"PUB {index} shots")
            if _measures(pub.circuit):
                entries.append(_entry(pub, index, default, options.seed_simulator))
        meas_level, meas_return = MEAS_TYPES[options.meas_type]
        job = None
        if entries:
            job = self._backend.submit(
                entries, shots=default, meas_level=meas_level, meas_return=meas_return
            )
        plans = [_plan(pub) for pub in coerced]
        layouts = iter(entry.context["layout"] for entry in entries)
        for plan in plans:
            if plan.sent:
                plan.layout = next(layouts)
        return _job(job, plans, options.seed_simulator)


@dataclass
class _PubPlan:
    """What building one PUB's result needs, whether from the run or from the job alone."""

    shape: tuple[int, ...]
    shots: int
    circuit_metadata: Mapping[str, Any]
    cregs: tuple[tuple[str, int], ...]
    sent: bool
    layout: Layout | None = None


def sampler_job(job: QPIJob, layouts: Sequence[Layout | None]) -> QPIPrimitiveJob:
    """Rebuild the handle of a sampler job from the job alone (``backend.job(job_id)``).

    Each circuit's layout carries its PUB's shape; PUBs that were not sent (no
    measurements) are not in the job and so not in the rebuilt result.
    """
    payload = job.qpi_job.payload
    plans = []
    seed = None
    for index, layout in enumerate(layouts):
        assert layout is not None and layout.primitive.get("kind") == "sampler"
        seed = layout.primitive.get("seed", seed)
        plans.append(
            _PubPlan(
                shape=tuple(int(n) for n in layout.primitive.get("shape", ())),
                shots=payload.shots_for(index),
                circuit_metadata=dict(layout.metadata),
                cregs=tuple((name, len(bits)) for name, bits in layout.cregs),
                sent=True,
                layout=layout,
            )
        )
    return _job(job, plans, seed)


def _job(job: QPIJob | None, plans: list[_PubPlan], seed: int | None) -> QPIPrimitiveJob:
    def build(job_result: JobResult | None) -> PrimitiveResult:
        grouped = iter(job_result.by_circuit() if job_result is not None else ())
        payload = job_result.payload if job_result is not None else None
        meas_level = payload.meas_level if payload is not None else 2
        avg = payload is not None and payload.meas_return == "avg"
        key = str(seed) if seed is not None else (job_result.job_id if job_result else "")
        results = []
        for plan in plans:
            if plan.sent:
                experiments = next(grouped)
                check_complete(len(experiments), plan.shape, handle.job_id())
                if meas_level == 2:
                    arrays = bit_arrays(experiments, plan.layout, plan.shape, key)  # type: ignore[arg-type]
                else:
                    arrays = _kerneled(experiments, plan.layout, plan.shape, avg)  # type: ignore[arg-type]
            else:
                arrays = _zeros(plan)
            results.append(
                SamplerPubResult(
                    DataBin(**arrays, shape=plan.shape),
                    metadata={"shots": plan.shots, "circuit_metadata": plan.circuit_metadata},
                )
            )
        return PrimitiveResult(results, metadata=result_metadata(handle.job_id(), job_result))

    handle = QPIPrimitiveJob(job, build, "sampler")
    return handle


def _plan(pub: SamplerPub) -> _PubPlan:
    circuit = pub.circuit
    return _PubPlan(
        shape=tuple(pub.shape),
        shots=int(pub.shots),
        circuit_metadata=circuit.metadata,
        cregs=tuple((reg.name, reg.size) for reg in circuit.cregs),
        sent=_measures(circuit),
    )


def _measures(circuit: Any) -> bool:
    return bool(circuit.count_ops().get("measure"))


def _entry(pub: SamplerPub, index: int, default_shots: int, seed: int | None) -> TranslatedCircuit:
    """One wire entry per PUB: the circuit once, one row per binding (C order)."""
    circuit = pub.circuit
    size = int(np.prod(pub.shape, dtype=int))
    primitive: dict[str, Any] = {"kind": "sampler", "pub": index, "shape": list(pub.shape)}
    if seed is not None:
        primitive["seed"] = seed
    rows: Any = None
    if circuit.num_parameters:
        values = pub.parameter_values.as_array(circuit.parameters)
        rows = values.reshape(size, circuit.num_parameters)
    elif size != 1:
        rows = [()] * size  # a parameterless circuit with an n-shaped binding: n experiments
    shots = None if int(pub.shots) == default_shots else int(pub.shots)
    return translate(circuit, rows, shots=shots, primitive=primitive)


def _zeros(plan: _PubPlan) -> dict[str, BitArray]:
    """All-zero registers of a PUB that measured nothing, as Qiskit's samplers give them."""
    return {
        name: BitArray(np.zeros((*plan.shape, plan.shots, (size + 7) // 8), np.uint8), size)
        for name, size in plan.cregs
    }


def _kerneled(
    experiments: Sequence[ExperimentResult], layout: Layout, shape: tuple[int, ...], avg: bool
) -> dict[str, np.ndarray]:
    """Per register, complex IQ points, ``(*shape, shots, bits)`` (``(*shape, bits)`` averaged)."""
    width = layout.num_clbits
    points = []
    for exp in experiments:
        iq = np.asarray(exp.memory if exp.memory is not None else [], dtype=float)
        iq = iq.reshape((width, 2) if avg else (exp.shots, width, 2))
        points.append(iq[..., 0] + 1j * iq[..., 1])
    stacked = np.stack(points) if points else np.zeros((0, width), complex)
    out = {}
    for name, bits in layout.cregs:
        selected = stacked[..., list(bits)]
        out[name] = selected.reshape((*shape, *selected.shape[1:]))
    return out
