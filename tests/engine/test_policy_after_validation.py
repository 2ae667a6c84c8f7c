"""`after_validation`: the correct / escalate / stop rule, on its own (no model, no journey)."""

from __future__ import annotations

import pytest
from gearshift.routing.policy import after_validation


def step(outcome, *, left=2, on_escalation=False, escalation_on="fail-logic", logic_left=0):
    return after_validation(
        outcome,
        corrections_left=left,
        on_escalation_model=on_escalation,
        escalation_on=escalation_on,
        logic_corrections_left=logic_left,
    )


@pytest.mark.parametrize("on_escalation", [False, True])
def test_a_pass_is_accepted_on_either_model(on_escalation):
    assert step("pass", on_escalation=on_escalation, left=0) == "accept"


def test_a_syntax_failure_is_corrected_while_corrections_are_left():
    assert step("fail-syntax", left=2) == "correct"
    assert step("fail-syntax", left=1, on_escalation=True) == "correct"


def test_a_syntax_failure_with_no_corrections_left_stops_and_never_escalates():
    assert step("fail-syntax", left=0) == "stop"


def test_a_logic_failure_escalates_from_the_default_model_only():
    assert step("fail-logic") == "escalate"
    assert step("fail-logic", left=0) == "escalate"  # corrections are for syntax, not logic
    assert step("fail-logic", on_escalation=True) == "stop"  # nowhere further to go


def test_the_escalation_model_corrects_its_own_logic_failure_while_it_has_corrections_left():
    assert step("fail-logic", on_escalation=True, logic_left=1) == "correct"
    assert step("fail-logic", on_escalation=True, logic_left=1, left=0) == "correct"  # its own count
    assert step("fail-logic", on_escalation=True, logic_left=0, left=2) == "stop"
    assert step("fail-logic", logic_left=1) == "escalate"  # the default model still escalates
    assert step("fail-logic", logic_left=1, escalation_on="never") == "stop"
    assert step("fail-syntax", on_escalation=True, logic_left=1, left=0) == "stop"  # not for syntax


def test_escalation_turned_off_stops_a_logic_failure():
    assert step("fail-logic", escalation_on="never") == "stop"


def test_a_cancelled_validation_stops():
    assert step("cancelled") == "stop"
    assert step("cancelled", left=5) == "stop"
