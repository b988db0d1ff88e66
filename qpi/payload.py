"""The job payload as it travels on the wire: validation, canonical JSON and fingerprints.

A [`JobPayload`][qpi.payload.JobPayload] is exactly the body of ``POST /api/jobs``. It is validated
before
anything is sent, serialises to canonical JSON (sorted keys, no whitespace, shortest float
repr), and has a SHA-256 [`fingerprint`][qpi.payload.JobPayload.fingerprint] that is the same in
every process
and on every machine, which is what the cache is keyed by.
"""

from __future__ import annotations

import hashlib
import json
import math
import numbers
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from qpi import display
from qpi.errors import ValidationError

__all__ = [
    "MAX_PAYLOAD_BYTES",
    "SUBMISSION_MARK",
    "MEAS_LEVELS",
    "MEAS_RETURNS",
    "CircuitPayload",
    "JobPayload",
    "assemble",
    "canonical_json",
    "fingerprint_json",
    "mark_submission",
    "new_nonce",
    "strip_submission_mark",
]

#: Meas levels the QPU drivers accept (0 is raw traces, hardware only).
MEAS_LEVELS: tuple[int, ...] = (0, 1, 2)
#: Meas return modes the QPU drivers accept.
MEAS_RETURNS: tuple[str, ...] = ("single", "avg")
#: The real server stores a payload in a JSON field capped at 1 MiB.
MAX_PAYLOAD_BYTES: int = 1024 * 1024
#: Start of the comment line that tags one submission (see
#: [`mark_submission`][qpi.payload.mark_submission]).
SUBMISSION_MARK = "// qpi:submission "
_SUBMISSION_LINE = re.compile(r"\n// qpi:submission [0-9a-f]{32}\n\Z")
_FLOAT = frozenset({float})
# Room one job keeps for its top-level fields, a row and the submission tag.
_SPLIT_HEADROOM = 4096
# The name Qiskit gives an unnamed circuit comes from a process-wide counter (``circuit-41``):
# it says nothing about the program, so the fingerprint reads it as blank (see _meaning).
_COUNTER_NAME = re.compile(r'(// qpi:meta \{\\"name\\":\\")circuit-\d+(\\")')


