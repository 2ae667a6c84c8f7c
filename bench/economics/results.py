"""From per-task runs to the answer: per-arm totals, ratios against naive all-Opus with bootstrap
intervals, each lever's share of the saving, and the sensitivity sweep's break-even line.

The sweep does not re-run anything: two arms run the cascade with Sonnet always right and always
wrong, so each task has a measured cost and outcome for both cases; for a Sonnet pass rate p the
expected cost of a task is p·C(right) + (1 − p)·C(wrong), and likewise its pass chance. Tasks routed
straight to Opus cost the same in both arms, so they are unaffected, as they should be.
"""

from __future__ import annotations

import random
from pathlib import Path
from statistics import median
from typing import Any

BOOTSTRAP = 2000
CASCADE, NAIVE, ALL_OPUS = "cascade", "naive-opus", "all-opus"
TARGET_COST, TARGET_PASS = 0.45, 0.98


def arm_totals(runs: list[dict[str, Any]]) -> dict[str, Any]:
    n = len(runs)
    tokens = {k: sum(r["tokens"][k] for r in runs) for k in ("input", "output", "cache_write", "cache_read")}
    return {
        "tasks": n,
        "cost_usd": round(sum(r["cost_usd"] for r in runs), 6),
        "pass_rate": round(sum(r["passed"] for r in runs) / n, 4) if n else 0.0,
        "escalation_rate": round(sum(r["escalated"] for r in runs) / n, 4) if n else 0.0,
        "calls": sum(r["calls"] for r in runs),
        "tokens": tokens,
        "latency_s_median_task": round(median(r["latency_ms"] for r in runs) / 1000, 2) if n else 0.0,
        "latency_s_total": round(sum(r["latency_ms"] for r in runs) / 1000, 1),
        "unmatched_edits": sum(r.get("unmatched_edits", 0) for r in runs),
        "later_turns_cache_share": _later_share(runs),
    }


def _later_share(runs: list[dict[str, Any]]) -> float | None:
    """Share of the input of turns ≥ 2 read from cache (None for runs saved before it was kept)."""
    total = sum((r.get("later_turns") or {}).get("input", 0) for r in runs)
    read = sum((r.get("later_turns") or {}).get("cache_read", 0) for r in runs)
    return round(read / total, 4) if total else None


def _ratio_ci(a: list[float], b: list[float], seed: int) -> tuple[float, float, float]:
    """sum(a)/sum(b) and its 95 % bootstrap interval, resampling tasks (paired)."""
    if not a or sum(b) == 0:
        return (0.0, 0.0, 0.0)
    rng = random.Random(seed)
    n = len(a)
    samples = []
    for _ in range(BOOTSTRAP):
        idx = [rng.randrange(n) for _ in range(n)]
        den = sum(b[i] for i in idx)
        if den:
            samples.append(sum(a[i] for i in idx) / den)
    samples.sort()
    lo, hi = samples[int(0.025 * len(samples))], samples[int(0.975 * len(samples)) - 1]
    return (round(sum(a) / sum(b), 4), round(lo, 4), round(hi, 4))


def _by_task(runs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["task"]: r for r in runs}


def compare(results: dict[str, list[dict[str, Any]]], arm: str, seed: int) -> dict[str, Any] | None:
    if arm not in results or NAIVE not in results:
        return None
    mine, naive = _by_task(results[arm]), _by_task(results[NAIVE])
    ids = sorted(set(mine) & set(naive))
    cost = _ratio_ci([mine[i]["cost_usd"] for i in ids], [naive[i]["cost_usd"] for i in ids], seed)
    passed = _ratio_ci([float(mine[i]["passed"]) for i in ids], [float(naive[i]["passed"]) for i in ids], seed + 1)
    return {"cost": cost[0], "cost_ci95": cost[1:], "pass": passed[0], "pass_ci95": passed[1:]}


