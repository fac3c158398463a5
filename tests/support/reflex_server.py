"""The real Reflex app served in-process, and a websocket client that speaks like its front end.

No browser and no front-end build. :class:`ReflexServer` serves the app's ASGI back end
(``app()``, as ``reflex run`` builds it, with the compile skipped) with uvicorn in a background
thread. :class:`ReflexClient` is one browser tab talking to ``/_event`` the way Reflex 0.10's
``.web/utils/state.js`` does:

* socket.io over a websocket only, ``?token=<uuid>`` (one token per tab), an ``Origin`` header;
* the ``hydrate_and_load`` event in the socket.io CONNECT packet (``auth={"event": ...}``),
  carrying the browser's ``rx.LocalStorage`` values as ``vars``;
* ``router_data`` ``{"pathname", "asPath", "query"}`` on every event, ``query`` holding the
  dynamic route argument (``cid`` for ``/c/[cid]``) as React Router's ``params`` does;
* a page change sends ``update_vars_internal`` (the storage values) then ``on_load_internal``;
* a delta's localStorage vars are written back to the tab's storage once hydrated;
* ``_redirect`` events are followed like the front end's ``navigate``; events of the app's
  states that a handler returned are sent back, as the front end queues them.

Every frame the back end sends is recorded raw with its size on the wire, so tests can assert on
frame contents and sizes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import threading
import time
import uuid
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeAlias, TypeVar, cast

import socketio
import uvicorn
from reflex.state import BaseState
from reflex_base.event import EventCallback, EventHandler
from reflex_base.utils.format import format_event_handler
from starlette.types import ASGIApp

T = TypeVar("T")

EVENT_PATH = "/_event"
EVENT_NAMESPACE = "/_event"
# The origin a browser on the dev front end sends (allowed by rxconfig's CORS list).
DEFAULT_ORIGIN = "http://localhost:3000"
FIELD_MARKER = "_rx_state_"
ROOT_STATE = "reflex___state____state"
HYDRATE_EVENT = f"{ROOT_STATE}.hydrate_and_load"
UPDATE_VARS_EVENT = (
    f"{ROOT_STATE}.reflex___state____update_vars_internal_state.update_vars_internal"
)
ON_LOAD_EVENT = f"{ROOT_STATE}.reflex___state____on_load_internal_state.on_load_internal"
# The dynamic routes of the app and the name of their argument.
DYNAMIC_ROUTES = ((re.compile(r"/c/([^/?#]+)/?"), "cid"),)

StateRef = type[BaseState] | str
# A handler as the test names it: ``ChatState.send`` (typed as an EventCallback) or a full name.
HandlerRef: TypeAlias = "EventHandler | EventCallback[*tuple[Any, ...]] | str"


@contextlib.contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    """Set environment variables for a while (so subprocesses of later tests never see them)."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def build_asgi_app(states_dir: Path) -> ASGIApp:
    """The app's ASGI back end, as ``reflex run`` serves it, with the front-end compile skipped.

    Args:
        states_dir: Where the disk state manager keeps its pickles (not the work tree's
            ``.states``, which a developer's server may be using). Takes effect only if this
            is the first import of ``llm_chat.llm_chat``: the app creates its state manager then.
    """
    with _environment({"__REFLEX_SKIP_COMPILE": "true", "REFLEX_STATES_WORKDIR": str(states_dir)}):
        from llm_chat.llm_chat import app

        return app()


def local_storage_keys() -> dict[str, str]:
    """``{state key: localStorage name}`` of the app's ``rx.LocalStorage`` vars.

    Computed as the compiler computes the front end's ``clientStorage``; a state key is
    ``<state full name>.<var>_rx_state_``.
    """
    from reflex.compiler.utils import compile_client_storage

    from llm_chat.llm_chat import app

    assert app._state is not None
    local = compile_client_storage(app._state)["local_storage"]
    return {key: options.get("name") or key for key, options in local.items()}


