"""``QPIEstimator``: Qiskit's ``EstimatorV2`` primitive on a QPI QPU, one job per ``run``.

For each PUB, the Pauli terms of all its observables are grouped into qubit-wise commuting
sets (the fewest measurement bases Qiskit's greedy colouring finds). Each basis becomes one
circuit: the PUB's circuit, the basis rotations, and measurements of the qubits the basis
touches. That circuit is sent ONCE, unbound, with the parameter rows that need it, and the
server binds them; every PUB of a ``run`` goes into the same job. Shots follow the precision
as Qiskit's ``BackendEstimatorV2`` sets them: ``ceil(1 / precision**2)`` per experiment.

Expectation values and standard errors are computed as ``BackendEstimatorV2`` computes them
(``std = sum(|c_i| sqrt(1 - <P_i>^2)) / sqrt(shots)``), and parameter values and observables
broadcast as in ``StatevectorEstimator``. Everything a result needs travels in each circuit's
``// qpi:meta`` comment, so ``backend.job(job_id)`` rebuilds the ``PrimitiveResult``.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from qiskit import ClassicalRegister, QuantumCircuit
from qiskit.primitives import BaseEstimatorV2, DataBin, PrimitiveResult, PubResult
from qiskit.primitives.containers.estimator_pub import EstimatorPub, EstimatorPubLike
from qiskit.quantum_info import PauliList

from qpi import errors
from qpi.hooks import TranslatedCircuit
from qpi.result import ExperimentResult, JobResult
from qpi_qiskit.convert import translate
from qpi_qiskit.job import QPIJob
from qpi_qiskit.layout import Layout
from qpi_qiskit.options import PrimitiveOptions
from qpi_qiskit.primitive_job import QPIPrimitiveJob, check_complete, result_metadata
from qpi_qiskit.result import bit_matrix

if TYPE_CHECKING:
    from qpi_qiskit.backend import QPIBackend

__all__ = ["EstimatorOptions", "QPIEstimator", "estimator_job"]

#: The name of the classical register the basis measurements go into.
_BASIS_REGISTER = "qpi_basis"


@dataclass
class EstimatorOptions(PrimitiveOptions):
    """Options of [`QPIEstimator`][qpi_qiskit.QPIEstimator], as ``BackendEstimatorV2`` names them.

    Attributes:
        default_precision: Target standard error of PUBs that set none, when ``run`` sets
            none either; a PUB runs ``ceil(1 / precision**2)`` shots per basis and row.
        abelian_grouping: Group Pauli terms into qubit-wise commuting bases (one circuit per
            basis); ``False`` measures every term in a basis of its own.
    """

    default_precision: float = 0.015625
    abelian_grouping: bool = True

    primitive = "estimator"

    def validate(self) -> None:
        """Raise ``ValidationError`` for an invalid value."""
        positive_precision(self.default_precision, "default_precision")


def positive_precision(value: Any, what: str = "precision") -> float:
    """``value`` as a positive finite float; else ``ValidationError`` (also a ``ValueError``)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise errors.ValidationError(f"{what} must be a positive number, got {value!r}")
    if not math.isfinite(value) or value <= 0:
        raise errors.ValidationError(
            f"{what} must be larger than 0, got {value!r}; a precision p runs ceil(1/p**2) shots"
        )
    return float(value)


def precision_shots(precision: float) -> int:
    """The shots that reach ``precision``: ``ceil(1 / precision**2)``, as BackendEstimatorV2."""
    return math.ceil(1.0 / precision**2)


