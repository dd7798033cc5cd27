"""The clinic's domain core: the facts every part of the assistant shares.

Settings (`clinic.settings`), FAQ topics (`clinic.topics`), the booking and phone buttons
(`clinic.buttons`), what a phone number looks like (`clinic.phone`), how a parse result names
its answer (`clinic.parse_result`), the names of the table of link clicks the Rasa server
writes and the staff tools read (`clinic.link_clicks`), where the project's files are
(`clinic.paths`) and how the servers are started, with the one table of their defaults
(`clinic.launcher`).
Plain Python and PyYAML only: it never imports rasa or rasa_sdk, so any process (the action
server, the Rasa server's extensions, staff tools, the widget server, tests) can use it
cheaply. See docs/architecture.md.
"""
