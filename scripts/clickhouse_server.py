"""Runs the real ClickHouse engine (embedded in chdb) as an HTTP server for tests and demos.

Usage: python clickhouse_server.py DIR PORT

Serves ClickHouse's own HTTP interface on 127.0.0.1:PORT with its data in DIR/db (kept across
restarts) until a line is written to DIR/stop.fifo or the process gets SIGTERM. Needs the
`chdb-core` package (scripts/databases.sh installs it).
"""

import os
import sys


def main() -> None:
    directory, port = os.path.abspath(sys.argv[1]), int(sys.argv[2])
    os.makedirs(directory, exist_ok=True)
    # chdb embeds clickhouse-local, which reads ./config.xml from the working directory.
    with open(os.path.join(directory, "config.xml"), "w", encoding="utf-8") as config:
        config.write(
            "<clickhouse><listen_host>127.0.0.1</listen_host>"
            f"<http_port>{port}</http_port></clickhouse>\n"
        )
    fifo = os.path.join(directory, "stop.fifo")
    if not os.path.exists(fifo):
        os.mkfifo(fifo)
    os.chdir(directory)
    import chdb  # noqa: PLC0415 (must follow the chdir)

    # One call: start the HTTP handler, then block reading the FIFO until told to stop. The
    # format becomes the HTTP interface's default output format, as on a real server.
    chdb._chdb.query(  # pylint: disable=protected-access
        f"SYSTEM START LISTEN HTTP; SELECT count() FROM file('{fifo}', 'LineAsString')",
        "TabSeparated",
        path=os.path.join(directory, "db"),
    )


if __name__ == "__main__":
    main()
