"""Whether a crisis phrase is said of the visitor now, denied, or told of the past.

"I don't want to die, I want to feel like myself again" and "I used to self harm as a teen,
haven't in years" contain crisis phrases, but neither says the writer is in danger now. Both
classifiers read meaning from words and miss the difference; this module reads it the way
clinical text mining does (NegEx, Chapman et al. 2001), kept deliberately narrow:

- **denied**: a negation word right before the phrase, with nothing between them but words
  that keep the negation's scope ("not *gonna* hurt myself", "no *thoughts of* hurting
  myself"). "I'm not okay I want to die" and "I don't know if I want to die" stay affirmed:
  "okay" and "know" end the scope.
- **past**: the phrase's sentence (or clause: in "..., and I have been thinking of ending
  it" the thought has a clause of its own) places it in the past ("years ago", "used to", "back
  in 2019", "last year", "as a teen", "hace años"; "back in" only before a time: "my family
  back in Kerala" is a place, and its crisis phrase is said now) or the message says it is over
  ("that passed", "I'm stable now", "ya estoy bien"), and nothing in the message brings it back
  ("again", "lately", "tonight", "otra vez"). A recent past ("last week", "last month") stays
  affirmed: a recent attempt is a present risk.

A denied or past phrase never silences the assistant: the visitor still gets the check-in
line naming 988 (clinic_nlp.crisis_detector). It only keeps such a message from the full
crisis reply when nothing else in it reads as a crisis.
"""

from __future__ import annotations

import re
from typing import Any

AFFIRMED, DENIED, PAST = "affirmed", "denied", "past"

NEGATIONS = frozenset({
    "not", "n't", "no", "never", "nt", "dont", "didnt", "wont", "wouldnt", "isnt",
    "nunca", "jamás", "jamas",
})
# Words that may stand between a negation and the phrase it denies.
SCOPE_WORDS = frozenset({
    "i", "'m", "am", "be", "been", "being", "'ll", "will", "would", "'d", "do", "did",
    "gonna", "going", "go", "to", "want", "wanna", "plan", "planning", "intend", "intending",
    "wish", "have", "having", "had", "has", "plans", "intent", "desire", "any", "thought",
    "thoughts", "thinking", "think", "of", "about",
    "feel", "feeling", "urge", "urges", "intention", "intentions", "anything", "like", "try",
    "trying", "ever", "actively", "currently",
    # Spanish
    "tengo", "tener", "estoy", "pensando", "pienso", "pensamientos", "en", "de", "quiero",
    "voy", "a", "ganas", "me", "he", "planeo", "intención", "intencion",
})
_PAST = re.compile(
    r"\b(?:(?:years?|decades?|long time|long) ago|used to|back then|back in (?:the day|those "
    r"days|the (?:'?\d0s|eighties|nineties)|(?:19|20)\d\d|(?:high )?school|college|uni|"
    r"my (?:teens|twenties|20s|thirties|30s|youth))|in the past|as a (?:teen|"
    r"teenager|kid|child)|when i was (?:a |in |younger|young|\d|using|drinking)|before i got "
    r"(?:sober|clean|help|treatment)|in (?:high school|college|"
    r"my (?:teens|twenties|20s))|that passed|haven'?t (?:in|since|for)|not since|"
    r"hace (?:muchos |unos |varios )?años|de joven|cuando era|last year|(?:a few|several|"
    r"some|two|three|many) years back|in (?:19|20)\d\d|el año pasado)\b"
)
_PRESENT = re.compile(
    r"\b(?:again|lately|recently|tonight|these days|right now|coming back|came back|"
    r"otra vez|de nuevo|últimamente|ultimamente|esta noche)\b"
)
# Said anywhere in the message, these put a crisis phrase told as a story in the past.
_RESOLVED = re.compile(
    r"\b(?:(?:that|it) (?:passed|was (?:years|a long time|decades) ago)|ya pasó|ya paso|"
    r"ya estoy bien|i'?m (?:doing )?(?:much |a lot |way )?better now|recovered|"
    r"i'?m (?:stable|doing well|in a (?:good|better) place) now|got through it)\b"
)
# Where the sentence of a phrase ends, for the past markers: a full stop, "but", and an "and"
# opening a new clause with its own subject. "My wife died last year and honestly I have been
# thinking of ending it" (round 37): "last year" is said of the wife, the thought is now.
_SENTENCE_END = re.compile(
    r"[.!?;\n]+|\bbut\b|\bpero\b|\band\s+(?=(?:(?:honestly|now|lately|still|really|just|so|"
    r"yet|today|tonight|since then)\s+)?(?:i|i[’']?(?:m|ve|d|ll)|he|she|they|he[’']?s|she[’']?s|"
    r"they[’']?re)\b)"
)


def context_of(doc: Any, start: int, end: int) -> str:
    """AFFIRMED, DENIED or PAST for the tokens doc[start:end] of a lowercased message."""
    if _denied(doc, start):
        return DENIED
    if _past(doc.text, doc[start:end].start_char if end > start else 0):
        return PAST
    return AFFIRMED


def _denied(doc: Any, start: int) -> bool:
    for index in range(start - 1, max(start - 6, -1), -1):
        word = doc[index].text
        if word in NEGATIONS:
            return True
        if word not in SCOPE_WORDS:
            return False
    return False


def _past(text: str, at: int) -> bool:
    if _PRESENT.search(text):
        return False
    begin, finish = 0, len(text)
    for boundary in _SENTENCE_END.finditer(text):
        if boundary.end() <= at:
            begin = boundary.end()
        elif boundary.start() > at:
            finish = boundary.start()
            break
    return bool(_PAST.search(text[begin:finish]) or _RESOLVED.search(text))

