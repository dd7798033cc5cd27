"""`make fuzz`: random and malformed requests to the chat webhook, counted (issue 17, part 4).

`python -m benchmark.fuzz` sends N requests (default 10,000) to the Rasa server's chat
webhook and its link-click route, as a careless client or an attacker would: bad JSON, wrong
types, missing and extra fields, huge fields and bodies, broken Unicode (lone surrogates,
invalid UTF-8), other scripts, emoji, control and format characters, messages starting with
`/` (typed intents, near-misses of the buttons' payloads, Rasa's `@confidence` and entity
syntax), JSON-looking text, very long sender ids, odd content types and headers, other methods,
bursts over the rate limits. It counts the answers by status, the 5xx and the connection
failures, checks each 200 from the webhook is a list of replies that is not the "something
went wrong" fallback, and counts the ERROR lines and tracebacks the servers' logs gained.

By default it starts its own action server and Rasa server (as `make benchmark` does: free
loopback ports, a throw-away SQLite tracker store, logs in reports/fuzz/logs/), so the fuzz's
conversations never reach the clinic's tracker store or the staff inbox, the logs are files
it can read, and the server trusts X-Forwarded-For (SANIC_PROXIES_COUNT=1) so that the fuzz
can spread its requests over many client addresses and still run into the rate limits on
purpose. `--url` fuzzes a server that is already running instead (`--log` names its log files;
without them the logs are not checked).

Request i depends only on the seed and i (`random.Random(f"{seed}:{i}")`), so `--seed` gives
the same requests again, and `--cases` sends only some of them. It writes report.md and
report.json (reports/fuzz/) and exits 1 on any 5xx, connection failure, broken turn, ERROR line
or traceback, 2 if it could not run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import secrets
import shutil
import sys
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple

import aiohttp

from benchmark import bots
from benchmark.servers import PROJECT_DIR, TRACEBACK, LogWatch, RunningBot
from clinic import launcher
from clinic.buttons import BUTTON_PAYLOADS
from clinic.replies import TURN_FAILED as TURN_FAILED_REPLY

WEBHOOK = "/webhooks/rest/webhook"
LINK_CLICK = "/webhooks/rest/link-click"
HEALTH = "/webhooks/rest/"
DEFAULT_REQUESTS = 10_000
DEFAULT_CONCURRENCY = 4
REQUEST_TIMEOUT_SECONDS = 60
# What the chat channel answers when a turn failed (clinic_server/rest_channel.py, `_fallback`).
TURN_FAILED = TURN_FAILED_REPLY
REPORT_DIR = PROJECT_DIR / "reports" / "fuzz"
ALREADY_RUNNING = "already running"
BURST = 25  # requests of one sender from one address in a row: over the per-sender limit

Headers = Tuple[Tuple[str, str], ...]


@dataclass(frozen=True)
class Case:
    """One fuzzed request (sent `times` times in a row: a burst)."""

    index: int
    kind: str
    method: str = "POST"
    path: str = WEBHOOK
    body: bytes = b""
    headers: Headers = ()
    chunked: bool = False  # sent without a length, in chunks
    times: int = 1

    def describe(self, limit: int = 160) -> str:
        """One line to find the request again (the body cut at `limit` bytes)."""
        body = self.body[:limit].decode("utf-8", "backslashreplace")
        more = f" (+{len(self.body) - limit:,} bytes)" if len(self.body) > limit else ""
        return f"#{self.index} {self.kind}: {self.method} {self.path} {body!r}{more}"


# ---- text --------------------------------------------------------------------------------

QUESTIONS = [
    "Is ketamine FDA approved?", "how much does it cost?", "does it help with PTSD?",
    "what is ketamine infusion therapy", "how fast does it work", "I'd like to book",
    "can I talk to a person", "hi", "thanks", "bye", "are you a bot?", "what are the side effects",
    "¿el tratamiento con ketamina es seguro?", "ok", "yes please", "no thanks",
]
# Code point ranges, by script or kind, that random text is drawn from.
ALPHABETS: Dict[str, Sequence[Tuple[int, int]]] = {
    "ascii": [(0x20, 0x7E)],
    "latin": [(0xA0, 0x24F)],
    "combining": [(0x300, 0x36F)],
    "greek-cyrillic": [(0x370, 0x3FF), (0x400, 0x4FF)],
    "hebrew-arabic": [(0x590, 0x5FF), (0x600, 0x6FF)],
    "indic-thai": [(0x900, 0x97F), (0xE00, 0xE7F)],
    "cjk": [(0x3040, 0x30FF), (0x4E00, 0x9FFF), (0xAC00, 0xD7A3)],
    "fullwidth": [(0xFF01, 0xFF5E)],
    "emoji": [(0x1F300, 0x1F64F), (0x1F680, 0x1F6FF), (0x1F900, 0x1F9FF), (0x1F1E6, 0x1F1FF)],
    "format": [(0x200B, 0x200F), (0x202A, 0x202E), (0x2060, 0x2064), (0x2066, 0x2069),
               (0xFEFF, 0xFEFF), (0xFE00, 0xFE0F), (0xE0020, 0xE007F)],
    "control": [(0x00, 0x1F), (0x7F, 0x9F)],
    "spaces": [(0x2000, 0x200A), (0x2028, 0x2029), (0x3000, 0x3000), (0x85, 0x85)],
    "odd": [(0xE000, 0xE0FF), (0xFFF0, 0xFFFF), (0x10FFF0, 0x10FFFF), (0x1D400, 0x1D7FF)],
}
# Texts that are nothing a tokenizer expects.
EDGE_TEXTS = [
    "\u200b", "\u200d\u200d", "\ufeff", "\u0301\u0301\u0301", "\u202e", "\u2066\u2069",
    "?", "???!!!", "...", "。", "、", "-", "_", "*", "#", "@", "&amp;", "<b>hi</b>",
    "<script>alert(1)</script>", "0", "-1", "1e309", "NaN", "null", "true", "[]", "{}",
    "👩\u200d⚕️", "🇺🇸", "\U0001f3fb", "\ufffd", "\uffff", "\U0010ffff", "a" * 2000,
    "é" * 2000, "\u0301" * 2000, "👍" * 1000, "x\u200by\u200bz", "\u00a0hi\u00a0", "\u3000",
    "'; DROP TABLE events; --", "${jndi:ldap://x}", "{{7*7}}", "%s%s%n", "\\u0000",
    "\\", "\"", "\\\"", "\\ud800", "../../etc/passwd",
]


def random_text(rng: random.Random, longest: int = 120, controls: bool = True) -> str:
    """Text mixing one to three alphabets (control characters only if `controls`)."""
    names = [name for name in ALPHABETS if controls or name != "control"]
    chosen = rng.sample(names, rng.randint(1, 3))
    out = []
    for _ in range(rng.randint(1, longest)):
        if rng.random() < 0.15:
            out.append(" ")
            continue
        low, high = rng.choice(ALPHABETS[rng.choice(chosen)])
        char = chr(rng.randint(low, high))
        if "\ud800" <= char <= "\udfff":
            char = "?"
        out.append(char)
    return "".join(out)


def json_value(rng: random.Random, depth: int = 0) -> Any:
    """A random JSON value, nested at most a few levels."""
    choice = rng.randrange(9 if depth < 3 else 6)
    if choice == 0:
        return None
    if choice == 1:
        return rng.random() < 0.5
    if choice == 2:
        return rng.choice([0, -1, 2**31, 2**63, 10**30, rng.randint(-1000, 1000)])
    if choice == 3:
        return rng.choice([0.5, -0.0, 1e308, 1e-308, rng.uniform(-1e6, 1e6)])
    if choice in (4, 5):
        return random_text(rng, 30)
    if choice in (6, 7):
        return {random_text(rng, 8): json_value(rng, depth + 1) for _ in range(rng.randint(0, 4))}
    return [json_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]


def slash_text(rng: random.Random) -> str:
    """A message starting with `/`: typed intents, Rasa's syntax, near-misses of the buttons."""
    payload = rng.choice(sorted(BUTTON_PAYLOADS))
    near_misses = [
        payload.upper(), payload + " ", " " + payload, payload + payload, payload + "\u200b",
        payload.replace("/", "//", 1), payload.replace('"', "'"), payload + "@0.99",
        payload[:-1], payload + "{}", "\u200b" + payload, payload.replace("/", "／", 1),
    ]
    intent = rng.choice(["restart", "faq", "crisis", "nlu_fallback", "session_start", "greet",
                         "feedback", "book_consultation", "contact_human", "out_of_scope",
                         "action_listen", "back", "faq/cost_insurance", "", " ", "👍",
                         random_text(rng, 12, controls=False)])
    entities = rng.choice([
        "", "{}", '{"rating":"up"}', '{"rating":"sideways"}', '{"rating":["up"]}',
        '{"rating":null}', '{"condition":"OCD"}', '{"crisis_kind":"emergency"}',
        '{"rating":"up"', '{"rating":"up"}}', "{" * 200, '{"a":' * 50 + "1" + "}" * 50,
        json.dumps({random_text(rng, 6): json_value(rng)}, ensure_ascii=False),
        json.dumps(json_value(rng)),
    ])
    confidence = rng.choice(["", "", "@0.5", "@1", "@-3", "@1e999", "@x", "@", "@0.5@0.5"])
    return rng.choice([
        payload, rng.choice(near_misses), f"/{intent}{confidence}{entities}",
        f"/{intent}{entities}{confidence}", "/", "//", "/ restart", "/{}", "/@0.1",
        f"/{intent}{entities} and some words after",
    ])


