"""The clinic's own spaCy pipeline and custom Rasa NLU components."""
