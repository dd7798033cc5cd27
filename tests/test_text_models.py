"""The classifiers' calibration is reused after a small change and redone after a large one."""

from __future__ import annotations

from pathlib import Path
from typing import List, Tuple

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from clinic_nlp.text_models import IntentModel, _TfidfVectorizer

TOPICS = {
    "faq/cost": ["how much does it cost", "price of one infusion", "is it expensive",
                 "what do you charge", "cost per session", "how much is a series",
                 "payment plans?", "do you take insurance for the cost", "what's the fee",
                 "how much money is it", "pricing please", "cost of treatment",
                 "how pricey is this", "what will i pay", "is there a charge for the consult",
                 "fees for infusions", "how much for six sessions", "total cost",
                 "rough price", "cost estimate"],
    "faq/fda": ["is it fda approved", "fda status of ketamine", "is this legal",
                "approved by the fda?", "off label use?", "is ketamine approved for depression",
                "what does the fda say", "regulatory status", "is spravato approved",
                "fda approval for infusions", "legal to use ketamine?", "is it sanctioned",
                "government approval", "fda ok with this?", "approved treatment?",
                "off-label meaning", "is it licensed", "fda cleared?", "approval status",
                "is this allowed"],
    "greet": ["hi", "hello", "hey there", "good morning", "hiya", "howdy", "hello there",
              "hey", "good evening", "hi!", "yo", "greetings", "morning", "hey hey",
              "hello?", "hi team", "sup", "good afternoon", "hullo", "hi friend"],
}


def examples() -> Tuple[List[str], List[str]]:
    texts = [text for topic in TOPICS.values() for text in topic]
    labels = [label for label, topic in TOPICS.items() for _ in topic]
    return texts, labels


def vectors_for(texts: List[str]) -> np.ndarray:
    # Stand-ins for sentence vectors: the tf-idf carries these examples.
    return np.zeros((len(texts), 384), dtype=np.float32)


def test_one_new_example_reuses_the_calibration(tmp_path: Path) -> None:
    calibration = tmp_path / "calibration" / "intent.joblib"
    texts, labels = examples()
    first = IntentModel()
    first.fit(texts, vectors_for(texts), labels, calibration_file=calibration)
    assert not first.calibration_reused and calibration.exists()

    texts, labels = [*texts, "what does a single infusion set me back"], [*labels, "faq/cost"]
    second = IntentModel()
    second.fit(texts, vectors_for(texts), labels, calibration_file=calibration)
    assert second.calibration_reused
    proba = second.predict_proba(["how much does one infusion set me back"], vectors_for([""]))
    assert np.isclose(proba.sum(), 1.0)
    assert second.labels[int(np.argmax(proba))] == "faq/cost"


def test_many_changes_or_a_new_label_calibrate_afresh(tmp_path: Path) -> None:
    calibration = tmp_path / "intent.joblib"
    texts, labels = examples()
    IntentModel().fit(texts, vectors_for(texts), labels, calibration_file=calibration)

    relabelled = ["faq/fda" if label == "faq/cost" and i % 4 == 0 else label
                  for i, label in enumerate(labels)]
    many = IntentModel()
    many.fit(texts, vectors_for(texts), relabelled, calibration_file=calibration)
    assert not many.calibration_reused

    new_label = IntentModel()
    new_texts = [*texts, "bye", "goodbye", "see you", "later"]
    new_label.fit(new_texts, vectors_for(new_texts), [*labels, *["goodbye"] * 4],
                  calibration_file=calibration)
    assert not new_label.calibration_reused


def test_without_a_calibration_file_every_fit_calibrates() -> None:
    texts, labels = examples()
    model = IntentModel()
    model.fit(texts, vectors_for(texts), labels)
    assert not model.calibration_reused


