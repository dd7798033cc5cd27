"""The SVM solver that can start from the last training's solution (clinic_nlp/dual_svm.py)."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.svm import LinearSVC

from clinic_nlp import dual_svm
from clinic_nlp.dual_svm import DualLinearSVC, Duals


def problem(count: int, rows: int = 300, seed: int = 7) -> tuple:
    rng = np.random.default_rng(seed)
    features = rng.normal(size=(rows, 20))
    labels = np.asarray([f"label{i}" for i in rng.integers(0, count, size=rows)])
    features[np.arange(rows), [int(label[-1]) for label in labels]] += 2.0
    labels[:30] = "label0"  # unbalanced, so "balanced" class weights matter
    return features, labels


@pytest.mark.parametrize("count, class_weight", [
    (5, None), (5, "balanced"), (3, "balanced"), (2, None), (2, "balanced"),
])
def test_it_learns_the_classifier_scikit_learns_liblinear_learns(
    count: int, class_weight: str
) -> None:
    features, labels = problem(count)
    plain = LinearSVC(C=0.5, class_weight=class_weight, tol=1e-6, max_iter=10000).fit(
        features, labels)
    ours = DualLinearSVC(C=0.5, class_weight=class_weight, tol=1e-6, max_iter=10000).fit(
        features, labels)
    assert list(ours.classes_) == list(plain.classes_)
    assert ours.coef_.shape == plain.coef_.shape
    assert np.allclose(ours.decision_function(features), plain.decision_function(features),
                       atol=1e-4)
    assert (ours.predict(features) == plain.predict(features)).all()


def test_sparse_rows_give_the_same_classifier_as_dense_ones() -> None:
    features, labels = problem(4)
    features[np.abs(features) < 0.8] = 0.0
    dense = DualLinearSVC(C=0.5, tol=1e-6).fit(features, labels)
    sparse = DualLinearSVC(C=0.5, tol=1e-6).fit(sp.csr_matrix(features), labels)
    assert np.allclose(dense.coef_, sparse.coef_, atol=1e-6)


def test_starting_from_the_last_solution_reaches_the_same_classifier_sooner() -> None:
    features, labels = problem(4, rows=2000)
    first = DualLinearSVC(C=0.5, tol=1e-4).fit(features[:-3], labels[:-3])
    assert first.duals_ is not None
    cold = DualLinearSVC(C=0.5, tol=1e-4).fit(features, labels)
    warm = DualLinearSVC(C=0.5, tol=1e-4)
    warm.warm_start_duals = np.hstack([first.duals_, np.zeros((4, 3))])
    warm.fit(features, labels)
    assert warm.n_iter_ < cold.n_iter_
    assert np.allclose(warm.decision_function(features), cold.decision_function(features),
                       atol=2e-3)


def test_a_start_of_the_wrong_shape_is_ignored() -> None:
    features, labels = problem(3)
    svm = DualLinearSVC(C=0.5)
    svm.warm_start_duals = np.ones((2, 5))
    svm.fit(features, labels)
    assert svm.coef_.shape == (3, 20)


def test_the_duals_are_not_saved_with_the_model() -> None:
    features, labels = problem(3)
    svm = DualLinearSVC(C=0.5).fit(features, labels)
    svm.warm_start_duals = svm.duals_
    loaded = pickle.loads(pickle.dumps(svm))
    assert loaded.duals_ is None and loaded.warm_start_duals is None
    assert np.array_equal(loaded.coef_, svm.coef_)


def test_what_it_does_not_solve_is_refused() -> None:
    features, labels = problem(3)
    with pytest.raises(ValueError, match="squared-hinge"):
        DualLinearSVC(loss="hinge").fit(features, labels)
    with pytest.raises(ValueError, match="squared-hinge"):
        DualLinearSVC().fit(features, labels, sample_weight=np.ones(len(labels)))
    with pytest.raises(ValueError, match="two labels"):
        DualLinearSVC().fit(features, np.asarray(["a"] * len(labels)))


def test_kept_duals_start_each_row_and_label_from_its_last_value() -> None:
    kept = Duals(("intent",), ["a", "b"], np.array([30, 10, 20], dtype=np.uint64),
                 np.array([[3.0, 1.0, 2.0], [0.3, 0.1, 0.2]]))
    start = kept.start(["b", "new", "a"], np.array([10, 99, 30], dtype=np.uint64))
    assert start.tolist() == [[0.1, 0.0, 0.3], [0.0, 0.0, 0.0], [1.0, 0.0, 3.0]]


def test_the_kept_duals_of_other_settings_are_not_used(tmp_path: Path) -> None:
    path = tmp_path / "intent.duals.joblib"
    duals = Duals(("intent", 0.5), ["a"], np.array([1], dtype=np.uint64), np.ones((1, 1)))
    dual_svm.write_duals(path, duals)
    assert dual_svm.read_duals(path, ("intent", 0.5)) is not None
    assert dual_svm.read_duals(path, ("intent", 1.0)) is None
    path.write_bytes(b"not a pickle")
    assert dual_svm.read_duals(path, ("intent", 0.5)) is None


def test_without_a_compiler_the_build_says_what_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "dual_cd.c"
    source.write_text(dual_svm.SOURCE.read_text() + "\n/* changed */\n")
    monkeypatch.setattr(dual_svm, "SOURCE", source)
    monkeypatch.setattr(dual_svm, "LIBRARY_DIR", tmp_path / "native")
    monkeypatch.delenv("CC", raising=False)
    monkeypatch.setattr(dual_svm.shutil, "which", lambda name: None)
    with pytest.raises(dual_svm.NativeBuildError, match="install gcc"):
        dual_svm._compiled()


def test_a_source_that_does_not_compile_gives_the_compiler_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "dual_cd.c"
    source.write_text("this is not C\n")
    monkeypatch.setattr(dual_svm, "SOURCE", source)
    monkeypatch.setattr(dual_svm, "LIBRARY_DIR", tmp_path / "native")
    with pytest.raises(dual_svm.NativeBuildError, match="compiling dual_cd.c failed"):
        dual_svm._compiled()
    assert not list((tmp_path / "native").glob("*.tmp"))


def test_scoring_a_message_reads_the_weights_without_copying_them() -> None:
    rng = np.random.default_rng(3)
    features = rng.normal(size=(120, 10))
    for labels in (rng.integers(0, 4, size=120), rng.integers(0, 2, size=120)):
        svm = DualLinearSVC(C=0.5).fit(features, labels.astype(str))
        # SciPy multiplies a sparse message by coef_.T without a copy only when it is C-ordered.
        assert svm.coef_.T.flags["C_CONTIGUOUS"]
