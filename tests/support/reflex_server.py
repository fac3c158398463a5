"""The real Reflex app served in-process, and a websocket client that speaks like its front end.

No browser and no front-end build: :class:`ReflexServer` serves the app's ASGI back end with
uvicorn in a background thread, and :class:`ReflexClient` talks to ``/_event`` the way
``.web/utils/state.js`` does (socket.io over a websocket, ``?token=<uuid>``, the hydrate event
in the CONNECT packet, ``router_data`` on every event, localStorage values pushed with the
hydrate and ``update_vars_internal`` events, redirects followed by running the new page's
``on_load`` events). Every frame it receives is recorded raw, with its size on the wire.

Import this module before anything imports ``llm_chat.llm_chat``: it sets
``__REFLEX_SKIP_COMPILE`` so building the ASGI app compiles no front end.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import tempfile
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, TypeVar

os.environ["__REFLEX_SKIP_COMPILE"] = "true"
# Keep the disk state manager's pickles out of the work tree.
os.environ.setdefault("REFLEX_STATES_WORKDIR", tempfile.mkdtemp(prefix="llm-chat-states-"))

import socketio
import uvicorn
from starlette.types import ASGIApp

T = TypeVar("T")

EVENT_PATH = "/_event"
EVENT_NAMESPACE = "/_event"
# The origin a browser on the dev front end sends (allowed by rxconfig's CORS list).
DEFAULT_ORIGIN = "http://localhost:3000"
ROOT_STATE = "reflex___state____state"
HYDRATE_EVENT = f"{ROOT_STATE}.hydrate_and_load"
UPDATE_VARS_EVENT = (
    f"{ROOT_STATE}.reflex___state____update_vars_internal_state.update_vars_internal"
)
ON_LOAD_EVENT = f"{ROOT_STATE}.reflex___state____on_load_internal_state.on_load_internal"
IS_HYDRATED = "is_hydrated_rx_state_"
# A computed var's key in a delta carries this suffix; plain vars carry ``_rx_state_``.
_VAR_SUFFIX = re.compile(r"_rx_state_$")


def build_asgi_app() -> ASGIApp:
    """The app's ASGI back end (``app()`` as ``reflex run`` builds it, minus the compile)."""
    from llm_chat.llm_chat import app

    return app()


