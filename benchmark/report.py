"""Write the benchmark's figures to reports/benchmark/report.json and report.md."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, List, Optional

# Issue 16's targets, against the reference in the same run.
TARGET_RATIO = 3.0  # at 10 visitors at least 3x the reference's turns/s ...
TARGET_P95_MS = 100.0  # ... with a p95 of at most 100 ms
TARGET_VISITORS = 10
TARGET_HIGH_VISITORS = 50  # and at 50 visitors no errors and at least 3x
TARGET_COLD_START_S = 10.0
TARGET_RSS_MB = 1024.0  # per server process
TARGET_GROWTH = 1.5  # turn 100 within 1.5x of turn 5


def _level(bot: Dict[str, Any], visitors: int) -> Optional[Dict[str, Any]]:
    return next((x for x in bot.get("levels", []) if x["visitors"] == visitors), None)


def comparisons(results: Dict[str, Any]) -> List[Dict[str, Any]]:
    """Ours against the reference at every load level both were driven at."""
    ours, reference = results["bots"].get("ours"), results["bots"].get("reference")
    rows: List[Dict[str, Any]] = []
    if not ours or not reference:
        return rows
    for level in ours.get("levels", []):
        other = _level(reference, level["visitors"])
        if other is None:
            continue
        rows.append({
            "visitors": level["visitors"],
            "throughput_ratio": _ratio(level["turns_per_second"], other["turns_per_second"]),
            "p95_ratio": _ratio(level["p95_ms"], other["p95_ms"]),
        })
    return rows


def _ratio(ours: Optional[float], reference: Optional[float]) -> Optional[float]:
    if ours is None or not reference:
        return None
    return round(ours / reference, 2)


def target(results: Dict[str, Any]) -> Dict[str, Any]:
    """Issue 16's targets, each checked where this run measured it."""
    ours = results["bots"].get("ours", {})
    rows = {r["visitors"]: r for r in results.get("comparisons", [])}
    checks: List[Dict[str, Any]] = []

    def check(name: str, value: Any, met: bool) -> None:
        checks.append({"target": name, "value": value, "met": bool(met)})

    level, row = _level(ours, TARGET_VISITORS), rows.get(TARGET_VISITORS)
    if level is not None and row is not None:
        ratio = row["throughput_ratio"]
        check(f">= {TARGET_RATIO:g}x the reference's turns/s at {TARGET_VISITORS} visitors",
              _fmt(ratio, "x"), ratio is not None and ratio >= TARGET_RATIO)
        check(f"p95 <= {TARGET_P95_MS:.0f} ms at {TARGET_VISITORS} visitors",
              _fmt(level["p95_ms"], " ms"),
              level["p95_ms"] is not None and level["p95_ms"] <= TARGET_P95_MS)
    level, row = _level(ours, TARGET_HIGH_VISITORS), rows.get(TARGET_HIGH_VISITORS)
    if level is not None and row is not None:
        ratio = row["throughput_ratio"]
        check(f"no errors and >= {TARGET_RATIO:g}x at {TARGET_HIGH_VISITORS} visitors",
              f"{level['errors']} errors, {_fmt(ratio, 'x')}",
              level["errors"] == 0 and ratio is not None and ratio >= TARGET_RATIO)
    if ours.get("cold_start_seconds") is not None:
        check(f"cold start <= {TARGET_COLD_START_S:.0f} s", f"{ours['cold_start_seconds']} s",
              ours["cold_start_seconds"] <= TARGET_COLD_START_S)
    peak = (ours.get("memory_after") or {}).get("rasa_peak_rss_mb")
    if peak is not None:
        processes = max(1, int(ours.get("rasa_processes", 1)))
        check(f"Rasa server memory <= {TARGET_RSS_MB:.0f} MB per process",
              f"{round(peak / processes, 1)} MB", peak / processes <= TARGET_RSS_MB)
    long = ours.get("long_conversation") or {}
    if long.get("growth") is not None:
        check(f"turn {long['late_turn']} within {TARGET_GROWTH}x of turn {long['early_turn']}",
              f"{long['growth']}x", long["growth"] <= TARGET_GROWTH)
    return {"checked": bool(checks), "checks": checks,
            "met": bool(checks) and all(c["met"] for c in checks)}


