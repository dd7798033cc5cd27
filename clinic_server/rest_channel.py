"""The chat webhook the widget talks to: Rasa's REST channel, made hard to break.

credentials.yml names it by module path (`clinic_server.rest_channel.ClinicRestInput`). Its
name is still "rest", so the URL stays POST /webhooks/rest/webhook. On top of `RestInput`:

- a request body limit, checked while the body is read, so an oversized one is never buffered
  (413);
- the body must be a JSON object with a string `sender` and a string `message` (400 otherwise,
  with a JSON `error` and `message`);
- control characters are removed and the text is NFC-normalised; other scripts and emoji pass;
- only the assistant's own buttons send intents: Rasa reads a message starting with `/` as
  `/intent{entities}` and skips the NLU, so such a message is passed on as it is only if it is
  one of the payloads the assistant's buttons and the widget's thumbs send
  (`clinic.buttons.BUTTON_PAYLOADS`, every entity value included). Any other (`/restart`,
  `/faq`, `/crisis`, `/greet{"x":"y"}`, `/feedback{"rating":"sideways"}`...) is the visitor's
  text: its `/` becomes `／` (U+FF0F, the full-width slash), so the NLU reads it like any
  other message and the stored conversation shows it as typed, marked as not a command;
- a message length limit: the visitor gets a polite reply asking to shorten it, with the way to
  the clinic (booking and phone buttons) and the crisis lines, and the model never sees the
  message;
- rate limits per sender and per client IP over a sliding window (429 with Retry-After),
  counted for the machine (clinic/run_state.py), whichever of its Rasa server
  processes gets the message;
- every Rasa server process of the machine serves the model the last `PUT /model` loaded in
  any of them (`ModelFollower`, clinic/run_state.py);
- a body sent with a GET, HEAD, OPTIONS or DELETE (a CORS preflight, say) is no ERROR in the
  log: Sanic's "body not consumed" for those is logged at INFO;
- a turn in which something failed (say the action server is down) still gets an answer: the
  clinic's phone number from settings/clinic.yml, and booking;
- safe retries: a message sent with a `message_id` (clinic/message_ids.py: 1 to 64 letters,
  digits, "-" or "_"; 400 otherwise) is run once. Inside the conversation's lock (the lock
  store's, shared by every Rasa server in deploy/), the channel first looks the id up in the
  tracker store (`answered_messages`); if that message was answered, the stored replies are
  sent again and no turn runs; else the turn runs in the same lock, and its id and replies are
  stored with its events, in one transaction. A retry arriving while the first attempt runs
  waits for that lock, then finds the replies. Without an id, a message runs as before.

Those two replies never offer booking to a visitor who sent a crisis message (the
conversation's `crisis_mode` slot, read from the tracker store; if it cannot be read, no
booking either): they give the clinic's phone and name 988 instead (SPEC section 3).

Beside it, POST /webhooks/rest/link-click counts a click on the widget's booking link or on the
clinic's phone number: the body is exactly `{"link": "booking"}` or `{"link": "phone"}` (400
otherwise), under the same body limit and per-IP rate limit (its own count) as the webhook.
It stores one row (the minute and the link, no conversation id, no address) in the tracker
store's database (clinic_server/tracker_store.py) and answers 204, or 503 if it cannot.

The limits come from environment variables (defaults in clinic/launcher.py's one table);
0 switches a limit off. Behind a proxy, Sanic's SANIC_PROXIES_COUNT or SANIC_REAL_IP_HEADER
say which header carries the visitor's IP. `?stream=true` is not supported: replies always
come as one JSON list. The client may not choose `input_channel`. No message text is logged.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import os
import re
import time
import unicodedata
from contextvars import ContextVar
from dataclasses import dataclass
from typing import (
    AbstractSet,
    Any,
    Awaitable,
    Callable,
    ClassVar,
    Dict,
    List,
    Mapping,
    Optional,
)

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from rasa.shared.constants import INTENT_MESSAGE_PREFIX
from rasa.shared.core.events import SlotSet
from rasa.shared.exceptions import RasaException
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from clinic.buttons import BUTTON_PAYLOADS, Button, booking_link_button, phone_button
from clinic.launcher import default_int
from clinic.link_clicks import LINKS
from clinic.message_ids import MESSAGE_ID_FIELD, MessageIdError, check_message_id
from clinic.replies import CRISIS_MODE_SLOT, check_in_text, crisis_reminder, is_check_in
from clinic.run_state import (
    MachineState,
    ModelFollower,
    SharedWindowLimiter,
)
from clinic.settings import ClinicSettings, SettingsError, load_settings
from clinic.wording import LANGUAGE_SLOT, wording
from clinic_server.gc_freeze import ServedModelFreezer
from clinic_server.rasa_internals import (
    TURN_ERROR_LOGGERS,
    channel_agent,
    handle_in_conversation_lock,
    load_model_as_put_model,
    served_model_path,
)
from clinic_server.tracker_store import (
    AnsweredTurn,
    MaskingSQLTrackerStore,
    answering,
    current_store,
)

logger = logging.getLogger(__name__)

Reply = Dict[str, Any]


@dataclass
class ConversationState:
    """What the channel's own replies need to know of a conversation."""

    crisis_mode: bool = False  # a crisis message was sent: no booking, the crisis lines
    language: Optional[str] = None  # the `language` slot: "es" for the Spanish wording


