"""A rule layer for crisis messages that does not depend on the statistical classifier.

`CrisisRuleClassifier` runs last in the NLU pipeline. If a message contains a phrase from
`patterns/crisis.yml` (matched on lemmas, so "killing myself" matches "kill myself"), the
intent becomes `crisis` with confidence 1.0, whatever the classifier said, and the parse
result carries `crisis_rule` naming the pattern that matched.

Training also counts, for each phrase, the training examples that say it of the present with
and without a crisis. A phrase the examples mostly use lightly ("my boss is gonna kill me if
I'm late": 17 ordinary examples, no crisis) is marked `used_lightly` in the parse result; the
crisis detector then gives it the full reply only on its own risk (`PhraseUses`).

    python -m clinic_nlp.crisis_rules "some message"   # check the file and try a message
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

import yaml
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from clinic.paths import PROJECT_DIR
from clinic.yaml_file import read_yaml
from clinic_nlp import negation
from clinic_nlp.entities import load_pipeline
from clinic_nlp.intent_classifier import SET_APART_KEY
from clinic_nlp.negation import AFFIRMED, context_of
from clinic_nlp.pipeline import FINGERPRINT_FILE
from clinic_nlp.stored import code_fingerprint

CRISIS_PATTERNS_FILE = PROJECT_DIR / "patterns" / "crisis.yml"
CRISIS_INTENT = "crisis"
GAP = "*"  # in a phrase: up to GAP_LENGTH words of any kind
GAP_LENGTH = 3
PARSE_KEY = "crisis_rule"
# The message as the rule layer read it, when that differs from the text ("k1ll" as "kill",
# "ctb" as "kill myself"): the crisis detector reads it too.
READ_AS_KEY = "crisis_rule_read_as"
SPELLINGS_KEY = "spelling_variants"
USES_FILE_NAME = "phrase_uses.json"


class CrisisPatternError(ValueError):
    """A crisis patterns file that cannot be used, with a message clinicians can act on."""


def read_crisis_phrases(path: Path = CRISIS_PATTERNS_FILE) -> Dict[str, List[str]]:
    """Read `group name -> phrases`, checking the shape; raise `CrisisPatternError`."""
    data = read_yaml(path, CrisisPatternError, "crisis patterns file")
    if not isinstance(data, dict) or not data:
        raise CrisisPatternError(f"{path}: expected groups such as 'suicide:' with phrases")
    data = {group: phrases for group, phrases in data.items() if group != SPELLINGS_KEY}
    for group, phrases in data.items():
        if not isinstance(phrases, list) or not phrases:
            raise CrisisPatternError(f"{path}: group '{group}' must be a list of '- phrase' lines")
        for phrase in phrases:
            if not isinstance(phrase, str) or not phrase.strip(" *"):
                raise CrisisPatternError(
                    f"{path}: group '{group}' has an empty or non-text phrase: {phrase!r}"
                )
            if phrase.strip().startswith(GAP) or phrase.strip().endswith(GAP):
                raise CrisisPatternError(
                    f"{path}: phrase {phrase!r} in '{group}' may not start or end with '*'"
                )
    return {
        str(group): [str(phrase).lower().strip() for phrase in phrases]
        for group, phrases in data.items()
    }


def read_spelling_variants(path: Path = CRISIS_PATTERNS_FILE) -> Dict[str, str]:
    """Read the `spelling_variants:` section: shorthand or misspelling -> standard words."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as error:
        raise CrisisPatternError(f"{path}: cannot read: {error}") from error
    variants = data.get(SPELLINGS_KEY, {}) if isinstance(data, dict) else {}
    if not isinstance(variants, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in variants.items()
    ):
        raise CrisisPatternError(
            f"{path}: '{SPELLINGS_KEY}' must map words to words, like  w/o: without"
        )
    return {key.lower(): value.lower() for key, value in variants.items()}


