"""The vocabulary of a scanned file's graph record, shared by the Python and TS/JS scanners.

`pyscan` reads Python and `jsscan` reads TypeScript/JavaScript into records of the same shape;
the flags, name kinds and size limit they both write, and the way both read a file, are here so
neither scanner imports the other (pyscan's worker dispatches to jsscan; jsscan needs only
this). Standard library only: the cold-build worker (`python -S`) imports it at start-up.
"""

from __future__ import annotations

import os

MAX_PARSE_BYTES = 1_000_000  # bigger files (bundles, generated tables) are indexed, not parsed

# Flags on an import entry.
TYPE_ONLY = 1  # under `if TYPE_CHECKING:` (or `import type` in TS)
LAZY = 2  # inside a function or class body (or a dynamic import in TS)
REEXPORT = 4  # `export ... from` (TS); every Python from-import re-exports implicitly

# Kinds of top-level names.
CLASS, TYPE, FUNC, VAR = "c", "t", "f", "v"


def read_source(path: str) -> tuple[bytes, tuple[int, int, int], bool] | str:
    """(bytes, (mtime_ns, size, chars), is UTF-8) of a file, or why it could not be read.

    Text is always read as UTF-8 (undecodable bytes replaced); `chars` counts that text.
    """
    try:
        st = os.stat(path)
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        return f"unreadable: {exc.strerror}"
    try:
        chars, utf8 = len(data.decode("utf-8")), True
    except UnicodeDecodeError:
        chars, utf8 = len(data.decode("utf-8", errors="replace")), False
    return data, (st.st_mtime_ns, st.st_size, chars), utf8
