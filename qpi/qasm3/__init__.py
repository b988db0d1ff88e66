"""OpenQASM 3 for the neutral circuit form: a canonical writer and a parser for its subset.

[`write`][qpi.qasm3.write] turns a [`Circuit`][qpi.circuit.Circuit] into the exact text the SDK
sends, and
[`Builder`][qpi.qasm3.Builder] produces the same text from instructions fed one at a time (for
converters of
large native circuits). The text is canonical: equal circuits give equal text, byte for byte,
so payload fingerprints (and cache hits) do not depend on how a circuit was built. Inputs are
renamed ``p0, p1, ...`` (zero-padded, so their sorted order is their row order, which is how
the QPU driver binds rows), numbers are printed as the shortest string that reads back to the
same float, and constant sub-expressions are folded.

[`parse`][qpi.qasm3.parse] reads that text back, and the hand-written subset people commonly send:
register declarations, ``input`` parameters, the gates of ``stdgates.inc``, ``measure``,
``reset`` and ``barrier``, with arithmetic parameter expressions. Valid OpenQASM outside the
subset raises [`QasmUnsupportedError`][qpi.qasm3.QasmUnsupportedError], so a caller can fall back to
a full
implementation (``qiskit.qasm3.loads``); malformed text raises
[`QasmSyntaxError`][qpi.qasm3.QasmSyntaxError]
naming the line and column.

Both count before they expand: [`parse`][qpi.qasm3.parse] and
[`check_bounds`][qpi.qasm3.check_bounds] (which reads the full language, for programs handed
to another loader) raise [`QasmLimitError`][qpi.qasm3.QasmLimitError] for a program that
would grow past [`ParseLimits`][qpi.qasm3.ParseLimits].

Example:
    ```python
    from qpi.circuit import Circuit, Param
    from qpi import qasm3

    bell = Circuit(2, 2).append("h", [0]).append("cx", [0, 1])
    bell.append("rz", [1], [Param("theta")]).measure(0, 0).measure(1, 1)
    print(qasm3.dumps(bell))
    assert qasm3.dumps(qasm3.parse(qasm3.dumps(bell))) == qasm3.dumps(bell)
    ```
"""

from qpi.qasm3.bounds import Bounds, check_bounds
from qpi.qasm3.errors import QasmError, QasmLimitError, QasmSyntaxError, QasmUnsupportedError
from qpi.qasm3.limits import DEFAULT_LIMITS, ParseLimits
from qpi.qasm3.parser import parse
from qpi.qasm3.writer import META_PREFIX, Builder, Program, dumps, to_payload, write

__all__ = [
    "DEFAULT_LIMITS",
    "META_PREFIX",
    "Bounds",
    "Builder",
    "ParseLimits",
    "Program",
    "QasmError",
    "QasmLimitError",
    "QasmSyntaxError",
    "QasmUnsupportedError",
    "check_bounds",
    "dumps",
    "parse",
    "to_payload",
    "write",
]