# A letter typed as a look-alike digit or sign between two letters ("k1ll", "d!e", "su1c1de";
# not "b4", "mp3" or "hello!"), and a letter typed three or more times ("dieee"): visitors write
# around filters and type as they feel. Read as the letters they stand for.
_LOOKALIKES = {"1": "i", "!": "i", "3": "e", "0": "o", "4": "a", "5": "s", "$": "s", "7": "t"}
_DISGUISED_LETTER = re.compile(r"(?<=[a-z])[1!30457$](?=[a-z])")
# In a word with such a letter, a look-alike digit at its start or end stands for a letter too
# ("su1c1d3"; "mp3" and "covid19" have none between letters and stay).
_DISGUISED_WORD = re.compile(r"(?<![\w$])[013457]*[a-z]+(?:[1!30457$][a-z]+)+[013457]*(?![\w$])")
_DRAWN_OUT = re.compile(r"([a-z])\1{2,}")
# A word typed one letter at a time with dots, dashes, stars or underscores between them
# ("k.m.s", "s-u-i-c-i-d-e", "d*i*e"): at least three letters, so "i.e." and "a.m." stay.
_SEPARATED_LETTERS = re.compile(r"(?<![\w.*_-])[a-z](?:[.*_-][a-z]){2,}(?![\w*_-]|\.[a-z])")
_SEPARATORS = re.compile(r"[.*_-]")
# Chinese, Japanese and Korean are written with few or no spaces between words ("我真的想死了",
# "죽고싶어요"): each of their characters is matched as a word of its own, in the phrases and
# in the messages alike, so "想死" and "죽고 싶" are found inside longer runs of characters.
_UNSPACED = r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]"
_UNSPACED_SCRIPT = re.compile(_UNSPACED)
_BESIDE_UNSPACED = re.compile(rf"(?<={_UNSPACED})(?=\S)|(?<=\S)(?={_UNSPACED})")


def character_words(text: str) -> str:
    """`text` with one space between a Chinese, Japanese or Korean character and the next."""
    return _BESIDE_UNSPACED.sub(" ", text) if _UNSPACED_SCRIPT.search(text) else text


def spelled_out(text: str) -> str:
    """Lowercase `text` with disguised, spaced-out and drawn-out letters written plainly."""
    plain = _DISGUISED_WORD.sub(
        lambda found: "".join(_LOOKALIKES.get(char, char) for char in found.group(0)), text)
    plain = _DISGUISED_LETTER.sub(lambda found: _LOOKALIKES[found.group(0)], plain)
    plain = _SEPARATED_LETTERS.sub(lambda found: _SEPARATORS.sub("", found.group(0)), plain)
    return _DRAWN_OUT.sub(r"\1", plain)


@dataclass(frozen=True)
class CrisisMatch:
    """Why a message was classified as a crisis."""

    group: str
    phrase: str
    matched_text: str
    context: str = AFFIRMED  # or DENIED ("I'm not suicidal") or PAST ("years ago")

    @property
    def key(self) -> str:
        """The phrase as `group::phrase`, as the matcher and `PhraseUses` name it."""
        return f"{self.group}::{self.phrase}"

    def as_dict(self) -> Dict[str, str]:
        """For the parse result."""
        return {"group": self.group, "pattern": self.phrase, "matched_text": self.matched_text,
                "context": self.context}


def _token_pattern(doc: Any) -> List[Dict[str, Any]]:
    """A `Matcher` pattern for a lemmatized phrase: its lemmas, each gap as optional tokens."""
    pattern: List[Dict[str, Any]] = []
    for token in doc:
        if token.text == GAP:
            pattern += [{"OP": "?"}] * GAP_LENGTH
        else:
            pattern.append({"LEMMA": token.lemma_ or token.text})
    return pattern


