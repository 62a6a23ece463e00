"""The lab under ``panel serve``: the document's changes reach the browser in the order they were made.

When bokeh makes a message carrying a new model, it counts that model as the browser's from then
on, and later messages name it by reference only. Under ``panel serve`` three writers make such
messages: bokeh's session (written at the end of a callback), Panel writing changes itself
(``panel.io.document.unlocked``), and Panel again when the socket was busy, retrying its write
lock every 10 ms (``schedule_write_events``). Each of them waits for the socket's write lock only
when it writes, so on a busy server a message made later is often written first. The browser
then gets a change to a model it has not been sent yet, logs "reference p2225 isn't known" and
drops the change (a chart stops following the training). Recorded in the tests on 2026-11-30,
with the page's websocket frames: 60 of 200 messages overtaken, 34 changes dropped.

Here every such message queues for the socket's write lock the moment it is made, and a task
writes it when its turn comes, so the messages go out in the order they were made. It replaces
two functions of Panel 1.7.5 and a method of bokeh 3.7.3 (site/builder/private_apis.py). The
page's Python has no server and never calls ``keep_messages_in_order``.
"""
from __future__ import annotations

import asyncio
import logging

from bokeh.server.connection import ServerConnection
from panel.io import document
from tornado.websocket import WebSocketClosedError

log = logging.getLogger(__name__)


def keep_messages_in_order():
    """Make every document change's message wait its turn when it is made (once per process)."""
    ServerConnection.send_patch_document = send_patch_document
    document.dispatch_tornado = dispatch_tornado
    # Panel's later write of a busy socket's messages: now the same queue
    document.schedule_write_events = document.write_events


def send_in_turn(socket, message):
    """Queue ``message`` for ``socket`` (bokeh's WSHandler) now; returns the task that writes it."""
    turn = socket.write_lock.acquire()  # tornado's lock serves its waiters first come, first served
    return asyncio.ensure_future(_write(socket, message, turn))


async def _write(socket, message, turn):
    with await turn:
        if socket.ws_connection is None or socket.ws_connection.is_closing():
            return
        try:  # as bokeh's Message.send, with the lock already held
            for part in (message.header_json, message.metadata_json, message.content_json):
                await socket.write_message(part, locked=False)
            await message.write_buffers(socket, locked=False)
        except WebSocketClosedError:
            log.debug("a change was not sent: the page had closed its connection")


def send_patch_document(self, event):
    """bokeh's ServerConnection.send_patch_document: the message takes its turn when it is made."""
    return send_in_turn(self._socket, self.protocol.create("PATCH-DOC", [event]))


def dispatch_tornado(conn, events=None, msg=None):
    """Panel's panel.io.document.dispatch_tornado: the message takes its turn when it is made."""
    connection = conn._socket.ws_connection
    if not connection or connection.is_closing() or (msg is None and not events):
        return []
    return [send_in_turn(conn._socket, msg or conn.protocol.create("PATCH-DOC", events))]
