"""Write the benchmark's figures to reports/benchmark/report.json and report.md."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, List, Optional

TARGET_RATIO = 2.0  # issue 7: at 10 visitors, at least 2x the reference's turns/s ...
TARGET_P95_MS = 150.0  # ... and a p95 under 150 ms
TARGET_VISITORS = 10


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
    """Whether the issue's target (2x throughput, p95 < 150 ms at 10 visitors) was met."""
    ours = _level(results["bots"].get("ours", {}), TARGET_VISITORS)
    row = next((r for r in results.get("comparisons", []) if r["visitors"] == TARGET_VISITORS),
               None)
    if ours is None or row is None:
        return {"checked": False}
    ratio_met = row["throughput_ratio"] is not None and row["throughput_ratio"] >= TARGET_RATIO
    p95_met = ours["p95_ms"] is not None and ours["p95_ms"] < TARGET_P95_MS
    return {
        "checked": True, "throughput_ratio": row["throughput_ratio"], "p95_ms": ours["p95_ms"],
        "throughput_met": ratio_met, "p95_met": p95_met, "met": ratio_met and p95_met,
    }


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
        "Each visitor holds multi-turn conversations over the REST channel "
        "(POST /webhooks/rest/webhook), waiting for every answer before the next message, "
        f"for {results['settings']['seconds_per_level']} s per level; a new conversation gets "
        "a new sender id.",
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
        goal = results.get("target", {})
        if goal.get("checked"):
            verdict = "met" if goal["met"] else "NOT met"
            lines += ["", f"Target at {TARGET_VISITORS} visitors (>= {TARGET_RATIO}x the "
                      f"reference's turns/s and p95 < {TARGET_P95_MS:.0f} ms): **{verdict}** "
                      f"({goal['throughput_ratio']}x, p95 {goal['p95_ms']} ms)."]
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
    goal = results.get("target", {})
    if goal.get("checked"):
        lines.append(f"target (>= {TARGET_RATIO}x and p95 < {TARGET_P95_MS:.0f} ms at "
                     f"{TARGET_VISITORS} visitors): {'met' if goal['met'] else 'NOT met'}")
    return "\n".join(lines)
