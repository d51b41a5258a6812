"""A GP's Matrix client on matrix-nio + libolm: an E2EE implementation independent of matrix-js-sdk.

Run with the Synapse root's python3 (Debian sid: python3-matrix-nio, python3-olm) through
ops/lib/nio-gp-client.ts. It logs in with a password (a new device), keeps its olm store in the
given folder, syncs, joins every room it is invited to, and speaks JSON lines:

  stdin, one command a line:  {"id": 1, "cmd": "say", ...}
  stdout, the answer:         {"id": 1, "ok": true, "result": {...}} | {"id": 1, "ok": false, "error": "..."}
  stdout, pushed as it syncs: {"ready": {...}} {"joined": {...}} {"event": {...}}
                              {"undecryptable": {...}} {"withheld": {...}}

Commands: device, say, react, mark_read, download, stop. Logs go to stderr and never hold
message bodies.
"""

import argparse
import asyncio
import base64
import json
import sys
import urllib.parse

from nio import (
    AsyncClient,
    AsyncClientConfig,
    LoginResponse,
    MegolmEvent,
    RoomSendResponse,
    SyncResponse,
    UnknownToDeviceEvent,
)
from nio.api import ReceiptType
from nio.crypto.attachments import decrypt_attachment
from nio.exceptions import EncryptionError

# Both the spec's name and the unstable one older senders use.
WITHHELD_TYPES = ("m.room_key.withheld", "org.matrix.room_key.withheld")
SYNC_TIMEOUT_MS = 10_000


def emit(message: dict) -> None:
    sys.stdout.write(json.dumps(message, separators=(",", ":")) + "\n")
    sys.stdout.flush()


def log(message: str) -> None:
    print(f"[nio-gp] {message}", file=sys.stderr, flush=True)


def event_line(room_id: str, event) -> dict:
    """What a decrypted (or plain) timeline event looks like on the wire: its decrypted type and content."""
    source = event.source or {}
    return {
        "type": source.get("type"),
        "sender": event.sender,
        "room_id": room_id,
        "event_id": event.event_id,
        "origin_server_ts": event.server_timestamp,
        "encrypted": bool(getattr(event, "decrypted", False)),
        # nio's class for it: an encrypted m.file is RoomEncryptedFile, not RoomMessageFile.
        "nio_class": type(event).__name__,
        "content": source.get("content", {}),
    }


