"""Build the project's spaCy pipeline: blank English, lookup lemmatizer, entity ruler.

spaCy's pretrained English models cannot be downloaded on the clinic's servers, so the
pipeline is built here from packages on PyPI. `clinic_nlp.entities` (entities) and
`clinic_nlp.crisis_rules` (lemmas) load it from `PIPELINE_DIR`.

    python -m clinic_nlp.pipeline          # build if the patterns changed
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path
from typing import Any, Dict, List

from clinic.paths import PROJECT_DIR
from clinic.yaml_file import read_yaml

PATTERNS_DIR = PROJECT_DIR / "patterns"
ENTITY_PATTERNS_FILE = PATTERNS_DIR / "entities.yml"
# config.yml names this directory; Rasa caches the model by this name, so `make train`
# retrains with --force whenever the fingerprint below changes.
PIPELINE_DIR = PROJECT_DIR / "build" / "spacy" / "clinic_en"
FINGERPRINT_FILE = "clinic_fingerprint.txt"


class PatternFileError(ValueError):
    """A patterns file that cannot be used, with a message staff can act on."""


def load_entity_patterns(path: Path = ENTITY_PATTERNS_FILE) -> List[Dict[str, Any]]:
    """Read `label -> canonical name -> phrases` into spaCy EntityRuler patterns."""
    data = read_yaml(path, PatternFileError)
    if not isinstance(data, dict):
        raise PatternFileError(f"{path}: expected entity labels such as 'condition:' at the top")
    patterns = []
    for label, groups in data.items():
        if not isinstance(groups, dict):
            raise PatternFileError(f"{path}: '{label}' must list names with their phrases")
        for canonical, phrases in groups.items():
            if not isinstance(phrases, list) or not all(isinstance(p, str) for p in phrases):
                raise PatternFileError(
                    f"{path}: '{label}: {canonical}' must be a list of phrases in [brackets]"
                )
            patterns += [
                {"label": str(label), "pattern": phrase.lower(), "id": str(canonical)}
                for phrase in phrases
            ]
    return patterns


def fingerprint(paths: List[Path]) -> str:
    """Hash of this module and the pattern files: a change means rebuild and retrain.

    The crisis patterns are included: they are stored in the model at training time.
    """
    digest = hashlib.sha256()
    for path in [Path(__file__), *paths]:
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def build_pipeline(entity_patterns: List[Dict[str, Any]]) -> Any:
    """Return the clinic's spaCy `Language` (not saved)."""
    import spacy

    nlp = spacy.blank("en")
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    # LOWER so "PTSD", "Ptsd" and "ptsd" all match the same lowercase pattern.
    ruler: Any = nlp.add_pipe("entity_ruler", config={"phrase_matcher_attr": "LOWER"})
    nlp.initialize()  # loads the lemma lookup table from spacy-lookups-data
    ruler.add_patterns(entity_patterns)
    return nlp


def ensure_pipeline(output_dir: Path = PIPELINE_DIR, force: bool = False) -> bool:
    """Build and save the pipeline unless an up-to-date one exists. Return True if built."""
    current = fingerprint(sorted(PATTERNS_DIR.glob("*.yml")))
    stamp = output_dir / FINGERPRINT_FILE
    if not force and stamp.exists() and stamp.read_text().strip() == current:
        return False
    nlp = build_pipeline(load_entity_patterns())
    output_dir.mkdir(parents=True, exist_ok=True)
    nlp.to_disk(output_dir)
    stamp.write_text(current + "\n")
    return True


def main() -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true", help="rebuild even if up to date")
    args = parser.parse_args()
    try:
        built = ensure_pipeline(force=args.force)
    except PatternFileError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"spaCy pipeline {'built' if built else 'up to date'}: {PIPELINE_DIR}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