JSON_LOOKING = [
    '{"intent": "crisis", "confidence": 1}', '[{"entity": "rating", "value": "up"}]',
    '{"sender": "other", "message": "hi"}', '{"text": "/restart"}', '{"event": "restart"}',
    '{"intent": {"name": "faq"}, "response_selector": {}}', '{"slot": "crisis_mode"}',
    "[]", "{}", "null", '{"rating":"up"}', "feedback{\"rating\":\"up\"}",
]


def json_looking_text(rng: random.Random) -> str:
    """Text that looks like JSON, Rasa's entity syntax or a tracker event."""
    if rng.random() < 0.5:
        return rng.choice(JSON_LOOKING)
    return json.dumps(json_value(rng), ensure_ascii=rng.random() < 0.5)


# ---- bodies ------------------------------------------------------------------------------

def encode(rng: random.Random, payload: Any) -> bytes:
    """`payload` as JSON, one of three ways.

    ASCII escapes (a lone surrogate is an escape), UTF-8 (a lone surrogate makes it invalid
    UTF-8), or UTF-8 with replacement characters.
    """
    way = rng.randrange(3)
    if way == 0:
        return json.dumps(payload).encode()
    text = json.dumps(payload, ensure_ascii=False)
    return text.encode("utf-8", "surrogatepass" if way == 1 else "replace")