class CrisisMatcher:
    """Every phrase of the patterns file, matched over lemmas with spaCy.

    Phrases without a gap go to a `PhraseMatcher` (one hash lookup per token, whatever their
    number); the few with a gap ("*") to a `Matcher`, whose time grows with every pattern it
    holds: with all 750 phrases in a `Matcher`, reading the training examples took 10 s of a
    training from scratch (docs/performance.md). Matches are the same either way
    (tests/test_crisis_rules.py compares them).
    """

    def __init__(
        self,
        nlp: Any,
        phrases: Dict[str, List[str]],
        spellings: Optional[Dict[str, str]] = None,
    ) -> None:
        from spacy.matcher import Matcher, PhraseMatcher

        self._nlp = nlp
        self._spellings = spellings or {}
        words = "|".join(re.escape(k) for k in sorted(self._spellings, key=len, reverse=True))
        self._spelling_pattern = (
            re.compile(rf"(?<![\w/])({words})(?![\w/])") if self._spellings else None
        )
        self._matcher = Matcher(nlp.vocab)  # phrases with a gap
        self._phrase_matcher = PhraseMatcher(nlp.vocab, attr="LEMMA")  # the others
        # key -> (group, phrase, its place in the file: the order of matches on one span)
        self._phrases: Dict[str, tuple] = {}
        for group, group_phrases in phrases.items():
            for phrase in group_phrases:
                key = f"{group}::{phrase}"
                # Lemmatize the whole phrase, as messages are: "'m" alone is not "'m" in "i'm".
                doc = self._nlp(character_words(phrase))
                if any(token.text == GAP for token in doc):
                    self._matcher.add(key, [_token_pattern(doc)])
                else:
                    self._phrase_matcher.add(key, [doc])
                self._phrases[key] = (group, phrase, len(self._phrases))

    @classmethod
    def from_file(cls, path: Path, spacy_model: str) -> CrisisMatcher:
        """Read and compile a patterns file; raise `CrisisPatternError` if it is unusable."""
        return cls(load_nlp(spacy_model), read_crisis_phrases(path), read_spelling_variants(path))

    def read_as(self, text: str) -> str:
        """The message as the phrases are written: lowercase, spelled out, shorthand rewritten.

        "gonna k1ll myself" and "i wanna dieee" read as "going to kill myself", "i want to die".
        """
        # Lowercase first: the lookup lemmatizer only knows lowercase forms ("Killing").
        normalized = spelled_out(text.lower().replace("’", "'"))
        if self._spelling_pattern is not None:
            normalized = self._spelling_pattern.sub(
                lambda found: self._spellings[found.group(1)], normalized
            )
        return normalized

    def matches(self, text: str) -> List[CrisisMatch]:
        """Every phrase found in `text`, in order, each with its context (clinic_nlp.negation)."""
        return self.matches_read(self.read_as(text))

    def matches_read(self, read_as: str) -> List[CrisisMatch]:
        """`matches` for a message already read by `read_as`."""
        doc = self._nlp(character_words(read_as))
        strings = self._nlp.vocab.strings
        spans = [(self._phrases[strings[match_id]], start, end)
                 for match_id, start, end in [*self._matcher(doc), *self._phrase_matcher(doc)]]
        found = []
        for (group, phrase, _), start, end in sorted(
                spans, key=lambda span: (span[1], -span[2], span[0][2])):
            found.append(CrisisMatch(group=group, phrase=phrase, matched_text=doc[start:end].text,
                                     context=context_of(doc, start, end)))
        return found

    def first_match(self, text: str) -> Optional[CrisisMatch]:
        """The earliest phrase said of the present (else the earliest denied or past one)."""
        found = self.matches(text)
        return next((m for m in found if m.context == AFFIRMED), found[0] if found else None)


class PhraseUses:
    """How the training examples use each crisis phrase said of the present.

    `counts[key]` is (ordinary examples, crisis examples) with the phrase. A phrase is used
    lightly when at least `minimum` ordinary examples say it and they make at least `share` of
    the examples that do; the choice of both is cross-validated (`evaluation.cross_validate`).
    """

    def __init__(
        self, counts: Dict[str, Tuple[int, int]], share: float = 0.5, minimum: int = 2
    ) -> None:
        self.counts = counts
        self.share = share
        self.minimum = minimum

    @classmethod
    def count(
        cls, phrases: Iterable[Sequence[str]], is_crisis: Iterable[bool], **settings: Any
    ) -> PhraseUses:
        """Count from each example's affirmed phrase keys and whether it is a crisis."""
        counts: Dict[str, List[int]] = {}
        for keys, crisis in zip(phrases, is_crisis, strict=True):
            for key in set(keys):
                counts.setdefault(key, [0, 0])[int(crisis)] += 1
        return cls({key: (ordinary, crisis) for key, (ordinary, crisis) in counts.items()},
                   **settings)

    def lightly(self, key: str, without: Optional[bool] = None) -> bool:
        """Whether the examples mostly use the phrase lightly.

        `without`: leave out one example that says it (True: a crisis one), as cross-validation
        scores an example with counts that do not include it.
        """
        ordinary, crisis = self.counts.get(key, (0, 0))
        if without is not None:
            crisis -= int(without)
            ordinary -= int(not without)
        return ordinary >= self.minimum and ordinary >= self.share * (ordinary + crisis)

    def all_light(self, keys: Sequence[str], without: Optional[bool] = None) -> bool:
        """Whether there are phrases and every one is used lightly."""
        return bool(keys) and all(self.lightly(key, without) for key in keys)

    def to_json(self) -> str:
        """For the model's storage."""
        return json.dumps({"share": self.share, "minimum": self.minimum,
                           "counts": {k: list(v) for k, v in sorted(self.counts.items())}})

    @classmethod
    def from_json(cls, text: str) -> PhraseUses:
        """As stored by `to_json`."""
        data = json.loads(text)
        return cls({k: (int(v[0]), int(v[1])) for k, v in data["counts"].items()},
                   float(data["share"]), int(data["minimum"]))


def load_nlp(model_path: str) -> Any:
    """The project's spaCy pipeline without its entity ruler, for tokens and lemmas."""
    return load_pipeline(model_path, exclude=("entity_ruler",))