def state_name(state: StateRef) -> str:
    """The full name of a state (a class, or already a full name)."""
    return state if isinstance(state, str) else state.get_full_name()


def var_owner(state: type[BaseState], name: str) -> type[BaseState]:
    """The state whose delta carries var ``name`` (a subclass shows its parents' vars)."""
    current: type[BaseState] | None = state
    while current is not None:
        if name in current.base_vars or name in current.computed_vars:
            return current
        current = current.get_parent_state()
    raise KeyError(f"{state.__name__} has no var {name!r}")


def storage_key(state: type[BaseState], name: str) -> str:
    """The client-storage key of var ``name`` (as in ``clientStorage`` and ``vars`` payloads)."""
    return f"{var_owner(state, name).get_full_name()}.{name}{FIELD_MARKER}"


def handler_name(handler: HandlerRef) -> str:
    """The event name the front end sends for ``handler`` (``<state full name>.<fn>``)."""
    return (
        handler if isinstance(handler, str) else format_event_handler(cast(EventHandler, handler))
    )


def _locate(state: StateRef, name: str) -> tuple[str, str]:
    owner = state if isinstance(state, str) else var_owner(state, name).get_full_name()
    return owner, name + FIELD_MARKER


class ReflexServer:
    """Serves an ASGI app with uvicorn on 127.0.0.1 (a free port) in a background thread."""

    def __init__(self, asgi: ASGIApp, *, host: str = "127.0.0.1") -> None:
        """Prepare (not start) the server."""
        self.host = host
        self._server = uvicorn.Server(
            uvicorn.Config(
                asgi,
                host=host,
                port=0,
                loop="asyncio",
                http="h11",
                ws="wsproto",
                lifespan="on",
                log_level="warning",
                access_log=False,
            )
        )
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.port = 0

    @property
    def url(self) -> str:
        """The server's root URL."""
        return f"http://{self.host}:{self.port}"

    def start(self, timeout: float = 30.0) -> ReflexServer:
        """Start serving; returns once uvicorn listens (the app's lifespan has started)."""

        def serve() -> None:
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            self._loop = loop
            try:
                loop.run_until_complete(self._server.serve())
            finally:
                leftovers = asyncio.all_tasks(loop)
                for task in leftovers:
                    task.cancel()
                loop.run_until_complete(asyncio.gather(*leftovers, return_exceptions=True))
                loop.run_until_complete(loop.shutdown_asyncgens())
                loop.close()

        self._thread = threading.Thread(target=serve, name="reflex-test-server", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive():
                raise RuntimeError("the Reflex test server failed to start")
            if time.monotonic() > deadline:
                raise TimeoutError("the Reflex test server did not start")
            time.sleep(0.01)
        self.port = self._server.servers[0].sockets[0].getsockname()[1]
        return self

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 30.0) -> T:
        """Run ``coro`` on the server's event loop (from another thread) and return its result."""
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def wait_for_lifespan_tasks(self, timeout: float = 30.0) -> None:
        """Block until the app's start-up tasks (``register_lifespan_task``) have finished."""

        async def pending() -> int:
            return sum(
                1
                for task in asyncio.all_tasks()
                if task.get_name().startswith("reflex_lifespan_task|") and not task.done()
            )

        deadline = time.monotonic() + timeout
        while self.run(pending()):
            if time.monotonic() > deadline:
                raise TimeoutError("the app's start-up tasks did not finish")
            time.sleep(0.01)

    def stop(self, timeout: float = 30.0) -> None:
        """Shut the server down and join its thread."""
        if self._thread is None:
            return
        self._server.should_exit = True
        self._thread.join(timeout)
        self._thread = None


