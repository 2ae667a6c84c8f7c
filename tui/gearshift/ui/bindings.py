"""The app's actions in one table: footer bindings (each with an id, so keymaps can remap them)
and the command palette entries are generated from it, so the two can never drift apart."""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding


@dataclass(frozen=True)
class ActionSpec:
    key: str
    action: str
    label: str  # short footer label
    title: str  # command palette title
    help: str
    id: str
    show: bool = True
    priority: bool = False


ACTIONS: tuple[ActionSpec, ...] = (
    ActionSpec("a", "add_task", "Add", "Add a task", "Open the form for a new task (prompt, scope, context files, tags)", "add-task"),
    ActionSpec("r", "run", "Run", "Run the selected task", "Route and run the highlighted task", "run-task"),
    ActionSpec("R", "run_all", "Run all", "Run all queued tasks", "Run every queued task, one after another", "run-all"),
    ActionSpec("y", "approve", "Approve", "Approve the proposed escalation", "Let the escalation model take over the selected task", "approve-escalation"),
    ActionSpec("n", "decline", "Decline", "Decline the proposed escalation", "Keep the default model's failed attempt; the task ends rejected", "decline-escalation"),
    ActionSpec("e", "force_escalation", "Escalate", "Force escalation", "Serve the selected task with the escalation model (also before its first run)", "force-escalation"),
    ActionSpec("d", "force_default", "Default", "Force the default model", "Serve the selected task's next run with the default model", "force-default"),
    ActionSpec("v", "review", "Review", "Review the change", "Open the hunk-by-hunk review of the selected task's change", "review"),
    ActionSpec("ctrl+r", "retry", "Retry", "Retry the selected task", "Run a finished task again (failed, rejected, cancelled, undone)", "retry"),
    ActionSpec("f", "follow", "Follow", "Follow the running task", "During run all, show the task being run (moving the cursor pins the view)", "follow"),
    ActionSpec("c", "cancel_task", "Cancel", "Cancel the selected task", "Stop the selected running task; paid calls stay in the ledger", "cancel-task"),
    ActionSpec("i", "init", "Init", "Write gearshift.toml", "Write a gearshift.toml for this folder with the validators it uses (as gearshift init)", "init", show=False),
    ActionSpec("l", "report", "Report", "Open the report", "The ledger's spend, escalation rate and latency table", "report"),
    ActionSpec("u", "undo", "Undo", "Undo the last applied change", "Put back the files the most recently applied change wrote", "undo"),
    ActionSpec("t", "switch_theme", "Theme", "Switch theme", "Pick a theme: gearshift's own, your own, or Textual's", "switch-theme"),
    ActionSpec("q", "request_quit", "Quit", "Quit", "Leave the app (asks first while tasks run)", "quit"),
)


# Which keys the footer keeps when it cannot show them all (an 80-column terminal): the first
# ones that fit, in this order, still shown in the table's order. The rest stay bound, and in
# the command palette (ctrl+p).
FOOTER_PRIORITY = ("request_quit", "add_task", "run", "run_all", "review", "approve", "decline", "follow",
                   "cancel_task", "retry", "force_escalation", "force_default", "report", "undo", "switch_theme")


def key_display(key: str) -> str:
    return "^" + key.removeprefix("ctrl+") if key.startswith("ctrl+") else key


def footer_actions(width: int) -> set[str]:
    """The actions whose keys fit a footer `width` cells wide, by FOOTER_PRIORITY."""
    specs = {a.action: a for a in ACTIONS if a.show}
    kept: set[str] = set()
    used = 0
    for action in FOOTER_PRIORITY:
        spec = specs.get(action)
        if spec is None:
            continue
        cost = len(key_display(spec.key)) + 1 + len(spec.label) + 1  # "^r Retry" and a gap
        if used + cost > width:
            break
        kept.add(action)
        used += cost
    return kept


def bindings() -> list[Binding]:
    out = [Binding(a.key, a.action, a.label, show=a.show, priority=a.priority, id=a.id, tooltip=a.help) for a in ACTIONS]
    # Ctrl+Q and Ctrl+C ask before quitting too, instead of Textual's defaults.
    out.append(Binding("ctrl+q", "request_quit", "Quit", show=False, priority=True, id="quit-ctrl-q"))
    out.append(Binding("ctrl+c", "request_quit", "Quit", show=False, priority=True, id="quit-ctrl-c"))
    return out
