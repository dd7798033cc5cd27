"""`python -m benchmark`: drive our assistant and a stock Rasa bot, write reports/benchmark/."""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

from benchmark import bots, profile, report
from benchmark.load import long_conversations, run_load
from benchmark.messages import (
    LONG_CONVERSATION_TURNS,
    TURNS_PER_CONVERSATION,
    Conversations,
    message_pool,
)
from benchmark.reference import build_reference, reference_model
from benchmark.servers import PROJECT_DIR, VENV_BIN, BotSpec, RunningBot
from benchmark.training import measure_training_if_changed
from clinic import launcher

# Training figures, kept between runs and measured again only when training's inputs change.
TRAINING_RECORD = PROJECT_DIR / "build" / "benchmark" / "training.json"

DESCRIPTIONS = {
    "ours": "action server (`rasa run actions`) + `python -m clinic_speedups run` with "
            "endpoints.yml, credentials.yml, the HTTP API behind a token and CORS, as "
            "scripts/run.sh starts them; SQLite tracker store in a temp dir; the chat webhook's "
            "rate limits off (every visitor is 127.0.0.1, and the long run sends 100 messages "
            "from one sender in seconds).",
    "reference": "`rasa init --no-prompt` bot in build/reference (default pipeline with "
                 "DIET, ResponseSelector, TEDPolicy, MemoizationPolicy, RulePolicy); its own "
                 "action server (the stock bot has no custom actions, so turns never call it) + "
                 "`rasa run`; default in-memory tracker store.",
}


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(prog="python -m benchmark", description=__doc__)
    parser.add_argument("--visitors", default="1,10,50",
                        help="concurrent visitor counts, comma-separated (default 1,10,50)")
    parser.add_argument("--seconds", type=float, default=15,
                        help="seconds of load per level (default 15)")
    parser.add_argument("--bots", default="reference,ours",
                        help="which bots to drive, in order (default reference,ours)")
    parser.add_argument("--workers", type=int,
                        default=int(launcher.environment()["SANIC_WORKERS"]),
                        help="Rasa server processes (Sanic workers) of ours (default: "
                             "SANIC_WORKERS of clinic/launcher.py, as make run)")
    parser.add_argument("--skip-training", action="store_true",
                        help="do not report training time")
    parser.add_argument("--retrain", action="store_true",
                        help="measure training time again even if config, domain and data are "
                             "unchanged since the last measurement (about 12 minutes)")
    parser.add_argument("--turns", type=int, default=TURNS_PER_CONVERSATION,
                        help="messages per conversation in the load levels (default "
                             f"{TURNS_PER_CONVERSATION})")
    parser.add_argument("--long-turns", type=int, default=LONG_CONVERSATION_TURNS,
                        help="turns of the long-conversation run, one visitor (default "
                             f"{LONG_CONVERSATION_TURNS}; 0: no such run)")
    parser.add_argument("--long-repeats", type=int, default=3,
                        help="how many times the long conversation is held (default 3)")
    parser.add_argument("--seed", type=int, default=16,
                        help="seed of the conversations drawn from the message pool")
    parser.add_argument("--profile-seconds", type=int, default=15,
                        help="py-spy our Rasa server for this long at 10 visitors (0: no)")
    parser.add_argument("--out", type=Path, default=PROJECT_DIR / "reports" / "benchmark",
                        help="where report.md and report.json go (default reports/benchmark)")
    args = parser.parse_args(argv)
    try:
        args.visitor_levels = [int(x) for x in args.visitors.split(",") if x.strip()]
    except ValueError:
        parser.error(f"--visitors must be whole numbers separated by commas, not {args.visitors!r}")
    if not args.visitor_levels or min(args.visitor_levels) < 1:
        parser.error("--visitors needs at least one count of 1 or more")
    args.bot_names = [x.strip() for x in args.bots.split(",") if x.strip()]
    unknown = set(args.bot_names) - {"ours", "reference"}
    if unknown or not args.bot_names:
        parser.error(f"--bots takes ours and/or reference, not {', '.join(sorted(unknown))}")
    if args.workers < 1:
        parser.error("--workers must be 1 or more")
    if args.seconds <= 0:
        parser.error("--seconds must be more than 0")
    if args.turns < 1 or args.long_turns < 0 or args.long_repeats < 1:
        parser.error("--turns and --long-repeats must be 1 or more, --long-turns 0 or more")
    if args.long_turns % 10 or args.long_turns == 10:
        parser.error("--long-turns must be 0 or a multiple of 10 from 20 on")
    return args


