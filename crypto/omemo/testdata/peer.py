#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""An independent OMEMO 0.3 peer for Tern's interoperability tests.

It is python-omemo with its oldmemo backend (Debian: python3-omemo,
python3-oldmemo) on a slixmpp client (python3-slixmpp), with a JSON file as
storage so that it keeps its device and sessions across restarts. The Go
test (crypto/omemo/interop_test.go) drives it through stdin and reads what
it does from stdout, one JSON object per line:

  commands (stdin)                      events (stdout)
  {"cmd": "refresh", "jid": J}          {"event": "ready", "device": N}
  {"cmd": "send", "to": J, "text": T}   {"event": "refreshed", "jid": J, "devices": [...]}
  {"cmd": "quit"}                       {"event": "sent", "text": T}
                                        {"event": "message", "from": J, "device": N, "text": T}
                                        {"event": "empty", "from": J, "device": N}
                                        {"event": "error", "error": E}

Trust is blind (every device trusted): trust is Tern's business here, not
the peer's. Run it with /usr/bin/python3 (Debian's Python, where the
packages are installed).
"""

import argparse
import asyncio
import base64
import json
import os
import sys
import traceback
import xml.etree.ElementTree as ET

import omemo
import oldmemo
import oldmemo.etree
from omemo.storage import Just, Maybe, Nothing, Storage
from omemo.types import DeviceInformation, JSONType, TrustLevel
from slixmpp import ClientXMPP
from slixmpp.exceptions import IqError

NS = oldmemo.oldmemo.NAMESPACE
PUBSUB = "http://jabber.org/protocol/pubsub"
DEVICELIST = NS + ".devicelist"


def emit(**event):
    sys.stdout.write(json.dumps(event) + "\n")
    sys.stdout.flush()


class FileStorage(Storage):
    """python-omemo's key/value storage in one JSON file, written at once."""

    def __init__(self, path):
        super().__init__()
        self.path = path
        self.data = {}
        if os.path.exists(path):
            with open(path, encoding="utf-8") as f:
                self.data = json.load(f)

    def flush(self):
        tmp = self.path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(self.data, f)
        os.replace(tmp, self.path)

    async def _load(self, key: str) -> Maybe[JSONType]:
        if key in self.data:
            return Just(self.data[key])
        return Nothing()

    async def _store(self, key: str, value: JSONType) -> None:
        self.data[key] = value
        self.flush()

    async def _delete(self, key: str) -> None:
        self.data.pop(key, None)
        self.flush()


def pubsub_publish(node, item_id, payload):
    pubsub = ET.Element(f"{{{PUBSUB}}}pubsub")
    publish = ET.SubElement(pubsub, f"{{{PUBSUB}}}publish", node=node)
    item = ET.SubElement(publish, f"{{{PUBSUB}}}item", id=item_id)
    item.append(payload)
    options = ET.SubElement(pubsub, f"{{{PUBSUB}}}publish-options")
    x = ET.SubElement(options, "{jabber:x:data}x", type="submit")
    for var, value in (("FORM_TYPE", PUBSUB + "#publish-options"), ("pubsub#access_model", "open")):
        field = ET.SubElement(x, "{jabber:x:data}field", var=var)
        if var == "FORM_TYPE":
            field.set("type", "hidden")
        ET.SubElement(field, "{jabber:x:data}value").text = value
    return pubsub


