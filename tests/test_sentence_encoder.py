"""The sentence encoder (MiniLM, int8 weights, ONNX Runtime) keeps the pretrained meaning."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from clinic.paths import PROJECT_DIR
from clinic_nlp.sentence_embeddings import EmbeddingCache, shared_encoder

MODEL = str(PROJECT_DIR / "build" / "minilm")
TEXTS = [
    "hi", "how long does the relief last", "Is ketamine safe with my SSRIs??",
    "Me duele mucho el pecho desde que salí de la clínica y no puedo respirar bien.",
    "word " * 300,  # cut at 128 tokens
]


@pytest.fixture(scope="module")
def reference() -> np.ndarray:
    """all-MiniLM-L6-v2 as transformers runs it: mean of the token vectors, unit length."""
    import tensorflow as tf
    from transformers import AutoTokenizer, TFBertModel

    tokenizer = AutoTokenizer.from_pretrained(MODEL)
    model = TFBertModel.from_pretrained(MODEL)
    rows = []
    for text in TEXTS:
        tokens = tokenizer([text], truncation=True, max_length=128, return_tensors="tf")
        hidden = model(**tokens).last_hidden_state[0]
        mean = tf.reduce_mean(hidden, axis=0).numpy()
        rows.append(mean / np.linalg.norm(mean))
    return np.array(rows)


def test_vectors_are_close_to_the_float32_models(reference: np.ndarray) -> None:
    ours = shared_encoder(MODEL).embed(TEXTS)
    assert ours.dtype == np.float32 and ours.shape == reference.shape
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    assert (ours * reference).sum(axis=1).min() > 0.97  # cosine; mean 0.993 on dev messages


def test_a_text_gets_the_same_vector_whatever_it_is_embedded_with() -> None:
    """A training example and the same words typed by a visitor: the same vector."""
    encoder = shared_encoder(MODEL)
    together = encoder.embed(TEXTS)
    for text, vector in zip(TEXTS, together, strict=True):
        assert np.array_equal(encoder._model.embed([text])[0], vector)


def test_the_cache_embeds_a_text_once(tmp_path: Path) -> None:
    cache = EmbeddingCache(str(tmp_path / "cache.sqlite"), MODEL)
    vectors = cache.embed(TEXTS[:2])
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert np.array_equal(cache.embed(TEXTS[:2]), vectors)  # now from the cache
