"""Where the staff-edited files are, and the names and limits the checks share."""

# With fewer examples than this the model cannot reliably tell a topic or intent from its
# neighbours (every topic and intent of the project has more than twice as many).
MIN_EXAMPLES = 10

FAQ_INTENT = "faq"
FAQ_ANSWER_PREFIX = "utter_faq/"
NLU_GLOB = "data/nlu/*.yml"
STORY_GLOBS = ("data/rules/*.yml", "data/stories/*.yml", "tests/test_stories.yml")
OTHER_YAML_GLOBS = ("patterns/*.yml", "config.yml", "tests/heldout/crisis_heldout*.yml")
HELDOUT_NLU_GLOB = "tests/heldout/nlu_heldout*.yml"
DOMAIN_FILE = "domain.yml"
TOPICS_FILE = "settings/faq_topics.yml"
LANGUAGES_FILE = "settings/languages.yml"
SETTINGS_FILE = "settings/clinic.yml"
GUIDE = "docs/staff-guide.md"