# Where `check_patterns` notes the last patterns file that compiled (see there).
CHECKED_STAMP = PROJECT_DIR / "build" / "crisis-patterns-checked.txt"


def patterns_version(path: Path, spacy_model: str) -> Optional[str]:
    """A hash of the patterns file, the spaCy pipeline's fingerprint and the matching code.

    None when the pipeline has no fingerprint (then nothing read with it is remembered).
    """
    stamp = Path(spacy_model) / FINGERPRINT_FILE
    if not stamp.exists():
        return None
    return hashlib.sha256(
        path.read_bytes() + stamp.read_bytes() + Path(__file__).read_bytes()
        + Path(negation.__file__).read_bytes()
    ).hexdigest()


def check_patterns(path: Path, spacy_model: str) -> None:
    """Compile the patterns file (`CrisisPatternError` if it is unusable), once per version.

    Compiling loads the spaCy pipeline: a second of every retraining, though the patterns
    rarely change. A file that compiled is noted in `CHECKED_STAMP` by its `patterns_version`
    and not compiled again while that is the same. The note only skips a check that passed:
    the model stores the file's text either way.
    """
    key = patterns_version(path, spacy_model)
    if key is not None and CHECKED_STAMP.exists() and (
            CHECKED_STAMP.read_text(encoding="utf-8") == key):
        return
    CrisisMatcher.from_file(path, spacy_model)
    if key is not None:
        CHECKED_STAMP.parent.mkdir(parents=True, exist_ok=True)
        CHECKED_STAMP.write_text(key, encoding="utf-8")


