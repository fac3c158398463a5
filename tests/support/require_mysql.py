"""Fail loudly when the MySQL/MariaDB server the tests need is not reachable.

Run by ``make test`` before pytest: a missing server is an error, never a skip.
"""

from __future__ import annotations

import sys

from tests.support.databases import mysql_server_url, ping_mysql


def main() -> int:
    """Exit 0 if the server answers, else explain and exit 1."""
    url = mysql_server_url()
    try:
        version = ping_mysql(url)
    except Exception as exc:
        sys.stderr.write(
            "\n*** MySQL/MariaDB is not reachable at "
            f"{url.split('@')[-1]} ({type(exc).__name__}: {exc}).\n"
            "*** The test suite needs it. Start it (Debian: start-stop-daemon --start --oknodo "
            "--background --exec /usr/sbin/mariadbd) or set LLM_CHAT_TEST_MYSQL_URL.\n\n"
        )
        return 1
    sys.stdout.write(f"MySQL server reachable: {version}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
