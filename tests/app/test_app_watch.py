"""The file watcher in the app: a save re-runs the checks into the log; a newer save makes the
run in flight stale, and the log says it was cancelled."""

from __future__ import annotations

from typing import Any

from gearshift import events as ev
from gearshift.ui.panes.validation import ValidationPane
from textual.widgets import Log

from tests.app.conftest import SIZE
from tests.app.project import CALC, wait_for


def runs(app: Any, kind: type) -> list[Any]:
    return [e for e in app.state.events if isinstance(e, kind) and getattr(e, "reason", None) == "watch"]


async def test_a_save_reruns_the_validators_and_a_newer_save_cancels_the_stale_run(build) -> None:  # type: ignore[no-untyped-def]
    app = build("story", watch=True)
    root = app.config.root
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: app.watcher is not None and app.watcher.ready.is_set(), pilot)  # type: ignore[attr-defined]
        (root / "calc.py").write_text(CALC + "\n\ndef broken(:\n")
        await wait_for(lambda: bool(runs(app, ev.ValidationStarted)), pilot)
        first = runs(app, ev.ValidationStarted)[0]
        assert first.task_id is None
        # a newer save while the first run (pytest takes a while) is still going
        (root / "calc.py").write_text(CALC)
        await wait_for(lambda: len(runs(app, ev.ValidationFinished)) >= 2, pilot)
        finished = {e.run_id: e.outcome for e in runs(app, ev.ValidationFinished)}
        assert finished[first.run_id] == "cancelled"
        last = runs(app, ev.ValidationFinished)[-1]
        assert last.outcome == "pass"
        await pilot.pause()
        log = app.query_one(ValidationPane).query_one(Log)
        text = "\n".join(log.lines)
        assert f"▶ {first.run_id} watch" in text
        assert f"⊘ {first.run_id} CANCELLED" in text
        assert f"■ {last.run_id} pass" in text
        assert app.state.latest_run(app.selected).run_id == last.run_id  # type: ignore[union-attr]