def canonical_json(obj: Any) -> str:
    """Serialise ``obj`` to canonical JSON: sorted keys, no whitespace, no NaN/Infinity."""
    return json.dumps(
        obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def _as_int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValidationError(f"{what} must be an integer, got {value!r}")
    return int(value)


def _as_float(value: Any, what: str) -> float:
    if type(value) is float and math.isfinite(value):  # the common case, kept cheap
        return value
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValidationError(f"{what} must be a real number, got {value!r}")
    result = float(value)
    if not math.isfinite(result):
        raise ValidationError(f"{what} must be finite, got {value!r}")
    return result


def _rows(values: Any, where: str) -> tuple[tuple[float, ...], ...] | None:
    if values is None:
        return None
    if isinstance(values, str | bytes) or not isinstance(values, Iterable):
        raise ValidationError(
            f"{where}: parameter_values must be a list of rows (lists of numbers), got {values!r}"
        )
    rows = []
    for r, row in enumerate(values):
        if type(row) is tuple or type(row) is list:
            # The common case, checked in C: plain floats whose sum is finite are all finite.
            fast = tuple(row)
            if set(map(type, fast)) <= _FLOAT and math.isfinite(sum(fast)):
                rows.append(fast)
                continue
        if isinstance(row, str | bytes | Mapping) or not isinstance(row, Iterable):
            raise ValidationError(
                f"{where}: parameter row {r} must be a list of numbers, got {row!r}"
            )
        rows.append(
            tuple(_as_float(v, f"{where}: parameter row {r} value {i}") for i, v in enumerate(row))
        )
    if not rows:
        return None
    width = len(rows[0])
    for r, row in enumerate(rows):
        if len(row) != width:
            raise ValidationError(
                f"{where}: parameter row {r} has {len(row)} values but row 0 has {width}; "
                "every row must give one value per circuit input"
            )
    return tuple(rows)


@dataclass(frozen=True)
class CircuitPayload:
    """One entry of ``circuits`` in a job submission.

    Attributes:
        circuit: OpenQASM 3 (or 2) program text.
        parameter_values: Rows of input values, one experiment per row, bound positionally in
            the sorted order of the program's ``input`` names. ``None`` for no rows.
        shots: Shots for this circuit; ``None`` uses the job's shots.
        inputs: Names of the program's inputs, in row order, when the caller knows them. Used
            only to validate row lengths on the client; never sent.
    """

    circuit: str
    parameter_values: tuple[tuple[float, ...], ...] | None = None
    shots: int | None = None
    inputs: tuple[str, ...] | None = field(default=None, compare=False, repr=False)

    def __repr__(self) -> str:
        return display.circuit_payload_repr(self)

    def __post_init__(self) -> None:
        # Normalise so equal payloads compare (and fingerprint) equal whatever the input types.
        object.__setattr__(self, "parameter_values", _rows(self.parameter_values, "circuit"))
        if self.shots is not None:
            object.__setattr__(self, "shots", _as_int(self.shots, "circuit shots"))
        if self.inputs is not None:
            object.__setattr__(self, "inputs", tuple(self.inputs))

    @property
    def num_rows(self) -> int:
        """Experiments this circuit produces: one per row, and one when it has no rows."""
        return len(self.parameter_values) if self.parameter_values else 1

    def validate(self, index: int = 0) -> None:
        """Check this entry; ``index`` is used in messages.

        Raises:
            ValidationError: If the circuit text is empty or not a string, shots are not
                positive, or rows do not match the declared inputs.
        """
        where = f"circuit {index}"
        if not isinstance(self.circuit, str) or not self.circuit.strip():
            raise ValidationError(f"{where}: the circuit text is empty; give OpenQASM 3 source")
        if "OPENQASM" not in self.circuit:
            raise ValidationError(
                f"{where}: the text has no 'OPENQASM 3.0;' header; the QPU driver needs one"
            )
        if self.shots is not None and self.shots < 1:
            raise ValidationError(f"{where}: shots must be at least 1, got {self.shots}")
        if self.inputs is not None:
            n = len(self.inputs)
            if n and not self.parameter_values:
                raise ValidationError(
                    f"{where}: the circuit has {n} input(s) {list(self.inputs)} but no "
                    "parameter_values; give one row of values per experiment"
                )
            for r, row in enumerate(self.parameter_values or ()):
                if n and len(row) != n:
                    raise ValidationError(
                        f"{where}: parameter row {r} has {len(row)} value(s) but the circuit "
                        f"has {n} input(s) {list(self.inputs)}"
                    )

    def to_dict(self) -> dict[str, Any]:
        """The wire form: ``{"circuit": ..., "parameter_values"?: [[...]], "shots"?: n}``."""
        out: dict[str, Any] = {"circuit": self.circuit}
        if self.parameter_values:
            out["parameter_values"] = [list(row) for row in self.parameter_values]
        if self.shots is not None:
            out["shots"] = self.shots
        return out

    def to_json(self, circuit: str | None = None) -> str:
        """Canonical JSON of `to_dict`, optionally with other ``circuit`` text.

        The fields after the circuit text (the rows, mostly) are serialised once and kept, so
        re-serialising a payload, or sending it with a submission tag, costs no more than the
        circuit text.
        """
        text = self.circuit if circuit is None else circuit
        return '{"circuit":' + canonical_json(text) + self._json_tail

    @cached_property
    def _json_tail(self) -> str:
        # Canonical JSON sorts keys, and "circuit" sorts before every other field.
        rest: dict[str, Any] = {}
        if self.parameter_values:
            rest["parameter_values"] = self.parameter_values
        if self.shots is not None:
            rest["shots"] = self.shots
        return "," + canonical_json(rest)[1:] if rest else "}"

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | str) -> CircuitPayload:
        """Build from the wire form (a plain string is taken as the circuit text)."""
        if isinstance(data, str):
            return cls(circuit=data)
        if not isinstance(data, Mapping) or "circuit" not in data:
            raise ValidationError(
                f"a circuit entry must be a dict with a 'circuit' key, got {data!r:.80}"
            )
        return cls(
            circuit=strip_submission_mark(data["circuit"]),
            parameter_values=data.get("parameter_values"),
            shots=data.get("shots"),
        )


