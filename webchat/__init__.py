"""The clinic chat widget: static files, a demo page and its small server (serve.py)."""
