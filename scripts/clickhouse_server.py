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

With CLICKHOUSE_THROWIF_CODES=1, queries may give `throwIf` an error code of their choice
(`allow_custom_error_code_in_throwif`): a test makes the engine refuse inserts with the code a
cluster would use (a table constraint that throws it), which one server cannot otherwise give.

With CLICKHOUSE_MAX_THREADS=N, the default profile gives each query N threads at most
(`max_threads`) instead of one per core: a test's stand-in for a server with N cores.
"""

import os
import sys


def main() -> None:
    directory, port = os.path.abspath(sys.argv[1]), int(sys.argv[2])
    os.makedirs(directory, exist_ok=True)
    # chdb embeds clickhouse-local, which reads ./config.xml from the working directory.
    lrs_database = sys.argv[3] if len(sys.argv) > 3 else None
    throwif_codes = os.environ.get("CLICKHOUSE_THROWIF_CODES") == "1"
    max_threads = os.environ.get("CLICKHOUSE_MAX_THREADS", "")
    own_users = bool(lrs_database or throwif_codes or max_threads)
    users = (
        "<user_directories><users_xml><path>users.xml</path></users_xml></user_directories>"
        if own_users
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
    if own_users:
        write_users(directory, lrs_database, throwif_codes, max_threads)
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


def write_users(
    directory: str, lrs_database: str | None, throwif_codes: bool, max_threads: str
) -> None:
    """Writes users.xml: `default` (anything), `lrs` (INSERT, SELECT on `lrs_database`) when
    it is given, and a default profile allowing `throwIf` error codes when asked and with
    `max_threads` when given."""
    user = (
        "<networks><ip>127.0.0.1</ip></networks><profile>default</profile><quota>default</quota>"
    )
    lrs = (
        f"<lrs><password>lrs-password</password>{user}"
        f"<grants><query>GRANT INSERT, SELECT ON {lrs_database}.*</query></grants></lrs>"
        if lrs_database
        else ""
    )
    profile = (
        "<allow_custom_error_code_in_throwif>1</allow_custom_error_code_in_throwif>"
        if throwif_codes
        else ""
    ) + (f"<max_threads>{int(max_threads)}</max_threads>" if max_threads else "")
    with open(os.path.join(directory, "users.xml"), "w", encoding="utf-8") as users:
        users.write(
            "<clickhouse><users>"
            f"<default><password></password>{user}"
            f"<access_management>1</access_management></default>{lrs}"
            f"</users><profiles><default>{profile}</default></profiles>"
            "<quotas><default/></quotas></clickhouse>\n"
        )


if __name__ == "__main__":
    main()