class ReflexServer:
    """Serves an ASGI app with uvicorn on 127.0.0.1 (a free port) in a background thread."""

    def __init__(self, asgi: ASGIApp, *, host: str = "127.0.0.1") -> None:
        """Prepare (not start) the server."""
        self.host = host
        self._config = uvicorn.Config(
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
        self._server = uvicorn.Server(self._config)
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.port = 0

    @property
    def url(self) -> str:
        """The server's root URL."""
        return f"http://{self.host}:{self.port}"

    def start(self, timeout: float = 30.0) -> ReflexServer:
        """Start serving; returns once the app (and its lifespan start-up) is up."""

        def run() -> None:
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            self._loop = loop
            try:
                loop.run_until_complete(self._server.serve())
            finally:
                loop.run_until_complete(loop.shutdown_asyncgens())
                loop.close()

        self._thread = threading.Thread(target=run, name="reflex-test-server", daemon=True)
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
        """Run ``coro`` on the server's event loop and return its result (from another thread)."""
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

    ``text`` is the websocket text frame as received, ``size`` its length in UTF-8 bytes
    (the socket.io packet plus Engine.IO's one-byte message type).
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
        """The front-end events of an ``event`` frame (redirects, scripts, ...)."""
        if self.event == "event" and isinstance(self.data, dict):
            return self.data.get("events") or []
        return []

    def var(self, state: str, name: str, default: Any = None) -> Any:
        """The value this frame carries for var ``name`` of substate ``state`` (full name)."""
        return self.delta.get(state, {}).get(state_key(name), default)

    def has_var(self, state: str, name: str) -> bool:
        """Whether this frame carries var ``name`` of substate ``state``."""
        return state_key(name) in self.delta.get(state, {})


def state_key(name: str) -> str:
    """The key a delta uses for var ``name`` (Reflex suffixes every var with ``_rx_state_``)."""
    return name if _VAR_SUFFIX.search(name) else f"{name}_rx_state_"


class _RecordingSocket(socketio.AsyncClient):
    """A socket.io client that hands every raw incoming message to ``on_raw`` first."""

    def __init__(self, on_raw: Callable[[str], None], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._on_raw = on_raw

    async def _handle_eio_message(self, data: Any) -> None:
        if isinstance(data, str):
            self._on_raw(data)
        await super()._handle_eio_message(data)


@dataclass
class _Storage:
    """The browser storage of one client: localStorage by storage name."""

    local: dict[str, str] = field(default_factory=dict)


class ReflexClient:
    """One browser tab: a socket.io connection to ``/_event`` that records every frame.

    ``local_storage`` maps fully qualified state var keys (``<state full name>.<var>``) of
    ``rx.LocalStorage`` vars to the values the "browser" holds; they are sent with the
    hydrate and on every page load, as ``.web/utils/state.js`` does, and updated from deltas.
    """

    def __init__(
        self,
        base_url: str,
        *,
        local_storage_keys: dict[str, str] | None = None,
        origin: str = DEFAULT_ORIGIN,
        follow_redirects: bool = True,
    ) -> None:
        """Create a tab (not connected yet).

        Args:
            base_url: The back end's root URL.
            local_storage_keys: ``{state var key: localStorage name}`` of the app's
                ``rx.LocalStorage`` vars (see :func:`local_storage_keys`).
            origin: The Origin header a browser would send.
            follow_redirects: Navigate on ``_redirect`` events like the front end does.
        """
        self.base_url = base_url.rstrip("/")
        self.origin = origin
        self.token = str(uuid.uuid4())
        self.follow_redirects = follow_redirects
        self.path = "/"
        self.query: dict[str, str] = {}
        self.storage_keys = dict(local_storage_keys or {})
        self.storage = _Storage()
        self.frames: list[Frame] = []
        self.state: dict[str, dict[str, Any]] = {}
        self.sent: list[dict[str, Any]] = []
        self.errors: list[BaseException] = []
        self._changed = asyncio.Event()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._sio = _RecordingSocket(self._record, reconnection=False)
        self._sio.on("*", self._on_any, namespace=EVENT_NAMESPACE)

    # ------------------------------------------------------------------ connection

    async def connect(self, path: str = "/", *, timeout: float = 15.0) -> None:
        """Open ``path``: connect, hydrate, run the page's ``on_load`` and wait until loaded."""
        self._set_location(path)
        mark = len(self.frames)
        await self._sio.connect(
            f"{self.base_url}?token={self.token}",
            headers={"Origin": self.origin},
            auth={"event": self._routed(self._hydrate_event())},
            transports=["websocket"],
            namespaces=[EVENT_NAMESPACE],
            socketio_path=EVENT_PATH,
            wait_timeout=timeout,
        )
        await self.wait_loaded(since=mark, timeout=timeout)

    async def close(self) -> None:
        """Disconnect (like closing the tab) and stop following redirects."""
        self.follow_redirects = False
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._sio.connected:
            await self._sio.disconnect()

    async def __aenter__(self) -> ReflexClient:
        """Use as ``async with ReflexClient(...) as tab`` (connect separately)."""
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        """Disconnect."""
        await self.close()

    # ------------------------------------------------------------------ sending

    async def emit(self, name: str, payload: dict[str, Any] | None = None) -> None:
        """Send event ``name`` (``<state full name>.<handler>``) with ``payload``."""
        event = self._routed({"name": name, "payload": payload or {}})
        self.sent.append(event)
        await self._sio.emit("event", event, namespace=EVENT_NAMESPACE)

    async def call(
        self,
        handler: str,
        payload: dict[str, Any] | None = None,
        *,
        until: Callable[[ReflexClient], bool] | None = None,
        timeout: float = 15.0,
    ) -> list[Frame]:
        """Send ``handler`` (full name) and, with ``until``, wait until it holds.

        Returns:
            The frames received from the send until ``until`` held (or none without it).
        """
        mark = len(self.frames)
        await self.emit(handler, payload)
        if until is not None:
            await self.wait_for(until, timeout=timeout)
        return self.frames[mark:]

    async def navigate(self, path: str, *, timeout: float = 15.0) -> None:
        """Client-side navigation to ``path``: run its ``on_load`` events and wait until loaded."""
        self._set_location(path)
        mark = len(self.frames)
        for event in self._on_load_events():
            await self.emit(event["name"], event["payload"])
        await self.wait_loaded(since=mark, timeout=timeout)

    async def set_local_storage(self, key: str, value: str) -> None:
        """Write a localStorage var in the "browser" and push it as a synced var does."""
        self.storage.local[self.storage_keys[key]] = value
        await self.emit(UPDATE_VARS_EVENT, {"vars": {key: value}})

    # ------------------------------------------------------------------ waiting

    async def wait_for(
        self, predicate: Callable[[ReflexClient], bool], *, timeout: float = 15.0
    ) -> None:
        """Wait until ``predicate(self)`` holds (checked after every received frame)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            if self.errors:
                raise AssertionError(f"client failed: {self.errors[0]!r}") from self.errors[0]
            if predicate(self):
                return
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise TimeoutError(
                    f"condition not met within {timeout} s; last frames: "
                    + " | ".join(f.text[:300] for f in self.frames[-3:])
                )
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), min(remaining, 0.5))

    async def wait_loaded(self, *, since: int, timeout: float = 15.0) -> None:
        """Wait until a frame after index ``since`` marks the page hydrated (on_load done)."""

        def loaded(client: ReflexClient) -> bool:
            return any(
                f.var(ROOT_STATE, "is_hydrated") is True for f in client.frames[since:]
            ) and not client._tasks

        await self.wait_for(loaded, timeout=timeout)

    async def drain(self, seconds: float = 0.2) -> None:
        """Let frames in flight arrive."""
        await asyncio.sleep(seconds)

    # ------------------------------------------------------------------ reading

    def get(self, state: str, name: str, default: Any = None) -> Any:
        """The current value of var ``name`` of substate ``state`` as the browser holds it."""
        return self.state.get(state, {}).get(state_key(name), default)

    def values(self, state: str, name: str) -> list[Any]:
        """Every value var ``name`` of ``state`` took, in the order the frames carried them."""
        return [f.var(state, name) for f in self.frames if f.has_var(state, name)]

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
        match = re.fullmatch(r"/c/([^/]+)/?", path)
        self.query = {"cid": match.group(1)} if match else {}

    def _routed(self, event: dict[str, Any]) -> dict[str, Any]:
        """``withRouterData``: pathname and asPath of the current location, route params."""
        router_data: dict[str, Any] = {"pathname": self.path, "asPath": self.path}
        if self.query:
            router_data["query"] = dict(self.query)
        return {**event, "router_data": router_data}

    def _client_storage_vars(self) -> dict[str, str]:
        """``hydrateClientStorage``: the localStorage values the browser holds."""
        return {
            key: self.storage.local[name]
            for key, name in self.storage_keys.items()
            if name in self.storage.local
        }

    def _hydrate_event(self) -> dict[str, Any]:
        payload: dict[str, Any] = {}
        if values := self._client_storage_vars():
            payload["vars"] = values
        return {"name": HYDRATE_EVENT, "payload": payload}

    def _on_load_events(self) -> list[dict[str, Any]]:
        """``onLoadInternalEvent``: client storage first, then the page's ``on_load``."""
        events: list[dict[str, Any]] = []
        if values := self._client_storage_vars():
            events.append({"name": UPDATE_VARS_EVENT, "payload": {"vars": values}})
        events.append({"name": ON_LOAD_EVENT, "payload": {}})
        return events

    def _record(self, raw: str) -> None:
        if not raw or raw[0] != "2":  # socket.io EVENT packets only (not CONNECT/ACK)
            return
        body = raw[raw.index("[") :] if "[" in raw else "[]"
        try:
            decoded = json.loads(body)
        except ValueError:
            decoded = []
        name = decoded[0] if decoded else ""
        data = decoded[1] if len(decoded) > 1 else None
        frame = Frame(
            index=len(self.frames),
            text=raw,
            size=1 + len(raw.encode()),
            event=name,
            data=data,
            received_at=time.monotonic(),
        )
        self.frames.append(frame)
        if name == "event":
            self._apply(frame)
        self._changed.set()

    def _apply(self, frame: Frame) -> None:
        """What the front end does with an update: reducers, client storage, events."""
        delta = frame.delta
        for substate, values in delta.items():
            self.state.setdefault(substate, {}).update(values)
        root = delta.get(ROOT_STATE, {})
        if root.get(IS_HYDRATED) is not False:
            for key, name in self.storage_keys.items():
                substate, _, var = key.rpartition(".")
                if var in delta.get(substate, {}):
                    self.storage.local[name] = delta[substate][var]
        for event in frame.events:
            if event.get("name") == "_redirect" and self.follow_redirects:
                path = str((event.get("payload") or {}).get("path", "/"))
                self._spawn(self.navigate(path))

    def _spawn(self, coro: Awaitable[None]) -> None:
        async def run() -> None:
            try:
                await coro
            except asyncio.CancelledError:
                raise
            except BaseException as exc:
                self.errors.append(exc)
                self._changed.set()

        task = asyncio.ensure_future(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        task.add_done_callback(lambda _t: self._changed.set())

    async def _on_any(self, event: str, *args: Any) -> None:
        """Frames are recorded raw; nothing else to do."""


def local_storage_keys() -> dict[str, str]:
    """``{state key: localStorage name}`` of the app's ``rx.LocalStorage`` vars.

    Computed as the compiler computes ``clientStorage`` for the front end; a state key is
    ``<state full name>.<var>_rx_state_``.
    """
    from reflex.compiler.utils import compile_client_storage

    from llm_chat.llm_chat import app

    assert app._state is not None
    local = compile_client_storage(app._state)["local_storage"]
    return {key: options.get("name") or key for key, options in local.items()}