class QPIEstimator(BaseEstimatorV2):
    """Qiskit's ``EstimatorV2`` on a QPI QPU: all PUBs of a ``run`` in one job.

    Circuits need not be transpiled and must not measure (their registers are ignored).
    Observables are Pauli sums (``SparsePauliOp``, labels, ``SparseObservable``; projectors
    are expanded into Paulis).

    Args:
        backend: The backend whose QPU runs the jobs.
        options: An [`EstimatorOptions`][qpi_qiskit.estimator.EstimatorOptions] or a mapping
            of its fields.

    Example:
        ```python
        estimator = QPIEstimator(client.get_backend("mock"), options={"default_precision": 0.01})
        result = estimator.run([(ansatz, hamiltonian, angles)]).result()
        print(result[0].data.evs, result[0].data.stds)
        ```
    """

    def __init__(
        self, backend: QPIBackend, *, options: EstimatorOptions | Mapping[str, Any] | None = None
    ) -> None:
        self._backend = backend
        self._options = EstimatorOptions()
        self._options.update(options)

    @property
    def backend(self) -> QPIBackend:
        """The backend jobs run on."""
        return self._backend

    @property
    def options(self) -> EstimatorOptions:
        """The estimator's options; change them in place."""
        return self._options

    def run(
        self, pubs: Iterable[EstimatorPubLike], *, precision: float | None = None
    ) -> QPIPrimitiveJob:
        """Estimate every PUB's expectation values, all in one job.

        Args:
            pubs: ``(circuit, observables[, parameter_values[, precision]])`` tuples.
            precision: Precision of PUBs that set none (default:
                ``options.default_precision``).

        Returns:
            The job; its ``result()`` is a ``PrimitiveResult`` with one ``PubResult`` per PUB,
            whose ``data`` holds ``evs`` and ``stds`` shaped as the PUB's broadcast shape.

        Raises:
            ValidationError: Before anything is sent: for a precision that is not positive,
                invalid PUBs, a circuit wider than the QPU or with instructions it cannot run.
        """
        default = positive_precision(
            self._options.default_precision if precision is None else precision
        )
        try:
            coerced = [EstimatorPub.coerce(pub, default) for pub in pubs]
        except (TypeError, ValueError) as exc:
            raise errors.ValidationError(f"invalid estimator PUB: {exc}") from exc
        if not coerced:
            raise errors.ValidationError("run() got no PUBs")
        entries: list[TranslatedCircuit] = []
        for index, pub in enumerate(coerced):
            positive_precision(pub.precision, f"PUB {index} precision")
            self._backend.check_circuit(pub.circuit, where=f"PUB {index}")
            entries.extend(_pub_entries(pub, index, self._options.abelian_grouping))
        shots = entries[0].payload.shots or precision_shots(coerced[0].precision)
        job = self._backend.submit(entries, shots=shots)
        plans = [entry.context["layout"] for entry in entries]
        metadata = [pub.circuit.metadata for pub in coerced]
        return _job(job, plans, metadata)


def estimator_job(job: QPIJob, layouts: Sequence[Layout | None]) -> QPIPrimitiveJob:
    """Rebuild the handle of an estimator job from the job alone (``backend.job(job_id)``)."""
    plans = [layout for layout in layouts if layout is not None]
    metadata: dict[int, Any] = {}
    for layout in plans:
        metadata.setdefault(int(layout.primitive["pub"]), dict(layout.metadata))
    return _job(job, plans, [metadata[i] for i in sorted(metadata)])


# -- the wire: one circuit per PUB and basis ----------------------------------------------------


def _pub_entries(pub: EstimatorPub, index: int, grouping: bool) -> list[TranslatedCircuit]:
    """The circuits of one PUB: one per measurement basis, each with the rows that need it."""
    circuit = pub.circuit
    num_qubits = circuit.num_qubits
    param_shape = tuple(pub.parameter_values.shape)
    obs_shape = tuple(pub.observables.shape)
    observables = [
        _pauli_terms(pub.observables.slice(idx), num_qubits) for idx in np.ndindex(obs_shape)
    ]
    labels = sorted({label for terms in observables for label in terms} - {"I" * num_qubits})
    groups = _groups(labels, grouping) or [[]]  # only the identity: one trivial basis
    size = int(np.prod(param_shape, dtype=int))
    rows_of = _rows_per_group(groups, observables, param_shape, obs_shape)
    values = None
    if circuit.num_parameters:
        values = pub.parameter_values.as_array(circuit.parameters).reshape(
            size, circuit.num_parameters
        )
    shots = precision_shots(pub.precision)
    entries = []
    for number, (group, rows) in enumerate(zip(groups, rows_of, strict=True)):
        qubits = _support(group, num_qubits)
        primitive: dict[str, Any] = {
            "kind": "estimator",
            "pub": index,
            "terms": group,
            "qubits": qubits,
        }
        if values is not None and len(rows) != size:
            primitive["rows"] = rows
        if number == 0:  # what the whole PUB's result needs, once
            primitive.update(
                shape=list(param_shape),
                parametric=values is not None,
                obs_shape=list(obs_shape),
                observables=[{k: float(v) for k, v in terms.items()} for terms in observables],
                precision=float(pub.precision),
            )
        bindings = values[rows] if values is not None else None
        measured = _with_basis(circuit, group, qubits)
        entries.append(translate(measured, bindings, shots=shots, primitive=primitive))
    return entries


