"""The staff console: web pages where clinic staff review, teach, test and publish the assistant.

    python -m staff_console                          # make run starts it on 127.0.0.1:8090
    python -m staff_console.accounts add NAME        # make console-user NAME=...: an account

A Sanic application (`app.create_app`) with server-rendered Jinja2 pages, its own CSS and one
small script, no CDN and no build step. It stands on the domain core and the staff tools and
repeats none of them:

- `accounts`, `sessions`, `throttle`, `db`: argon2 password hashes, server-side sessions that
  expire, slowed-down password guessing, in one SQLite file (CONSOLE_DB, var/console.sqlite);
- `app`: the guard every request passes (signed in, CSRF token, host name) and the headers;
- `pages/`: one blueprint per section: `topics` (staff_tools.training_data edits, checked by
  staff_tools.check_data, committed by staff_tools.history), `inbox` (staff_tools.inbox),
  `dashboard` (staff_tools.dashboard), `publish` (staff_tools.publish, in a thread: `jobs`),
  `history` (staff_tools.history), `auth`, `home`;
- `templates/`, `static/`: the pages, the CSS and the script.

Nothing here logs a visitor's or a staff member's text: request lines name the method, path
and status only.
"""
