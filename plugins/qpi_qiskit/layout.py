"""A circuit's register layout: what Qiskit's result headers need, and how it travels.

The wire carries one classical register per circuit, so the Qiskit registers are merged into
one flat index space (``circuit.clbits`` order) before sending. A
[`Layout`][qpi_qiskit.layout.Layout] remembers
how to split them again, the circuit's name and its parameter names. It is stored in the
circuit's metadata (the ``// qpi:meta`` comment of the OpenQASM text), so a job fetched by id
from the server or the cache gets the same headers as the session that submitted it.

This module imports no Qiskit: it only handles names, sizes and indices.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from qpi import qasm3
from qpi.circuit import Circuit
from qpi.errors import QPIError

__all__ = ["META_KEY", "Layout"]

#: The first control-flow block of a program this plugin wrote.
_FIRST_BLOCK = re.compile(r"^(?:if|while) \(", re.MULTILINE)
#: The key of [`qpi.circuit.Circuit.metadata`][qpi.circuit.Circuit.metadata] under which the layout
#: travels.
META_KEY = "qiskit"


@dataclass(frozen=True)
class Layout:
    """Registers, name and parameters of one circuit, as its results need them.

    Attributes:
        name: The circuit's name (the experiment header's ``name``).
        num_qubits: Number of qubits.
        num_clbits: Number of classical bits (``memory_slots``).
        qregs: ``(name, size)`` of each quantum register.
        cregs: ``(name, clbit indices)`` of each classical register, indices in the flat
            ``circuit.clbits`` order the wire uses.
        parameters: Names of the inputs sent, in row order.
        metadata: The circuit's ``metadata`` (the JSON-serialisable part, after a round trip).
        primitive: What a primitive (``QPISampler``, ``QPIEstimator``) needs to rebuild its
            result from the job alone: ``{"kind": "sampler"|"estimator", ...}``; empty for
            circuits sent with ``backend.run``.
    """

    name: str
    num_qubits: int
    num_clbits: int
    qregs: tuple[tuple[str, int], ...] = ()
    cregs: tuple[tuple[str, tuple[int, ...]], ...] = ()
    parameters: tuple[str, ...] = ()
    metadata: Mapping[str, Any] = field(default_factory=dict)
    primitive: Mapping[str, Any] = field(default_factory=dict)

    # -- result headers -------------------------------------------------------------------------

    def header(self, values: Sequence[float] | None = None) -> dict[str, Any]:
        """The experiment header Qiskit's ``Result`` reads.

        ``memory_slots`` and ``creg_sizes`` make ``get_counts()`` pad keys to every clbit and
        put a space between registers; ``parameter_values`` names the row's values.

        Args:
            values: The parameter row the experiment ran with, if any.
        """
        header: dict[str, Any] = {
            "name": self.name,
            "n_qubits": self.num_qubits,
            "qreg_sizes": [[name, size] for name, size in self.qregs],
            "memory_slots": self.num_clbits,
            "creg_sizes": [[name, len(bits)] for name, bits in self.cregs],
            "clbit_labels": [[name, i] for name, bits in self.cregs for i in range(len(bits))],
            "metadata": dict(self.metadata),
        }
        if values is not None and self.parameters:
            header["parameter_values"] = dict(zip(self.parameters, values, strict=False))
        return header

    # -- travelling in the QASM -----------------------------------------------------------------

    def to_meta(self) -> dict[str, Any]:
        """A compact JSON form for `qpi.circuit.Circuit.metadata` (see `from_circuit`).

        Contiguous registers are stored as ``[name, start, size]`` and runs of parameter-vector
        elements as ``[vector, first, count]``, so a 20,000-parameter ansatz adds a few bytes.
        """
        meta: dict[str, Any] = {
            "qregs": [[name, size] for name, size in self.qregs],
            "cregs": [_pack_bits(name, bits) for name, bits in self.cregs],
        }
        if self.parameters:
            meta["parameters"] = _pack_names(self.parameters)
        user = _json_safe(self.metadata)
        if user:
            meta["metadata"] = user
        if self.primitive:
            meta["primitive"] = dict(self.primitive)
        return meta

    @classmethod
    def from_circuit(cls, circuit: Circuit, default_name: str = "circuit") -> Layout:
        """Rebuild the layout of a circuit parsed back from its OpenQASM text.

        Circuits this plugin did not write (raw QASM) keep their declared classical registers
        (in declaration order, as the parser flattens them) and are named ``default_name``
        unless their ``qpi:meta`` comment names them.
        """
        metadata = circuit.metadata or {}
        meta = metadata.get(META_KEY)
        name = circuit.name or default_name
        names = tuple(circuit.input_names())
        if not isinstance(meta, Mapping):
            plain = cls.plain(name, circuit.num_qubits, circuit.num_clbits, names)
            sizes = metadata.get("creg_sizes")
            if not sizes:
                return plain
            cregs, start = [], 0
            for reg, size in sizes:
                cregs.append((str(reg), tuple(range(start, start + int(size)))))
                start += int(size)
            return cls(name, plain.num_qubits, plain.num_clbits, plain.qregs, tuple(cregs), names)
        return cls(
            name=name,
            num_qubits=circuit.num_qubits,
            num_clbits=circuit.num_clbits,
            qregs=tuple((str(n), int(s)) for n, s in meta.get("qregs", ())),
            cregs=tuple(_unpack_bits(item) for item in meta.get("cregs", ())),
            parameters=_unpack_names(meta["parameters"]) if "parameters" in meta else names,
            metadata=dict(meta.get("metadata") or {}),
            primitive=dict(meta.get("primitive") or {}),
        )

    @classmethod
    def from_text(cls, text: str, default_name: str = "circuit") -> Layout | None:
        """The layout of an OpenQASM program; ``None`` if `qpi.qasm3.parse` cannot read it.

        Such a program is passed through as it is, and its results get a plain layout.
        """
        try:
            circuit = qasm3.parse(text)
        except qasm3.QasmUnsupportedError:
            # Control flow, which the parser leaves to full loaders: the declarations and the
            # qpi:meta comment come before the first block, and they are all a layout needs.
            head = _FIRST_BLOCK.split(text, maxsplit=1)[0]
            try:
                circuit = qasm3.parse(head)
            except (QPIError, ValueError, RecursionError):
                return None
        except (QPIError, ValueError, RecursionError):
            return None
        return cls.from_circuit(circuit, default_name)

    @classmethod
    def plain(
        cls, name: str, num_qubits: int, num_clbits: int, parameters: Sequence[str] = ()
    ) -> Layout:
        """A layout with one quantum register ``q`` and one classical register ``c``."""
        return cls(
            name=name,
            num_qubits=num_qubits,
            num_clbits=num_clbits,
            qregs=(("q", num_qubits),) if num_qubits else (),
            cregs=(("c", tuple(range(num_clbits))),) if num_clbits else (),
            parameters=tuple(parameters),
        )


def _pack_bits(name: str, bits: Sequence[int]) -> list[Any]:
    if bits and list(bits) == list(range(bits[0], bits[0] + len(bits))):
        return [name, bits[0], len(bits)]
    return [name, list(bits)]


def _unpack_bits(item: Sequence[Any]) -> tuple[str, tuple[int, ...]]:
    if len(item) == 3:
        start, size = int(item[1]), int(item[2])
        return str(item[0]), tuple(range(start, start + size))
    return str(item[0]), tuple(int(b) for b in item[1])


def _pack_names(names: Sequence[str]) -> list[Any]:
    """Names, with runs of vector elements ``v[i], v[i+1], ...`` packed as ``[v, i, count]``."""
    packed: list[Any] = []
    run: list[Any] = []
    expected = ""  # the name that would extend the current run of vector elements
    for name in names:
        if name == expected:
            run[2] += 1
            expected = run[0] + "[" + str(run[1] + run[2]) + "]"
            continue
        vector, bracket, rest = name.rpartition("[")
        digits = rest[:-1]
        if bracket and rest.endswith("]") and digits.isdigit() and str(int(digits)) == digits:
            run = [vector, int(digits), 1]
            packed.append(run)
            expected = vector + "[" + str(run[1] + 1) + "]"
        else:
            packed.append(name)
            expected = ""
    return packed


def _unpack_names(packed: Sequence[Any]) -> tuple[str, ...]:
    names: list[str] = []
    for item in packed:
        if isinstance(item, str):
            names.append(item)
        else:
            vector, first, count = item
            names.extend(f"{vector}[{i}]" for i in range(first, first + count))
    return tuple(names)


def _json_safe(metadata: Mapping[str, Any] | None) -> dict[str, Any]:
    """The part of a circuit's metadata that survives JSON (the rest stays in the session)."""
    if not metadata:
        return {}
    try:
        return json.loads(json.dumps(dict(metadata), allow_nan=False))
    except (TypeError, ValueError):
        safe = {}
        for key, value in metadata.items():
            try:
                safe[str(key)] = json.loads(json.dumps(value, allow_nan=False))
            except (TypeError, ValueError):
                continue
        return safe
