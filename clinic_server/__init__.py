"""Code the Rasa server loads: the masking tracker store (endpoints.yml) and the chat channel."""
