"""`make fuzz` without servers: its requests are reproducible, varied, and counted right.

The 1,000-request run against the real servers is in tests/test_robustness.py.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from benchmark import fuzz
from benchmark.servers import LogWatch


def test_the_same_seed_sends_the_same_requests_and_case_i_does_not_depend_on_n() -> None:
    first = [case.describe(10_000) for case in fuzz.Fuzzer(5).cases(300)]
    assert first == [case.describe(10_000) for case in fuzz.Fuzzer(5).cases(300)]
    assert first[:100] == [case.describe(10_000) for case in fuzz.Fuzzer(5).cases(100)][:100]
    assert first != [case.describe(10_000) for case in fuzz.Fuzzer(6).cases(300)]
    assert fuzz.Fuzzer(5).case(42).describe() == first[42]


def test_n_counts_requests_bursts_included() -> None:
    cases = list(fuzz.Fuzzer(3).cases(2000))
    assert sum(case.times for case in cases) == 2000
    assert any(case.times > 1 for case in cases)


def test_three_thousand_requests_cover_every_kind_and_route() -> None:
    cases = list(fuzz.Fuzzer(1).cases(3_000))
    kinds = Counter(case.kind for case in cases)
    assert set(kinds) == set(fuzz.Fuzzer.WEIGHTS)
    assert {case.path for case in cases} >= {fuzz.WEBHOOK, fuzz.LINK_CLICK}
    assert {case.method for case in cases} >= {"POST", "GET", "OPTIONS", "PUT", "DELETE"}
    bodies = [case.body for case in cases]
    assert any(len(body) > 1_000_000 for body in bodies)  # huge
    assert any(b"\\ud8" in body or b"\\udb" in body for body in bodies)  # lone surrogates
    messages = []
    for body in bodies:
        try:
            payload = json.loads(body)
        except (ValueError, RecursionError):
            continue
        if isinstance(payload, dict) and isinstance(payload.get("message"), str):
            messages.append(payload["message"])
    assert sum(message.startswith("/") for message in messages) > 150
    assert any("\x00" in message for message in messages)
    every_client = {value for case in cases for name, value in case.headers
                    if name == "X-Forwarded-For"}
    assert len(every_client) > 2000  # spread over addresses, so the per-IP limit is rare


def test_a_broken_turn_is_a_200_that_is_no_list_of_replies_or_the_fallback() -> None:
    case = fuzz.Case(0, "question")
    assert fuzz.broken_turn(case, 200, b'[{"text": "hello"}]') is None
    assert fuzz.broken_turn(case, 400, b"{}") is None
    for bad in (b"[]", b"{}", b"<html>", b"[1]"):
        assert fuzz.broken_turn(case, 200, bad)
    failed = json.dumps([{"text": f"Sorry, {fuzz.TURN_FAILED}. Please call"}]).encode()
    assert "fallback" in str(fuzz.broken_turn(case, 200, failed))
    assert fuzz.broken_turn(fuzz.Case(0, "link", path=fuzz.LINK_CLICK), 200, b"") is None


def test_the_report_counts_error_lines_and_tracebacks_and_fails_on_them(tmp_path: Path) -> None:
    log = tmp_path / "rasa.log"
    log.write_text("old ERROR line before the watch\n")
    watch = LogWatch([log])
    with log.open("a") as out:
        out.write("2026-12-06 09:00:00 INFO     root  - fine\n"
                  "[2026-12-06 09:00:01 +0000] [1] [ERROR] Exception occurred\n"
                  "Traceback (most recent call last):\n  File x\nKeyError: 'a'\n"
                  "2026-12-06 09:00:02 ERROR    rasa.core.processor  - boom\n")
    outcome = fuzz.Outcome(requests=1, seconds=1.0)
    outcome.statuses["200"] = 1
    result = fuzz.figures(outcome, watch, {"requests": 1, "seed": 1, "concurrency": 1,
                                           "url": "u", "server": "s"}, "now")
    assert (result["logs"]["error_lines"], result["logs"]["tracebacks"]) == (2, 1)
    assert not result["passed"]
    path = fuzz.write(result, tmp_path / "out")
    assert "FAILED" in path.read_text()
    assert json.loads((tmp_path / "out" / "report.json").read_text())["passed"] is False
    clean = fuzz.figures(outcome, LogWatch([log]), {"requests": 1, "seed": 1, "concurrency": 1,
                                                   "url": "u", "server": "s"}, "now")
    assert clean["passed"]
