"""The tuning view's text plots: where the marks land and how tall the bars are."""

from __future__ import annotations

from gearshift.ui.plots import cost_bars, score_strip


def test_score_strip_puts_each_outcome_on_its_row_and_marks_the_threshold() -> None:
    points = [
        {"score": 0.2, "success": True, "escalated": False},
        {"score": 0.2, "success": True, "escalated": False},
        {"score": 0.6, "success": True, "escalated": True},
        {"score": 0.9, "success": False, "escalated": False},
    ]
    rows = score_strip(points, threshold=0.75, width=20).plain.splitlines()
    passed, escalated, failed, axis, note = rows
    # 10 label columns, then cells; the threshold mark sits before cell 15 (0.75 × 20)
    cells = lambda row: row[10:25] + row[26:]  # noqa: E731
    assert passed[25] == escalated[25] == failed[25] == "┃"
    assert cells(passed)[4] == "•" and cells(passed).strip() == "•"  # two tasks at 0.2, nothing else
    assert cells(escalated)[12] == "·" and cells(failed)[18] == "·"
    assert note.index("↑") == 25 and "threshold 0.75" in note


def test_cost_bars_scale_from_cheapest_to_dearest() -> None:
    what_if = [{"threshold": t, "estimated_cost_usd": c} for t, c in ((0.3, 0.1), (0.35, 0.2), (0.4, 0.3))]
    top, second, third, bottom, labels, note = cost_bars(
        what_if, today=0.35, recommended=0.3
    ).plain.splitlines()
    assert top.startswith("$  0.3000") and bottom.startswith("$  0.1000")
    assert top[10:13] == "   " and top[18:21] == "███"  # the dearest bar fills every row
    assert bottom[10:13] == "▁▁▁"  # the cheapest is one eighth of a row, still visible
    assert labels.split() == [".30", ".35", ".40"]
    assert "today (0.35)" in note and "recommended (0.30)" in note
