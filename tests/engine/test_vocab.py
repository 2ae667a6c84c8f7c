"""The closed sets in vocab.py are the ones the code uses: no status, rule or reason drifts.

Event fields and the engine's parameters that take a closed set are annotated with vocab's
`Literal` aliases; this reads every call in the package and checks each string written straight
into such a field or parameter is one of its allowed values — the way "selection" once went out
as a validation reason that no one had written down.
"""

from __future__ import annotations

import ast
import typing
from pathlib import Path

import gearshift
from gearshift import events as ev
from gearshift import vocab
from gearshift.models import call
from gearshift.pipeline import record
from gearshift.routing.policy import RULES
from gearshift.ui.panes.queue import COMPACT_WIDTHS

PACKAGE = Path(gearshift.__file__).parent


def allowed(tp: typing.Any) -> set[str] | None:
    """The strings a field annotation allows, or None when it is not a closed set."""
    if typing.get_origin(tp) is typing.Literal:
        return set(typing.get_args(tp))
    parts = [allowed(a) for a in typing.get_args(tp)]
    sets = [p for p in parts if p is not None]
    return set().union(*sets) if sets else None


def _alias(annotation: ast.expr | None) -> set[str] | None:
    """The strings a parameter annotation names through vocab (`TaskStatus`, `v.TaskStatus`)."""
    if annotation is None:
        return None
    name = annotation.attr if isinstance(annotation, ast.Attribute) else getattr(annotation, "id", None)
    return allowed(getattr(vocab, name)) if name and hasattr(vocab, name) else None


def closed_parameters() -> dict[str, list[tuple[str, set[str] | None]]]:
    """Function name → its parameters in order, with the closed set each takes (None: open).

    Events are dataclasses: their fields are their keyword parameters."""
    params: dict[str, list[tuple[str, set[str] | None]]] = {}
    for cls in ev._REGISTRY.values():
        hints = typing.get_type_hints(cls)
        params[cls.__name__] = [(name, allowed(tp)) for name, tp in hints.items() if name != "type"]
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                args = [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]
                typed = [(a.arg, _alias(a.annotation)) for a in args if a.arg not in ("self", "cls")]
                if any(values for _, values in typed):
                    params[node.name] = typed
    return params


def strings_given_to_closed_parameters() -> list[tuple[str, str, str, set[str]]]:
    """(where, call, the string given, its allowed set) for every string constant the package
    passes to an event field or to a parameter annotated with a vocab alias."""
    params = closed_parameters()
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name not in params:
                continue
            order = params[name]
            given = [(order[i][0] if i < len(order) else None, arg) for i, arg in enumerate(node.args)]
            given += [(kw.arg, kw.value) for kw in node.keywords]
            closed = {param: values for param, values in order if values}
            for param, value in given:
                if param in closed and isinstance(value, ast.Constant) and isinstance(value.value, str):
                    found.append(
                        (f"{path.name}:{node.lineno}", f"{name}({param}=)", value.value, closed[param])
                    )
    return found


def test_strings_given_to_closed_parameters_are_in_their_set():
    found = strings_given_to_closed_parameters()
    for where, call_, value, values in found:
        assert value in values, f"{where}: {call_} is given {value!r}, not one of {sorted(values)}"
    calls = {call_ for _, call_, _, _ in found}
    # The scan reaches the engine's statuses, validation reasons and notices.
    assert {"_status(status=)", "watched_validation(reason=)", "Notice(level=)"} <= calls, calls
    assert any(value == "selection" for _, _, value, _ in found)


def test_every_closed_field_of_the_events_uses_a_vocab_alias():
    """A closed set is written once, in vocab.py, not re-spelled as a Literal in events.py."""
    source = (PACKAGE / "events.py").read_text()
    assert "Literal[" not in source
    hints = typing.get_type_hints(ev.ValidationStarted)
    assert allowed(hints["reason"]) == set(typing.get_args(vocab.ValidationReason))
    assert "selection" in allowed(hints["reason"])  # emitted by Session.validate_selection


def test_the_engine_reads_its_sets_from_vocab():
    assert typing.get_args(vocab.TaskStatus) == record.STATUSES
    assert set(typing.get_args(vocab.FinalStatus)) == record.FINAL
    assert set(record.STATUSES) >= record.FINAL
    assert typing.get_args(vocab.SessionMode) == call.MODES
    assert typing.get_args(vocab.FaultKind) == call.FAULT_KINDS
    assert set(RULES) == set(typing.get_args(vocab.RouteRule))


def test_every_status_the_queue_can_show_has_one_look():
    shown = set(typing.get_args(vocab.TaskStatus)) | {"undone"}
    assert set(vocab.STATUS_LOOKS) == shown
    for status, look in vocab.STATUS_LOOKS.items():
        assert look.label and look.short and look.variable, status
        assert len(look.short) <= COMPACT_WIDTHS["status"], status  # fits the narrow queue
