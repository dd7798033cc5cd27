"""How a message and its sentences are grouped into calls of the sentence model."""

from __future__ import annotations

from clinic_nlp.sentence_embeddings import CALL_COST_IN_TOKENS, PLANNED_UP_TO, batches


def padded_cost(lengths: list, groups: list) -> int:
    return sum(CALL_COST_IN_TOKENS + (end - start) * lengths[end - 1] for start, end in groups)


def test_a_long_message_goes_alone_and_its_short_sentences_together() -> None:
    lengths = [12, 14, 15, 18, 20, 110]  # sorted token counts: five sentences, the message
    groups = batches(lengths, batch_size=64)
    assert groups == [(0, 5), (5, 6)]
    assert padded_cost(lengths, groups) < padded_cost(lengths, [(0, 6)])


def test_texts_of_similar_length_share_one_call() -> None:
    assert batches([9, 11, 12, 14], batch_size=64) == [(0, 4)]
    assert batches([5], batch_size=64) == [(0, 1)]


def test_every_text_is_in_exactly_one_group() -> None:
    lengths = sorted([3, 40, 41, 7, 90, 8, 60, 12, 128, 2])
    groups = batches(lengths, batch_size=64)
    covered = [i for start, end in groups for i in range(start, end)]
    assert covered == list(range(len(lengths)))


def test_training_batches_are_of_the_batch_size() -> None:
    lengths = list(range(PLANNED_UP_TO + 100))
    groups = batches(lengths, batch_size=64)
    assert groups[0] == (0, 64) and groups[-1] == (128, len(lengths))
