"""Hunks: the split the review shows and the partial apply must agree, on any text."""

from __future__ import annotations

import random
import shutil
import subprocess
from pathlib import Path

import pytest
from gearshift.edits.hunks import (
    NO_NEWLINE,
    Hunk,
    apply_hunks,
    split_hunks,
    split_lines,
    unified_diff,
)

BEFORE = "".join(f"line {n}\n" for n in range(1, 31))


def edited(text: str, edits: dict[int, str | None]) -> str:
    """Replace (or drop, with None) 1-based lines."""
    lines = text.split("\n")
    for number, new in edits.items():
        lines[number - 1] = new  # type: ignore[call-overload]
    return "\n".join(line for line in lines if line is not None)


def test_distant_changes_are_separate_hunks() -> None:
    after = edited(BEFORE, {3: "LINE 3", 25: None})
    hunks = split_hunks("f.txt", BEFORE, after)
    assert [h.index for h in hunks] == [0, 1]
    assert hunks[0].header == "@@ -1,6 +1,6 @@"
    assert hunks[0].lines == [
        " line 1", " line 2", "-line 3", "+LINE 3", " line 4", " line 5", " line 6"
    ]  # fmt: skip
    assert (hunks[1].before_start, hunks[1].before_len) == (22, 7)
    assert (hunks[1].after_start, hunks[1].after_len) == (22, 6)
    assert "-line 25" in hunks[1].lines and all(h.path == "f.txt" for h in hunks)


def test_close_changes_share_a_hunk() -> None:
    after = edited(BEFORE, {10: "ten", 14: "fourteen"})
    assert len(split_hunks("f", BEFORE, after)) == 1
    assert len(split_hunks("f", BEFORE, after, context=1)) == 2


def test_partial_apply_takes_only_the_chosen_hunk() -> None:
    after = edited(BEFORE, {3: "LINE 3", 25: None})
    assert apply_hunks(BEFORE, after, {0}) == edited(BEFORE, {3: "LINE 3"})
    assert apply_hunks(BEFORE, after, {1}) == edited(BEFORE, {25: None})
    assert apply_hunks(BEFORE, after, {0, 1}) == after
    assert apply_hunks(BEFORE, after, set()) == BEFORE


def test_created_and_deleted_files_are_one_hunk() -> None:
    created = split_hunks("new.py", None, "a\nb\n")
    assert len(created) == 1 and created[0].header == "@@ -0,0 +1,2 @@"
    assert apply_hunks(None, "a\nb\n", {0}) == "a\nb\n"
    assert apply_hunks(None, "a\nb\n", set()) is None
    assert len(split_hunks("old.py", "a\n", None)) == 1
    assert apply_hunks("a\n", None, {0}) is None
    assert apply_hunks("a\n", None, set()) == "a\n"


def test_empty_file_created_or_deleted_is_still_a_change() -> None:
    assert len(split_hunks("e", None, "")) == 1
    assert apply_hunks(None, "", {0}) == ""
    assert apply_hunks(None, "", set()) is None
    assert apply_hunks("", None, {0}) is None
    assert split_hunks("e", "x\n", "x\n") == [] and apply_hunks("x\n", "x\n", set()) == "x\n"


def test_missing_final_newline_is_marked() -> None:
    [hunk] = split_hunks("f", "a\nb", "a\nc")
    assert hunk.lines == [" a", "-b", NO_NEWLINE, "+c", NO_NEWLINE]
    [added] = split_hunks("f", "a", "a\n")
    assert added.lines == ["-a", NO_NEWLINE, "+a"]


def random_text(rng: random.Random) -> str:
    words = ["alpha", "beta", "", "    return x", "}", "gamma", "delta"]
    lines = [rng.choice(words) + str(rng.randint(0, 4)) for _ in range(rng.randint(0, 60))]
    text = "\n".join(lines)
    if lines and rng.random() < 0.8:
        text += "\n"
    return text.replace("\n", "\r\n") if rng.random() < 0.15 else text


def random_edit(rng: random.Random, text: str) -> str:
    lines = text.split("\n")
    for _ in range(rng.randint(1, 6)):
        at = rng.randint(0, len(lines))
        kind = rng.choice(["insert", "delete", "replace"])
        if kind == "insert":
            lines[at:at] = [f"new {rng.randint(0, 9)}"] * rng.randint(1, 3)
        elif kind == "delete":
            del lines[at : at + rng.randint(1, 3)]
        else:
            lines[at : at + 1] = [f"changed {rng.randint(0, 9)}"]
    out = "\n".join(lines)
    return out.rstrip("\n") if rng.random() < 0.1 else out


def contents(text: str | None) -> list[str]:
    """Line contents without terminators."""
    return [line.removesuffix("\n") for line in split_lines(text or "")]


def line_count(text: str | None) -> int:
    return len(contents(text))


def rebuilt(before: str, hunks: list[Hunk], chosen: set[int]) -> list[str]:
    """Expected lines, read off the hunk bodies: '+' side of chosen hunks, '-' side of others."""
    old = contents(before)
    out: list[str] = []
    at = 0
    for hunk in hunks:
        start = hunk.before_start - 1 if hunk.before_len else hunk.before_start
        out.extend(old[at:start])
        for line in hunk.lines:
            keep = {" ": True, "-": hunk.index not in chosen, "+": hunk.index in chosen}
            if line != NO_NEWLINE and keep[line[0]]:
                out.append(line[1:])
        at = start + hunk.before_len
    out.extend(old[at:])
    return out


@pytest.mark.parametrize("seed", range(40))
def test_property_all_none_and_any_subset(seed: int) -> None:
    rng = random.Random(seed)
    before = random_text(rng)
    after = random_edit(rng, before)
    context = rng.choice([0, 1, 3])
    hunks = split_hunks("f", before, after, context)
    every = {h.index for h in hunks}
    assert apply_hunks(before, after, every, context) == after
    assert apply_hunks(before, after, set(), context) == before
    for _ in range(5):
        chosen = {i for i in every if rng.random() < 0.5}
        result = apply_hunks(before, after, chosen, context)
        assert result is not None
        grown = sum(hunks[i].after_len - hunks[i].before_len for i in chosen)
        assert line_count(result) == line_count(before) + grown
        assert contents(result) == rebuilt(before, hunks, chosen)


@pytest.mark.skipif(shutil.which("git") is None, reason="git not installed")
@pytest.mark.parametrize(
    ("before", "after"),
    [
        (BEFORE, edited(BEFORE, {3: "LINE 3", 25: None, 30: "thirty"})),
        (None, "brand\nnew\n"),
        ("going\naway\n", None),
        ("no\nnewline", "no\nnewline\nnow\n"),
        ("a\r\nb\r\nc\r\n", "a\r\nB\r\nc\r\n"),
    ],
)
def test_unified_diff_is_a_patch_git_applies(tmp_path: Path, before: str | None, after: str | None) -> None:
    target = tmp_path / "dir" / "f.txt"
    target.parent.mkdir()
    if before is not None:
        target.write_bytes(before.encode())
    patch = tmp_path / "change.diff"
    patch.write_bytes(unified_diff("dir/f.txt", before, after).encode())
    subprocess.run(
        ["git", "apply", "--whitespace=nowarn", str(patch)],
        cwd=tmp_path, check=True, capture_output=True,
    )  # fmt: skip
    assert (target.read_bytes().decode() if target.exists() else None) == after


def test_unified_diff_of_equal_texts_is_empty() -> None:
    assert unified_diff("f", "same\n", "same\n") == ""
