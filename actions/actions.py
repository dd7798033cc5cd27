"""The actions the action server serves; start-up checks the clinic's settings and topics.

`rasa run actions` imports every module of this package. Importing this one loads
`settings/clinic.yml`, `settings/faq_topics.yml` and `settings/languages.yml` and raises
`StartUpError` naming the setting, topic or text if one is missing or malformed, rather than
sending broken replies later.
Importing never ends the process itself: a caller may catch the error; if none does, the
process stops with the one-line message (no traceback), as `rasa run actions` should.
"""

import logging
import sys
from types import TracebackType
from typing import Optional, Type

from actions.crisis import ActionCrisisContact, ActionCrisisQuestion
from actions.did_you_mean import ActionDidYouMean
from actions.faq_follow_up import ActionFaqFollowUp, ActionFaqPhoneOnly
from actions.handoff import ActionHandoff
from actions.other_language import ActionOtherLanguage, ActionOtherLanguagePhoneOnly
from clinic.paths import FAQ_TOPICS_FILE, LANGUAGES_FILE
from clinic.settings import SettingsError, load_settings, settings_path
from clinic.topics import TopicsError, current_topics
from clinic.wording import LanguagesError, current_languages

__all__ = [
    "ActionCrisisContact", "ActionCrisisQuestion", "ActionDidYouMean", "ActionFaqFollowUp",
    "ActionFaqPhoneOnly", "ActionHandoff", "ActionOtherLanguage",
    "ActionOtherLanguagePhoneOnly",
    "StartUpError", "check_settings_at_start_up",
]

logger = logging.getLogger(__name__)


class StartUpError(RuntimeError):
    """The action server cannot start: a setting or FAQ topic is missing or malformed."""


def _report_start_up_error(
    kind: Type[BaseException], error: BaseException, trace: Optional[TracebackType]
) -> None:
    """An uncaught `StartUpError` ends the process with its message only; others as usual."""
    if issubclass(kind, StartUpError):
        print(f"error: {error}", file=sys.stderr)
    else:
        _previous_excepthook(kind, error, trace)


_previous_excepthook = sys.excepthook


def check_settings_at_start_up() -> None:
    """Raise `StartUpError` if the settings or topics are unusable; warn on placeholders."""
    global _previous_excepthook
    try:
        settings = load_settings()
        current_topics()
        current_languages()
    except (SettingsError, TopicsError, LanguagesError) as error:
        logger.error("Cannot start the action server: %s", error)
        if sys.excepthook is not _report_start_up_error:
            _previous_excepthook, sys.excepthook = sys.excepthook, _report_start_up_error
        raise StartUpError(f"cannot start the action server: {error}") from None
    for warning in settings.warnings():
        logger.warning(warning)
    logger.info("Clinic settings loaded from %s, FAQ topics from %s, languages from %s",
                settings_path(), FAQ_TOPICS_FILE, LANGUAGES_FILE)


check_settings_at_start_up()