def machine() -> Dict[str, Any]:
    """What the figures were measured on."""
    import rasa

    cpu_model = "unknown CPU"
    try:
        cpu_model = next(line.split(":", 1)[1].strip()
                         for line in Path("/proc/cpuinfo").read_text().splitlines()
                         if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    memory_kb = int(Path("/proc/meminfo").read_text().split()[1])
    return {
        "cpus": os.cpu_count(), "cpu_model": cpu_model, "memory_gb": round(memory_kb / 2**20, 1),
        "rasa_version": rasa.__version__, "python_version": platform.python_version(),
    }


def drive_bot(spec: BotSpec, args: argparse.Namespace, log_dir: Path) -> Dict[str, Any]:
    """Start one bot, time its cold start, drive it at every level, maybe profile it."""
    print(f"[{spec.name}] starting the action server and the Rasa server ...", flush=True)
    bot = RunningBot(spec, log_dir)
    result: Dict[str, Any] = {"description": DESCRIPTIONS[spec.name], "levels": []}
    try:
        result["cold_start_seconds"] = bot.wait_until_answering()
        result["memory_idle"] = bot.memory_mb()
        print(f"[{spec.name}] answering after {result['cold_start_seconds']} s; warming up ...",
              flush=True)
        # Other conversations than the measured ones (another seed): nothing measured was seen.
        warmup = Conversations(spec.conversations.pool, args.turns, args.seed + 1)
        run_load(bot.url, warmup, 2, 3, tag=f"warmup-{spec.name}")
        for visitors in args.visitor_levels:
            level = run_load(bot.url, spec.conversations, visitors, args.seconds,
                             tag=f"{spec.name}-{visitors}")
            result["levels"].append(level.as_dict())
            print(f"[{spec.name}] {visitors} visitors: {level.turns_per_second} turns/s, "
                  f"p50 {level.p50_ms} ms, p95 {level.p95_ms} ms, p99 {level.p99_ms} ms, "
                  f"{level.errors} errors", flush=True)
        if args.long_turns:
            print(f"[{spec.name}] one visitor, {args.long_repeats} conversations of "
                  f"{args.long_turns} turns ...", flush=True)
            result["long_conversation"] = long = long_conversations(
                bot.url, spec.conversations.long_conversation(args.long_turns),
                repeats=args.long_repeats, tag=f"long-{spec.name}")
            print(f"[{spec.name}] turn 5: {long['early_ms']} ms, turn {long['late_turn']}: "
                  f"{long['late_ms']} ms ({long['growth']}x), {long['errors']} errors",
                  flush=True)
        result["memory_after"] = bot.memory_mb()
        if spec.name == "ours" and args.profile_seconds > 0:
            result["profile"] = profile_under_load(bot, spec, args.profile_seconds, log_dir)
    finally:
        bot.stop()
        shutil.rmtree(bot.tmp, ignore_errors=True)
    return result


def profile_under_load(bot: RunningBot, spec: BotSpec, seconds: int,
                       log_dir: Path) -> Dict[str, Any]:
    """py-spy the Rasa server while 10 visitors talk to it (not counted in the figures)."""
    import threading

    if profile.py_spy() is None:
        return {"error": "py-spy is not installed (pip install -c constraints.txt py-spy)"}
    print(f"[{spec.name}] profiling the Rasa server for {seconds} s at 10 visitors ...",
          flush=True)
    output = log_dir / "profile-ours.txt"
    load = threading.Thread(
        target=run_load, args=(bot.url, spec.conversations, 10, seconds + 2),
        kwargs={"tag": "profile"}, daemon=True,
    )
    load.start()
    try:
        time.sleep(1)
        profile.record(bot.rasa.pid, seconds, output)
    except Exception as error:  # a profile is a bonus: never lose the figures for it
        return {"error": f"py-spy failed: {error}"}
    finally:
        load.join()
    try:
        summary = profile.summarise(output.read_text())
    except (OSError, ValueError) as error:
        return {"error": f"could not read the profile: {error}"}
    return {**summary, "seconds": seconds, "visitors": 10,
            "collapsed_stacks": str(output.relative_to(PROJECT_DIR))
            if output.is_relative_to(PROJECT_DIR) else str(output)}


def warm_disk_cache() -> None:
    """Import Rasa once, so that the first bot's cold start is not also the disk's."""
    subprocess.run([str(VENV_BIN / "python"), "-c", "import rasa.core.agent, rasa.core.run"],
                   cwd=PROJECT_DIR, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def drive_named_bot(name: str, args: argparse.Namespace, log_dir: Path,
                    conversations: Conversations) -> Dict[str, Any]:
    """Drive the reference, or ours (with `--workers` Rasa server processes)."""
    if name == "reference":
        model = reference_model()
        if model is None:
            raise FileNotFoundError("the reference bot has no model: delete build/reference")
        return drive_bot(bots.reference(model, conversations), args, log_dir)
    result = drive_bot(bots.ours(args.workers, conversations), args, log_dir)
    if args.workers > 1:
        result["description"] += (f" {args.workers} Rasa server processes (Sanic workers) "
                                  "sharing the machine's run-state file.")
    result["rasa_processes"] = args.workers
    return result


def main(argv: Optional[List[str]] = None) -> int:
    """Run the whole benchmark; 0 when every bot answered, 1 on a clear failure."""
    args = parse_args(argv)
    started = time.monotonic()
    pool = message_pool()
    conversations = Conversations(pool, args.turns, args.seed)
    results: Dict[str, Any] = {
        "started_at": time.strftime("%Y-%m-%d %H:%M", time.gmtime()), "machine": machine(),
        "settings": {"visitors": args.visitor_levels, "seconds_per_level": args.seconds,
                     "our_sanic_workers": args.workers, "turns_per_conversation": args.turns,
                     "message_pool": len(pool), "seed": args.seed,
                     "long_turns": args.long_turns, "long_repeats": args.long_repeats},
        "bots": {},
    }
    log_dir = args.out / "logs"
    try:
        if "reference" in args.bot_names:
            results["reference_build"] = build_reference(VENV_BIN / "rasa")
        if not args.skip_training:
            try:
                results["training"] = measure_training_if_changed(TRAINING_RECORD, args.retrain)
            except RuntimeError as error:  # e.g. training data being edited: keep the rest
                results["training"] = {"error": str(error).splitlines()[-1][:300]}
        warm_disk_cache()
        for name in args.bot_names:
            bot_result = drive_named_bot(name, args, log_dir, conversations)
            if "profile" in bot_result:
                results["profile"] = bot_result.pop("profile")
            results["bots"][name] = bot_result
    except (RuntimeError, TimeoutError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    finally:
        results["total_seconds"] = round(time.monotonic() - started, 1)
        if results["bots"]:
            path = report.write(results, args.out)
            print(f"\n{report.summary(results)}\nReport: {path}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