@dataclass(frozen=True)
class JobPayload:
    """The body of ``POST /api/jobs``.

    Attributes:
        circuits: The circuit entries; results come back flattened circuit by circuit, then
            row by row.
        shots: Default shots for circuits that do not set their own.
        meas_level: ``2`` for counts, ``1`` for IQ memory, ``0`` for raw traces (hardware).
        meas_return: ``"single"`` (per shot) or ``"avg"`` (averaged), for meas_level 1.
        qpu_target: The QPU's record id; empty lets the server choose.
    """

    circuits: tuple[CircuitPayload, ...]
    shots: int = 1024
    meas_level: int = 2
    meas_return: str = "single"
    qpu_target: str = ""

    def __repr__(self) -> str:
        return display.payload_repr(self)

    def __post_init__(self) -> None:
        if isinstance(self.circuits, CircuitPayload | str | Mapping):
            circuits: Sequence[Any] = (self.circuits,)
        else:
            circuits = tuple(self.circuits)
        object.__setattr__(
            self,
            "circuits",
            tuple(
                c if isinstance(c, CircuitPayload) else CircuitPayload.from_dict(c)
                for c in circuits
            ),
        )
        object.__setattr__(self, "qpu_target", self.qpu_target or "")

    def validate(self, *, max_bytes: int | None = MAX_PAYLOAD_BYTES) -> None:
        """Check everything the QPU driver would reject, before anything is sent.

        Args:
            max_bytes: The largest body one request may carry; ``None`` skips the size check
                (the job runner splits a larger payload over several jobs).

        Raises:
            ValidationError: Naming the offending field and what would be accepted.
        """
        if not self.circuits:
            raise ValidationError("a job needs at least one circuit")
        shots = _as_int(self.shots, "shots")
        if shots < 1:
            raise ValidationError(f"shots must be at least 1, got {shots}")
        level = _as_int(self.meas_level, "meas_level")
        if level not in MEAS_LEVELS:
            raise ValidationError(f"meas_level must be one of {MEAS_LEVELS}, got {level}")
        if self.meas_return not in MEAS_RETURNS:
            raise ValidationError(
                f"meas_return must be one of {MEAS_RETURNS}, got {self.meas_return!r}"
            )
        if not isinstance(self.qpu_target, str):
            raise ValidationError(f"qpu_target must be a QPU id string, got {self.qpu_target!r}")
        for i, circuit in enumerate(self.circuits):
            circuit.validate(i)
        if max_bytes is None:
            # Rows and circuits can be split over several jobs; one program cannot.
            for i, circuit in enumerate(self.circuits):
                text = len(circuit.circuit.encode())
                if text > MAX_PAYLOAD_BYTES - _SPLIT_HEADROOM:
                    raise ValidationError(
                        f"circuit {i}: its program is {text:,} bytes but the server stores at "
                        f"most {MAX_PAYLOAD_BYTES:,} per job, and a program cannot be split "
                        "over jobs; shorten it"
                    )
            return
        size = self.size
        if size > max_bytes:
            raise ValidationError(
                f"the job payload is {size:,} bytes but the server stores at most "
                f"{max_bytes:,}; split the circuits or parameter rows over several jobs "
                "(QPIClient.run and QPIClient.submit do it for you)"
            )

    @property
    def size(self) -> int:
        """Bytes of the canonical JSON body (without the submission tag)."""
        return len(self._json.encode())

    @property
    def num_experiments(self) -> int:
        """How many entries ``circuit_results`` will hold."""
        return sum(c.num_rows for c in self.circuits)

    def experiment_index(self) -> list[tuple[int, int]]:
        """``(circuit, row)`` for each result entry, in the server's flattened order."""
        return [(i, r) for i, c in enumerate(self.circuits) for r in range(c.num_rows)]

    def shots_for(self, circuit: int) -> int:
        """The shots circuit ``circuit`` runs with."""
        own = self.circuits[circuit].shots
        return own if own is not None else self.shots

    def to_dict(self) -> dict[str, Any]:
        """The wire form sent as the body of ``POST /api/jobs``."""
        out: dict[str, Any] = {
            "circuits": [c.to_dict() for c in self.circuits],
            "shots": self.shots,
            "meas_level": self.meas_level,
            "meas_return": self.meas_return,
        }
        if self.qpu_target:
            out["qpu_target"] = self.qpu_target
        return out

    def to_json(self) -> str:
        """Canonical JSON of `to_dict` (computed once: a payload never changes)."""
        return self._json

    def marked_json(self, nonce: str) -> str:
        """Canonical JSON of ``mark_submission(self.to_dict(), nonce)``: the body to send.

        Only the first circuit's text is serialised again; everything else is reused from
        [`to_json`][qpi.payload.JobPayload.to_json].
        """
        first = self.circuits[0]
        marked = f"{first.circuit}\n{SUBMISSION_MARK}{nonce}\n"
        return self._assemble([first.to_json(marked)])

    def fingerprint(self) -> str:
        """SHA-256 hex digest of what the payload means: the cache key.

        It is the digest of the canonical JSON, except that a circuit name Qiskit took from
        its global counter (``circuit-41``) reads as blank, so building one more circuit in a
        notebook does not change the key of the others.
        """
        return self._fingerprint

    @cached_property
    def _json(self) -> str:
        return self._assemble([])

    @cached_property
    def _fingerprint(self) -> str:
        return fingerprint_json(self._json)

    def _assemble(self, first: list[str]) -> str:
        """Canonical JSON, with the first circuits' JSON replaced by ``first``."""
        fields: dict[str, Any] = {
            "shots": self.shots,
            "meas_level": self.meas_level,
            "meas_return": self.meas_return,
        }
        if self.qpu_target:
            fields["qpu_target"] = self.qpu_target
        circuits = first + [c.to_json() for c in self.circuits[len(first) :]]
        # "circuits" sorts before the other top-level keys.
        return '{"circuits":[' + ",".join(circuits) + "]," + canonical_json(fields)[1:]

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> JobPayload:
        """Build from a wire body or a job record's ``payload``, applying the server defaults.

        Raises:
            ValidationError: If ``data`` is not a payload.
        """
        if not isinstance(data, Mapping) or "circuits" not in data:
            raise ValidationError(f"not a job payload (no 'circuits'): {data!r:.120}")
        circuits = data["circuits"]
        if isinstance(circuits, str | Mapping) or not isinstance(circuits, Iterable):
            raise ValidationError("'circuits' must be a list of circuit entries")
        return cls(
            circuits=tuple(CircuitPayload.from_dict(c) for c in circuits),
            shots=data.get("shots") or 1024,
            meas_level=2 if data.get("meas_level") is None else data["meas_level"],
            meas_return=data.get("meas_return") or "single",
            qpu_target=data.get("qpu_target") or "",
        )


