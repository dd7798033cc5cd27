"""Scale-out: two Rasa servers behind nginx, one PostgreSQL tracker store, one Redis lock store.

scripts/scale_out_test.sh (make test-scale-out) starts the servers with deploy/start.sh and sets
SCALE_OUT_*. Many visitors talk at once through nginx, some sending several messages at once;
one Rasa server is killed (SIGKILL) part-way. Then PostgreSQL must hold every message once, in
the order it was sent, each turn complete before the next began, and every conversation must
have gone on to its end through the server that is left.

A message whose request was inside the killed server gets an error (nginx does not send a POST
twice); the visitors send it again as the widget does (webchat/clinic-chat.js): with the same
`message_id`, after 1, 2 and 4 s, on a 502, 503, 504 or a network error. The server answers a
repeated id once, so every message must be stored exactly once, retried or not.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import signal
import socket
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Set, Tuple, Union
from urllib.parse import urlsplit

import aiohttp
import psycopg2
import pytest
import redis

from clinic.replies import TURN_FAILED

URL = os.environ.get("SCALE_OUT_URL", "")
RUN_DIR = Path(os.environ.get("SCALE_OUT_RUN_DIR", "."))
DB_URL = os.environ.get("SCALE_OUT_DB_URL", "")
REDIS_URL = os.environ.get("SCALE_OUT_REDIS_URL", "")
REPORT = Path(os.environ.get("SCALE_OUT_REPORT", "scale_out_report.json"))
CONVERSATIONS = int(os.environ.get("SCALE_OUT_CONVERSATIONS", "30"))
KILL_AFTER_SHARE = 0.4  # of all messages answered
RESEND_AFTER_SECONDS = (1.0, 2.0, 4.0)  # the widget's retryDelaysMs
RETRIED = {"502", "503", "504"}  # and network errors, as the widget
WEBHOOK = "/webhooks/rest/webhook"
FAILED_TURN_REPLY = TURN_FAILED

# One visitor's conversation: a string is a message sent on its own (after the previous reply);
# a tuple is a burst, its messages sent at the same moment. Texts are unique within a
# conversation, so each stored message can be matched to the one sent.
Step = Union[str, Tuple[str, ...]]
CONVERSATION: List[Step] = [
    "hello",
    "what is ketamine infusion therapy?",
    ("does it help with depression?", "how fast does it work?", "is it FDA approved?"),
    "does it help with PTSD?",
    "how does it work?",
    ("can it treat anxiety?", "is it safe?"),
    "ok, how do I book?",
    "thanks, goodbye",
]
MESSAGES_PER_CONVERSATION = sum(1 if isinstance(s, str) else len(s) for s in CONVERSATION)


@dataclass
class Attempt:
    """One POST of a message: its outcome ("200", "502", an exception name) and times."""

    outcome: str
    started: float
    finished: float


@dataclass
class Message:
    """A message a visitor sent, every attempt to send it, and the reply it finally got."""

    sender: str
    text: str
    message_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    attempts: List[Attempt] = field(default_factory=list)
    replies: List[Dict[str, Any]] = field(default_factory=list)

    @property
    def answered(self) -> bool:
        return bool(self.attempts) and self.attempts[-1].outcome == "200"


@dataclass
class Run:
    """Everything the load run observed."""

    run_id: str
    messages: List[Message]
    started: float
    finished: float
    killed_port: int
    killed_pid: int
    survivor_port: int
    killed_at: float
    in_flight_at_kill: int
    redis_commands: int
    rows: Dict[str, List[Dict[str, Any]]]


class Visitors:
    """The visitors' HTTP client: sends messages through nginx, sends again after an error."""

    def __init__(self, session: aiohttp.ClientSession) -> None:
        self.session = session
        self.answered = 0
        self.in_flight = 0
        self.threshold_reached = asyncio.Event()
        self.kill_after = int(CONVERSATIONS * MESSAGES_PER_CONVERSATION * KILL_AFTER_SHARE)

    async def send(self, sender: str, text: str) -> Message:
        message = Message(sender, text)
        for delay in (*RESEND_AFTER_SECONDS, None):
            started = time.monotonic()
            self.in_flight += 1
            try:
                async with self.session.post(
                    URL + WEBHOOK,
                    json={"sender": sender, "message": text, "message_id": message.message_id},
                    timeout=aiohttp.ClientTimeout(total=120),
                ) as response:
                    outcome = str(response.status)
                    if response.status == 200:
                        message.replies = await response.json()
            except (aiohttp.ClientError, asyncio.TimeoutError) as error:
                outcome = type(error).__name__
            finally:
                self.in_flight -= 1
            message.attempts.append(Attempt(outcome, started, time.monotonic()))
            if delay is None or not (outcome in RETRIED or not outcome.isdigit()):
                break
            await asyncio.sleep(delay)
        self.answered += 1
        if self.answered >= self.kill_after:
            self.threshold_reached.set()
        return message

    async def converse(self, sender: str) -> List[Message]:
        messages: List[Message] = []
        for step in CONVERSATION:
            if isinstance(step, str):
                messages.append(await self.send(sender, step))
            else:
                messages.extend(await asyncio.gather(*(self.send(sender, t) for t in step)))
        return messages