class Fuzzer:
    """Builds case `index` of a seed: each kind a method below, picked by weight."""

    # kind -> weight (a burst is 25 requests: 0.5% of the cases, about 10% of the requests).
    WEIGHTS: Dict[str, float] = {
        "question": 8, "button payload": 3, "typed intent": 12, "random text": 12,
        "edge text": 6, "control characters": 4, "lone surrogates": 4, "invalid UTF-8": 4,
        "JSON-looking text": 4, "wrong types": 8, "missing fields": 4, "extra fields": 6,
        "bad JSON": 8, "long message": 3, "huge body": 1.5, "long sender": 3,
        "content type": 4, "wrong method": 4, "query string": 2, "odd headers": 3,
        "link click": 6, "burst": 0.5,
    }

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.kinds = list(self.WEIGHTS)
        self.weights = [self.WEIGHTS[kind] for kind in self.kinds]
        self.builders: Dict[str, Callable[[random.Random], Case]] = {
            kind: getattr(self, "_" + kind.replace(" ", "_").replace("-", "_").lower())
            for kind in self.kinds
        }

    def case(self, index: int) -> Case:
        """Case `index`: the same for the same seed and index, whatever N is."""
        rng = random.Random(f"{self.seed}:{index}")
        kind = rng.choices(self.kinds, self.weights)[0]
        built = self.builders[kind](rng)
        headers = built.headers
        if not any(name.lower() == "x-forwarded-for" for name, _ in headers):
            headers = (("X-Forwarded-For", self.address(rng)),) + headers
        return replace(built, index=index, kind=kind, headers=headers)

    def cases(self, requests: int) -> Iterator[Case]:
        """Cases 0, 1, ... until they make `requests` requests (the last burst cut short).

        Built one at a time as they are sent: a few of them are a megabyte.
        """
        total, index = 0, 0
        while total < requests:
            case = self.case(index)
            if total + case.times > requests:
                case = replace(case, times=requests - total)
            yield case
            total += case.times
            index += 1

    # -- who sends

    def address(self, rng: random.Random) -> str:
        """A client address from 198.18.0.0/15 (set aside for benchmarks, RFC 2544)."""
        return f"198.{rng.randint(18, 19)}.{rng.randrange(256)}.{rng.randint(1, 254)}"

    def sender(self, rng: random.Random) -> str:
        """A new conversation, or one of 40 this seed comes back to (multi-turn)."""
        if rng.random() < 0.25:
            return f"fuzz-{self.seed}-{rng.randrange(40)}"
        return f"fuzz-{self.seed}-{rng.getrandbits(48):x}"

    def chat(self, rng: random.Random, message: Any, **fields: Any) -> Case:
        """A well-formed request around `message` (encoded one of `encode`'s ways)."""
        body = {"sender": self.sender(rng), "message": message, **fields}
        return Case(0, "", body=encode(rng, body))

    # -- the kinds

    def _question(self, rng: random.Random) -> Case:
        return self.chat(rng, rng.choice(QUESTIONS))

    def _button_payload(self, rng: random.Random) -> Case:
        return self.chat(rng, rng.choice(sorted(BUTTON_PAYLOADS)))

    def _typed_intent(self, rng: random.Random) -> Case:
        return self.chat(rng, slash_text(rng))

    def _random_text(self, rng: random.Random) -> Case:
        return self.chat(rng, random_text(rng, rng.choice([20, 120, 600])))

    def _edge_text(self, rng: random.Random) -> Case:
        return self.chat(rng, rng.choice(EDGE_TEXTS))

    def _control_characters(self, rng: random.Random) -> Case:
        controls = "".join(chr(rng.choice([*range(0x20), *range(0x7F, 0xA0)]))
                           for _ in range(rng.randint(1, 20)))
        text = rng.choice(["", rng.choice(QUESTIONS), "/restart", "/book_consultation"])
        cut = rng.randint(0, len(text))
        return self.chat(rng, rng.choice([controls, text[:cut] + controls + text[cut:]]))

    def _lone_surrogates(self, rng: random.Random) -> Case:
        surrogate = chr(rng.randint(0xD800, 0xDFFF))
        text = rng.choice(QUESTIONS)
        cut = rng.randint(0, len(text))
        message = rng.choice([surrogate, text[:cut] + surrogate + text[cut:], "/" + surrogate])
        sender = rng.choice([self.sender(rng), self.sender(rng) + surrogate, surrogate])
        body = {"sender": sender, "message": message}
        return Case(0, "", body=json.dumps(body).encode())  # as \udxxx escapes

    def _invalid_utf_8(self, rng: random.Random) -> Case:
        broken = rng.choice([b"\xff\xfe", b"\xc3\x28", b"\xe2\x82", b"\xf0\x28\x8c\x28",
                             b"\xed\xa0\x80", b"\xc0\xaf", bytes([rng.randrange(256)])])
        head = b'{"sender": "%s", "message": "' % self.sender(rng).encode()
        return Case(0, "", body=head + broken + b' hello"}')

    def _json_looking_text(self, rng: random.Random) -> Case:
        return self.chat(rng, json_looking_text(rng))

    def _wrong_types(self, rng: random.Random) -> Case:
        odd = [None, True, 0, 3.5, [], ["hello"], {}, {"text": "hi"}, json_value(rng)]
        body: Dict[str, Any] = {"sender": self.sender(rng), "message": rng.choice(QUESTIONS)}
        for name in rng.sample(["sender", "message"], rng.randint(1, 2)):
            body[name] = rng.choice(odd)
        return Case(0, "", body=encode(rng, body))

    def _missing_fields(self, rng: random.Random) -> Case:
        body = {"sender": self.sender(rng), "message": rng.choice(QUESTIONS)}
        for name in rng.sample(sorted(body), rng.randint(1, 2)):
            del body[name]
        if rng.random() < 0.5:  # the right value under a wrong name
            body[rng.choice(["text", "Message", "user", "sender_id", "msg"])] = "hello"
        return Case(0, "", body=encode(rng, body))

    def _extra_fields(self, rng: random.Random) -> Case:
        extra: Dict[str, Any] = {}
        for name in rng.sample(["metadata", "input_channel", "stream", "customData",
                                "message_id", "parse_data", "intent"], rng.randint(1, 3)):
            extra[name] = rng.choice([json_value(rng), {"a": json_value(rng)},
                                      {"nested": {"deeper": [json_value(rng)] * 3}}])
        return self.chat(rng, rng.choice(QUESTIONS), **extra)

    def _bad_json(self, rng: random.Random) -> Case:
        good = json.dumps({"sender": self.sender(rng), "message": rng.choice(QUESTIONS)})
        bodies = [
            good[: rng.randint(0, len(good) - 1)], good + rng.choice(["}", "x", ",", "\x00"]),
            good.replace('"', "'"), good.replace(":", "="), "", " ", "\n", "null", "true", "42",
            '"hello"', "[1, 2, 3]", "[" * rng.choice([100, 2_000, 50_000]),
            '{"a":' * rng.choice([100, 900, 5_000]) + "1" + "}" * 900,
            good[:-1] + ', "metadata": {"n": NaN, "i": Infinity, "j": -Infinity}}',
            good[:-1] + ', "metadata": {"big": ' + "9" * rng.choice([400, 5_000]) + "}}",
            good[:-1] + ', "metadata": {"x": 1e99999}}',
            '{"sender": "a", "sender": {"x": 1}, "message": "hi", "message": 2}',
            "\ufeff" + good, "sender=x&message=hi", "<xml/>", random_text(rng, 80),
        ]
        body = rng.choice(bodies).encode("utf-8", "surrogatepass")
        if rng.random() < 0.1:
            body = good.encode(rng.choice(["utf-16", "utf-32", "utf-16-be"]))
        elif rng.random() < 0.1:
            body = rng.randbytes(rng.randint(1, 400))
        return Case(0, "", body=body)

    def _long_message(self, rng: random.Random) -> Case:
        # Over 2,000 characters: the polite "too long" reply; over 64 KiB: a 413.
        length = rng.choice([2_000, 2_001, rng.randint(2_002, 20_000), rng.randint(60_000, 70_000)])
        unit = rng.choice(["a", "é", "氯", "👍", "hello ", "/restart ", "\u0301"])
        return self.chat(rng, (unit * length)[:length])

    def _huge_body(self, rng: random.Random) -> Case:
        size = rng.choice([65_537, 200_000, 1_000_000])
        body = json.dumps({"sender": self.sender(rng), "message": "b" * size}).encode()
        return Case(0, "", body=body, chunked=rng.random() < 0.5)

    def _long_sender(self, rng: random.Random) -> Case:
        length = rng.choice([128, 129, 1_000, 10_000, 70_000])
        body = {"sender": (rng.choice(["s", "é", "👩\u200d⚕️"]) * length)[:length],
                "message": rng.choice(QUESTIONS)}
        return Case(0, "", body=encode(rng, body))

    def _content_type(self, rng: random.Random) -> Case:
        case = self.chat(rng, rng.choice(QUESTIONS))
        content_type = rng.choice([
            "text/plain", "text/plain;charset=UTF-8", "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=xyz", "application/xml",
            "application/json; charset=utf-16",
            "application/json; charset=latin-1", "image/png", "*/*", "", "application/json;;;",
            "application/json; boundary=" + "x" * 2000,
        ])
        return replace(case, headers=(("Content-Type", content_type),))

    def _wrong_method(self, rng: random.Random) -> Case:
        method = rng.choice(["GET", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "TRACE",
                             "BREW", "PROPFIND"])
        path = rng.choice([WEBHOOK, LINK_CLICK, HEALTH, WEBHOOK + "/", "/webhooks/rest",
                           "/webhooks/rest/webhook/../webhook", "/webhooks/REST/webhook"])
        case = self.chat(rng, rng.choice(QUESTIONS)) if rng.random() < 0.5 else Case(0, "")
        headers: Headers = ()
        if method == "OPTIONS" and rng.random() < 0.5:  # a CORS preflight from anywhere
            headers = (("Origin", rng.choice(["https://evil.example", "null", "http://127.0.0.1"])),
                       ("Access-Control-Request-Method", "POST"))
        return replace(case, method=method, path=path, headers=headers)

    def _query_string(self, rng: random.Random) -> Case:
        case = self.chat(rng, rng.choice(QUESTIONS))
        query = rng.choice(["stream=true", "stream=1", "token=x", "output_channel=latest",
                            "a=" + "b" * 3000, "%ff%fe=%00", "&&&==", "execute_side_effects=true"])
        return replace(case, path=f"{WEBHOOK}?{query}")

    def _odd_headers(self, rng: random.Random) -> Case:
        case = self.chat(rng, rng.choice(QUESTIONS))
        headers = rng.choice([
            (("X-Forwarded-For", rng.choice(["not-an-address", "", "::1", "999.1.1.1",
                                             "1.2.3.4, 5.6.7.8", "unknown", ","])),),
            (("Origin", "https://evil.example"),),
            (("X-Forwarded-For", self.address(rng)), ("X-Real-IP", "127.0.0.1"),
             ("Forwarded", "for=127.0.0.1;proto=https")),
            (("X-Custom", "x" * rng.choice([100, 4_000])),),
            (("Accept", "text/html"), ("Accept-Encoding", "gzip, br, zstd")),
            (("Expect", "100-continue"),),
        ])
        return replace(case, headers=headers)

    def _link_click(self, rng: random.Random) -> Case:
        body = rng.choice([
            '{"link": "booking"}', '{"link": "phone"}', '{"link": "tel:988"}', '{"link": null}',
            '{"link": ["booking"]}', '{"link": "booking", "sender": "x"}', '{}', "", "link=booking",
            '{"link": "' + "b" * 70_000 + '"}', json.dumps(json_value(rng)),
            '{"link": "booking"', '{"link": "\\ud800"}', '{"link": "booking\\u0000"}',
        ]).encode()
        return Case(0, "", path=LINK_CLICK, body=body,
                    headers=(("Content-Type", "text/plain;charset=UTF-8"),))

    def _burst(self, rng: random.Random) -> Case:
        # One sender from one address, fast: over the per-sender (and per-IP) rate limit.
        body = {"sender": f"fuzz-{self.seed}-burst-{rng.randrange(4)}",
                "message": rng.choice(["hi", "ok", "thanks"])}
        return Case(0, "", body=json.dumps(body).encode(), times=BURST,
                    headers=(("X-Forwarded-For", f"198.18.255.{rng.randint(1, 4)}"),))