def test_a_retraining_starts_the_svm_from_the_last_solution(tmp_path: Path) -> None:
    from clinic_nlp.dual_svm import duals_file, read_duals

    calibration = tmp_path / "intent.joblib"
    texts, labels = examples()
    IntentModel().fit(texts, vectors_for(texts), labels, calibration_file=calibration)
    kept = read_duals(duals_file(calibration), ("intent", 0.5, 1.5))
    assert kept is not None and kept.alphas.shape == (3, len(texts))

    texts, labels = [*texts, "what does a single infusion set me back"], [*labels, "faq/cost"]
    warm = IntentModel()
    warm.fit(texts, vectors_for(texts), labels, calibration_file=calibration)
    assert warm.calibration_reused
    # The same classifier as one solved from zero (the same calibration, no duals kept).
    calibration_only = tmp_path / "cold" / "intent.joblib"
    calibration_only.parent.mkdir()
    calibration_only.write_bytes(calibration.read_bytes())
    cold = IntentModel()
    cold.fit(texts, vectors_for(texts), labels, calibration_file=calibration_only)
    assert cold.calibration_reused
    probe = ["how much is one infusion", "is it approved", "hello!"]
    assert np.allclose(warm.predict_proba(probe, vectors_for(probe)),
                       cold.predict_proba(probe, vectors_for(probe)), atol=1e-3)
    # The kept duals now cover the new example too.
    kept = read_duals(duals_file(calibration), ("intent", 0.5, 1.5))
    assert kept is not None and kept.alphas.shape == (3, len(texts))


@pytest.mark.parametrize("settings", [
    {"analyzer": "char_wb", "ngram_range": (2, 4), "min_df": 2, "max_features": 40},
    {"ngram_range": (1, 2), "min_df": 2},
    {"ngram_range": (1, 2)},
])
def test_the_faster_vectorizer_learns_what_scikit_learn_learns(settings: dict) -> None:
    texts, _ = examples()
    texts = [*texts, "  Odd   spacing,\tTabs and a\nnewline ", "a", "ÉSTA ES UNA PRUEBA é"]
    ours = _TfidfVectorizer(sublinear_tf=True, **settings)
    theirs = TfidfVectorizer(sublinear_tf=True, **settings)
    mine, reference = ours.fit_transform(texts), theirs.fit_transform(texts)
    assert ours.vocabulary_ == theirs.vocabulary_
    assert np.array_equal(ours.idf_, theirs.idf_)
    for part in ("indptr", "indices", "data"):  # the same matrix, to the bit and in order
        assert np.array_equal(getattr(mine, part), getattr(reference, part))
    unseen = ["how much for one", "zzz qqq"]
    assert (ours.transform(unseen) != theirs.transform(unseen)).nnz == 0


def _same_tfidf(mine, reference) -> None:  # type: ignore[no-untyped-def]
    """The same matrix, entries compared in column order (rows may list them in another)."""
    mine, reference = mine.copy(), reference.copy()
    mine.sort_indices()
    reference.sort_indices()
    assert np.array_equal(mine.indptr, reference.indptr)
    assert np.array_equal(mine.indices, reference.indices)
    assert np.allclose(mine.data, reference.data, rtol=1e-12, atol=0)


@pytest.mark.parametrize("settings", [
    {"analyzer": "char_wb", "ngram_range": (2, 4), "min_df": 2, "max_features": 40},
    {"ngram_range": (1, 2), "min_df": 2},
    {"ngram_range": (1, 2)},
])
def test_counts_kept_between_trainings_learn_what_scikit_learn_learns(
    settings: dict, tmp_path: Path
) -> None:
    # A retraining reads the n-gram counts of the texts it has met before from the file and
    # analyses only the new ones; what it learns must not depend on what the file held.
    from clinic_nlp.term_counts import TermCountStore

    texts, _ = examples()
    texts = [*texts, "  Odd   spacing,\tTabs and a\nnewline ", "a", "ÉSTA ES UNA PRUEBA é"]
    kept = tmp_path / "term-counts.pickle"
    edited = [*texts[5:], "a brand new example about zebras", texts[0]]
    expected = [set(texts), {"a brand new example about zebras"}, set()]
    for training, analysed_then in zip((texts, edited, edited), expected, strict=True):
        store = TermCountStore(kept)  # as a new training process would
        analysed: List[str] = []
        ours = _TfidfVectorizer(sublinear_tf=True, **settings)
        analyze = ours.build_analyzer()
        def counted(text: str, seen: List[str] = analysed, plain=analyze) -> List[str]:  # type: ignore[no-untyped-def]
            seen.append(text)
            return plain(text)

        ours.build_analyzer = lambda counted=counted: counted  # type: ignore[method-assign]
        ours.term_counts = store
        mine = ours.fit_transform(training)
        store.save()
        theirs = TfidfVectorizer(sublinear_tf=True, **settings)
        reference = theirs.fit_transform(training)
        assert ours.vocabulary_ == theirs.vocabulary_
        assert np.array_equal(ours.idf_, theirs.idf_)
        _same_tfidf(mine, reference)
        assert set(analysed) == analysed_then and len(analysed) == len(analysed_then)
    kept.write_bytes(b"not a pickle")  # an unreadable file: counted afresh, same result
    ours = _TfidfVectorizer(sublinear_tf=True, **settings)
    ours.term_counts = TermCountStore(kept)
    _same_tfidf(ours.fit_transform(edited), TfidfVectorizer(sublinear_tf=True, **settings)
                .fit_transform(edited))