class ChannelConfigError(RasaException):
    """A malformed limit or clinic setting; `rasa run` prints it on one line and stops."""


@dataclass(frozen=True)
class Limits:
    """What one request and one client may do. 0 switches a limit off."""

    # The defaults are clinic/launcher.py's, which scripts/env.sh exports too.
    max_body_bytes: int = default_int("CHAT_MAX_BODY_BYTES")
    max_message_chars: int = default_int("CHAT_MAX_MESSAGE_CHARS")
    max_sender_chars: int = 128
    rate_window_seconds: int = default_int("CHAT_RATE_WINDOW_SECONDS")
    rate_per_sender: int = default_int("CHAT_RATE_LIMIT_PER_SENDER")
    rate_per_ip: int = default_int("CHAT_RATE_LIMIT_PER_IP")

    ENVIRONMENT: ClassVar[Dict[str, str]] = {
        "max_body_bytes": "CHAT_MAX_BODY_BYTES",
        "max_message_chars": "CHAT_MAX_MESSAGE_CHARS",
        "rate_window_seconds": "CHAT_RATE_WINDOW_SECONDS",
        "rate_per_sender": "CHAT_RATE_LIMIT_PER_SENDER",
        "rate_per_ip": "CHAT_RATE_LIMIT_PER_IP",
    }

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> Limits:
        """The defaults above, overridden by the CHAT_* environment variables."""
        values: Dict[str, int] = {}
        for field, variable in cls.ENVIRONMENT.items():
            raw = environ.get(variable, "").strip()
            if not raw:
                continue
            if not raw.isdigit():
                raise ChannelConfigError(
                    f"{variable} must be a whole number (0 switches the limit off), got {raw!r}"
                )
            values[field] = int(raw)
        limits = cls(**values)
        if limits.rate_window_seconds == 0 and (limits.rate_per_sender or limits.rate_per_ip):
            raise ChannelConfigError(
                "CHAT_RATE_WINDOW_SECONDS must be at least 1 while a rate limit is on"
            )
        return limits


def clean_text(text: str) -> str:
    """`text` without control characters or lone surrogates, NFC-normalised.

    Line breaks and tabs become spaces; format characters (zero-width joiners in emoji,
    right-to-left marks) stay, since other scripts and emoji need them.
    """
    kept = []
    for char in text:
        category = unicodedata.category(char)
        if category == "Cc":
            if char in "\t\n\r\x0b\x0c":
                kept.append(" ")
        elif category != "Cs":
            kept.append(char)
    return unicodedata.normalize("NFC", "".join(kept)).strip()