def fingerprint_json(text: str) -> str:
    """The [`fingerprint`][qpi.payload.JobPayload.fingerprint] of a payload's canonical JSON."""
    return hashlib.sha256(_meaning(text).encode()).hexdigest()


def _meaning(text: str) -> str:
    """Canonical JSON with names from Qiskit's global circuit counter blanked."""
    return _COUNTER_NAME.sub(r"\1circuit\2", text) if "// qpi:meta" in text else text


def assemble(
    circuits: Iterable[Any],
    *,
    shots: int = 1024,
    meas_level: int = 2,
    meas_return: str = "single",
    qpu_target: str = "",
) -> JobPayload:
    """Build and validate the [`JobPayload`][qpi.payload.JobPayload] of a submission.

    The one place a payload is assembled: the client's ``run``/``submit_job`` and every
    plugin (Qiskit backend and primitives, PennyLane device, Cirq sampler) call it. A payload
    larger than one request is allowed here; the job runner splits it.

    Args:
        circuits: Circuit entries: [`CircuitPayload`][qpi.payload.CircuitPayload]s, wire dicts,
            OpenQASM text, or translated circuits (anything with a ``payload`` attribute).
        shots: Default shots for circuits that do not set their own.
        meas_level: ``2`` for counts, ``1`` for IQ memory.
        meas_return: ``"single"`` or ``"avg"``.
        qpu_target: The QPU's record id.

    Raises:
        ValidationError: If the payload is malformed.
    """
    if isinstance(circuits, str | Mapping | CircuitPayload):
        circuits = [circuits]
    entries = tuple(getattr(c, "payload", c) for c in circuits)
    payload = JobPayload(
        circuits=entries,
        shots=shots,
        meas_level=meas_level,
        meas_return=meas_return,
        qpu_target=qpu_target,
    )
    payload.validate(max_bytes=None)
    return payload


def mark_submission(body: dict[str, Any], nonce: str) -> dict[str, Any]:
    """Return a copy of a wire body whose first circuit ends with a submission comment.

    The QPI API has no idempotency key. This comment is how a client recognises its own job
    in the server's job list when the answer to a submission was lost, instead of sending it
    twice. QPU drivers ignore comments, and
    [`CircuitPayload.from_dict`][qpi.payload.CircuitPayload.from_dict] strips the line,
    so a payload read back from the server has the fingerprint it was submitted with.

    Args:
        body: The output of [`JobPayload.to_dict`][qpi.payload.JobPayload.to_dict].
        nonce: 32 lowercase hex characters, unique to this submission.
    """
    circuits = [dict(c) for c in body["circuits"]]
    text = circuits[0]["circuit"]
    # Always "\n<mark>\n", so stripping restores the text exactly, with or without a final
    # newline of its own.
    circuits[0]["circuit"] = f"{text}\n{SUBMISSION_MARK}{nonce}\n"
    return {**body, "circuits": circuits}


def new_nonce() -> str:
    """A fresh submission tag (see [`mark_submission`][qpi.payload.mark_submission])."""
    return uuid.uuid4().hex


def strip_submission_mark(text: Any) -> Any:
    """Remove the trailing submission comment `mark_submission` added, if any."""
    if isinstance(text, str) and SUBMISSION_MARK in text:
        match = _SUBMISSION_LINE.search(text)
        if match is not None:
            return text[: match.start()]
    return text
