"""The crisis rule layer: patterns are data, matched on lemmas, and checked at training."""

from __future__ import annotations

from pathlib import Path

import pytest

from clinic_nlp.crisis_rules import (
    CRISIS_PATTERNS_FILE,
    CrisisMatcher,
    CrisisPatternError,
    PhraseUses,
    affirmed_phrases,
    load_nlp,
    read_crisis_phrases,
    read_spelling_variants,
    spelled_out,
)
from clinic_nlp.pipeline import PIPELINE_DIR, ensure_pipeline


@pytest.fixture(scope="module")
def nlp():
    ensure_pipeline()
    return load_nlp(str(PIPELINE_DIR))


@pytest.fixture(scope="module")
def matcher(nlp) -> CrisisMatcher:
    return CrisisMatcher(nlp, read_crisis_phrases())


def test_the_patterns_load_from_the_data_file() -> None:
    phrases = read_crisis_phrases(CRISIS_PATTERNS_FILE)
    assert {"suicide", "self_harm", "abuse_violence", "medical_emergency"} <= set(phrases)
    assert "kill myself" in phrases["suicide"]


@pytest.mark.parametrize(
    "text", ["I want to kill myself", "I keep KILLING myself inside", "i killed myself trying"]
)
def test_word_forms_match_through_lemmas(matcher: CrisisMatcher, text: str) -> None:
    match = matcher.first_match(text)
    assert match is not None and match.phrase == "kill myself"


def test_a_gap_matches_a_few_words(matcher: CrisisMatcher) -> None:
    match = matcher.first_match("honestly i want to just really die")
    assert match is not None and match.phrase == "want to * die"


@pytest.mark.parametrize(
    "text",
    ["this pain is killing me, does ketamine help?", "I'm dying to know the price",
     "is ketamine used for suicide risk?", "i'm ready to book"],
)
def test_figures_of_speech_do_not_match(matcher: CrisisMatcher, text: str) -> None:
    assert matcher.first_match(text) is None


@pytest.mark.parametrize(
    ("typed", "plain"),
    [("gonna k1ll myself", "gonna kill myself"), ("want to d!e", "want to die"),
     ("su1c1de", "suicide"), ("su1c1d3 thoughts", "suicide thoughts"),
     ("k1ll mys3lf", "kill myself"), ("i wanna dieee", "i wanna die"), ("k.m.s", "kms"),
     ("gonna k-m-s tonight", "gonna kms tonight"), ("s.u.i.c.i.d.e", "suicide")],
)
def test_disguised_and_drawn_out_letters_are_read_plainly(typed: str, plain: str) -> None:
    assert spelled_out(typed) == plain


@pytest.mark.parametrize(
    "text", ["b4 the infusion", "my mp3 player", "covid19 shots", "a $500 fee", "hello!",
             "open 24/7?", "i.e. the cost", "a.m. or p.m.?", "an x-ray", "self-harm", "e.g. ptsd"],
)
def test_numbers_and_punctuation_are_left_as_typed(text: str) -> None:
    assert spelled_out(text) == text


@pytest.mark.parametrize(
    "text", ["gonna k1ll myself tonight", "i wanna dieee", "i want to commit sewer slide",
             "self delete time", "k.m.s", "thinking about s-u-i-c-i-d-e"],
)
def test_disguised_crisis_phrases_match(nlp, text: str) -> None:
    matcher = CrisisMatcher(nlp, read_crisis_phrases(), read_spelling_variants())
    assert matcher.first_match(text) is not None


@pytest.mark.parametrize(
    ("text", "phrase"),
    [("gonna drive the rig off the bridge after shift", "drive * off the bridge"),  # round 29
     ("some days i want to drive into oncoming traffic", "drive * into oncoming traffic"),
     # round 31: a lethal-dose question
     ("if i take my whole script of ambien will i just sleep forever", "whole script of")],
)
def test_driving_off_a_bridge_is_a_crisis_phrase(
    matcher: CrisisMatcher, text: str, phrase: str
) -> None:
    match = matcher.first_match(text)
    assert match is not None and match.phrase == phrase