class Peer(ClientXMPP):
    def __init__(self, jid, password):
        super().__init__(jid, password)
        self.manager = None
        # slixmpp runs each handler as a task of its own; python-omemo, like
        # any Signal implementation, must not work on a session from two at
        # once, and messages must be decrypted in the order they came.
        self.lock = asyncio.Lock()
        self.add_event_handler("session_start", self.on_start)
        self.add_event_handler("message", self.on_message)

    async def iq(self, kind, payload, to=None):
        iq = self.make_iq_set() if kind == "set" else self.make_iq_get()
        if to:
            iq["to"] = to
        iq.xml.append(payload)
        return await iq.send(timeout=20)

    async def fetch_items(self, jid, node):
        pubsub = ET.Element(f"{{{PUBSUB}}}pubsub")
        ET.SubElement(pubsub, f"{{{PUBSUB}}}items", node=node)
        try:
            res = await self.iq("get", pubsub, to=jid)
        except IqError as e:
            if e.condition == "item-not-found":
                return None
            raise
        items = res.xml.find(f"{{{PUBSUB}}}pubsub/{{{PUBSUB}}}items")
        found = None
        for item in items.findall(f"{{{PUBSUB}}}item") if items is not None else []:
            if len(item):
                found = item[0]
        return found

    async def on_start(self, _event):
        try:
            self.send_presence()
            await self.get_roster()
            Manager.xmpp = self
            self.manager = await Manager.create(
                [oldmemo.Oldmemo(self.storage)],
                self.storage,
                self.boundjid.bare,
                "python peer",
                "blind",
            )
            await self.manager.after_history_sync()
            own, _ = await self.manager.get_own_device_information()
            emit(event="ready", device=own.device_id)
        except Exception as e:  # report, then give up
            emit(event="error", error=f"start: {e!r}", trace=traceback.format_exc())
            self.disconnect()

    async def on_message(self, msg):
        if self.manager is None:
            return
        encrypted = msg.xml.find(f"{{{NS}}}encrypted")
        if encrypted is None:
            return
        sender = msg["from"].bare
        try:
            async with self.lock:
                message = await oldmemo.etree.parse_message(encrypted, sender, self.boundjid.bare, self.manager)
                plaintext, device, _ = await self.manager.decrypt(message)
        except Exception as e:
            emit(event="error", error=f"decrypt from {sender}: {e!r}")
            return
        if plaintext is None:
            emit(event="empty", **{"from": sender, "device": device.device_id})
        else:
            emit(event="message", text=plaintext.decode("utf-8"), device=device.device_id, **{"from": sender})

    async def command(self, cmd):
        if cmd["cmd"] == "refresh":
            await self.manager.refresh_device_list(NS, cmd["jid"])
            devices = await self.manager.get_device_information(cmd["jid"])
            emit(event="refreshed", jid=cmd["jid"], devices=sorted(d.device_id for d in devices))
        elif cmd["cmd"] == "send":
            messages, errors = await self.manager.encrypt(
                frozenset([cmd["to"]]), {NS: cmd["text"].encode("utf-8")}, [NS]
            )
            for message in messages:
                stanza = self.make_message(mto=cmd["to"], mtype="chat")
                stanza.xml.append(oldmemo.etree.serialize_message(message))
                ET.SubElement(stanza.xml, "{urn:xmpp:hints}store")
                stanza.send()
            emit(event="sent", text=cmd["text"], errors=[repr(e) for e in errors])
        elif cmd["cmd"] == "quit":
            self.disconnect()
        else:
            emit(event="error", error=f"unknown command {cmd!r}")


class Manager(omemo.SessionManager):
    """python-omemo's session manager on our slixmpp client."""

    xmpp = None

    @staticmethod
    async def _upload_bundle(bundle):
        elt = oldmemo.etree.serialize_bundle(bundle)
        await Manager.xmpp.iq("set", pubsub_publish(f"{NS}.bundles:{bundle.device_id}", "current", elt))

    @staticmethod
    async def _download_bundle(namespace, bare_jid, device_id):
        try:
            elt = await Manager.xmpp.fetch_items(bare_jid, f"{NS}.bundles:{device_id}")
        except Exception as e:
            raise omemo.BundleDownloadFailed(repr(e)) from e
        if elt is None:
            raise omemo.BundleNotFound(f"no bundle for {bare_jid}/{device_id}")
        return oldmemo.etree.parse_bundle(elt, bare_jid, device_id)

    @staticmethod
    async def _delete_bundle(namespace, device_id):
        pass

    @staticmethod
    async def _upload_device_list(namespace, device_list):
        elt = oldmemo.etree.serialize_device_list(device_list)
        await Manager.xmpp.iq("set", pubsub_publish(DEVICELIST, "current", elt))

    @staticmethod
    async def _download_device_list(namespace, bare_jid):
        try:
            elt = await Manager.xmpp.fetch_items(bare_jid, DEVICELIST)
        except Exception as e:
            raise omemo.DeviceListDownloadFailed(repr(e)) from e
        if elt is None:
            return {}
        return oldmemo.etree.parse_device_list(elt)

    async def _evaluate_custom_trust_level(self, device: DeviceInformation) -> TrustLevel:
        return TrustLevel.TRUSTED

    async def _make_trust_decision(self, undecided, identifier):
        for device in undecided:
            await self.set_trust(device.bare_jid, device.identity_key, "blind")

    @staticmethod
    async def _send_message(message, bare_jid):
        stanza = Manager.xmpp.make_message(mto=bare_jid, mtype="chat")
        stanza.xml.append(oldmemo.etree.serialize_message(message))
        ET.SubElement(stanza.xml, "{urn:xmpp:hints}store")
        stanza.send()


async def read_commands(peer):
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while True:
        line = await reader.readline()
        if not line:
            peer.disconnect()
            return
        while peer.manager is None:
            await asyncio.sleep(0.05)
        try:
            async with peer.lock:
                await peer.command(json.loads(line))
        except Exception as e:
            emit(event="error", error=f"{line.strip()!r}: {e!r}", trace=traceback.format_exc())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--jid", required=True)
    ap.add_argument("--password", required=True)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--ca", required=True, help="PEM file of the CA that signed the server certificate")
    ap.add_argument("--storage", required=True, help="JSON file keeping the OMEMO state")
    args = ap.parse_args()

    peer = Peer(args.jid, args.password)
    peer.storage = FileStorage(args.storage)
    peer.ca_certs = args.ca
    peer.connect(address=(args.host, args.port), force_starttls=True)
    loop = asyncio.get_event_loop()
    loop.create_task(read_commands(peer))
    loop.run_until_complete(peer.disconnected)


if __name__ == "__main__":
    main()