class NioGp:
    def __init__(self, homeserver: str, user_id: str, password: str, store: str, device_name: str):
        config = AsyncClientConfig(encryption_enabled=True, store_sync_tokens=True)
        self.client = AsyncClient(homeserver, user_id, store_path=store, config=config)
        self.password = password
        self.device_name = device_name
        # Events whose Megolm key has not arrived (yet): tried again after every sync, as a
        # client retries when a late key comes in.
        self.pending: dict[str, tuple[str, MegolmEvent]] = {}
        self.crypto_lock = asyncio.Lock()
        self.stopping = asyncio.Event()

    async def login(self) -> None:
        response = await self.client.login(self.password, device_name=self.device_name)
        if not isinstance(response, LoginResponse):
            raise RuntimeError(f"login failed: {response}")
        await self.crypto_housekeeping()

    async def crypto_housekeeping(self) -> None:
        """What nio's sync_forever does between syncs: device keys, key queries, Olm sessions, to-device."""
        async with self.crypto_lock:
            if self.client.should_upload_keys:
                await self.client.keys_upload()
            if self.client.should_query_keys:
                await self.client.keys_query()
            if self.client.should_claim_keys:
                await self.client.keys_claim(self.client.get_users_for_key_claiming())
            await self.client.send_to_device_messages()

    async def sync_forever(self) -> None:
        first = True
        while not self.stopping.is_set():
            response = await self.client.sync(timeout=0 if first else SYNC_TIMEOUT_MS, full_state=first)
            if not isinstance(response, SyncResponse):
                log(f"sync failed: {type(response).__name__}")
                await asyncio.sleep(1)
                continue
            await self.handle_sync(response)
            await self.crypto_housekeeping()
            if first:
                first = False
                emit({"ready": {"user_id": self.client.user_id, "device_id": self.client.device_id}})

    async def handle_sync(self, response: SyncResponse) -> None:
        for event in response.to_device_events:
            if isinstance(event, UnknownToDeviceEvent) and event.type in WITHHELD_TYPES:
                content = event.source.get("content", {})
                emit({"withheld": {
                    "sender": event.sender,
                    "code": content.get("code"),
                    "reason": content.get("reason"),
                    "room_id": content.get("room_id"),
                    "session_id": content.get("session_id"),
                    "sender_key": content.get("sender_key"),
                }})
        for room_id, info in response.rooms.join.items():
            for event in info.timeline.events:
                if isinstance(event, MegolmEvent):
                    self.pending[event.event_id] = (room_id, event)
                    emit({"undecryptable": {
                        "room_id": room_id,
                        "event_id": event.event_id,
                        "sender": event.sender,
                        "session_id": event.session_id,
                        "sender_key": event.sender_key,
                    }})
                else:
                    emit({"event": event_line(room_id, event)})
        self.retry_pending()
        for room_id in response.rooms.invite:
            joined = await self.client.join(room_id)
            if getattr(joined, "room_id", None):
                emit({"joined": {"room_id": room_id}})
            else:
                log(f"could not join {room_id}: {type(joined).__name__}")

    def retry_pending(self) -> None:
        for event_id, (room_id, event) in list(self.pending.items()):
            try:
                decrypted = self.client.decrypt_event(event)
            except EncryptionError:
                continue
            del self.pending[event_id]
            emit({"event": event_line(room_id, decrypted)})

    async def send(self, room_id: str, event_type: str, content: dict) -> str:
        async with self.crypto_lock:
            if self.client.should_query_keys:
                await self.client.keys_query()
        # nio has no cross-signing, so every other device is unverified to it; like a nio-based
        # client that does not block on verification, it shares its room key with them anyway.
        response = await self.client.room_send(room_id, event_type, content, ignore_unverified_devices=True)
        if not isinstance(response, RoomSendResponse):
            raise RuntimeError(f"send failed: {response}")
        return response.event_id

    async def download(self, file: dict) -> bytes:
        """An encrypted attachment (an EncryptedFile), fetched from the authenticated media path and decrypted."""
        mxc = urllib.parse.urlparse(file["url"])
        url = f"{self.client.homeserver}/_matrix/client/v1/media/download/{mxc.netloc}{mxc.path}"
        session = self.client.client_session
        headers = {"Authorization": f"Bearer {self.client.access_token}"}
        async with session.get(url, headers=headers) as http:
            if http.status != 200:
                raise RuntimeError(f"media download: HTTP {http.status}")
            ciphertext = await http.read()
        return decrypt_attachment(ciphertext, file["key"]["k"], file["hashes"]["sha256"], file["iv"])

    async def run_command(self, command: dict) -> dict:
        name = command.get("cmd")
        if name == "device":
            return {"user_id": self.client.user_id, "device_id": self.client.device_id}
        if name == "say":
            content = {"msgtype": "m.text", "body": command["body"]}
            relates = {}
            if command.get("thread_root"):
                relates = {"rel_type": "m.thread", "event_id": command["thread_root"], "is_falling_back": True,
                           "m.in_reply_to": {"event_id": command.get("in_reply_to") or command["thread_root"]}}
            elif command.get("in_reply_to"):
                relates = {"m.in_reply_to": {"event_id": command["in_reply_to"]}}
            if relates:
                content["m.relates_to"] = relates
            return {"event_id": await self.send(command["room_id"], "m.room.message", content)}
        if name == "react":
            content = {"m.relates_to": {"rel_type": "m.annotation", "event_id": command["event_id"], "key": command["key"]}}
            # nio sends m.reaction unencrypted even in an encrypted room (see room_send).
            return {"event_id": await self.send(command["room_id"], "m.reaction", content)}
        if name == "mark_read":
            response = await self.client.update_receipt_marker(command["room_id"], command["event_id"], ReceiptType.read)
            if type(response).__name__.endswith("Error"):
                raise RuntimeError(f"read receipt failed: {response}")
            return {}
        if name == "display_name":
            response = await self.client.get_displayname(command["user_id"])
            if type(response).__name__.endswith("Error"):
                raise RuntimeError(f"profile lookup failed: {response}")
            room = self.client.rooms.get(command.get("room_id") or "")
            return {"profile": response.displayname, "in_room": room.user_name(command["user_id"]) if room else None}
        if name == "download":
            plaintext = await self.download(command["file"])
            return {"base64": base64.b64encode(plaintext).decode("ascii")}
        if name == "stop":
            self.stopping.set()
            return {}
        raise ValueError(f"unknown command: {name}")

    async def answer(self, line: str) -> None:
        try:
            command = json.loads(line)
        except json.JSONDecodeError:
            emit({"ok": False, "error": "not a JSON line"})
            return
        try:
            emit({"id": command.get("id"), "ok": True, "result": await self.run_command(command)})
        except Exception as error:  # noqa: BLE001 - every failure goes back to the caller as an answer
            emit({"id": command.get("id"), "ok": False, "error": f"{type(error).__name__}: {error}"})

    async def read_commands(self, reader: asyncio.StreamReader) -> None:
        while not self.stopping.is_set():
            line = await reader.readline()
            if not line:  # the parent closed stdin: stop
                self.stopping.set()
                return
            if line.strip():
                asyncio.ensure_future(self.answer(line.decode("utf-8")))


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--homeserver", required=True)
    parser.add_argument("--user-id", required=True)
    parser.add_argument("--store", required=True, help="folder for the olm store (SQLite)")
    parser.add_argument("--device-name", default="nio GP client")
    args = parser.parse_args()
    reader = asyncio.StreamReader()
    await asyncio.get_running_loop().connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    # The password comes on the first stdin line, not in argv (visible in ps).
    password = (await reader.readline()).decode("utf-8").rstrip("\n")
    gp = NioGp(args.homeserver, args.user_id, password, args.store, args.device_name)
    try:
        await gp.login()
        tasks = [asyncio.ensure_future(gp.sync_forever()), asyncio.ensure_future(gp.read_commands(reader))]
        stopped = asyncio.ensure_future(gp.stopping.wait())
        done, _ = await asyncio.wait([*tasks, stopped], return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            if task is not stopped and task.exception():
                raise task.exception()
        for task in tasks:
            task.cancel()
    finally:
        await gp.client.close()


if __name__ == "__main__":
    asyncio.run(main())
