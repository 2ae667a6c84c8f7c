"""The routing pane: which model serves the selected task and why, and any escalation.

Everything shown comes from the TaskRouted / ContextSelected / EscalationProposed events: the
score against the threshold as a bar, every signal with its weight, the rule that decided, and for
an escalation its estimated cost and how much smaller the payload is than resending everything.
"""

from __future__ import annotations

import itertools
import textwrap
from typing import Any

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Static

from gearshift.config import Config
from gearshift.ui.format import bar, model_label, money, tier_variable, tokens
from gearshift.ui.state import TaskView

RULE_WORDS = {
    "forced-default": "forced by you (default model)",
    "forced-escalation": "forced by you (escalation model)",
    "always-escalate": "always-escalate scope",
    "threshold": "score ≥ threshold",
    "below-threshold": "score < threshold",
    "latency-fallback": "latency fallback (interactive)",
}


def routing_content(config: Config, t: TaskView | None, width: int = 40) -> Content:
    """The pane's text for task `t` (pure, so tests and snapshots agree on it)."""
    if t is None:
        return Content.from_markup("[$text-muted]No task selected. Press [b]a[/b] to add one.[/]")
    parts: list[Content | str | tuple[str, str]] = []
    r = t.routed
    forced = {"escalation": "escalation model", "default": "default model"}.get(t.forced or "")
    if r is None:
        parts.append(("Not routed yet", "$text-muted"))
        if forced:
            parts += ["\n", ("next run forced to the " + forced, "bold $warning")]
        parts.append("\n")
    else:
        model = r["model"]
        parts += [
            (model_label(config, model), f"bold ${tier_variable(config, model)}"),
            "  ",
            (RULE_WORDS.get(r["rule"], r["rule"]), "$text-muted"),
            "\n",
        ]
        score, threshold = float(r["score"]), float(r["threshold"])
        gauge = bar(min(score, 1.0), max(10, width - 22), marker=threshold)
        fill = "$tier-escalation" if score >= threshold else "$tier-default"
        styles = {"█": fill, "░": "$pane-border", "┃": "bold $warning"}
        parts += ["score ", (f"{score:.2f} ", "bold")]
        parts += [("".join(run), styles[ch]) for ch, run in itertools.groupby(gauge)]
        parts += [f" {threshold:.2f}\n"]
        if r.get("arm"):  # under [routing.experiment] the threshold is the task's arm's
            parts += [(f"A/B arm {r['arm']}: threshold {threshold:.2f}", "$text-muted"), "\n"]
        for s in r["signals"]:  # a detail too long for the line wraps under the signal's name
            head = f" {s['weight']:+.2f} {s['name']} "
            detail = textwrap.wrap(s["detail"], max(10, width - 7)) or [""]
            if len(head) + len(detail[0]) > width:
                detail = ["", *detail]
            if len(detail) > 1 and detail[0]:
                detail = textwrap.wrap(s["detail"], max(10, width - len(head))) or [""]
                rest = textwrap.wrap(" ".join(detail[1:]), max(10, width - 7))
                detail = [detail[0], *rest]
            parts += [(f" {s['weight']:+.2f} ", "bold" if s["weight"] else "$text-muted"), f"{s['name']} "]
            parts += [("\n       ".join(detail), "$text-muted"), "\n"]
        if r["rule"] not in ("threshold", "below-threshold"):  # the bar already says those
            parts += [(r["explanation"], "italic"), "\n"]
        ctx = t.context
        est = f"est. {money(float(r['estimated_cost_usd']))}"
        if ctx is not None:
            # "naive" explained in place: a bigger figure than naive is neighbours added, not a loss
            est += (
                f" · context {len(ctx['files'])} files, {tokens(ctx['tokens_sent'])} tok"
                f" (naive paste of named files + their imports: {tokens(ctx['tokens_naive'])})"
            )
        parts += [(est, "$text-muted"), "\n"]
        if forced:
            parts += [("next run forced to the " + forced, "bold $warning"), "\n"]
    if t.signoff:
        parts += [("✓ signed off by ", "$text-muted"), (model_label(config, t.signoff), f"${tier_variable(config, t.signoff)}"), "\n"]
    p = t.proposal
    if p is not None:
        parts += ["\n", ("Escalation ", "bold underline")]
        parts += [(model_label(config, p["from_model"]), f"${tier_variable(config, p['from_model'])}"), " → "]
        parts += [(model_label(config, p["to_model"]), f"bold ${tier_variable(config, p['to_model'])}"), "\n"]
        decision = p.get("decision")
        if decision is None:
            parts += [("⚑ awaiting approval: y approve, n decline", "bold $warning"), "\n"]
        else:
            style = {"approved": "$outcome-pass", "withdrawn": "$text-muted"}.get(decision, "$outcome-fail")
            by = f" ({p['by']})" if p.get("by") else " (the task ended first)"
            parts += [(f"{decision}{by}", style), "\n"]
        parts += [f"{p['reason']}: ", (p["failure_signature"], "italic"), "\n"]
        saved = 1 - p["payload_tokens"] / p["naive_tokens"] if p["naive_tokens"] else 0.0
        parts += [
            # naive: re-sending the whole attempt (prefix, prompt, conversation, check output)
            f"payload {tokens(p['payload_tokens'])} tok vs naive re-prompt {tokens(p['naive_tokens'])}",
            (f" (−{saved:.0%})", "$outcome-pass") if saved > 0 else "",
            "\n",
            f"est. {money(float(p['estimated_cost_usd']))}",
        ]
        actual = p.get("actual_cost_usd")
        if actual is not None:  # after the fact: how far the forecast was off
            off = float(p["estimated_cost_usd"]) / actual - 1 if actual else 0.0
            parts += [" · actual ", (money(float(actual)), "bold"), (f" (forecast {off:+.0%})", "$text-muted")]
        parts += [f" · starts from {p['starts_from']}"]
    if t.context is not None:
        parts += _context_lines(t.context, width)
    return Content.assemble(*parts)