def _pauli_terms(observable: Any, num_qubits: int) -> dict[str, float]:
    """``{Pauli label: real coefficient}`` of one observable (qubit 0 rightmost)."""
    terms: dict[str, float] = {}
    for ops, qubits, coeff in observable.as_paulis().to_sparse_list():
        chars = ["I"] * num_qubits
        for op, qubit in zip(ops, qubits, strict=True):
            chars[num_qubits - 1 - qubit] = op
        label = "".join(chars)
        terms[label] = terms.get(label, 0.0) + float(np.real(coeff))
    return terms


def _groups(labels: list[str], grouping: bool) -> list[list[str]]:
    """Labels in qubit-wise commuting groups (sorted within, groups in a stable order)."""
    if not labels:
        return []
    if not grouping:
        return [[label] for label in labels]
    parts = PauliList(labels).group_commuting(qubit_wise=True)
    groups = [sorted(part.to_labels()) for part in parts]
    return sorted(groups)


def _rows_per_group(
    groups: list[list[str]],
    observables: list[dict[str, float]],
    param_shape: tuple[int, ...],
    obs_shape: tuple[int, ...],
) -> list[list[int]]:
    """Per group, the flat parameter rows whose broadcast observables use one of its terms."""
    param_index = np.arange(int(np.prod(param_shape, dtype=int))).reshape(param_shape)
    obs_index = np.arange(len(observables)).reshape(obs_shape)
    rows, obs = (a.ravel() for a in np.broadcast_arrays(param_index, obs_index))
    out = []
    for group in groups:
        members = set(group)
        uses = np.array([bool(members & terms.keys()) for terms in observables] or [False])
        if not group:  # the trivial basis of an identity-only PUB
            uses = np.ones(len(observables), bool)
        out.append(sorted(set(rows[uses[obs]].tolist())))
    return out


def _support(group: list[str], num_qubits: int) -> list[int]:
    """Qubits some term of ``group`` acts on; qubit 0 when none does (as BackendEstimatorV2)."""
    qubits = sorted(
        {num_qubits - 1 - pos for label in group for pos, ch in enumerate(label) if ch != "I"}
    )
    return qubits or [0]


def _with_basis(circuit: QuantumCircuit, group: list[str], qubits: list[int]) -> QuantumCircuit:
    """``circuit`` with the basis change of ``group`` and measurements of ``qubits`` appended."""
    basis = {}
    for label in group:
        for pos, ch in enumerate(label):
            if ch != "I":
                basis[len(label) - 1 - pos] = ch
    measured = circuit.copy()
    name = _BASIS_REGISTER
    while name in {reg.name for reg in circuit.cregs}:
        name += "_"
    register = ClassicalRegister(len(qubits), name)
    measured.add_register(register)
    for clbit, qubit in enumerate(qubits):
        if basis.get(qubit) == "Y":
            measured.sdg(qubit)
        if basis.get(qubit) in ("X", "Y"):
            measured.h(qubit)
        measured.measure(qubit, register[clbit])
    return measured


# -- results ------------------------------------------------------------------------------------


