"""Sweeps as parameter rows: one wire entry per circuit, one row per sweep point.

The circuit is written once, its symbols as OpenQASM 3 inputs in sorted-name order; each
``cirq.ParamResolver`` of the sweep becomes one row of values in that order, which the QPU
driver binds positionally.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable, Sequence
from typing import Any

import cirq
import numpy as np
import sympy

from qpi.circuit import Circuit
from qpi.errors import ValidationError
from qpi.hooks import TranslatedCircuit
from qpi_cirq.convert import METADATA_KEY, PLUGIN_NAME, to_circuit
from qpi_cirq.expressions import real_number

__all__ = ["circuit_rows", "to_resolvers", "translate", "wire_entry"]


def translate(
    program: cirq.AbstractCircuit, params: Any = None, shots: int | None = None
) -> TranslatedCircuit:
    """One wire entry for ``program``: its program text and one row per sweep point.

    Args:
        program: The circuit to send.
        params: A ``cirq.Sweepable`` (resolver, dict, sweep, list of them), or rows of
            values given in the order of the sorted symbol names (see
            [`to_resolvers`][qpi_cirq.sweeps.to_resolvers]).
        shots: The entry's own shots; ``None`` uses the job's.

    Returns:
        The entry, with ``context["layout"]`` (the Cirq layout) and ``context["resolvers"]``
        (one ``cirq.ParamResolver`` per row) for rebuilding results.

    Raises:
        ValidationError: If the circuit cannot be carried, has no measurements, the sweep is
            empty, or a sweep point leaves a symbol without a value.
    """
    circuit = to_circuit(program)
    resolvers = to_resolvers(params, circuit.parameters or ())
    if not resolvers:
        raise ValidationError("the sweep has no points; give at least one parameter resolver")
    return wire_entry(circuit, resolvers, shots)


def wire_entry(
    circuit: Circuit, resolvers: Sequence[cirq.ParamResolver], shots: int | None = None
) -> TranslatedCircuit:
    """The wire entry for a converted circuit run at each of ``resolvers`` (at least one).

    Raises:
        ValidationError: If the circuit has no measurements or a resolver leaves a symbol
            without a value.
    """
    from qpi import qasm3

    if not circuit.has_measurements():
        raise ValidationError(
            "the circuit has no measurements to sample; add cirq.measure(...) on the qubits "
            "you want to read"
        )
    symbols = list(circuit.parameters or ())
    rows = circuit_rows(symbols, resolvers)
    # A sweep over a circuit without symbols still needs one experiment per point (independent
    # samples), so it sends that many empty rows; a single point sends none.
    payload = qasm3.to_payload(circuit, rows if len(rows) > 1 or symbols else None, shots)
    layout = circuit.metadata[METADATA_KEY]  # type: ignore[index]
    return TranslatedCircuit(
        payload, plugin=PLUGIN_NAME, context={"layout": layout, "resolvers": list(resolvers)}
    )


def to_resolvers(params: Any, symbols: Sequence[str]) -> list[cirq.ParamResolver]:
    """Sweep points as resolvers, from a ``cirq.Sweepable`` or from rows of values.

    Rows (a list of lists, or a 2-D array) give one value per symbol, in the order of
    ``symbols`` (the sorted symbol names, as [`to_circuit`][qpi_cirq.convert.to_circuit] declares
    them).

    Raises:
        ValidationError: If a row has the wrong length or ``params`` is not a sweep.
    """
    if _looks_like_rows(params):
        resolvers = []
        for index, row in enumerate(params):
            values = list(row)
            if len(values) != len(symbols):
                raise ValidationError(
                    f"parameter row {index} has {len(values)} value(s) but the circuit has "
                    f"{len(symbols)} symbol(s) {list(symbols)} (rows follow sorted symbol names)"
                )
            resolvers.append(cirq.ParamResolver(dict(zip(symbols, values, strict=True))))
        return resolvers
    try:
        return list(cirq.to_resolvers(params))
    except (TypeError, ValueError) as exc:
        raise ValidationError(
            f"cannot read the parameters as a Cirq sweep ({exc}); give a cirq.Sweepable "
            "(a dict, a ParamResolver, a cirq.Sweep, or a list of them) or rows of values"
        ) from exc


def _looks_like_rows(params: Any) -> bool:
    """Rows of numbers (``[[0.1, 2], [0.3, 4]]``), not a nested ``cirq.Sweepable``.

    A list of lists of resolvers or sweeps is a Sweepable Cirq flattens, so a list counts as
    rows only when every element of every row is a number.
    """
    if isinstance(params, np.ndarray):
        return params.ndim == 2
    if not isinstance(params, list | tuple) or not params:
        return False
    return all(
        isinstance(row, np.ndarray)
        and row.dtype.kind in "biuf"
        or isinstance(row, list | tuple)
        and all(map(_is_number, row))
        for row in params
    )


def _is_number(value: Any) -> bool:
    if isinstance(value, sympy.Basic):
        return bool(value.is_number)
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def circuit_rows(
    symbols: Sequence[str], resolvers: Iterable[cirq.ParamResolverOrSimilarType]
) -> list[list[float]]:
    """One row of input values per resolver, in the order of ``symbols``.

    Args:
        symbols: The circuit's symbol names (``Circuit.parameters``).
        resolvers: One resolver (or ``{symbol: value}`` dict) per sweep point.

    Raises:
        ValidationError: If a resolver leaves a symbol without a real numeric value.
    """
    rows = []
    for point, resolver in enumerate(map(cirq.ParamResolver, resolvers)):
        row = []
        for name in symbols:
            value = resolver.value_of(sympy.Symbol(name))
            row.append(real_number(value, f"sweep point {point}: symbol {name!r}"))
        rows.append(row)
    return rows