def rasa_servers() -> List[Tuple[int, int]]:
    """(port, pid) of every Rasa server deploy/start.sh started, by port."""
    found = []
    for pid_file in sorted((RUN_DIR / "pids").glob("rasa-*.pid")):
        port = int(pid_file.stem.removeprefix("rasa-"))
        found.append((port, int(pid_file.read_text().strip())))
    return found


def stored_events(run_id: str) -> Dict[str, List[Dict[str, Any]]]:
    """The events table's rows of this run's conversations, by sender, in id order."""
    with psycopg2.connect(DB_URL) as connection, connection.cursor() as cursor:
        cursor.execute(
            "SELECT sender_id, id, type_name, timestamp, action_name, data FROM events "
            "WHERE sender_id LIKE %s ORDER BY id",
            (run_id + "-%",),
        )
        rows: Dict[str, List[Dict[str, Any]]] = {}
        for sender, row_id, type_name, timestamp, action_name, data in cursor.fetchall():
            rows.setdefault(sender, []).append({
                "id": row_id, "type": type_name, "timestamp": timestamp,
                "action": action_name, "text": json.loads(data).get("text"),
            })
    connection.close()
    return rows


def redis_commands() -> int:
    client = redis.Redis.from_url(REDIS_URL)
    try:
        return int(client.info("stats")["total_commands_processed"])
    finally:
        client.close()


async def load_and_kill() -> Run:
    servers = rasa_servers()
    assert len(servers) >= 2, f"deploy/start.sh should have started two Rasa servers: {servers}"
    (killed_port, killed_pid), (survivor_port, _) = servers[0], servers[1]
    run_id = "scale-" + uuid.uuid4().hex[:8]
    redis_before = redis_commands()
    connector = aiohttp.TCPConnector(limit=200)
    async with aiohttp.ClientSession(connector=connector) as session:
        visitors = Visitors(session)
        kill: Dict[str, float] = {}

        async def kill_one_server() -> None:
            await visitors.threshold_reached.wait()
            kill["in_flight"] = visitors.in_flight
            os.kill(killed_pid, signal.SIGKILL)
            kill["at"] = time.monotonic()

        started = time.monotonic()
        killer = asyncio.create_task(kill_one_server())
        conversations = await asyncio.gather(*(
            visitors.converse(f"{run_id}-{number:03d}") for number in range(CONVERSATIONS)
        ))
        finished = time.monotonic()
        await asyncio.wait_for(killer, timeout=1)
    return Run(
        run_id=run_id,
        messages=[message for conversation in conversations for message in conversation],
        started=started, finished=finished,
        killed_port=killed_port, killed_pid=killed_pid, survivor_port=survivor_port,
        killed_at=kill["at"], in_flight_at_kill=int(kill["in_flight"]),
        redis_commands=redis_commands() - redis_before,
        rows=stored_events(run_id),
    )


def user_texts(rows: List[Dict[str, Any]]) -> List[str]:
    return [row["text"] for row in rows if row["type"] == "user"]


def nginx_moved_on(killed_port: int) -> int:
    """Webhook requests nginx sent on to another server after the killed one refused them."""
    log = (RUN_DIR / "logs" / "nginx-access.log").read_text()
    return sum(
        1 for line in log.splitlines()
        if WEBHOOK in line and f'upstream_addr="127.0.0.1:{killed_port}, ' in line
    )


def failed_turn(message: Message) -> bool:
    """The webhook answered, but with its "something went wrong, call us" reply."""
    return any(FAILED_TURN_REPLY in (reply.get("text") or "") for reply in message.replies)


def kill_to_next_answer(run: Run) -> Dict[str, float]:
    """For each conversation that lost a request to the kill: seconds to its next answer."""
    hit = {m.sender for m in run.messages if any(a.outcome != "200" for a in m.attempts)}
    return {
        sender: min(a.finished for m in run.messages if m.sender == sender
                    for a in m.attempts if a.outcome == "200" and a.finished > run.killed_at)
        - run.killed_at
        for sender in hit
    }


