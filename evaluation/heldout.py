"""Score the trained model on the dev sets, beside the first-pass blind figures.

    python -m evaluation.heldout [--model models/clinic.tar.gz] [--out reports/heldout]

The headline figures are first-pass blind figures: each blind set scored once, by the model of
its day, recorded in evaluation/first_pass.json (`python -m evaluation.blind --first-pass`).
Everything under tests/heldout/ is a dev set: earlier rounds looked at it, fixed misses from
it or chose thresholds on it, so its figures are regression floors, never the headline. This
prints both, labelled, and writes the full per-topic report (Markdown and JSON) to the output
folder. tests/test_heldout_evaluation.py keeps floors on the dev figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Tuple

import yaml

from clinic.parse_result import answer_label, ranking_lead, topic_ranking
from clinic.paths import PROJECT_DIR

HELDOUT_DIR = PROJECT_DIR / "tests" / "heldout"
NLU_HELDOUT_FILES = sorted(HELDOUT_DIR.glob("nlu_heldout*.yml"))
# Blind sets, once scored, join the dev sets in their own folder (tests/heldout/blind-<date>/).
DEV_SET_FILES = sorted(HELDOUT_DIR.glob("blind-*/*.tsv"))
CRISIS_HELDOUT_FILES = sorted(HELDOUT_DIR.glob("crisis_heldout*.yml"))
DEFAULT_MODEL = PROJECT_DIR / "models" / "clinic.tar.gz"
DEFAULT_REPORT_DIR = PROJECT_DIR / "reports" / "heldout"
CONFIG_FILE = PROJECT_DIR / "config.yml"

FALLBACK = "nlu_fallback"
OUT_OF_SCOPE = "out_of_scope"
CRISIS = "crisis"


@dataclass
class Prediction:
    """One held-out message, what it should get and what the model said."""

    text: str
    expected: str
    predicted: str
    confidence: float
    crisis_rule: Optional[str] = None
    # What the classifiers said before any fallback: for the threshold curve.
    raw_label: str = ""
    raw_confidence: float = 0.0
    runner_up_confidence: float = 0.0
    topic_confidence: float = 1.0
    topic_lead: float = 1.0

    def label_at(
        self, intent_threshold: float, topic_threshold: float, ambiguity: float,
        clear_lead: float,
    ) -> str:
        """The label these thresholds would give (crisis and rule decisions kept as they are)."""
        if self.predicted == CRISIS:
            return CRISIS
        unsure_topic = self.raw_label.startswith("faq/") and (
            self.topic_confidence < topic_threshold and self.topic_lead < clear_lead
        )
        unsure = (
            self.raw_confidence < intent_threshold
            or self.raw_confidence - self.runner_up_confidence < ambiguity
            or unsure_topic
        )
        return FALLBACK if unsure else self.raw_label

    @property
    def correct(self) -> bool:
        """Right label; an off-topic message that falls back is handled correctly too."""
        return self.predicted == self.expected or (
            self.expected == OUT_OF_SCOPE and self.predicted == FALLBACK
        )

    @property
    def wrong_faq_answer(self) -> bool:
        """An FAQ answer given where another answer, or none, was right."""
        return self.predicted.startswith("faq/") and self.predicted != self.expected


@dataclass
class Report:
    """Headline figures and details of one evaluation run."""

    model: str
    messages: int = 0
    accuracy: float = 0.0
    in_scope_accuracy: float = 0.0
    also_in_training: int = 0
    accuracy_excluding_training: float = 0.0
    wrong_faq_answer_rate: float = 0.0
    fallback_rate: float = 0.0
    out_of_scope_handled_rate: float = 0.0
    false_crisis_rate: float = 0.0
    crisis_recall: float = 0.0
    crisis_total: int = 0
    crisis_by_rule_only: int = 0
    crisis_by_classifier_only: int = 0
    crisis_by_both: int = 0
    crisis_missed: List[str] = field(default_factory=list)
    hard_negatives_correct: int = 0
    hard_negatives_total: int = 0
    hard_negatives_flagged_crisis: List[str] = field(default_factory=list)
    parse_ms_p50: float = 0.0
    parse_ms_p95: float = 0.0
    training: Dict[str, Any] = field(default_factory=dict)
    per_file: Dict[str, Dict[str, float]] = field(default_factory=dict)
    threshold_curve: List[Dict[str, float]] = field(default_factory=list)
    per_label: Dict[str, Dict[str, Any]] = field(default_factory=dict)
    confusions: List[Tuple[str, str, int]] = field(default_factory=list)
    errors: List[Dict[str, Any]] = field(default_factory=list)


def load_nlu_file(path: Path) -> List[Tuple[str, str]]:
    """(text, expected label) pairs from a Rasa-format NLU file."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    pairs = []
    for block in data["nlu"]:
        for line in block["examples"].splitlines():
            text = line.strip()
            if text.startswith("- "):
                pairs.append((text[2:].strip(), block["intent"]))
    return pairs


