"""The NumPy MiniLM gives TensorFlow's vectors, and training embeds a few new texts with it."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from clinic.paths import PROJECT_DIR
from clinic_nlp.minilm_numpy import FEW_TEXTS
from clinic_nlp.sentence_embeddings import EmbeddingCache, numpy_encoder, shared_encoder

MODEL = str(PROJECT_DIR / "build" / "minilm")
TEXTS = [
    "hi", "how long does the relief last", "Is ketamine safe with my SSRIs??",
    "Me duele mucho el pecho desde que salí de la clínica y no puedo respirar bien.",
    "word " * 300,  # cut at 128 tokens, as TensorFlow's encoder cuts it
]


def test_numpy_vectors_are_tensorflows() -> None:
    ours = numpy_encoder(MODEL).embed(TEXTS)
    theirs = shared_encoder(MODEL).embed(TEXTS)
    assert ours.dtype == np.float32 and ours.shape == theirs.shape
    assert np.abs(ours - theirs).max() < 1e-5


def test_a_few_new_texts_do_not_load_tensorflow(tmp_path: Path) -> None:
    shared_encoder.cache_clear()
    cache = EmbeddingCache(str(tmp_path / "cache.sqlite"), MODEL)
    vectors = cache.embed(TEXTS[:2])
    assert shared_encoder.cache_info().currsize == 0
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert np.array_equal(cache.embed(TEXTS[:2]), vectors)  # now from the cache
    assert len(TEXTS) <= FEW_TEXTS