def affirmed_phrases(
    texts: Sequence[str], path: Path, spacy_model: str, cache_path: Optional[Path] = None
) -> List[List[str]]:
    """The phrase keys of the patterns file at `path` said of the present in each text.

    With `cache_path`, texts already read with the same patterns, spaCy pipeline and code are
    not read again (training reads every example; after a change to one, it reads one).
    """
    version = patterns_version(path, spacy_model)
    cache: Dict[str, List[str]] = {}
    if cache_path is not None and version is not None and cache_path.exists():
        try:
            stored = json.loads(cache_path.read_text(encoding="utf-8"))
            if stored.get("version") == version:
                cache = dict(stored["texts"])
        except (OSError, ValueError, KeyError, TypeError):
            cache = {}
    missing = [text for text in dict.fromkeys(texts) if text not in cache]
    if missing:
        matcher = CrisisMatcher.from_file(path, spacy_model)
        for text in missing:
            cache[text] = [m.key for m in matcher.matches(text) if m.context == AFFIRMED]
        if cache_path is not None and version is not None:
            wanted = set(texts)
            cache_path.parent.mkdir(parents=True, exist_ok=True)
            cache_path.write_text(json.dumps(
                {"version": version,
                 "texts": {text: keys for text, keys in cache.items() if text in wanted}}),
                encoding="utf-8")
    return [cache[text] for text in texts]


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True
)
class CrisisRuleClassifier(GraphComponent, IntentClassifier):
    """Overrides the intent with `crisis` when a crisis phrase is found.

    Training reads and checks `patterns/crisis.yml` and stores the phrases in the model,
    so a bad file fails training with a clear message and the model is self-contained, with
    how the training examples use each phrase (`PhraseUses`).
    """

    PATTERNS_FILE_NAME = "crisis.yml"

    @classmethod
    def fingerprint_addon(cls, config: Dict[str, Any]) -> Optional[str]:
        """Retrain when the matching code changes (the patterns force it: scripts/train.sh)."""
        return code_fingerprint(__file__, negation.__file__)

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        """Paths of the patterns file and of the spaCy pipeline (for lemmas).

        `light_use_share` and `light_use_minimum` decide when the training examples use a
        phrase lightly (`PhraseUses`); `phrase_cache` remembers which phrases each training
        example says (empty: read them all at every training).
        """
        return {
            "patterns": str(CRISIS_PATTERNS_FILE.relative_to(PROJECT_DIR)),
            "spacy_model": "build/spacy/clinic_en",
            "light_use_share": 0.5,
            "light_use_minimum": 2,
            "phrase_cache": "build/crisis-phrase-cache.json",
        }

    def __init__(
        self,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        matcher: Optional[CrisisMatcher] = None,
        uses: Optional[PhraseUses] = None,
    ) -> None:
        self._config = config
        self._model_storage = model_storage
        self._resource = resource
        self._matcher = matcher
        self._uses = uses or PhraseUses({})

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> CrisisRuleClassifier:
        """A new, untrained component."""
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        """Check the patterns file; store its phrases and how the examples use them."""
        path = Path(self._config["patterns"])
        check_patterns(path, self._config["spacy_model"])  # fails on a bad file
        examples = [m for m in training_data.intent_examples if m.get(TEXT)]
        cache = self._config.get("phrase_cache")
        uses = PhraseUses.count(
            affirmed_phrases([m.get(TEXT) for m in examples], path, self._config["spacy_model"],
                             Path(cache) if cache else None),
            [m.get(INTENT) == CRISIS_INTENT for m in examples],
            share=float(self._config["light_use_share"]),
            minimum=int(self._config["light_use_minimum"]),
        )
        with self._model_storage.write_to(self._resource) as directory:
            (directory / self.PATTERNS_FILE_NAME).write_text(
                path.read_text(encoding="utf-8"), encoding="utf-8"
            )
            (directory / USES_FILE_NAME).write_text(uses.to_json(), encoding="utf-8")
        self._uses = uses
        return self._resource

    @classmethod
    def load(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> CrisisRuleClassifier:
        """The component with the phrases and their uses stored at training time."""
        with model_storage.read_from(resource) as directory:
            matcher = CrisisMatcher.from_file(
                directory / cls.PATTERNS_FILE_NAME, config["spacy_model"]
            )
            stored = directory / USES_FILE_NAME
            uses = PhraseUses.from_json(stored.read_text(encoding="utf-8")) if (
                stored.exists()) else None
        return cls(config, model_storage, resource, matcher, uses)

    def process(self, messages: List[Message]) -> List[Message]:
        """Classify messages that contain a crisis phrase as `crisis`."""
        if self._matcher is None:
            return messages
        for message in messages:
            text = message.get(TEXT)
            if not text:
                continue
            read_as = self._matcher.read_as(text)
            if read_as != text.lower().replace("’", "'"):
                message.set(READ_AS_KEY, read_as)  # for the crisis detector, not the output
            found = self._matcher.matches_read(read_as)
            if not found:
                continue
            match = next((m for m in found if m.context == AFFIRMED), found[0])
            classifier_intent = (message.get(INTENT) or {}).get("name")
            classifier_crisis = classifier_crisis_confidence(message)
            ranking = [
                entry
                for entry in message.get(INTENT_RANKING_KEY) or []
                if entry.get("name") != CRISIS_INTENT
            ]
            message.set(INTENT, {"name": CRISIS_INTENT, "confidence": 1.0}, add_to_output=True)
            message.set(
                INTENT_RANKING_KEY,
                [{"name": CRISIS_INTENT, "confidence": 1.0}, *ranking],
                add_to_output=True,
            )
            message.set(
                PARSE_KEY,
                {**match.as_dict(), "classifier_intent": classifier_intent,
                 "classifier_crisis_confidence": round(classifier_crisis, 4),
                 # what the crisis detector must not read as a present crisis
                 "denied_or_past": [m.matched_text for m in found if m.context != AFFIRMED],
                 # every phrase said of the present one the training examples use lightly
                 "used_lightly": self._uses.all_light(
                     [m.key for m in found if m.context == AFFIRMED])},
                add_to_output=True,
            )
        return messages


def classifier_crisis_confidence(message: Message) -> float:
    """The intent classifier's probability of `crisis` (it learns the same examples).

    Set apart from its ranking (clinic_nlp.intent_classifier, `set_apart`) when the crisis
    detector decides the intent, else read from the ranking.
    """
    set_apart = message.get(SET_APART_KEY) or {}
    if CRISIS_INTENT in set_apart:
        return float(set_apart[CRISIS_INTENT])
    return max(
        (float(entry.get("confidence") or 0.0) for entry in message.get(INTENT_RANKING_KEY) or []
         if entry.get("name") == CRISIS_INTENT),
        default=0.0,
    )


def main(argv: List[str]) -> int:
    """Check the patterns file; with a message argument, show what it matches."""
    from clinic_nlp.pipeline import PIPELINE_DIR, ensure_pipeline

    try:
        phrases = read_crisis_phrases()
        ensure_pipeline()
        matcher = CrisisMatcher.from_file(CRISIS_PATTERNS_FILE, str(PIPELINE_DIR))
    except CrisisPatternError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    count = sum(len(p) for p in phrases.values())
    print(f"crisis patterns OK: {count} phrases in {len(phrases)} groups ({CRISIS_PATTERNS_FILE})")
    for text in argv:
        match = matcher.first_match(text)
        print(f"{text!r}: {match.as_dict() if match else 'no crisis phrase'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