@dataclass(frozen=True)
class Frame:
    """One socket.io message received from the back end.

    ``text`` is the socket.io packet as received (``2/_event,["event",{...}]``); ``size`` is the
    websocket frame's payload in bytes (the packet in UTF-8 plus Engine.IO's message type byte).
    """

    index: int
    text: str
    size: int
    event: str
    data: Any
    received_at: float

    @property
    def delta(self) -> dict[str, dict[str, Any]]:
        """The state delta of an ``event`` frame (empty for other frames)."""
        if self.event == "event" and isinstance(self.data, dict):
            return self.data.get("delta") or {}
        return {}

    @property
    def events(self) -> list[dict[str, Any]]:
        """The front-end events of an ``event`` frame (``_redirect``, ``_call_script``...)."""
        if self.event == "event" and isinstance(self.data, dict):
            return self.data.get("events") or []
        return []

    def has(self, state: StateRef, name: str) -> bool:
        """Whether this frame carries var ``name`` of ``state``."""
        owner, key = _locate(state, name)
        return key in self.delta.get(owner, {})

    def get(self, state: StateRef, name: str, default: Any = None) -> Any:
        """The value this frame carries for var ``name`` of ``state`` (or ``default``)."""
        owner, key = _locate(state, name)
        return self.delta.get(owner, {}).get(key, default)