@pytest.mark.parametrize(
    ("text", "phrase"),
    [("Con muốn chết.", "con muốn chết"), ("Tôi không muốn sống nữa", "không muốn sống"),
     ("我真的想死了", "想死"), ("죽고싶어요", "죽고 싶"), ("죽고 싶어요", "죽고 싶"),
     ("もう死にたいです", "死にたい"), ("мне так плохо, хочу умереть", "хочу умереть"),
     ("gusto ko nang mamatay", "gusto ko nang mamatay"), ("bé không thở, làm sao", "không thở"),
     # Round 25's Afrikaans message got the off-topic reply; the languages beside it since.
     ("Ek wil nie meer lewe nie", "wil nie meer lewe nie"),
     ("ik wil niet meer leven", "ik wil niet meer leven"), ("Chcę umrzeć", "chcę umrzeć"),
     ("Ölmek istiyorum artık", "ölmek istiyorum"), ("aku mau mati aja", "aku mau mati"),
     ("أريد أن أموت", "أريد أن أموت"), ("میخوام بمیرم", "میخوام بمیرم"),
     ("मैं मरना चाहता हूँ", "मरना चाहता"), ("אני רוצה למות", "רוצה למות"),
     ("abeg i wan die", "i wan die"), ("Mwen vle mouri", "mwen vle mouri"),
     ("Caawa waan is dilayaa", "waan is dilayaa"), ("መሞት እፈልጋለሁ", "መሞት እፈልጋለሁ"),
     ("زه نور ژوند نه غواړم", "ژوند نه غواړم"),
     # Round 27: a parent who cannot breathe after an infusion, a lethal-dose question.
     ("어머니가 숨을 잘 못 쉬세요 방금 치료 받고 왔는데", "숨을 잘 못 쉬"),
     ("Hindi po makahinga si Lolo", "hindi * makahinga"), ("安眠药吃多少会死？", "吃多少会死")],
)
def test_crisis_phrases_in_the_languages_visitors_write_in(
    matcher: CrisisMatcher, text: str, phrase: str
) -> None:
    """Vietnamese, Chinese, Korean, Japanese, Russian, Tagalog, Afrikaans, Dutch, Polish,
    Turkish, Indonesian, Arabic, Persian, Hindi, Hebrew, Pidgin, Kreyòl: the classifiers read
    only English and Spanish, so these phrases are the rule layer's alone. Chinese, Japanese and
    Korean are matched character by character, inside runs written without spaces."""
    match = matcher.first_match(text)
    assert match is not None and match.phrase == phrase


@pytest.mark.parametrize(
    "text", ["Mệt muốn chết after my shift haha, can I book?", "Trời ơi mắc quá chết luôn",
             "ketamine 多少钱?", "예약하고 싶어요", "capek setengah mati, bisa booking?",
             "Ek wil nie dood nie", "Dankie, totsiens", "压力大得喘不过气", "죽을 만큼 피곤해요"],
)
def test_everyday_words_in_those_languages_do_not_match(matcher: CrisisMatcher, text: str) -> None:
    assert matcher.first_match(text) is None


