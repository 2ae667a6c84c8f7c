"""Every review finding of a run as one SARIF 2.1.0 log, for code-scanning dashboards.

GitHub code scanning, GitLab and most CI dashboards ingest SARIF. The log has one run whose
driver is gearshift (name, version, one rule per distinct rule id the reviews used); each result
carries its level, message, a physical location relative to the project root through
`originalUriBaseIds` (so the log means the same on any checkout), the task and model that found
it, and a fix when the model suggested one (a whole-line replacement of the finding's region).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from gearshift import __version__
from gearshift.review.findings import ReviewFinding

SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
ROOT_BASE_ID = "PROJECTROOT"
_RULE_ID = re.compile(r"[^a-z0-9._/-]+")


def rule_id(rule: str) -> str:
    """A stable id for a free-text rule or category: 'Timing attack' → 'timing-attack'."""
    return _RULE_ID.sub("-", rule.strip().lower()).strip("-") or "review"


def _region(f: ReviewFinding) -> dict[str, Any]:
    return {"startLine": f.start_line, "endLine": f.end_line}


def _location(f: ReviewFinding) -> dict[str, Any]:
    return {"uri": Path(f.file).as_posix(), "uriBaseId": ROOT_BASE_ID}


def _fix(f: ReviewFinding) -> dict[str, Any]:
    # The deleted region is the finding's whole lines, without the last line's newline, so the
    # replacement text (whole lines, no trailing newline) takes their place exactly.
    replacement = (f.suggested_fix or "").removesuffix("\n")
    return {
        "description": {"text": f.fix_description or f"Replace lines {f.start_line}-{f.end_line}"},
        "artifactChanges": [
            {
                "artifactLocation": _location(f),
                "replacements": [
                    {
                        "deletedRegion": {
                            "startLine": f.start_line,
                            "startColumn": 1,
                            "endLine": f.end_line,
                            "endColumn": f.end_column,
                        },
                        "insertedContent": {"text": replacement},
                    }
                ],
            }
        ],
    }


def sarif_log(root: Path, reviews: list[tuple[str, str, list[ReviewFinding]]]) -> dict[str, Any]:
    """The log for `reviews`: (task id, model id, findings) of each review task of the run."""
    rules: dict[str, dict[str, Any]] = {}
    results: list[dict[str, Any]] = []
    for task_id, model, findings in reviews:
        for f in findings:
            rid = rule_id(f.rule)
            if rid not in rules:
                rules[rid] = {"id": rid, "name": rid, "shortDescription": {"text": f.rule}}
            result: dict[str, Any] = {
                "ruleId": rid,
                "ruleIndex": list(rules).index(rid),
                "level": f.severity,
                "message": {"text": f.message},
                "locations": [{"physicalLocation": {"artifactLocation": _location(f), "region": _region(f)}}],
                "properties": {"task": task_id, "model": model},
            }
            if f.suggested_fix is not None:
                result["fixes"] = [_fix(f)]
            results.append(result)
    return {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "gearshift",
                        "version": __version__,
                        "rules": list(rules.values()),
                    }
                },
                "originalUriBaseIds": {
                    ROOT_BASE_ID: {
                        "uri": root.resolve().as_uri() + "/",
                        "description": {"text": "The root of the reviewed project"},
                    }
                },
                "automationDetails": {"id": "gearshift/review/"},
                "results": results,
            }
        ],
    }


def write_sarif(path: Path, log: dict[str, Any]) -> None:
    """Write atomically: a CI step uploading the file never sees half of it."""
    from gearshift.edits.workspace import atomic_write_text

    atomic_write_text(path, json.dumps(log, indent=2) + "\n")
