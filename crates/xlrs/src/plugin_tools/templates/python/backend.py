"""{{name}}: a storage backend (contract 0.2, world `storage`) in Python: statements as JSON
lines in one file of the directory plugin.toml grants (`[capabilities] dir`, seen here as
/data), with an index in memory. The file has jsonl-store's format: a line is a record, or
{"op": "void" | "remove", "ids": [...]}; replaying the lines gives the store.

The host applies every xAPI rule (duplicates, conflicts, voiding, StatementRef filters,
paging) and calls the functions of `Records`. Each call's lines go in one write followed by
fsync; the file is read again whenever its size is not what this instance last saw.
"""

import json
import os

import xlrs_plugin
from wit_world.imports.types import IndexKey, StatementRecord

_loaded = None  # (Index, length of the file it covers)


def _path():
    return "/data/" + xlrs_plugin.config("file", "statements.jsonl")


def _record(v):
    keys = lambda pairs: [IndexKey(key=k, direct=d) for k, d in pairs]
    voids = v.get("voids")  # a line jsonl-store's v0.1 form wrote
    return StatementRecord(
        id=v["id"], body=v["body"], stored=v["stored"], content_hash=v["hash"],
        verb=v["verb"], agents=keys(v["agents"]), activities=keys(v["activities"]),
        registration=v.get("registration"), statement_ref=v.get("ref"),
        voiding=v.get("voiding", voids is not None), authority=v["authority"],
        attachments=v.get("attachments", [])), voids


def _line(r):
    pairs = lambda keys: [[k.key, k.direct] for k in keys]
    return json.dumps({
        "id": r.id, "stored": r.stored, "hash": r.content_hash, "verb": r.verb,
        "agents": pairs(r.agents), "activities": pairs(r.activities),
        "registration": r.registration, "ref": r.statement_ref, "voiding": r.voiding,
        "authority": r.authority, "attachments": r.attachments, "body": r.body}) + "\n"


def _op(name, ids):
    return json.dumps({"op": name, "ids": list(ids)}) + "\n"


def _current():
    """The index of the file, read again unless its size is what this instance last saw."""
    global _loaded
    try:
        size = os.path.getsize(_path())
    except FileNotFoundError:
        size = 0
    except OSError as e:
        raise xlrs_plugin.store_unavailable(f"cannot open {_path()}: {e}")
    if _loaded is not None and _loaded[1] == size:
        return _loaded[0]
    index = xlrs_plugin.Index()
    length = 0
    if size:
        with open(_path(), "rb") as f:
            data = f.read()
        length = data.rfind(b"\n") + 1  # a torn last line is left out
        for line in data[:length].splitlines():
            if not line:
                continue
            v = json.loads(line)
            if v.get("op") == "void":
                index.void(v["ids"])
            elif v.get("op") == "remove":
                index.remove(v["ids"])
            else:
                record, voids = _record(v)
                index.put(record)
                if voids:
                    index.void([voids])
    _loaded = (index, length)
    return index


def _write(lines, change):
    """Appends the lines (cutting a torn last line first), syncs, then changes the index."""
    global _loaded
    index = _current()
    if not lines:
        return
    length = _loaded[1]
    try:
        with open(_path(), "r+b" if os.path.exists(_path()) else "w+b") as f:
            f.truncate(length)
            f.seek(length)
            f.write(lines.encode())
            f.flush()
            os.fsync(f.fileno())
    except OSError as e:
        _loaded = None  # read again: the file may hold part of it
        raise xlrs_plugin.store_failure(f"writing {_path()}: {e}")
    change(index)
    _loaded = (index, length + len(lines.encode()))


class Records:
    def status(self, ids):
        return _current().status(ids)

    def append(self, statements, voided):
        lines = "".join(_line(r) for r in statements) + (_op("void", voided) if voided else "")
        _write(lines, lambda index: index.append(statements, voided))

    def rewrite(self, statements):
        index = _current()
        held = [r for r in statements if r.id in index.records]
        _write("".join(_line(r) for r in held), lambda index: index.rewrite(held))

    def remove(self, ids):
        _write(_op("remove", ids) if ids else "", lambda index: index.remove(ids))

    def get(self, id):
        return _current().get(id)

    def scan(self, filter):
        return _current().scan(filter)