def load_nlu_heldout(paths: Iterable[Path] = NLU_HELDOUT_FILES) -> List[Tuple[str, str]]:
    """(text, expected label) pairs from every held-out NLU file."""
    return [pair for path in paths for pair in load_nlu_file(path)]


def load_crisis_heldout(
    paths: Iterable[Path] = CRISIS_HELDOUT_FILES,
) -> Tuple[List[str], List[Tuple[str, str]]]:
    """Crisis phrasings, and hard negatives as (text, expected label), from every file."""
    crisis: List[str] = []
    negatives: List[Tuple[str, str]] = []
    for path in paths:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        crisis += data["crisis"]
        negatives += [(item["text"], item["expected"]) for item in data.get("hard_negatives", [])]
    return crisis, negatives


def training_texts(data_dir: Path = PROJECT_DIR / "data" / "nlu") -> set:
    """Lowercased training examples, to find held-out messages that happen to match one."""
    return {text.lower() for path in data_dir.glob("*.yml") for text, _ in load_nlu_file(path)}


def label_of(parse: Dict[str, Any]) -> Tuple[str, float]:
    """The answer a parse result leads to: `faq/<key>` for FAQ questions, else the intent."""
    return answer_label(parse)


class Parser:
    """Parses messages with a trained model, in process."""

    def __init__(self, model_path: Path) -> None:
        import logging

        from rasa.core.agent import Agent
        from rasa.utils.log_utils import configure_structlog

        # Parse results hold visitors' words: keep them out of the console.
        configure_structlog(logging.WARNING)
        logging.getLogger("rasa").setLevel(logging.WARNING)

        self._agent = Agent.load(str(model_path))
        self._loop = asyncio.new_event_loop()
        self.latencies_ms: List[float] = []

    def parse(self, text: str) -> Dict[str, Any]:
        """The full parse result, as `/model/parse` returns it."""
        started = time.perf_counter()
        result = self._loop.run_until_complete(self._agent.parse_message(text))
        self.latencies_ms.append((time.perf_counter() - started) * 1000)
        return result

    def predict(self, text: str, expected: str) -> Prediction:
        """Parse and compare with the expected label."""
        parse = self.parse(text)
        predicted, confidence = label_of(parse)
        rule = (parse.get("crisis_rule") or {}).get("pattern")
        ranking = [r for r in parse.get("intent_ranking") or [] if r["name"] != FALLBACK]
        raw = ranking[0] if ranking else {"name": FALLBACK, "confidence": 0.0}
        selector = topic_ranking(parse)
        raw_label = raw["name"]
        if raw_label == "faq" and selector:
            raw_label = selector[0].get("intent_response_key") or "faq/?"
        return Prediction(
            text, expected, predicted, confidence, rule,
            raw_label=raw_label,
            raw_confidence=float(raw["confidence"]),
            runner_up_confidence=float(ranking[1]["confidence"]) if len(ranking) > 1 else 0.0,
            topic_confidence=float(selector[0]["confidence"]) if selector else 1.0,
            topic_lead=ranking_lead(selector) if selector else 1.0,
        )


def _rate(count: int, total: int) -> float:
    return round(count / total, 4) if total else 0.0


def _per_label(predictions: Iterable[Prediction]) -> Dict[str, Dict[str, Any]]:
    by_label: Dict[str, List[Prediction]] = defaultdict(list)
    for prediction in predictions:
        by_label[prediction.expected].append(prediction)
    return {
        label: {
            "n": len(items),
            "accuracy": _rate(sum(p.correct for p in items), len(items)),
            "wrong_faq_answers": sum(p.wrong_faq_answer for p in items),
        }
        for label, items in sorted(by_label.items())
    }