# What a visitor's leading "/" becomes when the message is not a button's payload: the
# full-width solidus reads as a slash, and the NLU's tokenizer splits it off as punctuation.
TYPED_SLASH = "\uff0f"


def as_visitor_text(text: str, payloads: AbstractSet[str] = BUTTON_PAYLOADS) -> str:
    """`text` as Rasa should take it: an intent only if it is one of the buttons' `payloads`.

    A message starting with `/` that is not exactly one of them gets `／` for its first
    character, so that Rasa does not read it as `/intent{entities}` but runs the NLU on it.
    `text` is already cleaned (`clean_text`: stripped, as Rasa strips it before looking).
    """
    if not text.startswith(INTENT_MESSAGE_PREFIX) or text in payloads:
        return text
    return TYPED_SLASH + text[len(INTENT_MESSAGE_PREFIX):]


class BadRequest(Exception):
    """A request the webhook refuses: the status and a one-line message for the client."""

    def __init__(self, status: int, error: str, message: str) -> None:
        super().__init__(message)
        self.status, self.error, self.message = status, error, message

    def response(self, headers: Optional[Dict[str, str]] = None) -> HTTPResponse:
        """The refusal as a JSON response."""
        return response.json(
            {"error": self.error, "message": self.message}, status=self.status, headers=headers
        )


@dataclass(frozen=True)
class ChatRequest:
    """A checked webhook request."""

    sender: str
    text: str
    metadata: Optional[Dict[str, Any]]
    message_id: Optional[str] = None  # the widget's id for the message, kept across retries


def parse_chat_request(body: bytes, limits: Limits) -> ChatRequest:
    """The sender, message and metadata of a webhook body; `BadRequest` if malformed."""
    usage = "send a JSON object with string fields 'sender' and 'message'"
    try:
        payload = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise BadRequest(400, "invalid_json", f"The body is not JSON: {usage}.") from error
    if not isinstance(payload, dict):
        raise BadRequest(400, "invalid_request", f"The body is not a JSON object: {usage}.")
    for field in ("sender", "message"):
        if field not in payload:
            raise BadRequest(400, "invalid_request", f"'{field}' is missing: {usage}.")
        if not isinstance(payload[field], str):
            raise BadRequest(400, "invalid_request", f"'{field}' must be a string: {usage}.")
    sender = clean_text(payload["sender"])
    if not sender or (limits.max_sender_chars and len(sender) > limits.max_sender_chars):
        raise BadRequest(
            400, "invalid_request",
            f"'sender' must be 1 to {limits.max_sender_chars} characters long.",
        )
    text = clean_text(payload["message"])
    if not text:
        raise BadRequest(400, "empty_message", "'message' is empty: type a question.")
    visitor_text = as_visitor_text(text)
    if visitor_text != text:
        logger.debug("chat webhook: a message starting with '/' that no button sends is "
                     "taken as text")
    metadata = payload.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        raise BadRequest(400, "invalid_request", "'metadata', if given, must be a JSON object.")
    try:
        message_id = check_message_id(payload.get(MESSAGE_ID_FIELD))
    except MessageIdError as error:
        raise BadRequest(400, "invalid_message_id", f"{error}.") from error
    return ChatRequest(sender=sender, text=visitor_text, metadata=metadata,
                       message_id=message_id)


def parse_link_click(body: bytes) -> str:
    """The link of a link-click body ("booking" or "phone"); `BadRequest` otherwise."""
    usage = 'send {"link": "booking"} or {"link": "phone"} and nothing else'
    try:
        payload = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise BadRequest(400, "invalid_json", f"The body is not JSON: {usage}.") from error
    if not isinstance(payload, dict) or set(payload) != {"link"}:
        raise BadRequest(400, "invalid_request", f"The body must be one field, 'link': {usage}.")
    link = payload["link"]
    if not isinstance(link, str) or link not in LINKS:
        raise BadRequest(400, "unknown_link", f"Only two links are counted: {usage}.")
    return link