def sweep(results: dict[str, list[dict[str, Any]]]) -> dict[str, Any] | None:
    right, wrong = results.get("sweep-sonnet-right"), results.get("sweep-sonnet-wrong")
    if not right or not wrong or NAIVE not in results:
        return None
    r, w, nv = _by_task(right), _by_task(wrong), _by_task(results[NAIVE])
    opus = _by_task(results.get(ALL_OPUS, []))
    ids = sorted(set(r) & set(w) & set(nv))
    naive_cost = sum(nv[i]["cost_usd"] for i in ids)
    naive_pass = sum(nv[i]["passed"] for i in ids) / len(ids)
    # the other baseline: all-Opus through gearshift's own pipeline (same pruning and cache), so
    # only the routing differs — where the cascade stops paying for itself as a cascade
    opus_cost = sum(opus[i]["cost_usd"] for i in ids) if all(i in opus for i in ids) else 0.0
    points = []
    for step in range(50, 100, 5):
        p = step / 100
        cost = sum(p * r[i]["cost_usd"] + (1 - p) * w[i]["cost_usd"] for i in ids)
        passed = sum(p * r[i]["passed"] + (1 - p) * w[i]["passed"] for i in ids) / len(ids)
        points.append(
            {
                "sonnet_pass_rate": p,
                "cost_ratio": round(cost / naive_cost, 4) if naive_cost else None,
                "pass_ratio": round(passed / naive_pass, 4) if naive_pass else None,
                "cost_ratio_vs_all_opus": round(cost / opus_cost, 4) if opus_cost else None,
            }
        )
    # cost is linear in p: solve for the p where a ratio crosses a level (None: not within 0–1)
    right_cost = sum(r[i]["cost_usd"] for i in ids)
    wrong_cost = sum(w[i]["cost_usd"] for i in ids)

    def crossing(level: float, base: float) -> float | None:
        if not base or right_cost == wrong_cost:
            return None
        p = (wrong_cost / base - level) / ((wrong_cost - right_cost) / base)
        return round(p, 3) if 0 <= p <= 1 else None

    meets = [pt["sonnet_pass_rate"] for pt in points if pt["cost_ratio"] is not None and pt["cost_ratio"] <= TARGET_COST and (pt["pass_ratio"] or 0) >= TARGET_PASS]
    return {
        "points": points,
        "break_even_sonnet_pass_rate": crossing(1.0, naive_cost),
        "target_cost_sonnet_pass_rate": crossing(TARGET_COST, naive_cost),
        "break_even_vs_all_opus_sonnet_pass_rate": crossing(1.0, opus_cost),
        "cost_ratio_at_p0": round(wrong_cost / naive_cost, 4) if naive_cost else None,
        "cost_ratio_vs_all_opus_at_p0": round(wrong_cost / opus_cost, 4) if opus_cost else None,
        "meets_both_targets_from": min(meets) if meets else None,
        "method": "p·C(Sonnet right) + (1−p)·C(Sonnet wrong) per task, both measured",
    }


