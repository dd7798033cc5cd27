"""Custom actions of the clinic's assistant, served by `rasa run actions`."""
