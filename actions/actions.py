"""The actions the action server serves; start-up checks the clinic's settings first.

`rasa run actions` imports every module of this package. Importing this one loads
`settings/clinic.yml` and stops the server with a one-line message naming the setting if
it is missing or malformed, rather than sending broken replies later.
"""

import logging
import sys

from actions.crisis import ActionCrisisContact
from actions.did_you_mean import ActionDidYouMean
from actions.faq_follow_up import ActionFaqFollowUp
from actions.handoff import ActionHandoff
from actions.settings import SettingsError, load_settings, settings_path

__all__ = ["ActionCrisisContact", "ActionDidYouMean", "ActionFaqFollowUp", "ActionHandoff"]

logger = logging.getLogger(__name__)


def check_settings_at_start_up() -> None:
    """Exit with a clear message if the settings file is unusable; warn on placeholders."""
    try:
        settings = load_settings()
    except SettingsError as error:
        logger.error("Cannot start the action server: %s", error)
        print(f"error: cannot start the action server: {error}", file=sys.stderr)
        sys.exit(1)
    for warning in settings.warnings():
        logger.warning(warning)
    logger.info("Clinic settings loaded from %s", settings_path())


check_settings_at_start_up()