async def read_body(request: Request, limit: int) -> bytes:
    """The request body; `BadRequest` (413) as soon as it is longer than `limit` bytes."""
    too_large = BadRequest(
        413, "body_too_large",
        f"The request is larger than {limit:,} bytes. Please send a shorter message.",
    )
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large
    body = bytearray()
    while request.stream is not None:
        chunk = await request.stream.read()
        if chunk is None:
            break
        body += chunk
        if len(body) > limit:
            raise too_large
    return bytes(body)


# The problems logged while the current request's turn runs (None outside a webhook turn).
_turn_problems: ContextVar[Optional[List[str]]] = ContextVar("turn_problems", default=None)


class _TurnProblemRecorder(logging.Handler):
    """Notes, for the turn being handled, that Rasa logged an error (never the text)."""

    def emit(self, record: logging.LogRecord) -> None:
        problems = _turn_problems.get()
        if problems is not None:
            problems.append(record.name)


_RECORDER = _TurnProblemRecorder(level=logging.ERROR)


def _watch_rasa_errors() -> None:
    # Rasa's loggers whose ERROR records during a turn mean the visitor may be missing part
    # of the reply (the processor's and the action module's; see clinic_server.rasa_internals).
    for name in TURN_ERROR_LOGGERS:
        watched = logging.getLogger(name)
        if _RECORDER not in watched.handlers:
            watched.addHandler(_RECORDER)


# Sanic logs `<Request: OPTIONS /path> body not consumed.` at ERROR when a 2xx answer leaves
# the client's body unread, and then reads and drops the body itself (sanic/http.py). For the
# methods whose routes take no body (Sanic's `ignore_body`: GET, HEAD, OPTIONS, DELETE) that is
# how it should go: anyone may send a CORS preflight (answered by sanic-cors before any route)
# or a GET with a body, and must not put an ERROR in the log. Those records become INFO; for a
# POST, a handler that left its body unread is a bug and stays an ERROR.
SANIC_ERROR_LOGGER = "sanic.error"
_BODYLESS_BODY_NOT_CONSUMED = re.compile(
    r"^<Request: (?:GET|HEAD|OPTIONS|DELETE) [^>]*> body not consumed\.$")


