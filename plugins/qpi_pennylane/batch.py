"""The tapes of one ``execute`` call as ONE QPI job, and the job's results mapped back.

Tapes are grouped by structure: tapes whose templates are equal (same gates on the same
qubits, same measured wires; see [`qpi_pennylane.translate`][qpi_pennylane.translate]) and that run
the same number
of shots share one circuit entry, with one ``parameter_values`` row per tape. Parameter-shift
tapes, broadcast batches and an optimizer's evaluations all differ in values only, so each of
them costs one row, not one circuit.

Shot vectors: each component of a tape's shot vector is an experiment of its own, a row in
the circuit entry for that many shots. Components of equal size (``(100, 3)``, i.e. three
copies of 100 shots) become three rows of the same entry, so every component is an
independent run of exactly its number of shots, and the whole vector is still one job.
"""

from __future__ import annotations

import itertools
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from qpi import qasm3
from qpi.circuit import Circuit
from qpi.errors import ValidationError
from qpi.payload import MAX_PAYLOAD_BYTES, CircuitPayload, JobPayload, assemble
from qpi_pennylane.measurements import sample_rng, tape_result
from qpi_pennylane.outcomes import Outcomes
from qpi_pennylane.translate import TapeCircuit, TapeTranslator

if TYPE_CHECKING:
    from pennylane.tape import QuantumScript
    from pennylane.wires import Wires

    from qpi.result import ExperimentResult, JobResult

__all__ = ["CircuitEntry", "JobPlan", "plan_jobs", "shot_components"]

_MASK64 = (1 << 64) - 1


def shot_components(tape: QuantumScript) -> list[int]:
    """The shots of each component of a tape's shot vector (``[n]`` for plain shots)."""
    return [copy.shots for copy in tape.shots.shot_vector for _ in range(copy.copies)]


@dataclass
class CircuitEntry:
    """One circuit entry of the job: a template run with several rows.

    Attributes:
        template: The parametric circuit.
        shots: Shots of every row of this entry.
        rows: One row of input values per experiment.
        slots: Per row, the ``(tape index, shot-vector component)`` it computes.
    """

    template: Circuit
    shots: int
    rows: list[tuple[float, ...]] = field(default_factory=list)
    slots: list[tuple[int, int]] = field(default_factory=list)

    def to_payload(self, job_shots: int) -> CircuitPayload:
        """The wire entry: the template's OpenQASM 3 text with its rows and shots."""
        shots = None if self.shots == job_shots else self.shots
        if self.template.input_names():
            return qasm3.to_payload(self.template, parameter_values=self.rows, shots=shots)
        entry = qasm3.to_payload(self.template, shots=shots)
        if len(self.rows) == 1:
            return entry
        # A circuit without inputs still runs once per row, so empty rows repeat it.
        return CircuitPayload(entry.circuit, [()] * len(self.rows), entry.shots)


