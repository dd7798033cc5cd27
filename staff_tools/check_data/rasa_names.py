"""Rasa's built-in intents and actions, and the keys a rule or a story may have.

The built-in names come from Rasa itself (`rasa.shared.core.constants`, which costs a few
hundredths of a second to import). The keys of a rule or story are Rasa's too, but the module
that defines them (`rasa.shared.core.training_data.story_reader.yaml_story_reader`) loads
much of Rasa, about 0.3 s: they are written here, and `tests/test_check_data.py` checks them
against Rasa's.
"""

from rasa.shared.core.constants import DEFAULT_ACTION_NAMES, DEFAULT_INTENTS

# Intents and actions rules and stories may use without declaring them in the domain.
RASA_INTENTS = frozenset(DEFAULT_INTENTS)
RASA_ACTIONS = frozenset(DEFAULT_ACTION_NAMES)

RULE_KEYS = frozenset({"rule", "steps", "condition", "conversation_start",
                       "wait_for_user_input", "metadata"})
STORY_KEYS = frozenset({"story", "steps", "metadata"})
