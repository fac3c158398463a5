"""The UI's strings live in the page: connecting or switching language sends no table."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from llm_chat.i18n import TABLES
from llm_chat.state.locale import LocaleState
from tests.state.conftest import TabFactory
from tests.state.helpers import TIMEOUT
from tests.support.reflex_server import ReflexClient

# The frames of a tab opening the sign-in page hold its state (router headers included, and
# the defaults of every page's state: about 6 KB), not a translation table (over 14 KB of
# English alone).
CONNECT_BYTES_LIMIT = 8 * 1024


def table_texts_in(tab: ReflexClient, since: int = 0) -> list[str]:
    """Longer table texts (of any language) found in the frames received since ``since``."""
    received = "".join(frame.text for frame in tab.frames[since:])
    texts = {text for table in TABLES.values() for text in table.values() if len(text) > 20}
    return sorted(text for text in texts if text in received)


async def test_connecting_and_switching_language_send_no_strings(
    sqlite_db: Engine, open_tab: TabFactory
) -> None:
    tab = open_tab(headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    await tab.connect("/login")
    assert tab.get(LocaleState, "language") == "zh-CN"
    assert table_texts_in(tab) == []
    assert sum(frame.size for frame in tab.frames) < CONNECT_BYTES_LIMIT

    mark = len(tab.frames)
    await tab.emit(LocaleState.set_language, {"language": "en"})
    await tab.wait_for(lambda t: t.get(LocaleState, "language") == "en", timeout=TIMEOUT)
    assert table_texts_in(tab, since=mark) == []
    assert sum(frame.size for frame in tab.frames[mark:]) < 512
