"""Bindings given to ``run`` → rows in ``circuit.parameters`` order."""

from __future__ import annotations

import numpy as np
import pytest
from qiskit.circuit import Parameter, ParameterVector
from qpi_qiskit.bindings import parameter_rows
from qpi_qiskit.layout import Layout, _pack_names, _unpack_names

from qpi.errors import ValidationError

NAMES = ["alpha", "v[0]", "v[1]"]


@pytest.mark.parametrize(
    "bindings",
    [
        [1.0, 2.0, 3.0],
        [[1.0, 2.0, 3.0]],
        np.array([1.0, 2.0, 3.0]),
        {"alpha": 1.0, "v[0]": 2.0, "v[1]": 3.0},
        [{Parameter("alpha"): 1, ParameterVector("v", 2): [2, 3]}],
    ],
)
def test_one_binding_in_any_form(bindings):
    assert parameter_rows(NAMES, bindings) == [[1.0, 2.0, 3.0]]


def test_many_rows_from_lists_arrays_and_mappings():
    grid = np.arange(12.0).reshape(4, 3)
    assert parameter_rows(NAMES, grid) == grid.tolist()
    assert parameter_rows(NAMES, grid.tolist()) == grid.tolist()
    mappings = [{"alpha": r[0], "v[0]": r[1], "v[1]": r[2]} for r in grid]
    assert parameter_rows(NAMES, mappings) == grid.tolist()


def test_columns_keep_only_the_parameters_sent():
    assert parameter_rows(NAMES, [[1, 2, 3], [4, 5, 6]], columns=(0, 2)) == [[1, 3], [4, 6]]


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int64, np.uint8])
def test_numeric_arrays_convert_in_bulk_to_the_same_rows(dtype):
    grid = np.arange(12).reshape(2, 2, 3).astype(dtype)  # any leading shape: rows of 3
    rows = parameter_rows(NAMES, grid)
    assert rows == [[float(v) for v in r] for r in grid.reshape(-1, 3).tolist()]
    assert all(type(v) is float for r in rows for v in r)
    assert parameter_rows(NAMES, grid, columns=(2, 0)) == [[r[2], r[0]] for r in rows]


@pytest.mark.parametrize(
    ("names", "bindings", "message"),
    [
        (NAMES, None, r"3 unbound parameter\(s\) \[alpha, v\[0\], v\[1\]\]"),
        (NAMES, [[1.0, 2.0]], "row 0 has 2 value.*3 parameter"),
        (NAMES, [{"alpha": 1.0, "v[0]": 2.0}], r"no value for \[v\[1\]\]"),
        (NAMES, [{"alpha": 1, "v[0]": 2, "v[1]": 3, "beta": 4}], r"\[beta\] the circuit does not"),
        (NAMES, [[1.0, "x", 3.0]], "values must be real numbers"),
        (NAMES, [[1.0, 2j, 3.0]], "values must be real numbers"),
        ([], [[0.5]], "no parameters, but parameter_values"),
        (NAMES, "1,2,3", "rows of numbers or mappings"),
    ],
)
def test_bindings_that_do_not_fit_are_refused(names, bindings, message):
    with pytest.raises(ValidationError, match=message):
        parameter_rows(names, bindings, where="circuit 'c'")


def test_circuit_without_parameters_needs_no_rows():
    assert parameter_rows([], None) is None
    assert parameter_rows([], [[]]) is None


def test_parameter_names_pack_into_vector_runs():
    names = [f"θ[{i}]" for i in range(20_000)] + ["beta", "w[3]", "w[4]", "w[07]", "x[]"]
    packed = _pack_names(names)
    assert packed == [["θ", 0, 20_000], "beta", ["w", 3, 2], "w[07]", "x[]"]
    assert list(_unpack_names(packed)) == names


def test_plain_layout_header():
    header = Layout.plain("prog", 2, 3).header()
    assert header["creg_sizes"] == [["c", 3]]
    assert header["clbit_labels"] == [["c", 0], ["c", 1], ["c", 2]]
    assert "parameter_values" not in header