# ---- sending -----------------------------------------------------------------------------

@dataclass
class Outcome:
    """What the requests got."""

    statuses: Counter = field(default_factory=Counter)  # "200", "400", ..., "connection error"
    by_kind: Dict[str, Counter] = field(default_factory=dict)
    failures: List[str] = field(default_factory=list)  # 5xx, connection errors, broken turns
    server_errors: int = 0
    connection_errors: int = 0
    broken_turns: int = 0  # a 200 that is not a list of replies, or the "went wrong" fallback
    requests: int = 0
    seconds: float = 0.0

    def count(self, case: Case, status: str) -> None:
        """Count one answer to `case`."""
        self.requests += 1
        self.statuses[status] += 1
        self.by_kind.setdefault(case.kind, Counter())[status] += 1


def broken_turn(case: Case, status: int, body: bytes) -> Optional[str]:
    """Why a 200 from the webhook is not a proper answer, or None if it is one."""
    if status != 200 or case.method != "POST" or not case.path.startswith(WEBHOOK):
        return None
    try:
        replies = json.loads(body)
    except ValueError:
        return "a 200 that is not JSON"
    if not isinstance(replies, list) or not replies or not all(
            isinstance(reply, dict) for reply in replies):
        return "a 200 that is not a list of replies"
    if any(TURN_FAILED in str(reply.get("text", "")) for reply in replies):
        return "the turn failed (the phone-number fallback)"
    return None