def test_a_phrase_added_by_a_clinician_is_used(nlp, tmp_path: Path) -> None:
    path = tmp_path / "crisis.yml"
    path.write_text("suicide:\n  - not see another spring\n")
    match = CrisisMatcher(nlp, read_crisis_phrases(path)).first_match(
        "I will not be seeing another spring"
    )
    assert match is None  # "be seeing" is not the phrase: patterns are exact word sequences
    assert CrisisMatcher(nlp, read_crisis_phrases(path)).first_match(
        "I won't... I will not see another spring"
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("suicide: [unclosed", "not valid YAML"),
        ("- just a list\n", "expected groups"),
        ("suicide: kill myself\n", "must be a list"),
        ("suicide:\n  - '* die'\n", "may not start or end with '*'"),
        ("suicide:\n  - 42\n", "non-text phrase"),
    ],
)
def test_a_bad_pattern_file_is_a_clear_error(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "crisis.yml"
    path.write_text(content)
    with pytest.raises(CrisisPatternError, match=message) as error:
        read_crisis_phrases(path)
    assert str(path) in str(error.value)


def test_training_with_a_bad_pattern_file_fails_with_that_error(tmp_path: Path) -> None:
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource
    from rasa.shared.nlu.training_data.training_data import TrainingData

    from clinic_nlp.crisis_rules import CrisisRuleClassifier

    bad = tmp_path / "crisis.yml"
    bad.write_text("suicide: not a list\n")
    config = {**CrisisRuleClassifier.get_default_config(), "patterns": str(bad)}
    component = CrisisRuleClassifier(config, LocalModelStorage(tmp_path / "m"), Resource("c"))
    with pytest.raises(CrisisPatternError, match="must be a list"):
        component.train(TrainingData())


def test_a_patterns_file_that_compiled_is_not_compiled_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from clinic_nlp import crisis_rules

    ensure_pipeline()
    monkeypatch.setattr(crisis_rules, "CHECKED_STAMP", tmp_path / "checked.txt")
    patterns = tmp_path / "crisis.yml"
    patterns.write_bytes(CRISIS_PATTERNS_FILE.read_bytes())
    compiled: list = []
    monkeypatch.setattr(crisis_rules.CrisisMatcher, "from_file",
                        classmethod(lambda cls, *args: compiled.append(args)))
    crisis_rules.check_patterns(patterns, str(PIPELINE_DIR))
    crisis_rules.check_patterns(patterns, str(PIPELINE_DIR))
    assert len(compiled) == 1
    patterns.write_text(patterns.read_text() + "\n# changed\n")
    crisis_rules.check_patterns(patterns, str(PIPELINE_DIR))
    assert len(compiled) == 2


@pytest.mark.parametrize(("text", "context"), [
    ("i'm not going to hurt myself, my sister just told me to ask", "denied"),
    ("honestly no thoughts of killing myself, just flat all the time", "denied"),
    ("i tried to kill myself back in college, stable for a long while", "past"),
    ("i used to self harm as a teenager, is that a problem for eligibility", "past"),
    ("last year i was suicidal, is ketamine an option now?", "past"),
    ("i was suicidal in college but i got through it. what does an infusion feel like", "past"),
    ("i tried to kill myself last month", "affirmed"),
    ("i was suicidal last year and it's coming back", "affirmed"),
    ("i'm not fine, i want to kill myself", "affirmed"),
    ("i don't know why but i want to die", "affirmed"),
    ("not gonna lie i want to kill myself", "affirmed"),
    ("i tried to kill myself years ago and i'm thinking about it again", "affirmed"),
    ("i self harmed back in 2019, is that a problem", "past"),
    # "back in" before a place is not the past (round 25: an expat's "family back in Kerala").
    ("i'm a burden to my family back in kerala, they'd be better off without me", "affirmed"),
    # Recovery talk (round 28): the years of using are told as the past.
    ("before i got sober i wanted to die every day. today i'm 2 years clean", "past"),
    ("when i was drinking i wanted to die, now i just want the depression gone", "past"),
    # A past marker of another clause (round 37): the thought of ending it is told of now.
    ("my wife died last year and honestly i have been thinking of ending it. do you take "
     "medicare?", "affirmed"),
    ("i tried to kill myself last year and that was the worst day", "past"),
    ("i overdosed years ago and spent a week in the hospital", "past"),
])
def test_a_crisis_phrase_denied_or_in_the_past_is_told_apart(
    matcher: CrisisMatcher, text: str, context: str
) -> None:
    found = matcher.matches(text)
    assert found, text
    chosen = matcher.first_match(text)
    assert chosen is not None and chosen.context == context


def test_a_phrase_is_used_lightly_when_ordinary_examples_mostly_say_it() -> None:
    uses = PhraseUses.count(
        [["a::gonna kill me"]] * 3 + [["s::kill myself"]] * 5 + [["s::kill myself"]]
        + [["x::once"]],
        [False, False, False, True, True, True, True, True, False, False],
        share=0.5, minimum=2,
    )
    assert uses.counts == {"a::gonna kill me": (3, 0), "s::kill myself": (1, 5),
                           "x::once": (1, 0)}
    assert uses.lightly("a::gonna kill me")
    assert not uses.lightly("s::kill myself")  # mostly said in earnest
    assert not uses.lightly("x::once")  # one ordinary example is not enough
    assert not uses.lightly("never::seen")
    # cross-validation leaves the example judged out of the counts
    assert not PhraseUses({"a::p": (2, 0)}, 0.5, 2).lightly("a::p", without=False)
    assert PhraseUses({"a::p": (2, 1)}, 0.5, 2).lightly("a::p", without=True)
    # every phrase of a message must be light for the message to be
    assert uses.all_light(["a::gonna kill me"])
    assert not uses.all_light(["a::gonna kill me", "s::kill myself"])
    assert not uses.all_light([])
    assert PhraseUses.from_json(uses.to_json()).counts == uses.counts


def test_the_phrases_of_each_example_are_read_once_per_patterns_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from clinic_nlp import crisis_rules

    ensure_pipeline()
    patterns = tmp_path / "crisis.yml"
    patterns.write_bytes(CRISIS_PATTERNS_FILE.read_bytes())
    cache = tmp_path / "cache.json"
    texts = ["my boss is gonna kill me if I'm late", "I'm not going to hurt myself", "hello"]
    first = affirmed_phrases(texts, patterns, str(PIPELINE_DIR), cache)
    assert first[0] and not first[1] and not first[2]  # a denied phrase is not said of now

    def read_again(cls, *args):
        raise RuntimeError("the patterns were compiled to read the texts again")

    monkeypatch.setattr(crisis_rules.CrisisMatcher, "from_file", classmethod(read_again))
    assert affirmed_phrases(texts, patterns, str(PIPELINE_DIR), cache) == first
    patterns.write_text(patterns.read_text() + "\n# changed\n")
    with pytest.raises(RuntimeError, match="read the texts again"):
        affirmed_phrases(texts, patterns, str(PIPELINE_DIR), cache)


def test_the_parse_result_says_when_the_training_examples_use_a_phrase_lightly(
    tmp_path: Path,
) -> None:
    from rasa.engine.graph import ExecutionContext, GraphSchema
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource
    from rasa.shared.nlu.training_data.message import Message
    from rasa.shared.nlu.training_data.training_data import TrainingData

    from clinic_nlp.crisis_rules import PARSE_KEY, CrisisRuleClassifier

    ensure_pipeline()
    examples = [Message(data={"text": text, "intent": intent}) for text, intent in (
        ("my boss is gonna kill me if I'm late, how long is a session", "faq"),
        ("the drive is gonna kill me, where do I park", "faq"),
        ("my sister is gonna kill me for asking, is it safe", "faq"),
        ("I want to kill myself", "crisis"),
    )]
    config = {**CrisisRuleClassifier.get_default_config(), "phrase_cache": ""}
    storage, resource = LocalModelStorage(tmp_path), Resource("rules")
    CrisisRuleClassifier(config, storage, resource).train(TrainingData(examples))
    loaded = CrisisRuleClassifier.load(
        config, storage, resource, ExecutionContext(GraphSchema({}), "test"))
    light, earnest = (Message(data={"text": text}) for text in (
        "my dad is gonna kill me when he sees the bill", "i really want to kill myself"))
    loaded.process([light, earnest])
    assert light.get(PARSE_KEY)["used_lightly"] is True
    assert earnest.get(PARSE_KEY)["used_lightly"] is False


def test_matches_are_those_of_one_spacy_matcher_holding_every_phrase(nlp, matcher) -> None:
    """Phrases without a gap sit in a PhraseMatcher, for speed: it finds what a Matcher did."""
    from spacy.matcher import Matcher

    from clinic_nlp.crisis_rules import _token_pattern, character_words
    from clinic_nlp.negation import context_of
    from evaluation import floors

    reference = Matcher(nlp.vocab)
    for key, (_, phrase, _) in matcher._phrases.items():
        reference.add(key, [_token_pattern(nlp(character_words(phrase)))])
    phrases = [phrase for group in read_crisis_phrases().values() for phrase in group]
    texts = [f"honestly {phrase.replace('*', 'really just')} tonight" for phrase in phrases]
    texts += [case.text for case in floors.CRISIS_CASES]
    texts += ["I'm not going to kill myself, is it safe?", "the price is gonna kill me"]
    matched = 0
    for text in texts:
        doc = nlp(character_words(matcher.read_as(text)))
        expected = {
            (nlp.vocab.strings[match_id], doc[start:end].text, context_of(doc, start, end))
            for match_id, start, end in reference(doc)
        }
        found = {(m.key, m.matched_text, m.context) for m in matcher.matches(text)}
        assert found == expected, text
        matched += bool(found)
    assert matched >= len(phrases)  # every phrase is found in a text that says it
