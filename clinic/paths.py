"""Where the project's files are, computed once: the project folder and its well-known files.

The project is not an installed package; it runs from its folder (README.md), which is the
parent of this package.
"""

from __future__ import annotations

from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent

SETTINGS_DIR = PROJECT_DIR / "settings"
CLINIC_SETTINGS_FILE = SETTINGS_DIR / "clinic.yml"
FAQ_TOPICS_FILE = SETTINGS_DIR / "faq_topics.yml"
LANGUAGES_FILE = SETTINGS_DIR / "languages.yml"
DOMAIN_FILE = PROJECT_DIR / "domain.yml"
CONFIG_FILE = PROJECT_DIR / "config.yml"
DATA_DIR = PROJECT_DIR / "data"
PATTERNS_DIR = PROJECT_DIR / "patterns"
BUILD_DIR = PROJECT_DIR / "build"
MODEL_PATH = PROJECT_DIR / "models" / "clinic.tar.gz"
REPORTS_DIR = PROJECT_DIR / "reports"
VENV_BIN = PROJECT_DIR / ".venv" / "bin"
