"""The scale-out test needs the servers that scripts/scale_out_test.sh starts.

`make test-scale-out` runs it; a plain `pytest` run does not collect it (SCALE_OUT_URL unset),
so the everyday test suite needs no PostgreSQL, Redis or nginx.
"""

import os

collect_ignore = [] if os.environ.get("SCALE_OUT_URL") else ["test_scale_out.py"]