async def _send(session: aiohttp.ClientSession, url: str, case: Case) -> Tuple[str, bytes]:
    data: Any = case.body
    if case.chunked:
        async def chunks() -> Any:
            for start in range(0, len(case.body), 16_384):
                yield case.body[start:start + 16_384]
        data = chunks()
    headers = dict(case.headers)
    async with session.request(
        case.method, url + case.path, data=data if case.body else None, headers=headers,
        skip_auto_headers=[] if "Content-Type" in headers else ["Content-Type"],
        allow_redirects=False,
    ) as response:
        return str(response.status), await response.read()


async def send_all(url: str, cases: Iterable[Case], concurrency: int = DEFAULT_CONCURRENCY,
                   progress: Optional[Callable[[int], None]] = None) -> Outcome:
    """Send `cases` to the server at `url`, `concurrency` at a time (a burst in a row)."""
    outcome, queue = Outcome(), iter(cases)
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_SECONDS)
    started = time.monotonic()

    async def worker(session: aiohttp.ClientSession) -> None:
        for case in queue:  # one iterator shared by the workers
            for _ in range(case.times):
                try:
                    status, body = await _send(session, url, case)
                except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as error:
                    outcome.count(case, "connection error")
                    outcome.connection_errors += 1
                    outcome.failures.append(f"{type(error).__name__}: {case.describe()}")
                    continue
                outcome.count(case, status)
                if status.startswith("5"):
                    outcome.server_errors += 1
                    outcome.failures.append(f"HTTP {status}: {case.describe()}")
                problem = broken_turn(case, int(status), body)
                if problem:
                    outcome.broken_turns += 1
                    outcome.failures.append(f"{problem}: {case.describe()}")
                if progress and outcome.requests % 1000 == 0:
                    progress(outcome.requests)

    connector = aiohttp.TCPConnector(limit=concurrency, force_close=False)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
    outcome.seconds = round(time.monotonic() - started, 1)
    return outcome


