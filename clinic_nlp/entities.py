"""The condition and medicine a visitor names, from the project's spaCy entity ruler.

The pipeline is built by `clinic_nlp/pipeline.py` from patterns/entities.yml. This component
replaces Rasa's `SpacyNLP` + `SpacyEntityExtractor` pair, with the same entities. `SpacyNLP`
also ran spaCy over every training example at every training (about 3 s of a retraining on
two cores) for tokens and vectors that no component of this pipeline reads: the classifiers
read the text and its MiniLM vector. This component runs the pipeline at parse time only and
has nothing to train.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Dict, List, Optional, Sequence, Tuple

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message


@lru_cache(maxsize=4)
def load_pipeline(model_path: str, exclude: Tuple[str, ...] = ()) -> Any:
    """The project's spaCy pipeline at `model_path`, loaded once per process and `exclude`."""
    import spacy

    return spacy.load(model_path, exclude=list(exclude))


def entities_in(doc: Any, dimensions: Optional[Sequence[str]]) -> List[Dict[str, Any]]:
    """The entity ruler's spans of `doc` as Rasa entities, only the labels in `dimensions`."""
    return [
        {"entity": span.label_, "value": span.text, "start": span.start_char,
         "end": span.end_char, "confidence": None}
        for span in doc.ents
        if not dimensions or span.label_ in dimensions
    ]


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=False)
class ClinicEntityExtractor(GraphComponent, EntityExtractorMixin):
    """Adds the entity ruler's `condition` and `medicine` entities to each message."""

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        """The spaCy pipeline's folder and the entity labels to keep (None: all)."""
        return {"spacy_model": "build/spacy/clinic_en", "dimensions": None}

    def __init__(self, config: Dict[str, Any]) -> None:
        self._dimensions = config["dimensions"]
        self._nlp = load_pipeline(config["spacy_model"])

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> ClinicEntityExtractor:
        """The extractor, with the pipeline loaded (a missing pipeline fails here)."""
        return cls(config)

    def process(self, messages: List[Message]) -> List[Message]:
        """Add the entities found in each message's text."""
        for message in messages:
            text = message.get(TEXT)
            if not text:
                continue
            found = self.add_extractor_name(entities_in(self._nlp(text), self._dimensions))
            message.set(ENTITIES, message.get(ENTITIES, []) + found, add_to_output=True)
        return messages