def evaluate(parser: Parser, model: str) -> Report:
    """Run every held-out file through the parser and compute the figures."""
    report = Report(model=model)
    predictions: List[Prediction] = []
    for path in NLU_HELDOUT_FILES:
        in_file = [parser.predict(text, label) for text, label in load_nlu_file(path)]
        report.per_file[path.name] = {
            "n": len(in_file),
            "accuracy": _rate(sum(p.correct for p in in_file), len(in_file)),
            "wrong_faq_answer_rate": _rate(sum(p.wrong_faq_answer for p in in_file), len(in_file)),
        }
        predictions += in_file
    total = len(predictions)
    report.messages = total
    report.accuracy = _rate(sum(p.correct for p in predictions), total)
    report.wrong_faq_answer_rate = _rate(sum(p.wrong_faq_answer for p in predictions), total)
    report.fallback_rate = _rate(sum(p.predicted == FALLBACK for p in predictions), total)
    off_topic = [p for p in predictions if p.expected == OUT_OF_SCOPE]
    report.out_of_scope_handled_rate = _rate(sum(p.correct for p in off_topic), len(off_topic))
    report.false_crisis_rate = _rate(sum(p.predicted == CRISIS for p in predictions), total)
    in_scope = [p for p in predictions if p.expected != OUT_OF_SCOPE]
    report.in_scope_accuracy = _rate(sum(p.correct for p in in_scope), len(in_scope))
    report.threshold_curve = threshold_curve(predictions)
    seen = training_texts()
    unseen = [p for p in predictions if p.text.lower() not in seen]
    report.also_in_training = total - len(unseen)
    report.accuracy_excluding_training = _rate(sum(p.correct for p in unseen), len(unseen))
    report.per_label = _per_label(predictions)
    confusions = Counter((p.expected, p.predicted) for p in predictions if not p.correct)
    report.confusions = [(e, p, n) for (e, p), n in confusions.most_common()]
    report.errors = [asdict(p) for p in predictions if not p.correct]

    crisis_at = configured_thresholds()["crisis_threshold"]
    crisis_texts, negatives = load_crisis_heldout()
    report.crisis_total = len(crisis_texts)
    for text in crisis_texts:
        parse = parser.parse(text)
        by_rule = bool(parse.get("crisis_rule"))
        # The classifiers: the semantic detector, with the intent classifier's crisis
        # probability folded in (clinic_nlp/crisis_detector.py).
        by_classifier = (parse.get("crisis_detector") or {}).get("risk", 0.0) >= crisis_at
        report.crisis_by_rule_only += by_rule and not by_classifier
        report.crisis_by_classifier_only += by_classifier and not by_rule
        report.crisis_by_both += by_rule and by_classifier
        if label_of(parse)[0] != CRISIS:
            report.crisis_missed.append(text)
    caught = report.crisis_total - len(report.crisis_missed)
    report.crisis_recall = _rate(caught, report.crisis_total)
    report.hard_negatives_total = len(negatives)
    for text, expected in negatives:
        prediction = parser.predict(text, expected)
        report.hard_negatives_correct += prediction.correct
        if prediction.predicted == CRISIS:
            report.hard_negatives_flagged_crisis.append(text)

    latencies = sorted(parser.latencies_ms)
    report.parse_ms_p50 = round(statistics.median(latencies), 1)
    report.parse_ms_p95 = round(latencies[int(0.95 * (len(latencies) - 1))], 1)
    return report


def configured_thresholds(config_file: Path = CONFIG_FILE) -> Dict[str, float]:
    """The intent, ambiguity and topic thresholds and the topic lead config.yml sets."""
    from clinic_nlp.faq_fallback import FaqTopicFallback

    pipeline = yaml.safe_load(config_file.read_text(encoding="utf-8"))["pipeline"]
    by_name = {component["name"].rsplit(".", 1)[-1]: component for component in pipeline}
    topic_config = {**FaqTopicFallback.get_default_config(), **by_name["FaqTopicFallback"]}
    from clinic_nlp.crisis_detector import SemanticCrisisDetector

    crisis_config = {
        **SemanticCrisisDetector.get_default_config(), **by_name["SemanticCrisisDetector"]
    }
    return {
        "crisis_threshold": float(crisis_config["crisis_threshold"]),
        "intent_threshold": float(by_name["FallbackClassifier"]["threshold"]),
        "ambiguity_threshold": float(by_name["FallbackClassifier"]["ambiguity_threshold"]),
        "topic_threshold": float(topic_config["threshold"]),
        "clear_lead": float(topic_config["clear_lead"]),
    }


