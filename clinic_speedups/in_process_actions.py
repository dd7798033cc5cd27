"""The action endpoint, except that the actions it names run inside the Rasa server's process.

Every FAQ answer ends with a custom action (`action_faq_follow_up`), and Rasa calls the action
server for it: the conversation serialised to JSON, a new HTTP connection (Rasa's
`EndpointConfig.request` opens a client session per call), the action server's own Sanic
request, the reply parsed back, on every such turn and on both cores' worth of processes.
Listed under `action_endpoint` in `endpoints.yml`:

    action_endpoint:
      url: ${ACTION_ENDPOINT_URL}
      run_in_process: [action_faq_follow_up, action_faq_phone_only]

those actions are run by rasa-sdk's own `ActionExecutor` in the Rasa server's process, from
the same action call Rasa would send (`RemoteAction._action_call_format`), and their reply goes
back through the same checks (`_validate_action_result`) and the same rendering of responses
as a reply read from the action server. Every other action still goes to `url`. A plain
`rasa run` ignores the key and sends every action to the action server, as before.

What a visitor notices: nothing, except that the follow-up after an FAQ answer still comes
when the action server is down. An action that fails here fails the turn as a failing action
server does (`RasaException`, logged by Rasa's processor without the message text).

Installed by `clinic_speedups` through `clinic_server.rasa_internals` (item 12): Rasa reads
the endpoints file in `AvailableEndpoints.read_endpoints`, and the action endpoint found there
is made an `InProcessActionEndpoint` when it names actions to run in process.
"""

from __future__ import annotations

import logging
from typing import Any, Dict, FrozenSet, Iterable, Optional

from rasa.shared.exceptions import RasaException
from rasa.utils.endpoints import EndpointConfig

logger = logging.getLogger(__name__)

# The key under `action_endpoint` in endpoints.yml: the names of the actions to run in process.
RUN_IN_PROCESS_KEY = "run_in_process"
# The package the action server runs (`rasa run actions --actions actions`).
ACTIONS_PACKAGE = "actions"


class InProcessActionsError(RasaException):
    """endpoints.yml names an action to run in process that the actions package lacks."""


class InProcessActionEndpoint(EndpointConfig):
    """Rasa's action endpoint; calls for the actions named run in this process instead."""

    def __init__(
        self,
        *args: Any,
        run_in_process: Iterable[str] = (),
        actions_package: str = ACTIONS_PACKAGE,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        from rasa_sdk.executor import ActionExecutor

        self.in_process: FrozenSet[str] = frozenset(run_in_process)
        self._executor = ActionExecutor()
        self._executor.register_package(actions_package)
        unknown = sorted(self.in_process - set(self._executor.actions))
        if unknown:
            raise InProcessActionsError(
                f"endpoints.yml, action_endpoint, {RUN_IN_PROCESS_KEY}: no action named "
                f"{', '.join(unknown)} in the package '{actions_package}'. Name actions the "
                "package defines (their name() in actions/), or remove the line."
            )

    @classmethod
    def from_endpoint(cls, endpoint: EndpointConfig) -> EndpointConfig:
        """`endpoint` itself, or an `InProcessActionEndpoint` if it names actions to run here."""
        kwargs = dict(endpoint.kwargs)
        names = kwargs.pop(RUN_IN_PROCESS_KEY, None)
        if not names:
            return endpoint
        if not isinstance(names, list | tuple) or not all(isinstance(n, str) for n in names):
            raise InProcessActionsError(
                f"endpoints.yml, action_endpoint, {RUN_IN_PROCESS_KEY}: expected a list of "
                f"action names, e.g. [action_faq_follow_up], got {names!r}."
            )
        if endpoint.type is not None:
            kwargs["type"] = endpoint.type
        return cls(
            url=endpoint.url, params=endpoint.params, headers=endpoint.headers,
            basic_auth=endpoint.basic_auth, token=endpoint.token,
            token_name=endpoint.token_name, cafile=endpoint.cafile,
            run_in_process=names, **kwargs,
        )

    def action_to_run_here(self, method: str, subpath: Optional[str], call: Any) -> Optional[str]:
        """The name of the action `call` asks for, if it is one this process runs."""
        if method.lower() != "post" or subpath or not isinstance(call, dict):
            return None
        name = call.get("next_action")
        return name if name in self.in_process else None

    async def request(
        self,
        method: str = "post",
        subpath: Optional[str] = None,
        content_type: Optional[str] = "application/json",
        compress: bool = False,
        **kwargs: Any,
    ) -> Optional[Any]:
        """The action server's reply to a call: computed here for the actions named."""
        call = kwargs.get("json")
        name = self.action_to_run_here(method, subpath, call)
        if name is None or not isinstance(call, dict):
            return await super().request(method, subpath, content_type, compress, **kwargs)
        return await self.run_action(name, call)

    async def run_action(self, name: str, call: Dict[str, Any]) -> Dict[str, Any]:
        """Run `name` as the action server would, and answer what it would answer."""
        from rasa_sdk.interfaces import ActionExecutionRejection

        from clinic_server.rasa_internals import action_rejection

        try:
            reply = await self._executor.run(call)
        except ActionExecutionRejection as rejection:  # the action server's 400
            raise action_rejection(rejection.action_name, rejection.message) from None
        except Exception as error:  # the action server's 500
            logger.error("The action '%s' failed in process: %s", name, type(error).__name__)
            raise RasaException(f"Failed to execute custom action '{name}'") from error
        return reply or {"events": [], "responses": []}