def run(url: str, requests: int, seed: int, concurrency: int = DEFAULT_CONCURRENCY,
        only: Sequence[int] = (), progress: Optional[Callable[[int], None]] = None) -> Outcome:
    """Fuzz the server at `url` with `requests` requests of `seed` (or just cases `only`)."""
    fuzzer = Fuzzer(seed)
    cases = (fuzzer.case(index) for index in only) if only else fuzzer.cases(requests)
    return asyncio.run(send_all(url.rstrip("/"), cases, concurrency, progress))


# ---- the report --------------------------------------------------------------------------

def log_figures(watch: Optional[LogWatch]) -> Dict[str, Any]:
    """ERROR lines and tracebacks the logs gained (None: no log was given)."""
    if watch is None:
        return {"logs": [], "error_lines": None, "tracebacks": None, "problems": []}
    problems = watch.problems()
    tracebacks = sum(TRACEBACK in line for line in problems)
    return {"logs": [str(path) for path in watch.paths], "error_lines": len(problems) - tracebacks,
            "tracebacks": tracebacks, "problems": problems[:50]}


def passed(result: Dict[str, Any]) -> bool:
    """No 5xx, no connection failure, no broken turn, no ERROR line or traceback."""
    return not (result["server_errors"] or result["connection_errors"] or result["broken_turns"]
                or result["logs"]["error_lines"] or result["logs"]["tracebacks"])


