"""Parameter bindings given to ``run`` → rows of floats in the order the wire binds them.

A circuit's rows are given in ``QuantumCircuit.parameters`` order, the order Qiskit users
already use for ``assign_parameters(list)``. Each binding may be:

* a row: a list (or 1-d array) with one number per parameter;
* a mapping keyed by ``Parameter``, by parameter name, or by ``ParameterVector`` (with one
  value per element);

and a circuit may have any number of them: a list of rows, a list of mappings, a 2-d array, or
a single row or mapping for one binding.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
from qiskit.circuit import Parameter, ParameterVector

from qpi.errors import ValidationError

__all__ = ["parameter_rows"]


def parameter_rows(
    names: Sequence[str],
    bindings: Any,
    *,
    where: str = "circuit",
    columns: Sequence[int] | None = None,
) -> list[list[float]] | None:
    """Turn the bindings given for one circuit into rows of floats.

    Args:
        names: The circuit's parameter names, in ``QuantumCircuit.parameters`` order.
        bindings: ``None``, one binding, or a sequence of bindings (see the module docs).
        where: How error messages name the circuit.
        columns: Keep only these positions of each row (the parameters that reach the wire).

    Returns:
        One row per binding, values in ``names`` order; ``None`` for a circuit without
        parameters given no bindings.

    Raises:
        ValidationError: If a parametric circuit has no bindings, a row has the wrong length,
            a mapping misses or names unknown parameters, or a value is not a real number.
    """
    names = list(names)
    fast = _array_rows(bindings, len(names))
    if fast is not None:
        return [[row[c] for c in columns] for row in fast] if columns is not None else fast
    bindings = _as_bindings(bindings)
    if not bindings:
        if names:
            raise ValidationError(
                f"{where} has {len(names)} unbound parameter(s) {_show(names)}; give "
                "parameter_values (rows in circuit.parameters order, or mappings) or bind them "
                "with circuit.assign_parameters(...)"
            )
        return None
    if not names:
        if any(_has_values(binding) for binding in bindings):
            raise ValidationError(
                f"{where} has no parameters, but parameter_values gives values for it; drop "
                "parameter_values for this circuit (or pass None for it in a list)"
            )
        return None
    rows = [_row(where, names, i, binding) for i, binding in enumerate(bindings)]
    if columns is not None:
        rows = [[row[c] for c in columns] for row in rows]
    return rows


def _array_rows(bindings: Any, width: int) -> list[list[float]] | None:
    """Rows of a real-valued array of the right width, converted in bulk (else ``None``).

    A sweep's bindings are usually one 2-d array; converting it value by value costs about
    half a microsecond per value. Anything unusual takes the checked path instead.
    """
    if (
        not isinstance(bindings, np.ndarray)
        or bindings.dtype.kind not in "fiu"
        or bindings.size == 0
        or width == 0
        or bindings.shape[-1] != width
    ):
        return None
    return bindings.reshape(-1, width).astype(float, copy=False).tolist()


def _as_bindings(bindings: Any) -> list[Any]:
    """A list of bindings (rows or mappings) from any of the accepted forms."""
    if bindings is None:
        return []
    if isinstance(bindings, Mapping):
        return [bindings]
    if isinstance(bindings, np.ndarray):
        if bindings.ndim <= 1:
            return [bindings.reshape(-1)]
        return list(bindings.reshape(-1, bindings.shape[-1]))
    if isinstance(bindings, numbers.Real):
        return [[bindings]]
    if isinstance(bindings, str | bytes) or not isinstance(bindings, Iterable):
        raise ValidationError(
            f"parameter_values must be rows of numbers or mappings of parameters to numbers, "
            f"got {type(bindings).__name__}"
        )
    items = list(bindings)
    if items and _is_number(items[0]):
        return [items]  # one flat row, as the original client accepted
    return items


def _row(where: str, names: list[str], index: int, binding: Any) -> list[float]:
    if isinstance(binding, Mapping):
        return _row_from_mapping(where, names, index, binding)
    if isinstance(binding, str | bytes) or not isinstance(binding, Iterable):
        raise ValidationError(
            f"{where}: binding {index} must be a row of numbers or a mapping, got {binding!r}"
        )
    row = list(binding)
    if len(row) != len(names):
        raise ValidationError(
            f"{where}: parameter row {index} has {len(row)} value(s) but the circuit has "
            f"{len(names)} parameter(s) {_show(names)} (rows follow circuit.parameters order)"
        )
    return [_number(where, index, name, value) for name, value in zip(names, row, strict=True)]


def _row_from_mapping(
    where: str, names: list[str], index: int, binding: Mapping[Any, Any]
) -> list[float]:
    values: dict[str, Any] = {}
    for key, value in binding.items():
        if isinstance(key, ParameterVector):
            elements = list(value) if isinstance(value, Iterable) else [value]
            if len(elements) != len(key):
                raise ValidationError(
                    f"{where}: binding {index} gives {len(elements)} value(s) for the "
                    f"{len(key)}-element vector {key.name!r}"
                )
            values.update((p.name, v) for p, v in zip(key, elements, strict=True))
        elif isinstance(key, Parameter):
            values[key.name] = value
        elif isinstance(key, str):
            values[key] = value
        else:
            raise ValidationError(
                f"{where}: binding {index} has a key of type {type(key).__name__}; key by "
                "Parameter, ParameterVector or parameter name"
            )
    unknown = sorted(set(values) - set(names))
    if unknown:
        raise ValidationError(
            f"{where}: binding {index} names parameter(s) {_show(unknown)} the circuit does "
            f"not have; its parameters are {_show(names)}"
        )
    missing = [n for n in names if n not in values]
    if missing:
        raise ValidationError(
            f"{where}: binding {index} gives no value for {_show(missing)}; every parameter "
            "needs one (or bind some with circuit.assign_parameters first)"
        )
    return [_number(where, index, name, values[name]) for name in names]


def _has_values(binding: Any) -> bool:
    if isinstance(binding, Mapping):
        return bool(binding)
    if isinstance(binding, Iterable) and not isinstance(binding, str | bytes):
        return len(list(binding)) > 0
    return True


def _number(where: str, index: int, name: str, value: Any) -> float:
    if not _is_number(value):
        raise ValidationError(
            f"{where}: binding {index} gives {value!r} for {name!r}; values must be real numbers"
        )
    return float(value)


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _show(names: Sequence[str], limit: int = 8) -> str:
    shown = ", ".join(names[:limit])
    return f"[{shown}{', ...' if len(names) > limit else ''}]"
