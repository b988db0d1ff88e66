r"""Terminal output shared by the commands: bar charts of counts, side-by-side charts, tables.

Everything here returns lines of plain text (no colour codes), so what a terminal shows is
what a pipe or a test sees. Bars are drawn with the eighth-block characters ``▏▎▍▌▋▊▉█``,
so a bar's length is exact to an eighth of a character.

Example:
    ```python
    from qpi.cli.render import bar_chart

    print("\n".join(bar_chart({"00": 486, "11": 514}, width=50)))
    #   00  ██████████████████████████████████▉   486  48.6%
    #   11  ████████████████████████████████████  514  51.4%
    ```
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping, Sequence

__all__ = [
    "BLOCKS",
    "bar",
    "bar_chart",
    "comparison_chart",
    "format_seconds",
    "table",
    "terminal_width",
]

BLOCKS = " ▏▎▍▌▋▊▉█"
"""Partial blocks by eighths: ``BLOCKS[k]`` is ``k`` eighths of a character wide."""
MAX_ROWS = 64
"""Outcomes shown at most in one chart; the rest are summarised in one line."""


def terminal_width(default: int = 80, cap: int = 100) -> int:
    """The width to draw in: the terminal's columns, at most ``cap`` (``default`` in a pipe).

    Args:
        default: Used when the width cannot be told (output to a pipe or a file).
        cap: Wider terminals still get charts this wide, which read better.
    """
    return max(40, min(cap, shutil.get_terminal_size((default, 24)).columns))


def bar(fraction: float, width: int) -> str:
    """A horizontal bar ``fraction`` of ``width`` characters long, padded to ``width``.

    Args:
        fraction: Between 0 and 1 (clamped).
        width: The full width in characters.

    Returns:
        The bar, right-padded with spaces to exactly ``width`` characters.
    """
    width = max(0, width)
    eighths = round(max(0.0, min(1.0, fraction)) * width * 8)
    full, rest = divmod(eighths, 8)
    text = "█" * full + (BLOCKS[rest] if rest else "")
    return text.ljust(width)


def _shown(counts: Mapping[str, int], max_rows: int) -> tuple[list[tuple[str, int]], int, int]:
    """``(outcomes to draw, how many left out, their shots)``.

    All outcomes fit: sorted by bitstring. Too many: the most frequent, most frequent first,
    so a wide result shows its peaks rather than the first bitstrings in lexical order.
    """
    items = [(str(key), int(value)) for key, value in counts.items()]
    if len(items) <= max_rows:
        return sorted(items), 0, 0
    kept = sorted(items, key=lambda kv: (-kv[1], kv[0]))[:max_rows]
    left_out = sum(value for _, value in items) - sum(value for _, value in kept)
    return kept, len(items) - len(kept), left_out


def bar_chart(
    counts: Mapping[str, int],
    *,
    width: int | None = None,
    max_rows: int = MAX_ROWS,
    indent: str = "  ",
) -> list[str]:
    """Counts as a bar chart: one line per outcome, sorted by bitstring.

    Each line is the outcome, its bar (the most frequent outcome fills the bar width), its
    count and its share of all shots. With more than ``max_rows`` outcomes, the most frequent
    ones are drawn, most frequent first, and one last line says how many were left out.

    Args:
        counts: ``{bitstring: count}``.
        width: Total line width; defaults to [`terminal_width`][qpi.cli.render.terminal_width].
        max_rows: The most outcomes drawn.
        indent: Put before every line.

    Returns:
        The lines (no trailing newlines); ``["  (no counts)"]`` for empty counts.
    """
    if not counts:
        return [f"{indent}(no counts)"]
    width = width or terminal_width()
    shown, hidden, hidden_shots = _shown(counts, max_rows)
    total = sum(int(v) for v in counts.values()) or 1
    peak = max(value for _, value in shown) or 1
    label_w = max(len(key) for key, _ in shown)
    count_w = len(str(peak))
    fixed = len(indent) + label_w + 2 + 2 + count_w + 2 + 6
    bar_w = max(8, width - fixed)
    lines = [
        f"{indent}{key:<{label_w}}  {bar(value / peak, bar_w)}  {value:>{count_w}}  "
        f"{100 * value / total:5.1f}%"
        for key, value in shown
    ]
    if hidden:
        lines.append(
            f"{indent}… {hidden} more outcome(s) with {hidden_shots} shot(s) "
            f"({100 * hidden_shots / total:.1f}%) not shown"
        )
    return lines


def comparison_chart(
    columns: Mapping[str, Mapping[str, int]],
    *,
    width: int | None = None,
    max_rows: int = MAX_ROWS,
    indent: str = "  ",
) -> list[str]:
    """Several sets of counts side by side: one row per outcome, one column per set.

    All bars share one scale (the largest count of any column fills a cell), so columns
    compare at a glance.

    Args:
        columns: ``{title: {bitstring: count}}``, drawn left to right in that order.
        width: Total line width; defaults to [`terminal_width`][qpi.cli.render.terminal_width].
        max_rows: The most outcomes drawn (the most frequent over all columns).
        indent: Put before every line.

    Returns:
        The lines: a header row, then one row per outcome sorted by bitstring.
    """
    if not columns:
        return []
    width = width or terminal_width()
    merged: dict[str, int] = {}
    for counts in columns.values():
        for key, value in counts.items():
            merged[str(key)] = merged.get(str(key), 0) + int(value)
    shown, hidden, _ = _shown(merged, max_rows)
    keys = [key for key, _ in shown]
    peak = max((int(v) for counts in columns.values() for v in counts.values()), default=1) or 1
    label_w = max([len("outcome"), *(len(k) for k in keys)])
    count_w = len(str(peak))
    cell_w = (width - len(indent) - label_w) // len(columns) - 2
    bar_w = max(4, cell_w - count_w - 1)
    cell_w = bar_w + 1 + count_w
    header = f"{indent}{'outcome':<{label_w}}" + "".join(
        f"  {title[:cell_w]:<{cell_w}}" for title in columns
    )
    lines = [header.rstrip()]
    for key in keys:
        cells = []
        for counts in columns.values():
            value = int(counts.get(key, 0))
            cells.append(f"  {bar(value / peak, bar_w)} {value:>{count_w}}")
        lines.append(f"{indent}{key:<{label_w}}" + "".join(cells))
    if hidden:
        lines.append(f"{indent}… {hidden} more outcome(s) not shown")
    return lines


def table(
    headers: Sequence[str], rows: Sequence[Sequence[object]], *, indent: str = "", align: str = ""
) -> list[str]:
    """A plain-text table with a header row; ``None`` cells print as ``-``.

    Args:
        headers: Column titles.
        rows: The cells, row by row.
        indent: Put before every line.
        align: Per column ``"l"`` (left, the default) or ``"r"`` (right, for numbers).

    Returns:
        The lines, header first.
    """
    cells = [[("-" if cell is None else str(cell)) for cell in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in cells:
        for index, cell in enumerate(row):
            widths[index] = max(widths[index], len(cell))

    def line(values: Sequence[str]) -> str:
        parts = []
        for index, value in enumerate(values):
            right = index < len(align) and align[index] == "r"
            parts.append(value.rjust(widths[index]) if right else value.ljust(widths[index]))
        return (indent + "  ".join(parts)).rstrip()

    return [line(list(headers)), *(line(row) for row in cells)]


def format_seconds(seconds: float | None) -> str:
    """A duration for people: ``"850 µs"``, ``"12 ms"``, ``"3.4 s"``, ``"2 min 05 s"``.

    Args:
        seconds: The duration; ``None`` prints as ``-``.
    """
    if seconds is None:
        return "-"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.0f} ms"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest:02d} s"
