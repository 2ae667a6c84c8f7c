"""Time Aider's repo map on a tree — run with the interpreter of the throwaway Aider venv.

Called by `context_bench.py`, never imported by gearshift: it needs `aider-chat` installed, which
is not (and must not become) a project dependency. Prints one JSON object.

Token counting: Aider counts with the model's tokenizer (tiktoken), whose files are fetched
from the internet on first use; this machine has no internet, so the count is replaced by the
same ≈ 4-characters-a-token estimate gearshift uses. That makes Aider's side cheaper, if
anything, never dearer.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import time
from pathlib import Path


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("root")
    p.add_argument("--chat-file", required=True, help="path relative to root")
    p.add_argument("--map-tokens", type=int, default=4096)
    p.add_argument("--calls", type=int, default=2, help="calls in this process (the 2nd is the in-process warm one)")
    p.add_argument("--all-files", action="store_true", help="every file of the tree, not only the .py files")
    args = p.parse_args()
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

    t_import = time.perf_counter()
    from aider.io import InputOutput
    from aider.models import Model
    from aider.repomap import RepoMap

    import_s = time.perf_counter() - t_import
    root = Path(args.root).resolve()
    files = sorted(
        str(path)
        for path in root.rglob("*")
        if path.is_file()
        and not any(part.startswith(".") for part in path.relative_to(root).parts)
        and (args.all_files or path.suffix == ".py")
    )
    chat = str(root / args.chat_file)
    others = [f for f in files if f != chat]

    model = Model("gpt-4o-mini")
    model.token_count = lambda text: (len(text) + 3) // 4  # type: ignore[method-assign]
    io = InputOutput(pretty=False, yes=True, fancy_input=False)
    repo_map = RepoMap(map_tokens=args.map_tokens, root=str(root), main_model=model, io=io, verbose=False)

    calls: list[float] = []
    text = ""
    for i in range(args.calls):
        t = time.perf_counter()
        # Later calls force a refresh: unforced, Aider returns its memoised map for the same
        # inputs in microseconds, which measures a dictionary lookup, not the repo map.
        text = repo_map.get_repo_map([chat], others, force_refresh=i > 0) or ""
        calls.append(time.perf_counter() - t)
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({
        "import_s": import_s,
        "calls_s": calls,
        "peak_rss_mb": peak_kb / 1024,
        "files": len(files),
        "map_chars": len(text),
    }))


if __name__ == "__main__":
    main()
