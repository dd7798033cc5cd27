"""Choose the NLU's thresholds by cross-validation, never on a blind set.

    python -m evaluation.cross_validate [--folds 5] [--out reports/cross-validation]

Scores every training example under data/nlu/ with models trained without it (k folds), and
the dev sets (tests/heldout/, which earlier rounds tuned against) with a model trained on all of
data/nlu/. From those scores it prints and writes:
- the intent and FAQ topic threshold table (in-scope right, wrong FAQ answers, off-topic
  handled) for FallbackClassifier and FaqTopicFallback;
- the crisis detector's recall and false alarms at each threshold, and the thresholds it
  suggests: for the full crisis reply, the lowest threshold whose cross-validated false
  alarms on ordinary questions stay at or under 1%; for the check-in tier (no booking
  offer, one line naming 988), the highest threshold whose cross-validated recall is 99%.
config.yml holds the chosen values; this script does not change it.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

from evaluation.heldout import (
    CRISIS_HELDOUT_FILES,
    NLU_HELDOUT_FILES,
    OUT_OF_SCOPE,
    PROJECT_DIR,
    load_crisis_heldout,
    load_nlu_file,
)

DEFAULT_OUT = PROJECT_DIR / "reports" / "cross-validation"
INTENT_THRESHOLDS = (0.3, 0.4, 0.5, 0.6)
TOPIC_THRESHOLDS = (0.3, 0.4, 0.5, 0.6, 0.7)
CRISIS_THRESHOLDS = (0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.7)
RULE_THRESHOLDS = (0.2, 0.3, 0.4, 0.5, 0.6)
# (share, minimum) for calling a crisis phrase used lightly; (None, 0): never
LIGHT_USE_SETTINGS = ((None, 0), (0.3, 2), (0.5, 2), (0.5, 3), (0.7, 2), (0.7, 3))
ORDINARY_FALSE_ALARMS_LIMIT = 0.01
CHECK_IN_RECALL_TARGET = 0.99


@dataclass
class Example:
    """A message, the answer it should get, and its crisis label."""

    text: str
    answer: str  # faq/<key> or an intent name
    crisis: str  # none, crisis or emergency
    hard_negative: bool = False


def training_examples() -> List[Example]:
    """Every example under data/nlu/, labelled as the two classifiers learn it."""
    from rasa.shared.importers.importer import TrainingDataImporter

    from clinic_nlp.crisis_detector import crisis_label
    from clinic_nlp.intent_classifier import training_label

    importer = TrainingDataImporter.load_from_config(
        str(PROJECT_DIR / "config.yml"), str(PROJECT_DIR / "domain.yml"),
        [str(PROJECT_DIR / "data")],
    )
    hard = {text for text, _ in load_nlu_file(PROJECT_DIR / "data" / "nlu" / "hard_negatives.yml")}
    examples = []
    for message in importer.get_nlu_data().intent_examples:
        label = training_label(message, "faq")
        if label:
            text = message.get("text")
            examples.append(Example(text, label, crisis_label(message), text in hard))
    return examples


def dev_examples() -> List[Example]:
    """The dev sets: held-out files earlier rounds tuned against."""
    examples = [
        Example(text, label, "crisis" if label == "crisis" else "none")
        for path in NLU_HELDOUT_FILES for text, label in load_nlu_file(path)
    ]
    crisis, negatives = load_crisis_heldout(CRISIS_HELDOUT_FILES)
    examples += [Example(text, "crisis", "crisis") for text in crisis]
    examples += [Example(text, label, "none", True) for text, label in negatives]
    return examples


class Scorer:
    """Fits both models on some examples and scores others, with cached sentence vectors."""

    def __init__(self, config: Dict[str, Dict[str, Any]]) -> None:
        from clinic_nlp.sentence_embeddings import EmbeddingCache

        self._cache = EmbeddingCache(
            str(PROJECT_DIR / "build" / "embedding-cache.sqlite"),
            str(PROJECT_DIR / "build" / "minilm"),
        )
        self._config = config

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Sentence vectors from the training-time cache."""
        return self._cache.embed(list(texts))

    def fit_predict(
        self, train: List[Example], test: List[Example]
    ) -> Tuple[List[Tuple[str, float, float, str]], List[float]]:
        """Fit on `train`; score `test`.

        For each test example: (answer, intent confidence, topic confidence, runner-up gap),
        and its crisis risk as the detector combines it (the riskiest sentence's, or the
        intent classifier's probability of `crisis` if higher; the rule layer not included).
        """
        from clinic_nlp.text_models import CrisisModel, IntentModel, segments, split_answer

        texts = [e.text for e in train]
        vectors = self.embed(texts)
        intent_config, crisis_config = self._config["intent"], self._config["crisis"]
        intent = IntentModel(
            c=intent_config["C"], embedding_weight=intent_config["embedding_weight"])
        intent.fit(texts, vectors, [e.answer for e in train])
        crisis = CrisisModel(
            c=crisis_config["C"], embedding_weight=crisis_config["embedding_weight"])
        crisis.fit(texts, vectors, [e.crisis for e in train], embed=self.embed)

        test_texts = [e.text for e in test]
        proba = intent.predict_proba(test_texts, self.embed(test_texts))
        answers, classifier_crisis = [], []
        crisis_column = intent.labels.index("crisis")
        for row in proba:
            classifier_crisis.append(float(row[crisis_column]))
            intents, topics = split_answer(
                intent.labels, row, set_apart=intent_config.get("set_apart") or [])
            gap = intents[0].confidence - (intents[1].confidence if len(intents) > 1 else 0.0)
            label = topics[0].name if intents[0].name == "faq" and topics else intents[0].name
            answers.append((label, intents[0].confidence, topics[0].confidence if topics else 1.0,
                            str(gap)))
        parts = [segments(text) for text in test_texts]
        flat = [p for group in parts for p in group]
        seg_proba = crisis.segment_proba(flat, self.embed(flat))
        risks: List[float] = []
        start = 0
        for group in parts:
            detector = crisis.score_from_proba(seg_proba[start:start + len(group)]).risk
            risks.append(max(detector, classifier_crisis[len(risks)]))
            start += len(group)
        return answers, risks