def figures(outcome: Outcome, watch: Optional[LogWatch], settings: Dict[str, Any],
            started_at: str) -> Dict[str, Any]:
    """Everything the report holds."""
    result = {
        "started_at": started_at, "settings": settings,
        "requests": outcome.requests, "seconds": outcome.seconds,
        "requests_per_second": round(outcome.requests / outcome.seconds, 1)
        if outcome.seconds else None,
        "statuses": dict(sorted(outcome.statuses.items())),
        "by_kind": {kind: dict(sorted(counts.items()))
                    for kind, counts in sorted(outcome.by_kind.items())},
        "server_errors": outcome.server_errors, "connection_errors": outcome.connection_errors,
        "broken_turns": outcome.broken_turns, "failures": outcome.failures[:100],
        "logs": log_figures(watch),
    }
    result["passed"] = passed(result)
    return result


def markdown(result: Dict[str, Any]) -> str:
    """report.md."""
    settings, logs = result["settings"], result["logs"]
    statuses = ", ".join(f"{count:,} × {status}" for status, count in result["statuses"].items())
    log_line = (f"{logs['error_lines']} ERROR lines, {logs['tracebacks']} tracebacks in "
                + ", ".join(f"`{path}`" for path in logs["logs"])
                if logs["logs"] else "not checked: no log file was given (`--log`)")
    lines = [
        f"# Fuzz of the chat webhook, {result['started_at']} UTC",
        "",
        f"**{'Passed' if result['passed'] else 'FAILED'}.** {result['requests']:,} requests "
        f"(seed {settings['seed']}) to {settings['url']} "
        f"({settings['server']}), {settings['concurrency']} at a time, in {result['seconds']} s.",
        "",
        "| what | count |", "|---|---|",
        f"| answers by status | {statuses} |",
        f"| 5xx | {result['server_errors']} |",
        f"| connection failures (and time-outs) | {result['connection_errors']} |",
        f"| broken turns (a 200 that is no list of replies, or the fallback) | "
        f"{result['broken_turns']} |",
        f"| server logs | {log_line} |",
        "",
        f"Again: `make fuzz N={settings['requests']} SEED={settings['seed']}"
        + (f" URL={settings['url']}`." if settings["server"] == ALREADY_RUNNING else "`."),
        "",
        "## By kind of request", "",
        "| kind | answers |", "|---|---|",
    ]
    for kind, counts in result["by_kind"].items():
        lines.append(f"| {kind} | " + ", ".join(f"{n:,} × {s}" for s, n in counts.items()) + " |")
    if result["failures"]:
        lines += ["", "## Failures (the first 100)", ""]
        lines += [f"- `{failure[:300]}`" for failure in result["failures"]]
    if logs["problems"]:
        lines += ["", "## Log problems (the first 50)", ""]
        lines += [f"- `{line[:300]}`" for line in logs["problems"]]
    return "\n".join(lines) + "\n"