def figures(run: Run) -> Dict[str, Any]:
    attempts = [attempt for message in run.messages for attempt in message.attempts]
    stored = sum(len(user_texts(rows)) for rows in run.rows.values())
    after_kill = [m for m in run.messages if m.attempts[-1].finished > run.killed_at]
    latencies = sorted(a.finished - a.started for a in attempts if a.outcome == "200")
    hit = {m.sender for m in run.messages if any(a.outcome != "200" for a in m.attempts)}
    unaffected = sorted(a.finished - a.started for m in run.messages if m.sender not in hit
                        for a in m.attempts) or [0.0]
    return {
        "balance": os.environ.get("NGINX_BALANCE", "sender"),
        "ticket_lock_lifetime_s": int(os.environ.get("TICKET_LOCK_LIFETIME", "3")),
        "conversations": CONVERSATIONS,
        "messages_sent": len(run.messages),
        "posts": len(attempts),
        "outcomes": dict(Counter(a.outcome for a in attempts)),
        "messages_sent_again": sum(1 for m in run.messages if len(m.attempts) > 1),
        "messages_answered": sum(1 for m in run.messages if m.answered),
        # Every attempt failed: what a visitor would see as an error after the widget's retries.
        "messages_a_visitor_saw_fail": sum(1 for m in run.messages if not m.answered),
        "failed_turn_replies": sum(1 for m in run.messages if failed_turn(m)),
        "user_messages_stored": stored,
        "stored_twice": sum(
            max(0, Counter(user_texts(run.rows.get(m.sender, []))).get(m.text, 0) - 1)
            for m in run.messages
        ),
        "seconds": round(run.finished - run.started, 1),
        "messages_per_second": round(len(run.messages) / (run.finished - run.started), 1),
        "latency_p50_ms": round(1000 * latencies[len(latencies) // 2]),
        "latency_p95_ms": round(1000 * latencies[int(len(latencies) * 0.95)]),
        "latency_max_ms": round(1000 * latencies[-1]),
        "unaffected_conversations_latency_p95_ms": round(
            1000 * unaffected[int(len(unaffected) * 0.95)]),
        "unaffected_conversations_latency_max_ms": round(1000 * unaffected[-1]),
        "killed": f"127.0.0.1:{run.killed_port} (SIGKILL) at "
                  f"{run.killed_at - run.started:.1f} s",
        "requests_in_flight_at_kill": run.in_flight_at_kill,
        "conversations_that_lost_a_request": len(hit),
        "messages_finished_after_kill": len(after_kill),
        "longest_wait_after_kill_s": round(
            max((m.attempts[-1].finished - max(m.attempts[0].started, run.killed_at)
                 for m in after_kill), default=0.0), 1),
        "longest_kill_to_next_answer_s": round(max(kill_to_next_answer(run).values(),
                                                    default=0.0), 1),
        "nginx_moved_on_to_survivor": nginx_moved_on(run.killed_port),
        "redis_commands": run.redis_commands,
    }


@pytest.fixture(scope="module")
def run() -> Iterator[Run]:
    result = asyncio.run(load_and_kill())
    summary = figures(result)
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(json.dumps(summary, indent=1) + "\n")
    # Every message and attempt, times in seconds from the start, for a failure's post-mortem.
    REPORT.with_name("messages.json").write_text(json.dumps([
        {"sender": m.sender, "text": m.text,
         "reply": " ".join(r.get("text") or "" for r in m.replies)[:80],
         "attempts": [(a.outcome, round(a.started - result.started, 2),
                       round(a.finished - result.started, 2)) for a in m.attempts]}
        for m in result.messages
    ], indent=1) + "\n")
    print("\nscale-out figures: " + json.dumps(summary, indent=1))
    yield result


def expected_order(stored: List[str], not_taken: Set[str]) -> Optional[str]:
    """Why `stored` (first copies only) is not CONVERSATION's order; None if it is.

    `not_taken`: messages Rasa refused (the visitor was told), which are not stored.
    """
    first_copies = list(dict.fromkeys(stored))
    position = 0
    for step in CONVERSATION:
        texts = tuple(t for t in ((step,) if isinstance(step, str) else step)
                      if t not in not_taken)
        got = first_copies[position:position + len(texts)]
        if sorted(got) != sorted(texts):
            return f"expected {texts} at position {position}, got {got} (all: {first_copies})"
        position += len(texts)
    return None if position == len(first_copies) else f"extra messages: {first_copies}"


def test_every_conversation_goes_on_to_its_end_after_a_server_is_killed(run: Run) -> None:
    with socket.socket() as probe, pytest.raises(ConnectionRefusedError):
        probe.connect(("127.0.0.1", run.killed_port))  # the killed server is really gone
    unanswered = [(m.sender, m.text, [a.outcome for a in m.attempts])
                  for m in run.messages if not m.answered]
    assert not unanswered
    assert len({m.sender for m in run.messages}) == CONVERSATIONS
    assert len(run.messages) == CONVERSATIONS * MESSAGES_PER_CONVERSATION
    after_kill = [m for m in run.messages if m.attempts[-1].finished > run.killed_at + 1]
    assert len(after_kill) >= CONVERSATIONS, "the kill came too late to test anything"
    last_messages = [m for m in run.messages if m.text == CONVERSATION[-1]]
    assert len(last_messages) == CONVERSATIONS
    assert not [m.sender for m in last_messages if failed_turn(m)]


def hit_by_the_kill(run: Run, message: Message) -> bool:
    """The message was sent before the kill into a conversation that lost a request to it."""
    conversation = [m for m in run.messages if m.sender == message.sender]
    lost_one = any(a.outcome != "200" for m in conversation for a in m.attempts)
    return lost_one and message.attempts[0].started <= run.killed_at


def test_every_reply_is_an_answer_unless_it_waited_on_the_killed_server(run: Run) -> None:
    # Rasa's lock ticket held by the killed server blocks its conversation until the ticket
    # expires (TICKET_LOCK_LIFETIME). A message already waiting behind it on the other server
    # may expire with it: Rasa then raises LockError and the webhook answers "something went
    # wrong, please call" (never silence). Nothing else may get that answer.
    assert not [(m.sender, m.text) for m in run.messages if not m.replies]
    unexplained = [(m.sender, m.text) for m in run.messages
                   if failed_turn(m) and not hit_by_the_kill(run, m)]
    assert not unexplained


def test_a_dead_servers_conversations_move_on_within_5_seconds(run: Run) -> None:
    # The killed server's lock tickets are renewed no more and expire within
    # TICKET_LOCK_LIFETIME (deploy/lock_store.py); the visitors' retries then get through.
    waits = kill_to_next_answer(run)
    assert waits, "no conversation lost a request to the kill"
    assert max(waits.values()) <= 5.0, sorted(waits.values())


def test_messages_sent_after_the_kill_never_see_an_error(run: Run) -> None:
    # nginx finds the dead server's port closed and sends the request to the other one.
    late = [a.outcome for m in run.messages for a in m.attempts
            if a.started > run.killed_at + 0.5]
    assert late and set(late) == {"200"}


def test_only_requests_inside_the_killed_server_fail(run: Run) -> None:
    # A POST that reached the killed server is answered 502 and not sent again by nginx;
    # every failed attempt was in flight when the server was killed.
    failed = [a for m in run.messages for a in m.attempts if a.outcome != "200"]
    assert all(a.started <= run.killed_at + 0.5 for a in failed), failed
    assert len(failed) <= run.in_flight_at_kill


def test_every_message_is_stored_once(run: Run) -> None:
    problems = []
    for message in run.messages:
        copies = user_texts(run.rows.get(message.sender, [])).count(message.text)
        if failed_turn(message):
            allowed = range(0, 1)  # the visitor was told; Rasa never took the message in
        else:
            # nginx never sends a POST twice, and a retry (same message id) is answered from
            # what the killed server stored if it stored the turn before dying.
            allowed = range(1, 2)
        if copies not in allowed:
            problems.append((message.sender, message.text, copies, len(message.attempts)))
    assert not problems


def test_every_conversation_is_stored_in_the_order_it_was_sent(run: Run) -> None:
    assert set(run.rows) == {m.sender for m in run.messages}
    not_taken = {(m.sender, m.text) for m in run.messages if failed_turn(m)}
    wrong = {sender: reason for sender, rows in run.rows.items()
             if (reason := expected_order(user_texts(rows), {t for s, t in not_taken
                                                             if s == sender}))}
    assert not wrong


def test_turns_never_interleave_and_time_runs_forward(run: Run) -> None:
    # The Redis lock lets one server at a time work on a conversation: each turn ends with
    # action_listen before the next message is stored, and timestamps grow with the row id.
    for sender, rows in run.rows.items():
        timestamps = [row["timestamp"] for row in rows]
        assert timestamps == sorted(timestamps), sender
        turn_open = False
        for row in rows:
            if row["type"] == "user":
                assert not turn_open, f"{sender}: a message was stored inside another's turn"
                turn_open = True
            elif row["type"] == "action" and row["action"] == "action_listen":
                turn_open = False
        assert not turn_open, f"{sender}: the last turn was not completed"


def test_the_servers_share_the_redis_lock_store(run: Run) -> None:
    # Each turn issues, checks and releases its conversation's lock in Redis.
    assert run.redis_commands >= 3 * len(run.messages)


def test_nginx_exposes_the_chat_webhook_only() -> None:
    import requests

    token = os.environ.get("RASA_AUTH_TOKEN", "")
    assert requests.get(URL + "/webhooks/rest/", timeout=10).json() == {"status": "ok"}
    for method, path in [
        ("GET", "/"), ("GET", "/status"), ("GET", "/version"),
        ("GET", f"/conversations/someone/tracker?token={token}"),
        ("POST", f"/conversations/someone/messages?token={token}"),
        ("POST", f"/model/parse?token={token}"), ("PUT", f"/model?token={token}"),
    ]:
        status = requests.request(method, URL + path, json={"text": "hi"}, timeout=10).status_code
        assert status == 404, f"{method} {path} through nginx answered {status}"
    # Methods other than GET/POST/OPTIONS are refused even on the webhook path.
    assert requests.delete(URL + WEBHOOK, timeout=10).status_code == 403
    # Dot segments cannot climb out of /webhooks/ (sent raw: requests would remove them).
    address = urlsplit(URL)
    for path in ["/webhooks/rest/../../conversations/someone/tracker",
                 "/webhooks/%2e%2e/conversations/someone/tracker",
                 "/webhooks/rest/..%2F..%2Fconversations/someone/tracker"]:
        connection = http.client.HTTPConnection(address.hostname or "", address.port, timeout=10)
        connection.request("GET", f"{path}?token={token}")
        status = connection.getresponse().status
        connection.close()
        assert status in (400, 404), f"GET {path} through nginx answered {status}"


def test_the_rasa_servers_listen_on_loopback_only_and_want_the_token() -> None:
    import requests

    listening = [line.split() for name in ("tcp", "tcp6")
                 for line in Path(f"/proc/net/{name}").read_text().splitlines()[1:]]
    answering = 0
    for port in map(int, os.environ["RASA_PORTS"].split()):
        local = {fields[1] for fields in listening
                 if fields[3] == "0A" and int(fields[1].split(":")[1], 16) == port}
        assert local <= {f"0100007F:{port:04X}"}, f"Rasa server {port} listens on {local}"
        if local:
            answering += 1
            direct = requests.get(f"http://127.0.0.1:{port}/conversations/x/tracker", timeout=10)
            assert direct.status_code == 401
    assert answering >= 1


async def wait_behind_a_dead_ticket(store: Any, conversation: str, dead: Any) -> List[str]:
    """Two messages wait behind the 2-second ticket of a server that died; what happens.

    `dead` is the dead server's lock store (it issued the ticket, then stopped). The waiting
    messages' own tickets are issued for 1.5 s, less than the dead one's: Rasa's store lets
    them expire while they wait (deterministically, whatever the timing of the polls).
    """
    dead.issue_ticket(conversation, 2)
    getattr(dead, "mine", {}).clear()  # killed: our store's server renews its tickets no more
    outcomes: List[str] = []

    async def message(delay: float) -> None:
        await asyncio.sleep(delay)
        try:
            async with store.lock(conversation, lock_lifetime=1.5):
                outcomes.append("served")
                await asyncio.sleep(0.6)
        except Exception as error:  # noqa: BLE001 - the outcome is what the test reports
            outcomes.append(type(error).__name__)

    try:
        await asyncio.wait_for(asyncio.gather(message(0.1), message(0.15)), timeout=8)
    except asyncio.TimeoutError:
        outcomes.append("hung")
    return outcomes


def test_a_dead_servers_lock_ticket_delays_but_never_hangs_a_conversation() -> None:
    from rasa.core.lock_store import RedisLockStore
    from rasa.utils.endpoints import EndpointConfig

    from deploy.lock_store import RefreshingRedisLockStore

    address = urlsplit(REDIS_URL)
    settings = {"port": address.port, "db": 1, "password": address.password}
    ours, dead = (RefreshingRedisLockStore(endpoint_config=EndpointConfig(
        url=address.hostname, key_prefix="refreshing", **settings)) for _ in range(2))
    assert asyncio.run(wait_behind_a_dead_ticket(ours, uuid.uuid4().hex, dead)) == [
        "served"] * 2
    # Rasa's own store: the waiting tickets expire with the dead one and the messages hang.
    stock = RedisLockStore(host=address.hostname or "", key_prefix="stock", **settings)
    assert asyncio.run(wait_behind_a_dead_ticket(stock, uuid.uuid4().hex, stock)) == ["hung"]