def answer_at(answer: Tuple[str, float, float, str], intent_t: float, topic_t: float,
              ambiguity: float) -> str:
    """The answer the fallback thresholds would give."""
    label, confidence, topic_confidence, gap = answer
    if confidence < intent_t or float(gap) < ambiguity:
        return "nlu_fallback"
    if label.startswith("faq/") and topic_confidence < topic_t:
        return "nlu_fallback"
    return label


def intent_table(examples: List[Example], answers: List, ambiguity: float) -> List[Dict]:
    """In-scope right, wrong FAQ answers and off-topic handled over the threshold grid."""
    rows = []
    ordinary = [(e, a) for e, a in zip(examples, answers, strict=True) if e.crisis == "none"]
    for intent_t in INTENT_THRESHOLDS:
        for topic_t in TOPIC_THRESHOLDS:
            got = [(e, answer_at(a, intent_t, topic_t, ambiguity)) for e, a in ordinary]
            in_scope = [(e, g) for e, g in got if e.answer != OUT_OF_SCOPE]
            off = [(e, g) for e, g in got if e.answer == OUT_OF_SCOPE]
            rows.append({
                "intent_threshold": intent_t, "topic_threshold": topic_t,
                "in_scope_right": _rate(sum(g == e.answer for e, g in in_scope), len(in_scope)),
                "wrong_faq": _rate(sum(g.startswith("faq/") and g != e.answer for e, g in got),
                                   len(got)),
                "off_topic_handled": _rate(
                    sum(g in (OUT_OF_SCOPE, "nlu_fallback") for _, g in off), len(off)),
                "fallback": _rate(sum(g == "nlu_fallback" for _, g in got), len(got)),
            })
    return rows


def crisis_table(examples: List[Example], risks: List[float]) -> List[Dict]:
    """Recall and false alarms of the crisis risk at each threshold."""
    rows = []
    for t in CRISIS_THRESHOLDS:
        def rate(select: Callable[[Example], bool], at: float = t) -> float:
            chosen = [r for e, r in zip(examples, risks, strict=True) if select(e)]
            return _rate(sum(r >= at for r in chosen), len(chosen))

        rows.append({
            "threshold": t,
            "crisis_recall": rate(lambda e: e.crisis != "none"),
            "emergency_recall": rate(lambda e: e.crisis == "emergency"),
            "hard_negatives_flagged": rate(lambda e: e.crisis == "none" and e.hard_negative),
            "ordinary_flagged": rate(lambda e: e.crisis == "none" and not e.hard_negative),
        })
    return rows