def scores_at(
    predictions: List[Prediction], intent_threshold: float, topic_threshold: float,
    ambiguity: float, clear_lead: float,
) -> Dict[str, float]:
    """The headline figures these thresholds would give."""
    labels = [
        p.label_at(intent_threshold, topic_threshold, ambiguity, clear_lead) for p in predictions
    ]
    right = [
        label == p.expected or (p.expected == OUT_OF_SCOPE and label == FALLBACK)
        for label, p in zip(labels, predictions, strict=True)
    ]
    in_scope = [ok for ok, p in zip(right, predictions, strict=True) if p.expected != OUT_OF_SCOPE]
    off_topic = [ok for ok, p in zip(right, predictions, strict=True) if p.expected == OUT_OF_SCOPE]
    return {
        "intent_threshold": intent_threshold,
        "topic_threshold": topic_threshold,
        "ambiguity_threshold": ambiguity,
        "clear_lead": clear_lead,
        "wrong_faq_answer_rate": _rate(sum(
            label.startswith("faq/") and label != p.expected
            for label, p in zip(labels, predictions, strict=True)
        ), len(predictions)),
        "fallback_rate": _rate(sum(label == FALLBACK for label in labels), len(labels)),
        "accuracy": _rate(sum(right), len(predictions)),
        "in_scope_accuracy": _rate(sum(in_scope), len(in_scope)),
        "out_of_scope_handled_rate": _rate(sum(off_topic), len(off_topic)),
    }


# Topic lead 1.0 means the lead alone never answers: only the topic threshold counts.
TOPIC_LEADS = (1.0, 0.1, 0.15, 0.2, 0.3)
TOPIC_THRESHOLDS = (0.0, 0.3, 0.4, 0.5, 0.6, 0.7)


def threshold_curve(predictions: List[Prediction]) -> List[Dict[str, float]]:
    """The figures over topic thresholds and leads, then other intent and ambiguity thresholds.

    Each row varies one setting (or the topic pair) and keeps the others as configured.
    """
    configured = configured_thresholds()
    intent, ambiguity = configured["intent_threshold"], configured["ambiguity_threshold"]
    topic, lead = configured["topic_threshold"], configured["clear_lead"]
    curve = [
        scores_at(predictions, intent, topic_threshold, ambiguity, topic_lead)
        for topic_lead in TOPIC_LEADS
        for topic_threshold in TOPIC_THRESHOLDS
    ]
    curve += [
        scores_at(predictions, other_intent, topic, ambiguity, lead)
        for other_intent in (0.3, 0.4, 0.6, 0.7, 0.8)
    ]
    curve += [
        scores_at(predictions, intent, topic, other_ambiguity, lead)
        for other_ambiguity in (0.0, 0.05, 0.2, 0.3)
    ]
    return curve


def training_figures(model: Path) -> Dict[str, Any]:
    """Training time (recorded by scripts/train.sh) and model size."""
    figures: Dict[str, Any] = {"model_mb": round(model.stat().st_size / 1e6, 1)}
    record = model.parent / "training.json"
    if record.exists():
        figures.update(json.loads(record.read_text()))
    return figures


def _summary_lines(report: Report) -> List[str]:
    return [
        f"Held-out questions: {report.messages}",
        f"  in-scope questions answered right: {report.in_scope_accuracy:.1%}",
        f"  right answer (faq/<key> or intent): {report.accuracy:.1%}"
        f" ({report.accuracy_excluding_training:.1%} without the {report.also_in_training}"
        " short messages that also happen to be training examples)",
        f"  wrong FAQ answer: {report.wrong_faq_answer_rate:.1%}",
        f"  fell back (asked to rephrase): {report.fallback_rate:.1%}",
        f"  off-topic handled (out_of_scope or fallback): {report.out_of_scope_handled_rate:.1%}",
        f"  flagged as crisis (false alarms): {report.false_crisis_rate:.1%}",
        *(
            f"  {name}: {row['n']:.0f} questions, {row['accuracy']:.1%} right,"
            f" {row['wrong_faq_answer_rate']:.1%} wrong FAQ answers"
            for name, row in report.per_file.items()
        ),
        f"Crisis phrasings: {report.crisis_total}, recall {report.crisis_recall:.1%}"
        f" (rule layer only {report.crisis_by_rule_only}, classifier only"
        f" {report.crisis_by_classifier_only}, both {report.crisis_by_both},"
        f" missed {len(report.crisis_missed)})",
        f"Hard negatives: {report.hard_negatives_correct}/{report.hard_negatives_total} right,"
        f" {len(report.hard_negatives_flagged_crisis)} flagged as crisis",
        f"Parse latency: p50 {report.parse_ms_p50} ms, p95 {report.parse_ms_p95} ms",
        f"Model: {report.training.get('model_mb', '?')} MB, last trained in "
        f"{report.training.get('seconds', '?')} s"
        f"{' (from scratch)' if report.training.get('from_scratch') else ''}"
        f"{' (all from the cache)' if report.training.get('components_trained') == 0 else ''}"
    ]