class JobPlan:
    """How the tapes of one execution map onto one job's circuit entries and rows.

    Args:
        tapes: Preprocessed tapes (gates of the wire's gate set, diagonal measurements,
            finite shots).
        device_wires: The device's wires (``None``: each tape's own wires).

    Example:
        ```python
        plan = JobPlan(tapes, dev.wires)
        job = client.submit(plan.payload(qpu_id))
        results = plan.results(job.result())
        ```
    """

    def __init__(self, tapes: Sequence[QuantumScript], device_wires: Wires | None) -> None:
        self.tapes: tuple[QuantumScript, ...] = tuple(tapes)
        translator = TapeTranslator(device_wires)
        self.translated: list[TapeCircuit] = [translator.translate(t) for t in self.tapes]
        groups: dict[Hashable, CircuitEntry] = {}
        for index, (tape, circuit) in enumerate(zip(self.tapes, self.translated, strict=True)):
            if not tape.shots:
                raise ValidationError(
                    f"tape {index} has no shots; a QPU samples, so give every tape shots"
                )
            for component, shots in enumerate(shot_components(tape)):
                entry = groups.get((circuit.key, shots))
                if entry is None:
                    entry = groups[(circuit.key, shots)] = CircuitEntry(circuit.template, shots)
                entry.rows.append(circuit.values)
                entry.slots.append((index, component))
        self.entries: list[CircuitEntry] = list(groups.values())

    @property
    def num_experiments(self) -> int:
        """How many experiments (circuit rows) the job runs."""
        return sum(len(entry.rows) for entry in self.entries)

    @property
    def total_shots(self) -> int:
        """Shots the job runs over all its experiments."""
        return sum(entry.shots * len(entry.rows) for entry in self.entries)

    def payload(self, qpu_target: str = "") -> JobPayload:
        """The job to submit: every circuit entry, the first entry's shots as the default."""
        job_shots = self.entries[0].shots
        return assemble(
            [entry.to_payload(job_shots) for entry in self.entries],
            shots=job_shots,
            qpu_target=qpu_target,
        )

    def results(self, result: JobResult, seed: int | None = None) -> list[Any]:
        """Each tape's PennyLane result, from the job's result.

        Args:
            result: The job's result (fresh or from the cache: both give the same output).
            seed: Mixed into the generators that order synthesised samples.

        Returns:
            One result per tape, in tape order.
        """
        entropy = (int(result.payload.fingerprint()[:16], 16),)
        if seed is not None:
            entropy += (int(seed) & _MASK64,)
        return self.assemble([(exp.circuit, exp) for exp in result.experiments], entropy)

    def assemble(
        self, experiments: Iterable[tuple[int, ExperimentResult]], entropy: tuple[int, ...]
    ) -> list[Any]:
        """Each tape's result from ``(entry index, experiment)`` pairs.

        Args:
            experiments: Every experiment of every entry, each with the index of its entry in
                [`entries`][qpi.cache.Cache.entries] (the experiment's ``row`` says which row).
            entropy: Seeds the order of synthesised samples; together with the entry and row
                it fixes each experiment's order, so processing a result twice agrees.
        """
        counts: list[list[Any]] = [[{}] * len(shot_components(t)) for t in self.tapes]
        rngs: list[list[Any]] = [[None] * len(row) for row in counts]
        for entry_index, exp in experiments:
            tape_index, component = self.entries[entry_index].slots[exp.row]
            width = len(self.translated[tape_index].measured_wires)
            counts[tape_index][component] = Outcomes.from_qpu(exp.counts or {}, width)
            rngs[tape_index][component] = sample_rng(*entropy, entry_index, exp.row)
        return [
            tape_result(tape, counts[i], self.translated[i].measured_wires, rngs[i])
            for i, tape in enumerate(self.tapes)
        ]


def plan_jobs(
    tapes: Sequence[QuantumScript],
    device_wires: Wires | None,
    qpu_target: str = "",
    *,
    max_bytes: int = MAX_PAYLOAD_BYTES,
) -> list[tuple[JobPlan, JobPayload]]:
    """Plan the tapes as ONE job, or as several that fit when one would exceed the size cap.

    The server stores a job's payload in a field capped at ``max_bytes``; a batch over the cap
    is split into consecutive chunks that fit, rather than refused. A single tape over the
    cap is returned as it is, and the payload's own validation explains the problem.

    Args:
        tapes: The preprocessed tapes.
        device_wires: The device's wires.
        qpu_target: The QPU record id for the payloads.
        max_bytes: The size cap of one payload's JSON.

    Returns:
        ``(plan, payload)`` per job, covering the tapes in order.
    """
    plan = JobPlan(tapes, device_wires)
    payload = plan.payload(qpu_target)
    size = len(payload.to_json().encode())
    if len(tapes) == 1 or size <= max_bytes:
        return [(plan, payload)]
    # Every chunk repeats the programs' text and shares out the rows: as many even chunks as
    # that asks for; a chunk still too big (uneven rows) is split again.
    texts = sum(len(c.circuit.encode()) for c in payload.circuits)
    room = max_bytes - texts
    needed = -(-(size - texts) // room) if room > 0 else len(tapes)
    count = min(len(tapes), max(2, needed))
    bounds = [round(i * len(tapes) / count) for i in range(count + 1)]
    planned: list[tuple[JobPlan, JobPayload]] = []
    for start, stop in itertools.pairwise(bounds):
        planned.extend(plan_jobs(tapes[start:stop], device_wires, qpu_target, max_bytes=max_bytes))
    return planned