def rule_phrases(examples: List[Example]) -> List[List[str]]:
    """The crisis phrases said of the present (not denied, not past) in each example."""
    from clinic_nlp.crisis_rules import CRISIS_PATTERNS_FILE, affirmed_phrases

    return affirmed_phrases([e.text for e in examples], CRISIS_PATTERNS_FILE,
                            str(PROJECT_DIR / "build" / "spacy" / "clinic_en"))


def phrase_uses(examples: List[Example], phrases: List[List[str]], share: float,
                minimum: int) -> Any:
    """How the training examples use each phrase (clinic_nlp.crisis_rules.PhraseUses)."""
    from clinic_nlp.crisis_rules import PhraseUses

    return PhraseUses.count(phrases, [e.crisis != "none" for e in examples],
                            share=share, minimum=minimum)


def rule_table(
    examples: List[Example], risks: List[float], phrases: List[List[str]], crisis_at: float,
    light: Optional[List[bool]] = None,
) -> List[Dict]:
    """Full crisis replies when a crisis phrase also needs this much risk from the classifiers.

    With the crisis threshold as configured: recall of the full reply on crisis examples, and
    the share of hard negatives and of ordinary questions that would get it. A phrase used
    lightly (`light`, per example) needs the crisis threshold, as the crisis detector does.
    """
    light = light or [False] * len(examples)
    rows = []
    for band in RULE_THRESHOLDS:
        def rate(select: Callable[[Example], bool], at: float = band) -> float:
            chosen = [(r, bool(keys), lit) for e, r, keys, lit
                      in zip(examples, risks, phrases, light, strict=True) if select(e)]
            return _rate(sum(r >= crisis_at or (rule and not lit and r >= at)
                             for r, rule, lit in chosen), len(chosen))

        rows.append({
            "threshold": band,
            "crisis_recall": rate(lambda e: e.crisis != "none"),
            "hard_negatives_flagged": rate(lambda e: e.crisis == "none" and e.hard_negative),
            "ordinary_flagged": rate(lambda e: e.crisis == "none" and not e.hard_negative),
        })
    return rows


def light_flags(uses: Any, examples: List[Example], phrases: List[List[str]],
                leave_out: bool) -> List[bool]:
    """Whether every phrase of each example is used lightly (never, without `uses`).

    `leave_out`: judge each example with counts that do not include it (cross-validation).
    """
    if uses is None:
        return [False] * len(examples)
    return [uses.all_light(keys, without=(e.crisis != "none") if leave_out else None)
            for e, keys in zip(examples, phrases, strict=True)]


def light_use_table(
    examples: List[Example], risks: List[float], phrases: List[List[str]],
    crisis_at: float, rule_at: float,
    dev: Tuple[List[Example], List[float], List[List[str]]],
) -> List[Dict]:
    """Full crisis replies at the configured thresholds for each way of calling a phrase light.

    A phrase is used lightly when at least `minimum` ordinary examples say it and they make at
    least `share` of those that do. Cross-validated: each training example is judged with
    counts that leave it out; the dev sets with counts from all of data/nlu/.
    """
    dev_examples_, dev_risks, dev_phrases = dev
    rows = []
    for share, minimum in LIGHT_USE_SETTINGS:
        uses = None if share is None else phrase_uses(examples, phrases, share, minimum)
        rows.append({
            "share": share, "minimum": minimum,
            "cv": _at(rule_table(examples, risks, phrases, crisis_at,
                                 light_flags(uses, examples, phrases, True)), rule_at),
            "dev": _at(rule_table(dev_examples_, dev_risks, dev_phrases, crisis_at,
                                  light_flags(uses, dev_examples_, dev_phrases, False)), rule_at),
        })
    return rows


def _at(rows: List[Dict], threshold: float) -> Dict:
    return next(row for row in rows if abs(row["threshold"] - threshold) < 1e-9)


