#!/usr/bin/env bash
# Mutation testing (issue 11) with mutmut 3:
#   bench/mutation/run.sh PROFILE [MAX_CHILDREN] [MUTANT_GLOB…]
# PROFILE is `units` (routing/, pipeline/metering.py, validation/gate.py against their unit
# tests) or `journey` (pipeline/journey.py against the pipeline's integration tests); its
# settings are bench/mutation/PROFILE.toml.
#
# Lays the package out as mutmut expects (tui/gearshift → src/gearshift, plus tests/ and
# pyproject.toml with PROFILE.toml appended) in bench/_work/mutation-PROFILE, runs `mutmut run`
# there, and prints the per-module counts (bench/mutation/summary.py).
# MAX_CHILDREN defaults to 1 (the machine has 2 cores and other work). Mutant globs such as
# 'gearshift.pipeline.journey.xǁJourneyǁ_attempts*' run just those mutants (and re-run them
# against the current tests). Results are kept between runs: delete the folder to start afresh.
set -euo pipefail
REPO="$(cd "$(dirname "$0")/../.." && pwd)"
PROFILE="${1:?usage: run.sh units|journey [MAX_CHILDREN] [MUTANT_GLOB...]}"
CONF="$REPO/bench/mutation/$PROFILE.toml"
[ -f "$CONF" ] || { echo "run.sh: no profile $CONF" >&2; exit 2; }
CHILDREN="${2:-1}"
shift; shift || true
WORK="$REPO/bench/_work/mutation-$PROFILE"
PY="${PYTHON:-$REPO/.venv/bin/python}"
[ -x "$PY" ] || PY="$(command -v python3)"

mkdir -p "$WORK/src"
# Fresh copies of the code and the tests (times kept: mutmut re-mutates only what changed).
rm -rf "$WORK/src/gearshift" "$WORK/tests"
# -L: the package's _themes link (to the top-level themes/) is copied as a folder, since the
# link's relative target does not exist under src/ and mutmut copies files one by one
cp -rL --preserve=timestamps "$REPO/tui/gearshift" "$WORK/src/gearshift"
cp -a "$REPO/tests" "$WORK/tests"
cat "$REPO/pyproject.toml" "$CONF" > "$WORK/pyproject.toml"
# Tests must import the mutated copy in mutants/src, never the real package.
unset PYTHONPATH
cd "$WORK"
# The suite's conftest would `npm ci` the TypeScript sample; none of these tests need it.
export GEARSHIFT_SKIP_NPM=1
"$PY" -m mutmut run --max-children "$CHILDREN" "$@" || true
"$PY" "$REPO/bench/mutation/summary.py"