class _RecordingSocket(socketio.AsyncClient):
    """A socket.io client that hands every raw incoming message to ``on_raw`` first."""

    def __init__(self, on_raw: Callable[[str], None], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._on_raw = on_raw

    async def _handle_eio_message(self, data: Any) -> None:
        if isinstance(data, str):
            self._on_raw(data)
        await super()._handle_eio_message(data)


class ReflexClient:
    """One browser tab: a socket.io connection to ``/_event`` that records every frame."""

    def __init__(
        self,
        base_url: str,
        *,
        storage_keys: dict[str, str],
        local_storage: dict[str, str] | None = None,
        origin: str = DEFAULT_ORIGIN,
        follow_redirects: bool = True,
        headers: dict[str, str] | None = None,
    ) -> None:
        """Create a tab (not connected yet).

        Args:
            base_url: The back end's root URL.
            storage_keys: ``{state key: localStorage name}`` of the app's ``rx.LocalStorage``
                vars (see :func:`local_storage_keys`).
            local_storage: The browser's localStorage by name; pass another tab's to open a
                second tab of the same browser.
            origin: The Origin header a browser would send.
            follow_redirects: Load the page of a ``_redirect`` event like the front end does.
            headers: More headers of the websocket request (e.g. ``Accept-Language``).
        """
        self.base_url = base_url.rstrip("/")
        self.origin = origin
        self.headers = dict(headers or {})
        self.token = str(uuid.uuid4())
        self.follow_redirects = follow_redirects
        self.storage_keys = dict(storage_keys)
        self.local_storage: dict[str, str] = {} if local_storage is None else local_storage
        self.path = "/"
        self.params: dict[str, str] = {}
        self.frames: list[Frame] = []
        # The current values of every var, as the front end's reducers hold them.
        self.state: dict[str, dict[str, Any]] = {}
        self.sent: list[dict[str, Any]] = []
        # Paths of the page loads completed (connect, navigate, followed redirects).
        self.visited: list[str] = []
        self.errors: list[BaseException] = []
        self._changed = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        self._sio = _RecordingSocket(self._record, reconnection=False)

    # ------------------------------------------------------------------ connection

    async def connect(self, path: str = "/", *, timeout: float = 15.0) -> None:  # noqa: ASYNC109
        """Open ``path``: connect, hydrate, run the page's ``on_load`` and wait until loaded."""
        self._set_location(path)
        mark = len(self.frames)
        await self._sio.connect(
            f"{self.base_url}?token={self.token}",
            headers={**self.headers, "Origin": self.origin},
            auth={"event": self._routed(self._hydrate_event())},
            transports=["websocket"],
            namespaces=[EVENT_NAMESPACE],
            socketio_path=EVENT_PATH,
            wait_timeout=max(1, round(timeout)),
        )
        await self.wait_loaded(since=mark, timeout=timeout)
        self.visited.append(path)

    async def close(self) -> None:
        """Disconnect, like closing the tab."""
        self.follow_redirects = False
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._sio.connected:
            await self._sio.disconnect()

    # ------------------------------------------------------------------ sending

    async def emit(self, handler: HandlerRef, payload: dict[str, Any] | None = None) -> None:
        """Send an event for ``handler`` with ``payload`` (the handler's keyword arguments)."""
        event = self._routed({"name": handler_name(handler), "payload": payload or {}})
        self.sent.append(event)
        await self._sio.emit("event", event, namespace=EVENT_NAMESPACE)

    async def call(
        self,
        handler: HandlerRef,
        payload: dict[str, Any] | None = None,
        *,
        until: Callable[[ReflexClient], bool] | None = None,
        timeout: float = 15.0,  # noqa: ASYNC109
    ) -> list[Frame]:
        """Send ``handler`` and, with ``until``, wait until ``until(self)`` holds.

        Returns:
            The frames received from the send until then (none without ``until``).
        """
        mark = len(self.frames)
        await self.emit(handler, payload)
        if until is not None:
            await self.wait_for(until, timeout=timeout)
        return self.frames[mark:]

    async def navigate(self, path: str, *, timeout: float = 15.0) -> None:  # noqa: ASYNC109
        """Client-side navigation to ``path``: run its ``on_load`` events and wait until loaded."""
        self._set_location(path)
        mark = len(self.frames)
        for event in self._on_load_events():
            await self.emit(event["name"], event["payload"])
        await self.wait_loaded(since=mark, timeout=timeout)
        self.visited.append(path)

    async def set_local_storage(self, state: type[BaseState], name: str, value: str) -> None:
        """Write a ``rx.LocalStorage`` var in the browser and push it as the front end does."""
        key = storage_key(state, name)
        self.local_storage[self.storage_keys[key]] = value
        await self.emit(UPDATE_VARS_EVENT, {"vars": {key: value}})

    # ------------------------------------------------------------------ waiting

    async def wait_for(
        self,
        predicate: Callable[[ReflexClient], bool],
        *,
        timeout: float = 15.0,  # noqa: ASYNC109
    ) -> None:
        """Wait until ``predicate(self)`` holds (checked whenever a frame arrives)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if self.errors:
                raise AssertionError(f"the tab failed: {self.errors[0]!r}") from self.errors[0]
            if predicate(self):
                return
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(
                    f"condition not met within {timeout} s; last frames:\n"
                    + "\n".join(f.text[:400] for f in self.frames[-4:])
                )
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), min(remaining, 0.25))

    async def wait_loaded(self, *, since: int, timeout: float = 15.0) -> None:  # noqa: ASYNC109
        """Wait until the page load started after frame ``since`` has run its ``on_load``.

        A load first sets ``is_hydrated`` false (the hydrate snapshot, or ``on_load_internal``
        for a page with ``on_load`` handlers, as every page of this app has) and sets it true
        after the last handler. The true of an earlier load can still arrive after ``since``
        (its chain was queued first), so only a true after a false counts.
        """

        def loaded(client: ReflexClient) -> bool:
            flags = [
                f.get(ROOT_STATE, "is_hydrated")
                for f in client.frames[since:]
                if f.has(ROOT_STATE, "is_hydrated")
            ]
            return False in flags and True in flags[flags.index(False) :]

        await self.wait_for(loaded, timeout=timeout)

    async def wait_redirected(self, path: str, *, since: int, timeout: float = 15.0) -> None:  # noqa: ASYNC109
        """Wait until a redirect to ``path`` was followed and that page loaded.

        Args:
            path: Where the back end redirects to.
            since: ``len(self.visited)`` before the event that redirects.
            timeout: Seconds to wait.
        """
        await self.wait_for(lambda c: path in c.visited[since:] and c.idle, timeout=timeout)

    @property
    def idle(self) -> bool:
        """Whether no followed redirect is still loading its page."""
        return not self._tasks

    # ------------------------------------------------------------------ reading

    def get(self, state: StateRef, name: str, default: Any = None) -> Any:
        """The current value of var ``name`` of ``state``, as the browser holds it."""
        owner, key = _locate(state, name)
        return self.state.get(owner, {}).get(key, default)

    def values(self, state: StateRef, name: str, since: int = 0) -> list[Any]:
        """Every value var ``name`` took in the frames from index ``since``, in order."""
        return [f.get(state, name) for f in self.frames[since:] if f.has(state, name)]

    def frontend_events(self, name: str | None = None) -> list[dict[str, Any]]:
        """Front-end events received (``_redirect``, ``_call_script``...), optionally by name."""
        found = [e for f in self.frames for e in f.events]
        return [e for e in found if name is None or e.get("name") == name]

    @property
    def wire_text(self) -> str:
        """Every received frame, joined (to search for what must never be sent)."""
        return "\n".join(f.text for f in self.frames)

    # ------------------------------------------------------------------ internals

    def _set_location(self, path: str) -> None:
        self.path = path
        self.params = {}
        for pattern, arg in DYNAMIC_ROUTES:
            if match := pattern.fullmatch(path):
                self.params = {arg: match.group(1)}

    def _routed(self, event: dict[str, Any]) -> dict[str, Any]:
        """``withRouterData``: pathname and asPath of the location, route params as query."""
        router_data: dict[str, Any] = {"pathname": self.path, "asPath": self.path}
        if self.params:
            router_data["query"] = dict(self.params)
        return {**event, "router_data": router_data}

    def _client_storage_vars(self) -> dict[str, str]:
        """``hydrateClientStorage``: the localStorage values the browser holds."""
        return {
            key: self.local_storage[name]
            for key, name in self.storage_keys.items()
            if name in self.local_storage
        }

    def _hydrate_event(self) -> dict[str, Any]:
        payload: dict[str, Any] = {}
        if values := self._client_storage_vars():
            payload["vars"] = values
        return {"name": HYDRATE_EVENT, "payload": payload}

    def _on_load_events(self) -> list[dict[str, Any]]:
        """``onLoadInternalEvent``: the storage values first, then the page's ``on_load``."""
        events: list[dict[str, Any]] = []
        if values := self._client_storage_vars():
            events.append({"name": UPDATE_VARS_EVENT, "payload": {"vars": values}})
        events.append({"name": ON_LOAD_EVENT, "payload": {}})
        return events

    def _record(self, raw: str) -> None:
        if not raw.startswith("2"):  # socket.io EVENT packets only (not CONNECT, ACK...)
            return
        try:
            decoded = json.loads(raw[raw.index("[") :])
        except ValueError:
            decoded = []
        frame = Frame(
            index=len(self.frames),
            text=raw,
            size=1 + len(raw.encode()),
            event=decoded[0] if decoded else "",
            data=decoded[1] if len(decoded) > 1 else None,
            received_at=time.monotonic(),
        )
        self.frames.append(frame)
        if frame.event == "event":
            self._apply(frame)
        self._changed.set()

    def _apply(self, frame: Frame) -> None:
        """What the front end does with an update: reducers, client storage, events."""
        delta = frame.delta
        for substate, values in delta.items():
            self.state.setdefault(substate, {}).update(values)
        # applyClientStorageDelta skips the hydrate snapshot (is_hydrated false).
        if delta.get(ROOT_STATE, {}).get("is_hydrated" + FIELD_MARKER) is not False:
            for key, name in self.storage_keys.items():
                substate, _, var = key.rpartition(".")
                if var in delta.get(substate, {}):
                    self.local_storage[name] = delta[substate][var]
        for event in frame.events:
            name = str(event.get("name", ""))
            if name == "_redirect" and self.follow_redirects:
                self._spawn(self.navigate(str((event.get("payload") or {}).get("path", "/"))))
            elif not name.startswith("_") and "." in name:  # a state's handler
                self._spawn(self.emit(name, event.get("payload") or {}))

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        async def run() -> None:
            try:
                await coro
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.errors.append(exc)

        task = asyncio.ensure_future(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        task.add_done_callback(lambda _task: self._changed.set())
