"""Runs the real ClickHouse engine (embedded in chdb) as an HTTP server for tests and demos.

Usage: python clickhouse_server.py DIR PORT [LRS_DATABASE]

Serves ClickHouse's own HTTP interface on 127.0.0.1:PORT with its data in DIR/db (kept across
restarts) until a line is written to DIR/stop.fifo or the process gets SIGTERM. Needs the
`chdb-core` package (scripts/databases.sh installs it).

With CLICKHOUSE_QUERY_LOG=1 in the environment the engine also keeps `system.query_log` and
`system.part_log` (what each query and merge cost; bench/clickhouse-profile.sh reads them).

With LRS_DATABASE, the server also has the user Open edX Aspects gives its LRS: `lrs`, password
`lrs-password`, granted exactly what tutor-contrib-aspects grants it (INSERT, SELECT on the
database), beside `default`, which may do anything.
"""

import os
import sys


def main() -> None:
    directory, port = os.path.abspath(sys.argv[1]), int(sys.argv[2])
    os.makedirs(directory, exist_ok=True)
    # chdb embeds clickhouse-local, which reads ./config.xml from the working directory.
    users = (
        "<user_directories><users_xml><path>users.xml</path></users_xml></user_directories>"
        if len(sys.argv) > 3
        else ""
    )
    logs = (
        "".join(
            f"<{log}><database>system</database><table>{log}</table>"
            f"<flush_interval_milliseconds>1000</flush_interval_milliseconds></{log}>"
            for log in ("query_log", "part_log")
        )
        if os.environ.get("CLICKHOUSE_QUERY_LOG") == "1"
        else ""
    )
    with open(os.path.join(directory, "config.xml"), "w", encoding="utf-8") as config:
        config.write(
            "<clickhouse><listen_host>127.0.0.1</listen_host>"
            f"<http_port>{port}</http_port>{users}{logs}</clickhouse>\n"
        )
    if len(sys.argv) > 3:
        least_privilege_user(directory, sys.argv[3])
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


def least_privilege_user(directory: str, database: str) -> None:
    """Writes users.xml: `default` (anything) and `lrs` (INSERT, SELECT on `database`)."""
    user = (
        "<networks><ip>127.0.0.1</ip></networks><profile>default</profile><quota>default</quota>"
    )
    with open(os.path.join(directory, "users.xml"), "w", encoding="utf-8") as users:
        users.write(
            "<clickhouse><users>"
            f"<default><password></password>{user}"
            "<access_management>1</access_management></default>"
            f"<lrs><password>lrs-password</password>{user}"
            f"<grants><query>GRANT INSERT, SELECT ON {database}.*</query></grants></lrs>"
            "</users><profiles><default/></profiles><quotas><default/></quotas></clickhouse>\n"
        )


if __name__ == "__main__":
    main()
