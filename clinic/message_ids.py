"""Message ids: how a retried chat message is answered once (issue 17, part 2).

The chat widget gives each message an id (a random UUID, kept across that message's
retries) and sends it as `message_id` beside `sender` and `message`. The chat channel
(`clinic_server.rest_channel`) runs the turn of a given id once: the id and the replies the
turn produced are stored with the conversation, in the tracker store's database, in the same
transaction as the turn's events (`clinic_server.tracker_store`); a request repeating the id
is answered from there, inside the conversation's lock, so a retry that arrives while the
first attempt is still running waits for it instead of running the turn again. Across Rasa
servers too, since they share the database and (in deploy/) the lock.

The table's names and the id's shape are here, once: the channel checks ids with
`check_message_id`, the tracker store writes the table, and the retention command
(`staff_tools.retention`) deletes its rows with their conversation. A row holds the
conversation id, the message id, when, and the replies as sent (masked as the conversation's
events are): the assistant's replies, which the conversation stores anyway, never the
visitor's text.
"""

from __future__ import annotations

import re
from typing import Any, Optional

REPLIES_TABLE = "answered_messages"
SENDER_COLUMN = "sender_id"  # the conversation, as in Rasa's `events` table
MESSAGE_ID_COLUMN = "message_id"
TIMESTAMP_COLUMN = "timestamp"  # Unix seconds, when the turn was stored
REPLIES_COLUMN = "replies"  # the JSON list of replies the webhook answered

MESSAGE_ID_FIELD = "message_id"  # in the webhook's JSON body
MAX_MESSAGE_ID_CHARS = 64
# Letters, digits, "-" and "_": a UUID (36 characters) or a 32-digit hex string fits.
_MESSAGE_ID = re.compile(r"[A-Za-z0-9_-]{1,%d}" % MAX_MESSAGE_ID_CHARS)
MESSAGE_ID_RULE = (
    f"'{MESSAGE_ID_FIELD}', if given, must be a string of 1 to {MAX_MESSAGE_ID_CHARS} "
    "letters, digits, '-' or '_' (a UUID, say), the same for every retry of one message"
)


class MessageIdError(ValueError):
    """A `message_id` that is not a string of the allowed shape; its text is the rule."""


def check_message_id(value: Any) -> Optional[str]:
    """`value` as a message id (None: no id given); `MessageIdError` if malformed."""
    if value is None:
        return None
    if not isinstance(value, str) or not _MESSAGE_ID.fullmatch(value):
        raise MessageIdError(MESSAGE_ID_RULE)
    return value