def test_a_visitors_message_is_scored_as_scikit_learn_scores_it() -> None:
    # A few texts (a message and its sentences) are scored without building the feature
    # matrix; the probabilities must be scikit-learn's, or the thresholds would mean something
    # else at parse time than in the cross-validation that chose them.
    texts, labels = examples()
    random = np.random.default_rng(0)  # sentence vectors that count in the scores too
    model = IntentModel()
    model.fit(texts, random.normal(size=(len(texts), 384)).astype(np.float32), labels)
    messages = ["How much is ONE infusion?? 😅", "is it FDA approved", "hi", "zzz", "",
                "price of the fda approved one, hello"]
    vectors = random.normal(size=(len(messages), 384)).astype(np.float32)
    fast = model.predict_proba(messages, vectors)
    slow = model._model.predict_proba(model._features.transform(messages * 10,
                                                                np.vstack([vectors] * 10)))
    assert fast.shape == (len(messages), 3)
    assert np.allclose(fast, slow[: len(messages)], rtol=0, atol=1e-12)


def test_a_stored_model_reads_back_as_saved_and_older_models_still_load(tmp_path) -> None:
    import joblib
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource

    from clinic_nlp.stored import load_or_none, save

    storage = LocalModelStorage(tmp_path)
    value = {"weights": np.arange(6.0).reshape(2, 3), "labels": ["faq/speed", "greet"]}
    save(storage, Resource("new"), "model.pickle", value)
    loaded = load_or_none(storage, Resource("new"), "model.pickle")
    assert loaded["labels"] == value["labels"]
    assert np.array_equal(loaded["weights"], value["weights"])
    with storage.write_to(Resource("old")) as directory:  # a model trained before 2026-12-07
        joblib.dump(value, directory / "model.joblib")
    assert load_or_none(storage, Resource("old"), "model.joblib")["labels"] == value["labels"]
    assert load_or_none(storage, Resource("never-trained"), "model.pickle") is None


def test_a_yes_that_names_booking_is_a_booking_when_the_two_are_close() -> None:
    from clinic_nlp.intent_classifier import merge_close
    from clinic_nlp.text_models import Ranked

    pairs = [["affirm", "book_consultation"]]
    close = [Ranked("affirm", 0.5), Ranked("book_consultation", 0.47), Ranked("faq", 0.03)]
    merged = merge_close(close, pairs, 0.1)
    assert [r.name for r in merged] == ["book_consultation", "faq"]
    assert merged[0].confidence == pytest.approx(0.97)
    clear_yes = [Ranked("affirm", 0.9), Ranked("book_consultation", 0.08)]
    assert merge_close(clear_yes, pairs, 0.1) == clear_yes
    other_pair = [Ranked("affirm", 0.5), Ranked("deny", 0.48)]
    assert merge_close(other_pair, pairs, 0.1) == other_pair


def test_sentence_vectors_become_the_sparse_rows_scipy_makes_of_them() -> None:
    import scipy.sparse as sp

    from clinic_nlp.text_models import _dense_rows

    vectors = np.random.default_rng(0).normal(size=(50, 7)).astype(np.float32)
    vectors[3] = 0  # a text without a sentence vector
    vectors[5, 2] = 0
    for array in (vectors * 1.5, vectors[:0], vectors[:, :0]):
        mine, reference = _dense_rows(array), sp.csr_matrix(array.astype(np.float64))
        assert mine.shape == reference.shape and mine.dtype == reference.dtype
        for part in ("indptr", "indices", "data"):
            assert np.array_equal(getattr(mine, part), getattr(reference, part))
