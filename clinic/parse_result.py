"""Reading which answer a parse result names: the one place that knows its layout.

A parse result (from `/model/parse`, a tracker's `latest_message`, or a Rasa `Message` as a
dict) names intent `faq` and, under `response_selector.faq`, the topic `faq/<key>` with its
confidence and ranking; other answers are the intent's own name. Plain dictionaries only, so
the action server, the evaluation and the staff tools use it without loading Rasa.
"""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional, Tuple

RETRIEVAL_INTENT = "faq"
RESPONSE_SELECTOR_KEY = "response_selector"
FALLBACK = "nlu_fallback"
Parse = Mapping[str, Any]


def faq_selection(parse: Parse, retrieval_intent: str = RETRIEVAL_INTENT) -> Dict[str, Any]:
    """The response selector's entry for the retrieval intent, {} if there is none."""
    return dict((parse.get(RESPONSE_SELECTOR_KEY) or {}).get(retrieval_intent) or {})


def topic_ranking(parse: Parse, retrieval_intent: str = RETRIEVAL_INTENT) -> List[Dict[str, Any]]:
    """[{intent_response_key, confidence}, ...], likeliest topic first."""
    return list(faq_selection(parse, retrieval_intent).get("ranking") or [])


def chosen_topic(parse: Parse, retrieval_intent: str = RETRIEVAL_INTENT) -> Tuple[str, float]:
    """(`faq/<key>`, confidence) of the topic the selector chose, ("", 0.0) if none."""
    response = faq_selection(parse, retrieval_intent).get("response") or {}
    return str(response.get("intent_response_key") or ""), float(response.get("confidence") or 0.0)


def topic_key(parse: Parse, retrieval_intent: str = RETRIEVAL_INTENT) -> Optional[str]:
    """The `<key>` of the chosen `faq/<key>`, or None."""
    label, _ = chosen_topic(parse, retrieval_intent)
    prefix = f"{retrieval_intent}/"
    return label[len(prefix):] if label.startswith(prefix) else None


def ranking_lead(ranking: List[Dict[str, Any]]) -> float:
    """How far the likeliest entry's confidence is ahead of the second likeliest's."""
    confidences = sorted((float(entry.get("confidence") or 0.0) for entry in ranking), reverse=True)
    if not confidences:
        return 0.0
    return confidences[0] - (confidences[1] if len(confidences) > 1 else 0.0)


def answer_label(parse: Parse, retrieval_intent: str = RETRIEVAL_INTENT) -> Tuple[str, float]:
    """The answer a parse result leads to, with the intent's confidence.

    `faq/<key>` for FAQ questions, else the intent's name.
    """
    intent = parse.get("intent") or {}
    name, confidence = intent.get("name") or FALLBACK, float(intent.get("confidence") or 0.0)
    if name == retrieval_intent:
        return chosen_topic(parse, retrieval_intent)[0] or f"{retrieval_intent}/?", confidence
    return str(name), confidence


# Intents that can open a message before its question: "never mind, how much is it?", "no,
# what does it cost?", "ok thanks, does it help with PTSD?", "hi, is it FDA approved?".
PREFACE_INTENTS = frozenset({"deny", "affirm", "thanks", "greet"})
# The FAQ's share of the intent ranking from which a prefaced question counts as asked, and
# how far it must lead any other answer (the FallbackClassifier's ambiguity threshold, 0.1).
MIN_PREFACED_FAQ = 0.25
MIN_PREFACED_LEAD = 0.1
# How sure of the topic (FaqTopicFallback's threshold in config.yml): never a guessed answer.
MIN_PREFACED_TOPIC = 0.5


def prefaced_question(parse: Parse, retrieval_intent: str = RETRIEVAL_INTENT) -> Optional[str]:
    """The `<key>` of an FAQ question behind a preface ("never mind, how much?"), or None.

    For a message read as `deny`, `affirm`, `thanks`, `greet` or `nlu_fallback`: the question is
    there when, leaving those intents aside, `faq` is the likeliest answer, at least
    `MIN_PREFACED_FAQ` likely and `MIN_PREFACED_LEAD` ahead of the next (out_of_scope,
    medical_advice...), and its topic is at least `MIN_PREFACED_TOPIC` sure. A plain "no" or
    "ok" carries no question; "no, how much is it?" (deny and faq even) does.
    """
    others = [
        (str(entry.get("name") or ""), float(entry.get("confidence") or 0.0))
        for entry in parse.get("intent_ranking") or []
        if entry.get("name") not in PREFACE_INTENTS and entry.get("name") != FALLBACK
    ]
    others.sort(key=lambda entry: entry[1], reverse=True)
    if not others or others[0][0] != retrieval_intent or others[0][1] < MIN_PREFACED_FAQ:
        return None
    if len(others) > 1 and others[0][1] - others[1][1] < MIN_PREFACED_LEAD:
        return None
    label, confidence = chosen_topic(parse, retrieval_intent)
    if confidence < MIN_PREFACED_TOPIC or not label.startswith(f"{retrieval_intent}/"):
        return None
    return label[len(retrieval_intent) + 1:]