def suggest_check_in(rows: List[Dict]) -> Optional[float]:
    """The highest threshold whose recall meets the check-in target."""
    meeting = [row["threshold"] for row in rows if row["crisis_recall"] >= CHECK_IN_RECALL_TARGET]
    return max(meeting) if meeting else None


def suggest_crisis(rows: List[Dict]) -> Optional[float]:
    """The lowest threshold whose false alarms on ordinary questions stay within the limit."""
    meeting = [
        row["threshold"] for row in rows if row["ordinary_flagged"] <= ORDINARY_FALSE_ALARMS_LIMIT
    ]
    return min(meeting) if meeting else None


def _rate(count: int, total: int) -> float:
    return round(count / total, 4) if total else 0.0


def configured() -> Dict[str, Dict[str, Any]]:
    """The two classifiers' and the fallback's settings in config.yml, with defaults."""
    import yaml

    from clinic_nlp.crisis_detector import SemanticCrisisDetector
    from clinic_nlp.crisis_rules import CrisisRuleClassifier
    from clinic_nlp.intent_classifier import EmbeddingIntentClassifier

    pipeline = yaml.safe_load((PROJECT_DIR / "config.yml").read_text())["pipeline"]
    by_name = {c["name"].rsplit(".", 1)[-1]: c for c in pipeline}
    return {
        "intent": {**EmbeddingIntentClassifier.get_default_config(),
                   **by_name["EmbeddingIntentClassifier"]},
        "crisis": {**SemanticCrisisDetector.get_default_config(),
                   **by_name["SemanticCrisisDetector"]},
        "fallback": by_name["FallbackClassifier"],
        "rules": {**CrisisRuleClassifier.get_default_config(),
                  **by_name["CrisisRuleClassifier"]},
    }


def cross_validate(folds: int) -> Dict:
    """Out-of-fold scores for the training data, and dev-set scores."""
    from sklearn.model_selection import StratifiedKFold

    config = configured()
    scorer = Scorer(config)
    examples = training_examples()
    answers: List = [None] * len(examples)
    risks: List[float] = [0.0] * len(examples)
    split = StratifiedKFold(n_splits=folds, shuffle=True, random_state=1)
    for train_idx, test_idx in split.split(examples, [e.answer for e in examples]):
        fold_answers, fold_risks = scorer.fit_predict(
            [examples[i] for i in train_idx], [examples[i] for i in test_idx])
        for i, answer, risk in zip(test_idx, fold_answers, fold_risks, strict=True):
            answers[i], risks[i] = answer, risk
    dev = dev_examples()
    dev_answers, dev_risks = scorer.fit_predict(examples, dev)
    ambiguity = float(config["fallback"]["ambiguity_threshold"])
    result: Dict[str, Any] = {
        "training_examples": len(examples), "dev_examples": len(dev), "folds": folds,
        "cv_intent": intent_table(examples, answers, ambiguity),
        "dev_intent": intent_table(dev, dev_answers, ambiguity),
        "cv_crisis": crisis_table(examples, risks),
        "dev_crisis": crisis_table(dev, dev_risks),
    }
    crisis_at = float(config["crisis"]["crisis_threshold"])
    rule_at = float(config["crisis"]["rule_threshold"])
    phrases, dev_phrases = rule_phrases(examples), rule_phrases(dev)
    rules = config["rules"]
    uses = phrase_uses(examples, phrases, float(rules["light_use_share"]),
                       int(rules["light_use_minimum"]))
    result["cv_rule"] = rule_table(examples, risks, phrases, crisis_at,
                                   light_flags(uses, examples, phrases, True))
    result["dev_rule"] = rule_table(dev, dev_risks, dev_phrases, crisis_at,
                                    light_flags(uses, dev, dev_phrases, False))
    result["light_use"] = light_use_table(examples, risks, phrases, crisis_at, rule_at,
                                          (dev, dev_risks, dev_phrases))
    result["light_phrases"] = sorted(key for key in uses.counts if uses.lightly(key))
    result["suggested_crisis_threshold"] = suggest_crisis(result["cv_crisis"])
    result["suggested_check_in_threshold"] = suggest_check_in(result["cv_crisis"])
    return result


