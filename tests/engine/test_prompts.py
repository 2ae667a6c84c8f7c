"""What the model is told about the context files it is sent."""

from __future__ import annotations

from gearshift.prompts import context_block


def test_files_sent_whole_need_no_warning() -> None:
    block = context_block([{"path": "calc.py", "reason": "named", "mode": "full", "text": "x = 1"}])
    assert block == 'Project files for this task:\n\n<file path="calc.py" reason="named">\nx = 1\n</file>'


def test_files_sent_cut_down_are_marked_and_the_model_is_told_to_view_them_before_editing() -> None:
    block = context_block(
        [
            {"path": "calc.py", "reason": "named", "mode": "full", "text": "x = 1"},
            {"path": "shop/pricing.py", "reason": "imports calc.py", "mode": "signatures", "text": "def f(): ..."},
        ]
    )
    assert '<file path="shop/pricing.py" reason="imports calc.py" mode="signatures">' in block
    assert "view such a file with the tool before you edit it" in block.splitlines()[0]