def write_report(report: Report, out_dir: Path) -> Path:
    """Write report.json and report.md; return the Markdown path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "report.json").write_text(json.dumps(asdict(report), indent=2), encoding="utf-8")
    lines = ["# Held-out evaluation", "", f"Model: `{report.model}`", "", "```"]
    lines += _summary_lines(report) + ["```", "", "## Per answer", ""]
    lines += ["| expected | n | accuracy | wrong FAQ answers |", "|---|---|---|---|"]
    lines += [
        f"| {label} | {row['n']} | {row['accuracy']:.0%} | {row['wrong_faq_answers']} |"
        for label, row in report.per_label.items()
    ]
    configured = configured_thresholds()
    lines += ["", "## Thresholds: wrong FAQ answers vs fallbacks", ""]
    lines += [
        "Intent and ambiguity thresholds are the FallbackClassifier's, the topic threshold and",
        "topic lead FaqTopicFallback's: a topic under the threshold is still answered when it",
        "leads the runner-up topic by the lead (1.0: never). config.yml sets"
        f" {configured['intent_threshold']} / {configured['ambiguity_threshold']}"
        f" / {configured['topic_threshold']} / {configured['clear_lead']}. Each row changes one",
        "setting or two; curve.png plots the topic rows.",
        "Targets: in-scope right >= 95%, off-topic handled >= 90%, wrong FAQ <= 2%.", "",
        "| intent | ambiguity | topic | lead | wrong FAQ | fallback | right | in-scope right"
        " | off-topic handled |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {row['intent_threshold']} | {row['ambiguity_threshold']} | {row['topic_threshold']} "
        f"| {row['clear_lead']} "
        f"| {row['wrong_faq_answer_rate']:.1%} | {row['fallback_rate']:.1%} "
        f"| {row['accuracy']:.1%} | {row['in_scope_accuracy']:.1%}"
        f" | {row['out_of_scope_handled_rate']:.1%} |"
        for row in report.threshold_curve
    ]
    lines += ["", "## Confusions (expected → predicted)", ""]
    lines += [f"- {e} → {p}: {n}" for e, p, n in report.confusions] or ["none"]
    lines += ["", "## Missed crisis phrasings", ""]
    lines += [f"- {text}" for text in report.crisis_missed] or ["none"]
    lines += ["", "## Wrongly handled questions", ""]
    lines += [
        f"- `{e['expected']}` got `{e['predicted']}` ({e['confidence']:.2f}): {e['text']}"
        for e in report.errors
    ] or ["none"]
    path = out_dir / "report.md"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    _plot_curve(report.threshold_curve, out_dir / "curve.png")
    return path


def _plot_curve(curve: List[Dict[str, float]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(6, 4))
    topic_rows = curve[: len(TOPIC_LEADS) * len(TOPIC_THRESHOLDS)]
    for topic_lead in TOPIC_LEADS:
        rows = [row for row in topic_rows if row["clear_lead"] == topic_lead]
        axes.plot(
            [100 * row["fallback_rate"] for row in rows],
            [100 * row["wrong_faq_answer_rate"] for row in rows],
            marker="o", label="no lead" if topic_lead >= 1.0 else f"topic lead {topic_lead}",
        )
    axes.set_xlabel("asked to rephrase (% of messages)")
    axes.set_ylabel("wrong FAQ answer (% of messages)")
    axes.set_title("Topic threshold 0.0 to 0.7 along each line")
    axes.legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def main(argv: Optional[List[str]] = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--out", type=Path, default=DEFAULT_REPORT_DIR)
    args = parser.parse_args(argv)
    if not args.model.exists():
        print(f"error: no model at {args.model}; run `make train` first", file=sys.stderr)
        return 1
    from evaluation.blind import first_pass_lines, score, summary

    model = Parser(args.model)
    report = evaluate(model, str(args.model))
    report.training = training_figures(args.model)
    dev_figures, _ = score(model, DEV_SET_FILES)
    headline = first_pass_lines()
    dev = summary(dev_figures, "Dev sets once blind (tests/heldout/blind-*/, regression floors)")
    print("\n".join(headline))
    print(dev)
    print("Dev sets of earlier rounds (tests/heldout/*.yml, regression floors):")
    print("\n".join(_summary_lines(report)))
    path = write_report(report, args.out)
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text.replace(
            "# Held-out evaluation\n",
            "# Held-out evaluation\n\n## Headline: first-pass blind figures\n\n```\n"
            + "\n".join(headline) + "\n```\n\n## Dev sets\n\n```\n" + dev + "\n```\n",
            1,
        ),
        encoding="utf-8",
    )
    print(f"Full report: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
