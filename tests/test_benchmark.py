"""The benchmark's load generator, profile reader and report writer, against a fake bot."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest

from benchmark import profile, report
from benchmark.__main__ import parse_args
from benchmark.load import long_conversations, percentile, run_load
from benchmark.messages import Conversations, message_pool
from benchmark.training import NEW_EXAMPLE, add_one_example


class FakeBot(BaseHTTPRequestHandler):
    """Answers the REST webhook like Rasa; "break" gets a 500, "quiet" an empty reply."""

    received: List[Dict[str, Any]] = []

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        FakeBot.received.append(body)
        if body["message"] == "break":
            self.send_response(500)
            self.end_headers()
            return
        replies = [] if body["message"] == "quiet" else [{"text": "hello " + body["message"]}]
        payload = json.dumps(replies).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def fake_bot() -> Iterator[str]:
    FakeBot.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeBot)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_visitors_hold_whole_conversations_with_their_own_sender_ids(fake_bot: str) -> None:
    result = run_load(fake_bot, [["hi", "how much?", "bye"]], visitors=3, seconds=1.0)
    assert result.turns > 0 and result.errors == 0 and result.empty_replies == 0
    assert result.turns_per_second > 0
    assert result.p50_ms is not None and result.p50_ms <= result.p95_ms <= result.p99_ms
    by_sender: Dict[str, List[str]] = {}
    for body in FakeBot.received:
        by_sender.setdefault(body["sender"], []).append(body["message"])
    assert len({sender.split("-")[1] for sender in by_sender}) == 3  # three visitors
    for messages in by_sender.values():  # every conversation follows the script, in order
        assert messages == ["hi", "how much?", "bye"][: len(messages)]


def test_failed_turns_count_as_errors_and_empty_replies_are_counted(fake_bot: str) -> None:
    result = run_load(fake_bot, [["break"], ["quiet"]], visitors=2, seconds=0.5)
    assert result.errors > 0 and result.empty_replies > 0
    assert result.turns == result.empty_replies  # failed turns are not latencies


def test_a_server_that_is_not_there_gives_errors_not_a_crash() -> None:
    result = run_load("http://127.0.0.1:9", [["hi"]], visitors=1, seconds=0.3)
    assert result.turns == 0 and result.errors > 0 and result.p95_ms is None


def test_percentiles_use_the_nearest_rank() -> None:
    values = [float(x) for x in range(1, 101)]
    assert percentile(values, 0.5) == 50 and percentile(values, 0.95) == 95
    assert percentile(values, 0.99) == 99 and percentile([], 0.5) is None


def test_the_report_compares_ours_with_the_reference_and_checks_the_target(
    tmp_path: Path,
) -> None:
    def level(visitors: int, tps: float, p95: float) -> Dict[str, Any]:
        return {"visitors": visitors, "turns": 100, "turns_per_second": tps, "p50_ms": p95 / 2,
                "p95_ms": p95, "p99_ms": p95, "errors": 0, "empty_replies": 0}

    def long(early: float, late: float) -> Dict[str, Any]:
        return {"turns": 100, "repeats": 2, "errors": 0, "early_turn": 5, "early_ms": early,
                "late_turn": 100, "late_ms": late, "growth": round(late / early, 2)}

    results = {
        "started_at": "2026-11-24 08:00",
        "settings": {"seconds_per_level": 20, "turns_per_conversation": 8, "message_pool": 9000},
        "machine": {"cpus": 2, "cpu_model": "test CPU", "memory_gb": 4, "rasa_version": "3.6.21",
                    "python_version": "3.10"},
        "bots": {
            "reference": {"levels": [level(1, 40, 30), level(10, 40, 400)],
                          "cold_start_seconds": 30, "memory_idle": {"rasa_rss_mb": 900},
                          "long_conversation": long(25, 100)},
            "ours": {"levels": [level(1, 50, 25), level(10, 130, 90)], "cold_start_seconds": 8,
                     "memory_after": {"rasa_peak_rss_mb": 1000},
                     "long_conversation": long(20, 24)},
        },
        "training": {"error": "rasa train failed: InvalidRule"},
    }
    path = report.write(results, tmp_path)
    saved = json.loads((tmp_path / "report.json").read_text())
    assert saved["comparisons"][1] == {"visitors": 10, "throughput_ratio": 3.25, "p95_ratio": 0.23}
    assert saved["target"]["met"] is True and len(saved["target"]["checks"]) == 5
    text = path.read_text()
    assert "| ours | 10 | 100 | 130 |" in text and "3.25x" in text and "| met |" in text
    assert "| ours | 100 | 20 | 24 | 1.2x | 0 |" in text and "| reference | 100 | 25 |" in text
    assert "2 CPU cores" in text and "InvalidRule" in text and "9000 distinct" in text
    assert "ours/reference at 10 visitors: 3.25x" in report.summary(saved)
    results["bots"]["ours"]["long_conversation"] = long(20, 40)
    report.write(results, tmp_path)
    saved = json.loads((tmp_path / "report.json").read_text())
    assert saved["target"]["met"] is False
    assert [c["met"] for c in saved["target"]["checks"]] == [True, True, True, True, False]


def test_the_message_pool_is_large_varied_and_has_no_commands(tmp_path: Path) -> None:
    (tmp_path / "heldout" / "blind-x").mkdir(parents=True)
    (tmp_path / "heldout" / "blind-x" / "a.tsv").write_text(
        "question\tacceptable\tkind\nhow much  is it\tfaq/cost\tinscope\n/restart\tx\ty\n")
    (tmp_path / "nlu").mkdir()
    (tmp_path / "nlu" / "a.yml").write_text(
        'nlu:\n- intent: faq/x\n  examples: |\n    - does it help [OCD](condition)?\n'
        '    - how much is it\n')
    assert message_pool(tmp_path / "heldout", tmp_path / "nlu") == [
        "how much is it", "does it help OCD?"]
    pool = message_pool()
    assert len(pool) > 5000 and len({len(text) // 50 for text in pool}) > 4


def test_conversations_are_drawn_from_the_pool_repeatably() -> None:
    conversations = Conversations([f"message {n}" for n in range(1000)], turns=8, seed=3)
    first = conversations.conversation(0, 0)
    assert len(first) == 8 and first == Conversations(conversations.pool, 8, 3).conversation(0, 0)
    assert first != conversations.conversation(1, 0) != conversations.conversation(0, 1)
    long = conversations.long_conversation(100)
    assert len(long) == 100 and long[1:10] == long[-9:] and len(set(long)) > 5


def test_pool_conversations_drive_the_load_and_the_long_run(fake_bot: str) -> None:
    conversations = Conversations([f"message {n}" for n in range(100)], turns=4)
    result = run_load(fake_bot, conversations, visitors=2, seconds=0.5)
    assert result.turns > 0 and result.errors == 0
    long = long_conversations(fake_bot, conversations.long_conversation(20), repeats=2)
    assert long["turns"] == 20 and long["errors"] == 0 and len(long["per_turn_ms"]) == 20
    assert long["early_ms"] is not None and long["growth"] is not None
    senders = {body["sender"] for body in FakeBot.received if body["sender"].startswith("long")}
    assert len(senders) == 3  # a warm-up conversation, then the two measured


def test_the_profile_is_summarised_by_stage_and_function() -> None:
    collapsed = "\n".join([
        "process 1:\"rasa run\";<module> (rasa:8);parse_message (rasa/core/processor.py:700);"
        "_predict (/x/site-packages/rasa/nlu/classifiers/diet_classifier.py:10) 60",
        "process 1:\"rasa run\";<module> (rasa:8);save (rasa/core/tracker_store.py:1) 40",
    ])
    summary = profile.summarise(collapsed)
    assert summary["samples"] == 100
    assert summary["stages"][0] == {"stage": "NLU: parse the message", "percent": 60.0}
    assert {"stage": "tracker store (SQL)", "percent": 40.0} in summary["stages"]
    top = summary["top_self"][0]["function"]
    assert top == "_predict (rasa/nlu/classifiers/diet_classifier.py)"


def test_one_example_is_added_to_a_copy_of_the_training_data(tmp_path: Path) -> None:
    nlu = tmp_path / "nlu"
    nlu.mkdir()
    (nlu / "general.yml").write_text(
        'version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n    - hi\n    - hello\n'
    )
    add_one_example(tmp_path)
    lines = (nlu / "general.yml").read_text().splitlines()
    assert lines[4] == f"    - {NEW_EXAMPLE}" and lines[5:] == ["    - hi", "    - hello"]


def test_bad_options_get_a_one_line_message(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["--visitors", "ten"], ["--bots", "mine"], ["--seconds", "0"],
                 ["--long-turns", "15"]):
        with pytest.raises(SystemExit):
            parse_args(argv)
        assert "error:" in capsys.readouterr().err