PRUNED_SHOWN = 5


def _context_lines(ctx: dict[str, Any], width: int) -> list[Content | str | tuple[str, str]]:
    """Which files the model is shown and why, below the decision (the pane scrolls)."""
    parts: list[Content | str | tuple[str, str]] = ["\n", ("Context ", "bold underline"), "\n"]
    for f in ctx["files"]:
        mode = "" if f["mode"] == "full" else f" · {f['mode']}"
        why = f"{f['reason']}{mode} · {tokens(f['tokens'])} tok"
        # one line when it fits, else the reason indented under its path, every wrapped line too
        if len(f["path"]) + len(why) + 2 <= width:
            parts += [f" {f['path']} ", (why, "$text-muted"), "\n"]
        else:
            wrapped = "\n".join(textwrap.wrap(why, max(10, width - 3), initial_indent="   ", subsequent_indent="   "))
            parts += [f" {f['path']}\n", (wrapped, "$text-muted"), "\n"]
    pruned = ctx.get("pruned") or []
    if pruned:
        parts += [(f" pruned {len(pruned)}:", "$text-muted"), "\n"]
        for item in pruned[:PRUNED_SHOWN]:
            line = textwrap.wrap(f"{item['path']} — {item['reason']}", max(10, width - 4), initial_indent="  ", subsequent_indent="    ")
            parts += [("\n".join(line), "$text-muted"), "\n"]
        if len(pruned) > PRUNED_SHOWN:
            parts += [(f"  … {len(pruned) - PRUNED_SHOWN} more", "$text-muted"), "\n"]
    return parts


class RoutingPane(VerticalScroll):
    DEFAULT_CSS = """
    RoutingPane { height: 1fr; scrollbar-gutter: stable; }  /* a stable width: the bar is sized to it */
    RoutingPane > Static { width: 1fr; }
    """

    def __init__(self, config: Config, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.config = config
        self.border_title = "Routing"  # focusable (tab): the arrow keys scroll what is below the fold

    def compose(self) -> ComposeResult:
        yield Static(id="routing-body")

    def show(self, t: TaskView | None) -> None:
        width = self.scrollable_content_region.width or 40
        self.query_one("#routing-body", Static).update(routing_content(self.config, t, width))
