"""`python -m staff_tools.check_data`: check the project's data and say what to fix."""

import sys

from staff_tools.check_data.command import main

sys.exit(main())
