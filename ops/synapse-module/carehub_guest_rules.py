"""CareHub's rules for case guests, as a Synapse module (Synapse docs: "Modules", spam checker callbacks).

A case guest (a relative, or the person themself) gets an account from a one-time link; the hub
names it @guest-<random>:<server>. This module keeps every such account to the rooms the hub
invites it to: it may not create a room (so no direct chats either), invite anyone, join a room
it was not invited to, publish a room or make an alias. Other accounts are not affected.

Load it with, in homeserver.yaml:

    modules:
      - module: carehub_guest_rules.CareHubGuestRules
        config:
          guest_localpart_prefix: "guest-"

and this file on Synapse's Python path (ops/stack/synapse.sh does both for the dev stack).
"""

from synapse.module_api import NOT_SPAM, ModuleApi
from synapse.module_api.errors import Codes


class CareHubGuestRules:
    def __init__(self, config: dict, api: ModuleApi):
        self._prefix = "@" + str(config.get("guest_localpart_prefix", "guest-"))
        api.register_spam_checker_callbacks(
            user_may_create_room=self.user_may_create_room,
            user_may_invite=self.user_may_invite,
            user_may_send_3pid_invite=self.user_may_send_3pid_invite,
            user_may_join_room=self.user_may_join_room,
            user_may_create_room_alias=self.user_may_create_room_alias,
            user_may_publish_room=self.user_may_publish_room,
        )

    @staticmethod
    def parse_config(config: dict) -> dict:
        prefix = config.get("guest_localpart_prefix", "guest-")
        if not isinstance(prefix, str) or not prefix:
            raise ValueError("carehub_guest_rules: guest_localpart_prefix must be a non-empty string")
        return config

    def _is_guest(self, user_id: str) -> bool:
        return user_id.startswith(self._prefix)

    async def user_may_create_room(self, user_id: str, *args):
        return Codes.FORBIDDEN if self._is_guest(user_id) else NOT_SPAM

    async def user_may_invite(self, inviter: str, invitee: str, room_id: str):
        return Codes.FORBIDDEN if self._is_guest(inviter) else NOT_SPAM

    async def user_may_send_3pid_invite(self, inviter: str, medium: str, address: str, room_id: str):
        return Codes.FORBIDDEN if self._is_guest(inviter) else NOT_SPAM

    async def user_may_join_room(self, user_id: str, room_id: str, is_invited: bool):
        return Codes.FORBIDDEN if self._is_guest(user_id) and not is_invited else NOT_SPAM

    async def user_may_create_room_alias(self, user_id: str, room_alias):
        return Codes.FORBIDDEN if self._is_guest(user_id) else NOT_SPAM

    async def user_may_publish_room(self, user_id: str, room_id: str):
        return Codes.FORBIDDEN if self._is_guest(user_id) else NOT_SPAM