def _job(job: QPIJob, plans: list[Layout], metadata: list[Any]) -> QPIPrimitiveJob:
    def build(job_result: JobResult | None) -> PrimitiveResult:
        assert job_result is not None
        by_pub: dict[int, list[tuple[Layout, list[ExperimentResult]]]] = {}
        for layout, experiments in zip(plans, job_result.by_circuit(), strict=True):
            by_pub.setdefault(int(layout.primitive["pub"]), []).append((layout, experiments))
        results = [
            _pub_result(
                by_pub[index], metadata[index] if index < len(metadata) else {}, handle.job_id()
            )
            for index in sorted(by_pub)
        ]
        return PrimitiveResult(results, metadata=result_metadata(handle.job_id(), job_result))

    handle = QPIPrimitiveJob(job, build, "estimator")
    return handle


def _pub_result(
    circuits: list[tuple[Layout, list[ExperimentResult]]], circuit_metadata: Any, job_id: str
) -> PubResult:
    """One PUB's ``evs`` and ``stds`` from its basis circuits' experiments."""
    info = circuits[0][0].primitive
    param_shape = tuple(int(n) for n in info["shape"])
    obs_shape = tuple(int(n) for n in info["obs_shape"])
    observables: list[dict[str, float]] = info["observables"]
    size = int(np.prod(param_shape, dtype=int)) if info["parametric"] else 1
    labels = sorted({label for terms in observables for label in terms})
    column = {label: i for i, label in enumerate(labels)}
    means = np.zeros((len(labels), size))
    variances = np.zeros((len(labels), size))
    shots = circuits[0][1][0].shots if circuits[0][1] else 0
    for layout, experiments in circuits:
        terms = layout.primitive["terms"]
        rows = layout.primitive.get("rows", range(size))
        ev = _term_expectations(experiments, layout, terms, layout.primitive["qubits"])
        check_complete(ev.shape[1], (len(rows),), job_id)
        index = [column[t] for t in terms]
        means[np.ix_(index, list(rows))] = ev
        variances[np.ix_(index, list(rows))] = 1.0 - ev**2
    for label in labels:  # the identity: exactly 1, no variance
        if set(label) == {"I"}:
            means[column[label]] = 1.0
    coeffs = np.zeros((len(observables), len(labels)))
    for i, terms in enumerate(observables):
        for label, coeff in terms.items():
            coeffs[i, column[label]] = coeff
    param_index = np.arange(size).reshape(param_shape if info["parametric"] else ())
    if not info["parametric"]:
        param_index = np.zeros(param_shape, dtype=int)
    obs_index = np.arange(len(observables)).reshape(obs_shape)
    rows, obs = np.broadcast_arrays(param_index, obs_index)
    evs = np.einsum("nl,ln->n", coeffs[obs.ravel()], means[:, rows.ravel()])
    spread = np.einsum("nl,ln->n", np.abs(coeffs[obs.ravel()]), np.sqrt(variances[:, rows.ravel()]))
    stds = spread / math.sqrt(shots) if shots else spread
    shape = rows.shape
    return PubResult(
        DataBin(evs=evs.reshape(shape), stds=stds.reshape(shape), shape=shape),
        metadata={
            "target_precision": float(info["precision"]),
            "shots": int(shots),
            "circuit_metadata": circuit_metadata,
        },
    )


def _term_expectations(
    experiments: list[ExperimentResult], layout: Layout, terms: list[str], qubits: list[int]
) -> np.ndarray:
    """``<P>`` of each term (rows) in each experiment (columns), from the basis register."""
    register = layout.cregs[-1][1]  # the basis register is the last one added
    num_qubits = layout.num_qubits
    masks = np.array(
        [[label[num_qubits - 1 - q] != "I" for q in qubits] for label in terms], dtype=np.int64
    ).reshape(len(terms), len(qubits))
    out = np.zeros((len(terms), len(experiments)))
    for column, exp in enumerate(experiments):
        counts = exp.counts or {}
        if not counts or not terms:
            continue
        outcomes = list(counts)
        bits = bit_matrix(outcomes, layout.num_clbits)[:, list(register)].astype(np.int64)
        signs = 1 - 2 * ((bits @ masks.T) % 2)  # outcomes × terms
        freq = np.array([counts[k] for k in outcomes], dtype=float)
        out[:, column] = freq @ signs / freq.sum()
    return out