def write(result: Dict[str, Any], out: Path) -> Path:
    """report.md and report.json in `out`; the markdown's path."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    path = out / "report.md"
    path.write_text(markdown(result))
    return path


# ---- the command -------------------------------------------------------------------------

def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(prog="python -m benchmark.fuzz",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", "-n", type=int, default=DEFAULT_REQUESTS,
                        help=f"how many requests (default {DEFAULT_REQUESTS:,})")
    parser.add_argument("--seed", type=int, default=None,
                        help="the same seed sends the same requests (default: a new one)")
    parser.add_argument("--url", default="",
                        help="fuzz the Rasa server already running there (default: start one)")
    parser.add_argument("--log", action="append", default=[], type=Path,
                        help="a log file of the server at --url, to check (repeatable)")
    parser.add_argument("--concurrency", type=int, default=DEFAULT_CONCURRENCY,
                        help=f"requests at a time (default {DEFAULT_CONCURRENCY})")
    parser.add_argument("--cases", default="",
                        help="send only these cases of the seed, e.g. 17,42 (from a report)")
    parser.add_argument("--out", type=Path, default=REPORT_DIR,
                        help="where report.md and report.json go (default reports/fuzz)")
    args = parser.parse_args(argv)
    if args.requests < 1 or args.concurrency < 1:
        parser.error("--requests and --concurrency must be 1 or more")
    try:
        args.only = [int(x) for x in args.cases.split(",") if x.strip()]
    except ValueError:
        parser.error(f"--cases takes case numbers separated by commas, not {args.cases!r}")
    if args.log and not args.url:
        parser.error("--log goes with --url: a server started here has its logs checked anyway")
    for log in args.log:
        if not log.is_file():
            parser.error(f"no log file {log}")
    if args.seed is None:
        args.seed = secrets.randbelow(1_000_000)
    return args


def fuzz_server() -> RunningBot:
    """Our servers as `make benchmark` starts them, trusting X-Forwarded-For, limits on."""
    spec = replace(bots.ours(), name="fuzz", env={"SANIC_PROXIES_COUNT": "1"})
    return RunningBot(spec, REPORT_DIR / "logs")


def main(argv: Optional[List[str]] = None) -> int:
    """Fuzz, report; 0 if nothing failed, 1 if something did, 2 if it could not run."""
    args = parse_args(argv)
    started_at = time.strftime("%Y-%m-%d %H:%M", time.gmtime())
    settings: Dict[str, Any] = {
        "requests": args.requests, "seed": args.seed, "concurrency": args.concurrency,
        "cases": args.only,
    }
    bot: Optional[RunningBot] = None
    try:
        if args.url:
            if not launcher.answers(args.url.rstrip("/") + HEALTH):
                print(f"error: no Rasa server answers at {args.url} (start one with `make run`, "
                      "or leave out URL= to let the fuzz start its own)", file=sys.stderr)
                return 2
            url, watch = args.url, LogWatch(args.log) if args.log else None
            settings["server"] = ALREADY_RUNNING
            if watch is None:
                print("warning: no --log given: the server's log is not checked", file=sys.stderr)
        else:
            print("Starting an action server and a Rasa server (throw-away tracker store) ...",
                  flush=True)
            bot = fuzz_server()
            watch = LogWatch.of(bot.logs)  # from the start: start-up counts too
            bot.wait_until_answering()
            url = bot.url
            settings["server"] = "started for the fuzz, logs in reports/fuzz/logs/"
        settings["url"] = url
        print(f"Sending {args.requests:,} requests (seed {args.seed}) to {url} ...", flush=True)
        outcome = run(url, args.requests, args.seed, args.concurrency, args.only,
                      progress=lambda n: print(f"  {n:,} sent", flush=True))
        result = figures(outcome, watch, settings, started_at)
    except (FileNotFoundError, RuntimeError, TimeoutError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    finally:
        if bot is not None:
            bot.stop()
            shutil.rmtree(bot.tmp, ignore_errors=True)
    path = write(result, args.out)
    print(path.read_text().split("\n## By kind")[0].rstrip())
    print(f"\nReport: {path}")
    return 0 if result["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