class _BodylessRequestBodyIsNotAnError(logging.Filter):
    """Demotes Sanic's "body not consumed" for GET, HEAD, OPTIONS and DELETE to INFO."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno == logging.ERROR and _BODYLESS_BODY_NOT_CONSUMED.match(
                record.getMessage()):
            record.levelno, record.levelname = logging.INFO, logging.getLevelName(logging.INFO)
        return True


_BODYLESS_FILTER = _BodylessRequestBodyIsNotAnError()


def _quiet_bodyless_bodies() -> None:
    sanic_errors = logging.getLogger(SANIC_ERROR_LOGGER)
    if _BODYLESS_FILTER not in sanic_errors.filters:
        sanic_errors.addFilter(_BODYLESS_FILTER)


class ClinicRestInput(RestInput):
    """Rasa's REST channel with input checks, limits and a reply when a turn fails."""

    def __init__(self, limits: Optional[Limits] = None,
                 settings: Optional[ClinicSettings] = None,
                 state: Optional[MachineState] = None) -> None:
        self.limits = limits or Limits.from_environment()
        self.settings = settings or _load_settings()
        self.state = state or MachineState()  # $RUN_STATE_DB
        window = self.limits.rate_window_seconds
        self.per_sender = SharedWindowLimiter(
            self.limits.rate_per_sender, window, "sender", self.state)
        self.per_ip = SharedWindowLimiter(self.limits.rate_per_ip, window, "ip", self.state)
        # Link clicks: the same per-IP limit, counted apart from the messages.
        self.clicks_per_ip = SharedWindowLimiter(
            self.limits.rate_per_ip, window, "click-ip", self.state)
        _watch_rasa_errors()
        _quiet_bodyless_bodies()

    @classmethod
    def name(cls) -> str:
        """"rest", so the URL stays /webhooks/rest/webhook."""
        return "rest"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[str, Any]]) -> ClinicRestInput:
        """Built from the environment; credentials.yml has nothing to set for this channel."""
        return cls()

    def blueprint(
        self, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> Blueprint:
        """GET / (health), POST /webhook and POST /link-click, under /webhooks/rest."""
        webhook = Blueprint("clinic_rest_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"], stream=True)
        async def receive(request: Request) -> HTTPResponse:
            try:
                return await self._receive(request, on_new_message)
            except BadRequest as refusal:
                logger.debug("chat webhook refused a request: %s", refusal.error)
                return refusal.response()

        @webhook.route("/link-click", methods=["POST"], stream=True)
        async def link_click(request: Request) -> HTTPResponse:
            try:
                return await self._record_click(request)
            except BadRequest as refusal:
                logger.debug("link click refused: %s", refusal.error)
                return refusal.response()

        @webhook.listener("after_server_start")
        async def follow_the_machines_model(app: Any, *_: Any) -> None:
            app.add_task(follow_model(app, ModelFollower(self.state)))

        @webhook.listener("after_server_start")
        async def create_tables(*_: Any) -> None:
            # So that the dashboard shows 0 clicks, not "not recorded", before the first one,
            # and the first message with an id need not create its table.
            store = current_store()
            if store is not None:
                for what, ensure in (("link clicks", store.ensure_link_clicks_table),
                                     ("message ids", store.ensure_answered_table)):
                    try:
                        ensure()
                    except Exception as error:  # a database problem: retried when used
                        logger.warning("%s: cannot create the table yet (%s)",
                                       what, type(error).__name__)

        return webhook

    async def _record_click(self, request: Request) -> HTTPResponse:
        limit = self.limits.max_body_bytes or int(request.app.config.REQUEST_MAX_SIZE)
        link = parse_link_click(await read_body(request, limit))
        ip = request.remote_addr or request.ip
        wait = self.clicks_per_ip.wait_seconds(ip)
        if wait > 0:
            seconds = max(1, math.ceil(wait))
            refusal = BadRequest(429, "rate_limited", f"Too many requests: wait {seconds} s.")
            return refusal.response(headers={"Retry-After": str(seconds)})
        self.clicks_per_ip.record(ip)
        not_recorded = BadRequest(503, "not_recorded", "The click could not be recorded.")
        store = current_store()
        if store is None:
            logger.error("link click not recorded: the tracker store is not "
                         "clinic_server.tracker_store.MaskingSQLTrackerStore")
            return not_recorded.response()
        try:
            store.record_link_click(link, time.time())
        except Exception as error:  # the database is down, locked, read-only...
            logger.error("link click not recorded (%s)", type(error).__name__)
            return not_recorded.response()
        return response.empty(status=204)

    async def _receive(
        self, request: Request, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> HTTPResponse:
        limit = self.limits.max_body_bytes or int(request.app.config.REQUEST_MAX_SIZE)
        chat = parse_chat_request(await read_body(request, limit), self.limits)
        refusal = self._rate_limited(chat.sender, request.remote_addr or request.ip)
        if refusal is not None:
            return refusal
        max_chars = self.limits.max_message_chars
        if max_chars and len(chat.text) > max_chars:
            logger.info("chat webhook: a message over %d characters was not processed", max_chars)
            return response.json([await self._too_long(chat, max_chars)])
        return response.json(await self._run_turn(chat, on_new_message, request.app))

    async def _too_long(self, chat: ChatRequest, max_chars: int) -> Reply:
        state = await self._conversation(chat.sender)
        words = wording(state.language)
        ask = words.too_long.format(length=f"{len(chat.text):,}", limit=f"{max_chars:,}")
        phone = self.settings.phone
        if state.crisis_mode:
            return self._reply(chat.sender, (
                f"{ask} {words.too_long_call.format(phone=phone)} "
                f"{crisis_reminder(language=state.language)}"
            ), [phone_button(self.settings, words)], crisis=True)
        # The model never read the message: it could be about a crisis.
        return self._reply(chat.sender, (
            f"{ask} {words.too_long_book_or_call.format(phone=phone)} {words.in_danger}"
        ), [booking_link_button(self.settings, words), phone_button(self.settings, words)])

    def _rate_limited(self, sender: str, ip: str) -> Optional[HTTPResponse]:
        wait = max(self.per_sender.wait_seconds(sender), self.per_ip.wait_seconds(ip))
        if wait > 0:
            logger.debug("chat webhook: rate limit reached, %.0f s to wait", wait)
            seconds = max(1, math.ceil(wait))
            refusal = BadRequest(
                429, "rate_limited",
                "You're sending messages faster than I can answer. "
                f"Please wait {seconds} second{'s' if seconds > 1 else ''} and try again.",
            )
            return refusal.response(headers={"Retry-After": str(seconds)})
        self.per_sender.record(sender)
        self.per_ip.record(ip)
        return None

    async def _run_turn(
        self, chat: ChatRequest, on_new_message: Callable[[UserMessage], Awaitable[Any]],
        app: Any = None,
    ) -> List[Reply]:
        collector = CollectingOutputChannel()
        problems: List[str] = []
        token = _turn_problems.set(problems)
        message = UserMessage(
            chat.text, collector, chat.sender,
            input_channel=self.name(), metadata=chat.metadata, message_id=chat.message_id,
        )
        message_id = chat.message_id
        store = current_store() if message_id else None
        agent = channel_agent(app) if store is not None else None
        turn: Optional[AnsweredTurn] = None
        try:
            if store is None or agent is None or message_id is None:
                await on_new_message(message)
            else:
                turn = AnsweredTurn(chat.sender, message_id, collector.messages)
                with answering(turn):
                    stored = await handle_in_conversation_lock(
                        agent, message, lambda: _answered(store, chat.sender, message_id),
                    )
                if stored is not None:
                    logger.info("chat webhook: a repeated message id was answered from the "
                                "stored replies; no turn was run")
                    return stored
        except (asyncio.CancelledError, Exception) as error:
            # Rasa's own REST channel answers too when a turn times out or fails; the
            # exception's text may quote the message, so only its type is logged.
            logger.error("chat webhook: the turn failed (%s)", type(error).__name__)
            problems.append(type(error).__name__)
        finally:
            _turn_problems.reset(token)
        replies: List[Reply] = list(collector.messages)
        if problems or not replies:
            crisis = any(_is_crisis_reply(reply) for reply in replies)
            replies.append(await self._fallback(chat.sender, crisis))
        elif turn is not None:
            replies.extend(await self._check_in_if_missing(chat.sender, turn.crisis_kinds,
                                                           replies))
        if turn is not None and store is not None:
            try:  # the fallback or check-in line above, if any, is sent again on a retry too
                store.update_answered(turn, replies)
            except Exception as error:  # the database went away since the turn was saved
                logger.warning("chat webhook: the replies of a message id could not be "
                               "updated (%s)", type(error).__name__)
        return replies

    async def _check_in_if_missing(
        self, sender: str, crisis_kinds: List[str], replies: List[Reply],
    ) -> List[Reply]:
        """The line naming 988 when the message had a weaker risk signal and no reply has it.

        The crisis detector's check-in tier asks for that line with whatever the message gets;
        an answer and a handoff add it, but "did you mean", an off-topic reply, a goodbye...
        do not (rules by intent cannot see the tier): the channel adds it to any of them.
        """
        if not is_check_in(crisis_kinds) or any(_is_crisis_reply(reply) for reply in replies):
            return []
        state = await self._conversation(sender)
        return [self._reply(sender, check_in_text(language=state.language), crisis=True)]

    async def _fallback(self, sender: str, crisis: bool = False) -> Reply:
        state = await self._conversation(sender)
        words = wording(state.language)
        apology = words.turn_failed
        phone = self.settings.phone
        if crisis or state.crisis_mode:
            return self._reply(
                sender, f"{apology} {words.call_after_failure.format(phone=phone)} "
                f"{crisis_reminder(language=state.language)}",
                [phone_button(self.settings, words)], crisis=True,
            )
        return self._reply(
            sender, f"{apology} {words.call_or_book_after_failure.format(phone=phone)}",
            [phone_button(self.settings, words), booking_link_button(self.settings, words)],
        )

    @staticmethod
    async def _conversation(sender: str) -> ConversationState:
        """What the channel's own replies need of `sender`'s conversation.

        In crisis mode if it cannot be read (the safer reply).
        """
        store = current_store()
        if store is None:
            return ConversationState(crisis_mode=True)
        try:
            tracker = await store.retrieve(sender)
        except Exception as error:  # the database is down, locked...
            logger.warning("chat webhook: the conversation could not be read (%s)",
                           type(error).__name__)
            return ConversationState(crisis_mode=True)
        state = ConversationState()
        if tracker is None:
            return state
        # From the events, not the slots: the store may not know the domain yet.
        for event in tracker.events:
            if isinstance(event, SlotSet) and event.key == CRISIS_MODE_SLOT:
                state.crisis_mode = bool(event.value)
            elif isinstance(event, SlotSet) and event.key == LANGUAGE_SLOT:
                state.language = event.value if isinstance(event.value, str) else None
        return state

    @staticmethod
    def _reply(sender: str, text: str, buttons: Optional[List[Button]] = None,
               crisis: bool = False) -> Reply:
        reply: Reply = {"recipient_id": sender, "text": text}
        if buttons:
            reply["buttons"] = buttons
        if crisis:  # as the crisis replies of domain.yml: the widget stops asking for ratings
            reply["custom"] = {"crisis": True}
        return reply


async def follow_model(app: Any, follower: ModelFollower) -> None:
    """For as long as the server runs: serve the model the machine's processes last loaded.

    Every `follower.POLL_SECONDS`: a model `PUT /model` loaded in this process is made the
    machine's; a newer one loaded in another process is loaded here too. Each model served is
    then kept out of the garbage collector's full collections (`ServedModelFreezer`). A problem
    is logged (without message text) and retried at the next poll.
    """
    failed: Optional[int] = None  # the generation last warned about
    freezer = ServedModelFreezer()
    while True:
        await asyncio.sleep(follower.POLL_SECONDS)
        try:
            agent = channel_agent(app)
            wanted = follower.check(agent, served_model_path(agent))
            if wanted is not None:
                logger.info("model: loading generation %d (%s)", wanted.number,
                            wanted.model_path)
                agent = await load_model_as_put_model(app, wanted.model_path)
                follower.loaded(wanted, agent)
            freezer.check(agent)  # the model served now, out of full garbage collections
        except Exception as error:  # the database or a model file: try again next time
            if failed != follower.generation:
                logger.warning("model: cannot follow the machine's model yet (%s: %s)",
                               type(error).__name__, error)
                failed = follower.generation


async def _answered(
    store: MaskingSQLTrackerStore, sender: str, message_id: str
) -> Optional[List[Reply]]:
    """The replies stored for this message id, None if it was not answered (or unreadable)."""
    try:
        return store.answered_replies(sender, message_id)
    except Exception as error:  # the database is down: run the turn as without an id
        logger.warning("chat webhook: stored replies could not be read (%s)",
                       type(error).__name__)
        return None


def _is_crisis_reply(reply: Reply) -> bool:
    custom = reply.get("custom")
    return isinstance(custom, dict) and bool(custom.get("crisis"))


def _load_settings() -> ClinicSettings:
    try:
        return load_settings()
    except SettingsError as error:
        raise ChannelConfigError(str(error)) from error
