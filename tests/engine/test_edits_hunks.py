"""Hunks: the split the review shows and the partial apply must agree, on any text."""

from __future__ import annotations

import json
import random
import shutil
import subprocess
from difflib import SequenceMatcher
from pathlib import Path

import pytest
from gearshift.edits import hunks
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


# The oracle: the implementation before the faster alignment, difflib's SequenceMatcher as is.


def oracle_hunks(before: str | None, after: str | None, context: int) -> list[tuple[str, list[str]]]:
    a, b = split_lines(before or ""), split_lines(after or "")
    if (before is None) != (after is None) and not a and not b:
        return [("@@ -0,0 +0,0 @@", [])]

    def emit(out: list[str], prefix: str, lines: list[str]) -> None:
        for line in lines:
            out.extend([prefix + line[:-1]] if line.endswith("\n") else [prefix + line, NO_NEWLINE])

    def span(start: int, stop: int) -> str:
        length = stop - start
        first = start + 1 if length else start
        return str(first) if length == 1 else f"{first},{length}"

    out = []
    for group in SequenceMatcher(None, a, b, autojunk=False).get_grouped_opcodes(context):
        lines: list[str] = []
        for tag, i1, i2, j1, j2 in group:
            emit(lines, " " if tag == "equal" else "-", a[i1:i2])
            if tag != "equal":
                emit(lines, "+", b[j1:j2])
        header = f"@@ -{span(group[0][1], group[-1][2])} +{span(group[0][3], group[-1][4])} @@"
        out.append((header, lines))
    return out


def oracle_apply(before: str, after: str, accepted: set[int], context: int) -> str:
    a, b = split_lines(before), split_lines(after)
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    opcodes = list(matcher.get_opcodes())
    owner = {}
    for index, group in enumerate(matcher.get_grouped_opcodes(context)):
        for tag, i1, i2, j1, j2 in group:
            if tag != "equal":
                owner[(i1, i2, j1, j2)] = index
    out: list[str] = []
    for tag, i1, i2, j1, j2 in opcodes:
        take = tag != "equal" and owner[(i1, i2, j1, j2)] in accepted
        out.extend(b[j1:j2] if take else a[i1:i2])
    return "".join(out)


def repetitive_pair(rng: random.Random) -> tuple[str, str]:
    """Texts where difflib's tie-breaks matter: few distinct lines, often periodic, blocks moved."""
    alphabet = rng.choice(
        [["x"], ["a", "b"], ["a", "b", "c", ""], ["{", "}", '  "k": 1,', ""], list("0123456789")]
    )
    lines = [rng.choice(alphabet) for _ in range(rng.choice([0, 1, 4, 20, 80, 250]))]
    if lines and rng.random() < 0.4:
        period = rng.randint(1, 12)
        lines = [lines[i % period] for i in range(len(lines))]
    other = list(lines)
    for _ in range(rng.choice([0, 1, 1, 2, 6, 25])):
        at, kind = rng.randint(0, len(other)), rng.random()
        if kind < 0.3:
            other[at:at] = [rng.choice([*alphabet, "new"]) for _ in range(rng.randint(1, 4))]
        elif kind < 0.6:
            del other[at : at + rng.randint(1, 5)]
        elif kind < 0.8:
            other[at : at + 1] = [rng.choice([*alphabet, "changed"])]
        else:
            start = rng.randint(0, len(other))
            other[at:at] = other[start : start + rng.randint(1, 30)]
    before = "\n".join(lines) + ("\n" if rng.random() < 0.8 else "")
    after = "\n".join(other) + ("\n" if rng.random() < 0.8 else "")
    if rng.random() < 0.1:
        before, after = before.replace("\n", "\r\n"), after.replace("\n", "\r\n")
    return (after, before) if rng.random() < 0.2 else (before, after)


def assert_same_as_oracle(rng: random.Random, before: str, after: str) -> None:
    for context in (0, 1, 3):
        got = split_hunks("f", before, after, context)
        assert [(h.header, h.lines) for h in got] == oracle_hunks(before, after, context)
        expected_diff = "".join(
            f"{header}\n" + "".join(f"{line}\n" for line in lines)
            for header, lines in oracle_hunks(before, after, context)
        )
        assert unified_diff("f", before, after, context).partition("+++ b/f\n")[2] == expected_diff
        for _ in range(3):
            chosen = {h.index for h in got if rng.random() < 0.5}
            assert apply_hunks(before, after, chosen, context) == oracle_apply(before, after, chosen, context)


@pytest.mark.parametrize("seed", range(120))
def test_same_hunks_as_difflib(seed: int) -> None:
    rng = random.Random(seed)
    assert_same_as_oracle(rng, *repetitive_pair(rng))
    assert_same_as_oracle(rng, before := random_text(rng), random_edit(rng, before))


@pytest.mark.parametrize("seed", range(120))
def test_hashed_search_finds_difflibs_longest_match(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    # Small inputs normally stay with difflib's own search: make every search take the hashed one.
    monkeypatch.setattr(hunks._Aligner, "DIFFLIB_STEPS_PER_LINE", -1)
    monkeypatch.setattr(hunks._Aligner, "DIFFLIB_STEPS_FREE", -1)
    rng = random.Random(seed)
    assert_same_as_oracle(rng, *repetitive_pair(rng))


@pytest.mark.parametrize("seed", range(15))
def test_hash_collisions_fall_back_to_difflib(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hunks._Aligner, "DIFFLIB_STEPS_PER_LINE", -1)
    monkeypatch.setattr(hunks._Aligner, "DIFFLIB_STEPS_FREE", -1)
    monkeypatch.setattr(hunks, "_MOD", 13)  # most windows now collide
    rng = random.Random(seed)
    assert_same_as_oracle(rng, *repetitive_pair(rng))


def test_one_line_edit_in_a_huge_repetitive_file_is_one_hunk() -> None:
    # difflib alone takes minutes on this (its search is quadratic in how often lines repeat).
    items = [{"id": n % 7, "name": "x", "tags": ["a", "b"], "ok": True} for n in range(5556)]
    before = json.dumps(items, indent=2) + "\n"
    lines = before.split("\n")
    assert len(lines) > 50_000
    at = 31_337
    old_line = lines[at]
    lines[at] = old_line + "  // edited"
    after = "\n".join(lines)
    [hunk] = split_hunks("data.json", before, after)
    assert hunk.header == f"@@ -{at - 2},7 +{at - 2},7 @@"
    context = [" " + line for line in lines[at - 3 : at + 4]]
    assert hunk.lines == [*context[:3], "-" + old_line, "+" + lines[at], *context[4:]]
    assert apply_hunks(before, after, {0}) == after
    assert apply_hunks(before, after, set()) == before
