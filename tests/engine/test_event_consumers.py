"""Every event type gets a decision from every consumer, and survives the trip through JSON.

Adding an event to events.py means deciding, in each consumer, how it is shown — or saying in
the consumer's `IGNORES` that it is not. Without that decision a new event would be silently
dropped by the app or the headless printer; this test fails instead and names it.
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
import json
import textwrap
import types
import typing

import pytest
from gearshift import events as ev
from gearshift.headless import HumanPrinter
from gearshift.ui.state import UIState

ALL_EVENTS = sorted(ev._REGISTRY.values(), key=lambda c: c.__name__)


def handled_by(consumer: type) -> set[str]:
    """The event classes a consumer's code names in a `case ev.X()` or an `isinstance(e, ev.X)`."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(consumer)))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.MatchClass) and isinstance(node.cls, ast.Attribute):
            names.add(node.cls.attr)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "isinstance"
            and isinstance(node.args[1], ast.Attribute)
        ):
            names.add(node.args[1].attr)
    return names


@pytest.mark.parametrize("consumer", [UIState, HumanPrinter], ids=lambda c: c.__name__)
def test_every_event_is_handled_or_ignored_on_purpose(consumer):
    handled = handled_by(consumer)
    ignored = {cls.__name__ for cls in consumer.IGNORES}
    known = {cls.__name__ for cls in ALL_EVENTS}
    assert handled, "no event cases found: the consumer's dispatch has moved"
    assert handled <= known, f"cases for events that do not exist: {handled - known}"
    assert not handled & ignored, f"both handled and listed as ignored: {handled & ignored}"
    assert known - handled - ignored == set(), (
        f"{consumer.__name__} has no decision for {sorted(known - handled - ignored)}: "
        "handle them, or add them to its IGNORES with the reason"
    )


def test_every_event_class_is_registered():
    """An Event subclass without `@_event` would have no `type` and could not be read back."""
    defined = {
        obj
        for obj in vars(ev).values()
        if inspect.isclass(obj) and issubclass(obj, ev.Event) and obj is not ev.Event
    }
    assert defined == set(ALL_EVENTS)
    assert len({cls.type for cls in ALL_EVENTS}) == len(ALL_EVENTS)


def _sample(tp: typing.Any) -> typing.Any:
    """A value of the annotated type, non-default where possible, so the round trip is tested."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin is typing.Literal:
        return args[-1]
    if origin in (typing.Union, types.UnionType):
        return _sample(next(a for a in args if a is not type(None)))
    if origin is list:
        return [_sample(args[0])] if args and args[0] is not typing.Any else [{"path": "a.py", "n": 1}]
    if origin is dict:
        return {"k": 1.5}
    return {str: "text ✓", int: 7, float: 2.25, bool: True}.get(tp, {"x": [1, "y"]})


@pytest.mark.parametrize("cls", ALL_EVENTS, ids=lambda c: c.type)
def test_every_event_round_trips_through_json(cls):
    hints = typing.get_type_hints(cls)
    values = {f.name: _sample(hints[f.name]) for f in dataclasses.fields(cls)}
    event = cls(**values)
    line = json.dumps(event.to_dict())
    back = ev.event_from_dict(json.loads(line))
    assert type(back) is cls
    assert back == event
    assert json.loads(line)["type"] == cls.type