def markdown(result: Dict) -> str:
    """The report as Markdown."""
    lines = [
        "# Cross-validated thresholds", "",
        f"{result['training_examples']} training examples ({result['folds']} folds); "
        f"{result['dev_examples']} dev-set messages (tests/heldout/, scored by a model trained "
        "on all of data/nlu/). Dev figures are regression floors, not headline figures.", "",
        "Suggested crisis threshold (the lowest with CV false alarms on ordinary questions <= "
        f"{ORDINARY_FALSE_ALARMS_LIMIT:.0%}): {result['suggested_crisis_threshold']}; check-in "
        f"threshold (the highest with CV recall >= {CHECK_IN_RECALL_TARGET:.0%}): "
        f"{result['suggested_check_in_threshold']}.",
    ]
    for title, key in (("Intent and topic, cross-validated", "cv_intent"),
                       ("Intent and topic, dev sets", "dev_intent")):
        lines += ["", f"## {title}", "",
                  "| intent | topic | in-scope right | wrong FAQ | off-topic handled | fallback |",
                  "|---|---|---|---|---|---|"]
        lines += [f"| {r['intent_threshold']} | {r['topic_threshold']} | {r['in_scope_right']:.1%}"
                  f" | {r['wrong_faq']:.1%} | {r['off_topic_handled']:.1%} | {r['fallback']:.1%} |"
                  for r in result[key]]
    for title, key in (("Crisis detector, cross-validated", "cv_crisis"),
                       ("Crisis detector, dev sets (detector alone, no rule layer)", "dev_crisis")):
        lines += ["", f"## {title}", "",
                  "| threshold | crisis recall | emergency recall | hard negatives flagged"
                  " | ordinary flagged |", "|---|---|---|---|---|"]
        lines += [f"| {r['threshold']} | {r['crisis_recall']:.1%} | {r['emergency_recall']:.1%}"
                  f" | {r['hard_negatives_flagged']:.1%} | {r['ordinary_flagged']:.1%} |"
                  for r in result[key]]
    for title, key in (("Crisis phrase plus classifier risk, cross-validated", "cv_rule"),
                       ("Crisis phrase plus classifier risk, dev sets", "dev_rule")):
        lines += ["", f"## {title}", "",
                  "A crisis phrase said of the present (not denied, not past) gives the full"
                  " reply when the classifiers' risk reaches this threshold (the crisis threshold"
                  " as configured gives it anyway).", "",
                  "| threshold | crisis recall | hard negatives given it | ordinary given it |",
                  "|---|---|---|---|"]
        lines += [f"| {r['threshold']} | {r['crisis_recall']:.1%} | "
                  f"{r['hard_negatives_flagged']:.1%} | {r['ordinary_flagged']:.1%} |"
                  for r in result[key]]
    lines += ["", "## Crisis phrases the training examples use lightly", "",
              "A phrase is used lightly when at least `minimum` ordinary training examples say"
              " it and they make at least `share` of those that do; such a phrase gives the full"
              " reply only from the crisis threshold (else from the rule threshold). Cross-"
              "validated: each example judged with counts that leave it out.", "",
              "| share | minimum | CV crisis recall | CV hard negatives given it | CV ordinary"
              " given it | dev crisis recall | dev hard negatives given it | dev ordinary given"
              " it |", "|---|---|---|---|---|---|---|---|"]
    for r in result["light_use"]:
        cv, dev = r["cv"], r["dev"]
        lines.append(
            f"| {'never' if r['share'] is None else r['share']} | {r['minimum']} | "
            f"{cv['crisis_recall']:.1%} | {cv['hard_negatives_flagged']:.1%} | "
            f"{cv['ordinary_flagged']:.1%} | {dev['crisis_recall']:.1%} | "
            f"{dev['hard_negatives_flagged']:.1%} | {dev['ordinary_flagged']:.1%} |")
    lines += ["", "Phrases used lightly with the configured setting: "
              + (", ".join(f"`{key.split('::', 1)[1]}`" for key in result["light_phrases"])
                 or "none") + "."]
    return "\n".join(lines) + "\n"


def main(argv: Optional[List[str]] = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    result = cross_validate(args.folds)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "report.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    text = markdown(result)
    (args.out / "report.md").write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