def _fmt(value: Any, suffix: str = "") -> str:
    return "-" if value is None else f"{value}{suffix}"


def markdown(results: Dict[str, Any]) -> str:
    """The report as Markdown."""
    machine = results["machine"]
    lines = [
        "# Benchmark: our assistant against a stock Rasa bot",
        "",
        f"Run {results['started_at']} UTC on {machine['cpus']} CPU cores ({machine['cpu_model']}),"
        f" {machine['memory_gb']} GB RAM; Rasa {machine['rasa_version']}, Python "
        f"{machine['python_version']}. Figures come from this machine only: a 2-core machine "
        "shared by the load generator, the Rasa server and the action server.",
        "",
        "Each visitor holds conversations over the REST channel (POST /webhooks/rest/webhook) of "
        f"{results['settings'].get('turns_per_conversation', '?')} messages drawn at random "
        f"from a pool of {results['settings'].get('message_pool', '?')} distinct messages (the "
        "blind sets' questions and the training examples, every length; the same pool for "
        "both bots), waiting for every answer before the next message, for "
        f"{results['settings']['seconds_per_level']} s per level; a new conversation gets a "
        "new sender id.",
        "",
        "## Throughput and latency",
        "",
        "| bot | visitors | turns | turns/s | p50 ms | p95 ms | p99 ms | errors | empty replies |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, bot in results["bots"].items():
        for level in bot.get("levels", []):
            lines.append(
                f"| {name} | {level['visitors']} | {level['turns']} | "
                f"{level['turns_per_second']} | {_fmt(level['p50_ms'])} | {_fmt(level['p95_ms'])} |"
                f" {_fmt(level['p99_ms'])} | {level['errors']} | {level['empty_replies']} |"
            )
    if results.get("comparisons"):
        lines += ["", "## Ours / reference", "",
                  "| visitors | throughput ratio | p95 ratio (lower is better) |",
                  "|---:|---:|---:|"]
        for row in results["comparisons"]:
            lines.append(f"| {row['visitors']} | {_fmt(row['throughput_ratio'], 'x')} | "
                         f"{_fmt(row['p95_ratio'], 'x')} |")
    lines += _long_section(results)
    goal = results.get("target", {})
    if goal.get("checked"):
        lines += ["", "## Targets (issue 16)", "", "| target | this run | |", "|---|---:|---|"]
        lines += [f"| {c['target']} | {c['value']} | {'met' if c['met'] else '**NOT met**'} |"
                  for c in goal["checks"]]
    lines += ["", "## Start-up and memory", "",
              "| bot | cold start s | Rasa RSS idle MB | Rasa RSS peak MB | action server RSS MB |",
              "|---|---:|---:|---:|---:|"]
    for name, bot in results["bots"].items():
        idle, after = bot.get("memory_idle", {}), bot.get("memory_after", {})
        lines.append(f"| {name} | {_fmt(bot.get('cold_start_seconds'))} | "
                     f"{_fmt(idle.get('rasa_rss_mb'))} | {_fmt(after.get('rasa_peak_rss_mb'))} | "
                     f"{_fmt(after.get('actions_rss_mb'))} |")
    lines += ["", "Cold start: from starting the action server and `rasa run` to the first "
              "answered turn that needs the action server (ours) or any answer (reference)."]
    lines += _training_section(results)
    lines += _profile_section(results)
    lines += ["", "## How the bots were started", ""]
    for name, bot in results["bots"].items():
        lines.append(f"- **{name}**: {bot.get('description', '')}")
    return "\n".join(lines) + "\n"


def _long_section(results: Dict[str, Any]) -> List[str]:
    rows = [(name, bot["long_conversation"]) for name, bot in results["bots"].items()
            if bot.get("long_conversation")]
    if not rows:
        return []
    lines = ["", "## A turn's cost as the conversation grows", "",
             "One visitor holds one long conversation (the same messages for both bots: ten "
             "messages from the pool, said again and again), "
             f"{rows[0][1]['repeats']} times; each turn's latency is the median over those "
             "conversations. Turn 5 is the median of turns 2-10, the last turn the median of the "
             "last nine (the same nine messages).", "",
             "| bot | turns | turn 5 ms | last turn ms | growth | errors |",
             "|---|---:|---:|---:|---:|---:|"]
    lines += [f"| {name} | {long['turns']} | {_fmt(long['early_ms'])} | {_fmt(long['late_ms'])} |"
              f" {_fmt(long['growth'], 'x')} | {long['errors']} |" for name, long in rows]
    return lines


def _training_section(results: Dict[str, Any]) -> List[str]:
    lines = ["", "## Training time", ""]
    training = results.get("training")
    if not training:
        lines.append("Not measured in this run (--skip-training).")
    elif "error" in training:
        lines.append(f"Could not be measured: {training['error']}")
    else:
        scratch, change = training["from_scratch"], training["one_line_change"]
        if training.get("reused"):
            lines.append(f"Measured {training.get('measured_at')} UTC for the same config, domain "
                         "and data as now (kept in build/benchmark/training.json; "
                         "`--retrain` measures again).")
        lines += [
            f"- Ours from scratch (empty cache): **{scratch['seconds']} s**",
            f"- Ours after one new NLU example ({change['change']}): **{change['seconds']} s**; "
            f"{len(change['restored_from_cache'])} components restored from the cache, "
            f"{len(change['trained'])} trained: {', '.join(change['trained']) or 'none'}",
        ]
    reference = results.get("reference_build")
    if reference:
        lines.append(f"- Reference (`rasa init`, from scratch, measured "
                     f"{reference.get('built_at', '?')}): {reference.get('training_seconds')} s")
    return lines


def _profile_section(results: Dict[str, Any]) -> List[str]:
    profile = results.get("profile")
    if not profile:
        return []
    if "error" in profile:
        return ["", "## Profile", "", f"Not taken: {profile['error']}"]
    lines = ["", "## Profile of our Rasa server under load", "",
             f"py-spy sampled the Rasa server for {profile['seconds']} s at "
             f"{profile['visitors']} visitors ({profile['samples']} samples of Python stacks "
             "while it was busy). Share of the busy time by stage of a turn:", "",
             "| stage | % |", "|---|---:|"]
    lines += [f"| {row['stage']} | {row['percent']} |" for row in profile["stages"]]
    lines += ["", "Functions with the most time on the stack (inclusive):", "",
              "| function | % |", "|---|---:|"]
    lines += [f"| `{row['function']}` | {row['percent']} |" for row in profile["top_total"]]
    lines += ["", "Functions with the most time at the top of the stack (own time):", "",
              "| function | % |", "|---|---:|"]
    lines += [f"| `{row['function']}` | {row['percent']} |" for row in profile["top_self"]]
    return lines


def write(results: Dict[str, Any], out_dir: Path) -> Path:
    """Add the comparisons and verdict, write report.json and report.md; the .md's path."""
    results["comparisons"] = comparisons(results)
    results["target"] = target(results)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "report.json").write_text(json.dumps(results, indent=2) + "\n")
    report = out_dir / "report.md"
    report.write_text(markdown(results))
    return report


def summary(results: Dict[str, Any]) -> str:
    """A few lines for the terminal."""
    lines = []
    for name, bot in results["bots"].items():
        levels = ", ".join(
            f"{x['visitors']} visitors {x['turns_per_second']} turns/s p95 {_fmt(x['p95_ms'])} ms"
            f" ({x['errors']} errors)" for x in bot.get("levels", [])
        )
        lines.append(f"{name}: cold start {_fmt(bot.get('cold_start_seconds'))} s; {levels}")
    for row in results.get("comparisons", []):
        lines.append(f"ours/reference at {row['visitors']} visitors: "
                     f"{_fmt(row['throughput_ratio'], 'x')} turns/s")
    for name, bot in results["bots"].items():
        long = bot.get("long_conversation")
        if long:
            lines.append(f"{name}: turn 5 {_fmt(long['early_ms'])} ms, turn {long['late_turn']} "
                         f"{_fmt(long['late_ms'])} ms ({_fmt(long['growth'], 'x')})")
    goal = results.get("target", {})
    for check in goal.get("checks", []):
        lines.append(f"target {check['target']}: {check['value']} "
                     f"({'met' if check['met'] else 'NOT met'})")
    return "\n".join(lines)
