"""The shared terminal renderer: bars, charts, tables, durations."""

from __future__ import annotations

import pytest

from qpi.cli.render import BLOCKS, bar, bar_chart, comparison_chart, format_seconds, table


@pytest.mark.parametrize("fraction", [0, 0.01, 0.125, 0.5, 0.77, 1, 1.5, -1])
def test_bar_is_exactly_the_width(fraction) -> None:
    assert len(bar(fraction, 10)) == 10


def test_bar_resolves_eighths() -> None:
    assert bar(1, 4) == "████"
    assert bar(0, 4) == "    "
    assert bar(1 / 32, 4) == BLOCKS[1] + "   "  # one eighth of one cell
    assert bar(0.5 + 3 / 64, 8) == "████" + BLOCKS[3] + "   "


def test_bar_chart_sorted_by_bitstring_with_counts_and_percentages() -> None:
    lines = bar_chart({"11": 514, "00": 486}, width=60)
    assert [line.split()[0] for line in lines] == ["00", "11"]
    assert lines[0].endswith("486   48.6%")
    assert lines[1].endswith("514   51.4%")
    assert all(len(line) == 60 for line in lines)
    assert "█" * 20 in lines[1]  # the largest count fills the bar


def test_bar_chart_fits_the_width() -> None:
    for width in (40, 80, 100):
        assert {len(line) for line in bar_chart({"0": 1, "1": 3}, width=width)} == {width}


def test_bar_chart_caps_the_rows() -> None:
    counts = {format(i, "06b"): i + 1 for i in range(64)}
    lines = bar_chart(counts, width=80, max_rows=8)
    assert len(lines) == 9
    # The most frequent outcomes, most frequent first.
    assert [line.split()[0] for line in lines[:8]] == [format(i, "06b") for i in range(63, 55, -1)]
    assert lines[-1].strip().startswith("… 56 more outcome(s)")


def test_empty_counts() -> None:
    assert bar_chart({}) == ["  (no counts)"]


def test_comparison_chart_shares_one_scale() -> None:
    lines = comparison_chart({"A": {"00": 10, "11": 5}, "B": {"11": 10}}, width=60)
    assert lines[0].split() == ["outcome", "A", "B"]
    assert [line.split()[0] for line in lines[1:]] == ["00", "11"]
    row_00 = lines[1]
    assert row_00.rstrip().endswith(" 0")  # B has no 00
    assert max(len(line) for line in lines) <= 60


def test_table_aligns_columns() -> None:
    assert table(["A", "NUMBER"], [["x", 1], ["long", None]], align="lr") == [
        "A     NUMBER",
        "x          1",
        "long       -",
    ]


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(None, "-"), (0.0004, "400 µs"), (0.0123, "12 ms"), (3.44, "3.4 s"), (125, "2 min 05 s")],
)
def test_format_seconds(seconds, text) -> None:
    assert format_seconds(seconds) == text