def levers(totals: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """What each lever saves: the cascade's cost with the lever off, relative to on."""
    base = totals.get(CASCADE, {}).get("cost_usd")
    out = {}
    for arm, lever in (("cascade-nocache", "prompt cache"), ("cascade-nopruning", "context pruning"), ("all-opus", "routing (Sonnet first)")):
        if base and arm in totals:
            out[lever] = {"cost_without_usd": totals[arm]["cost_usd"], "cost_with_usd": base,
                          "saving_share": round(1 - base / totals[arm]["cost_usd"], 4) if totals[arm]["cost_usd"] else None}
    return out


def report(results: dict[str, list[dict[str, Any]]], tasks: list[Any], *, seed: int, opus_factor: float) -> dict[str, Any]:
    totals = {arm: arm_totals(runs) for arm, runs in results.items()}
    out: dict[str, Any] = {
        "seed": seed,
        "opus_factor": opus_factor,
        "tasks": len(tasks),
        "projects": sorted({t.project for t in tasks}),
        "scopes": {s: sum(1 for t in tasks if t.scope == s) for s in sorted({t.scope for t in tasks})},
        "arms": totals,
        "vs_naive": {arm: compare(results, arm, seed) for arm in results if arm != NAIVE},
        "levers": levers(totals),
        "sweep": sweep(results),
    }
    cascade = out["vs_naive"].get(CASCADE)
    if cascade:
        out["ratio_vs_naive"] = cascade["cost"]
        out["ratio_vs_naive_ci95"] = cascade["cost_ci95"]
        out["pass_ratio_vs_naive"] = cascade["pass"]
        out["pass_ratio_vs_naive_ci95"] = cascade["pass_ci95"]
        out["meets_targets"] = cascade["cost"] <= TARGET_COST and cascade["pass"] >= TARGET_PASS
    return out


def table(rep: dict[str, Any]) -> str:
    lines = [
        f"{rep['tasks']} tasks on {', '.join(rep['projects'])}; seed {rep['seed']}, Opus tokenizer ×{rep['opus_factor']}",
        "",
        f"{'arm':<20} {'cost $':>9} {'pass':>6} {'escal.':>6} {'calls':>5} {'fresh in':>9} {'cache w':>8} {'cache r':>9} {'out':>7} {'vs naive (95% CI)':>24} {'pass ratio':>10}",
    ]
    for arm, t in rep["arms"].items():
        cmp = rep["vs_naive"].get(arm)
        ratio = f"{cmp['cost']:.2f} ({cmp['cost_ci95'][0]:.2f}–{cmp['cost_ci95'][1]:.2f})" if cmp else "—"
        pr = f"{cmp['pass']:.2f}" if cmp else "—"
        tk = t["tokens"]
        lines.append(
            f"{arm:<20} {t['cost_usd']:>9.4f} {t['pass_rate']:>6.0%} {t['escalation_rate']:>6.0%} {t['calls']:>5} "
            f"{tk['input']:>9,} {tk['cache_write']:>8,} {tk['cache_read']:>9,} {tk['output']:>7,} {ratio:>24} {pr:>10}"
        )
    shares = {arm: t["later_turns_cache_share"] for arm, t in rep["arms"].items() if t.get("later_turns_cache_share") is not None}
    if shares:
        lines += ["", "Share of the input of turns ≥ 2 read from cache: " + ", ".join(f"{a} {v:.1%}" for a, v in shares.items())]
    sw = rep.get("sweep")
    if sw:
        lines += ["", "Sensitivity (Sonnet's pass rate → cascade cost and pass ratio vs naive all-Opus):"]
        lines += [
            f"  p={pt['sonnet_pass_rate']:.2f}: cost {pt['cost_ratio']:.2f}, pass {pt['pass_ratio']:.2f}"
            + (f"; cost vs all-Opus through gearshift {pt['cost_ratio_vs_all_opus']:.2f}" if pt.get("cost_ratio_vs_all_opus") else "")
            for pt in sw["points"]
        ]
        lines.append(f"  break-even (cost ratio 1.0) at p={sw['break_even_sonnet_pass_rate']}; ratio 0.45 at p={sw['target_cost_sonnet_pass_rate']}")
        lines.append(
            f"  Sonnet always wrong (p=0): {sw.get('cost_ratio_at_p0')} of naive, {sw.get('cost_ratio_vs_all_opus_at_p0')} of all-Opus "
            f"through gearshift (break-even against it at p={sw.get('break_even_vs_all_opus_sonnet_pass_rate')})"
        )
    if "ratio_vs_naive" in rep:
        lines.append(
            f"\ncascade: {rep['ratio_vs_naive']:.2f}× naive all-Opus cost (95% CI {rep['ratio_vs_naive_ci95'][0]:.2f}–{rep['ratio_vs_naive_ci95'][1]:.2f}) "
            f"at {rep['pass_ratio_vs_naive']:.2f}× its pass rate — targets ≤ {TARGET_COST} and ≥ {TARGET_PASS}: {'met' if rep['meets_targets'] else 'NOT met'}"
        )
    return "\n".join(lines)


def plot(rep: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sw = rep.get("sweep")
    if not sw:
        raise SystemExit("no sweep in this run (needs naive-opus and both sweep arms)")
    ps = [pt["sonnet_pass_rate"] for pt in sw["points"]]
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    ax.plot(ps, [pt["cost_ratio"] for pt in sw["points"]], marker="o", label="cascade cost ÷ naive all-Opus")
    ax.plot(ps, [pt["pass_ratio"] for pt in sw["points"]], marker="s", label="cascade pass rate ÷ naive all-Opus")
    if all(pt.get("cost_ratio_vs_all_opus") for pt in sw["points"]):
        ax.plot(ps, [pt["cost_ratio_vs_all_opus"] for pt in sw["points"]], marker="^",
                label="cascade cost ÷ all-Opus through gearshift")
    ax.axhline(1.0, color="grey", lw=0.8)
    ax.axhline(TARGET_COST, color="tab:green", ls="--", lw=0.8, label=f"cost target {TARGET_COST}")
    ax.axhline(TARGET_PASS, color="tab:red", ls=":", lw=0.8, label=f"pass target {TARGET_PASS}")
    ax.set_xlabel("Sonnet 4.6 first-attempt pass rate (outcome table override)")
    ax.set_ylabel("ratio to the baseline named in the legend")
    ax.set_title(f"gearshift cascade vs naive all-Opus — {rep['tasks']} tasks, seed {rep['seed']}")
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, 0.9))
    fig.tight_layout()
    fig.savefig(path)
