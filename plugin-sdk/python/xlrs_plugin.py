"""xlrs plugin helper for Python (componentize-py). `xlrs plugin build` provides this module
unless the project has its own `xlrs_plugin.py`.

Contract 0.2 (`contract = "0.2"` in plugin.toml): read only the fields you need.

    import xlrs_plugin

    class WitWorld(xlrs_plugin.FieldValidator):
        def check(self, statement, index):
            if not statement.has("/result"):
                return "a result is required"

A storage backend (contract 0.2, world `storage`) defines `class Records` with the world's
functions and lets an `Index` answer them (the `xlrs plugin new --kind backend --lang python`
template).

Contract 0.1: every statement parsed whole (`xlrs_plugin.Validator`, `xlrs_plugin.Transformer`).
"""

import json

import wit_world
from componentize_py_types import Err
from wit_world.imports import host
from wit_world.imports.types import Level

try:  # the v0.1 worlds
    from wit_world.imports.types import Error
except ImportError:  # the v0.2 field worlds
    Error = None

__all__ = ["Rejection", "Validator", "Transformer", "FieldValidator", "FieldTransformer",
           "Fields", "Patch", "Replace", "Index", "store_failure", "store_unavailable",
           "config", "log", "Level"]


class Rejection(Exception):
    """Raised by a check or rewrite: rejects that statement with the message (400)."""


def config(key, default=None):
    """A value of the plugin's [config] table in plugin.toml, or default."""
    value = host.config(key)
    return default if value is None else value


def log(level, message):
    """Writes to the server's log; level is a Level (Level.INFO, Level.WARN, ...)."""
    host.log(level, str(message))


class Validator:
    """Base of a validator world: override check(statement, index), returning a message (or
    raising Rejection) to reject a statement, None to accept it."""

    def check(self, statement, index):
        return None

    def validate(self, statements):
        errors = []
        for index, text in enumerate(statements):
            try:
                message = self.check(json.loads(text), index)
            except Rejection as e:
                message = str(e)
            if message is not None:
                errors.append(Error(message=str(message), statement_index=index))
        if errors:
            raise Err(errors)


class Transformer:
    """Base of a transformer world: override rewrite(statement, index) to return the statement
    to store (same id); raise Rejection to reject it."""

    def rewrite(self, statement, index):
        return statement

    def transform(self, statements):
        out = []
        for index, text in enumerate(statements):
            try:
                statement = self.rewrite(json.loads(text), index)
            except Rejection as e:
                raise Err(Error(message=str(e), statement_index=index))
            out.append(json.dumps(statement, ensure_ascii=False))
        return out


class Fields:
    """One statement of the batch as the host holds it (contract 0.2): read its fields by JSON
    Pointer (RFC 6901: "/verb/id", "/actor/member/0", "~1" for each "/" of an IRI)."""

    def __init__(self, handle, index):
        self._handle = handle
        self.index = index

    def get(self, pointer):
        """The value at pointer (parsed), or None when absent."""
        text = self._handle.get(pointer)
        return None if text is None else json.loads(text)

    def string(self, pointer):
        """The string at pointer, or None when absent or not a string."""
        return self._handle.get_string(pointer)

    def has(self, pointer):
        """Whether the statement has a value at pointer."""
        return self._handle.get(pointer) is not None

    def whole(self):
        """The whole statement (parsed: use it only when the plugin needs most of it)."""
        return self.get("")


def _fields(statements):
    return [Fields(handle, index) for index, handle in enumerate(statements)]


def _release(statements):
    for handle in statements:
        handle.__exit__(None, None, None)


class FieldValidator:
    """Base of a field-validator world (contract 0.2): override check(statement, index), where
    statement is a Fields, returning a message (or raising Rejection) to reject it, None to
    accept it."""

    def check(self, statement, index):
        return None

    def validate(self, statements):
        from wit_world.imports import types as wit
        try:
            rejections = []
            for fields in _fields(statements):
                try:
                    message = self.check(fields, fields.index)
                except Rejection as e:
                    message = str(e)
                if message is not None:
                    rejections.append(wit.Rejection(statement_index=fields.index, message=str(message)))
            return rejections
        finally:
            _release(statements)


class Patch:
    """A JSON merge patch (RFC 7396) of a statement: objects merge, None removes a member."""

    def __init__(self, value):
        self.value = value


class Replace:
    """A whole statement standing for the one sent (same id)."""

    def __init__(self, value):
        self.value = value


class FieldTransformer:
    """Base of a field-transformer world (contract 0.2): override change(statement, index),
    where statement is a Fields, returning None (unchanged), a Patch or a Replace; raise
    Rejection to reject the statement."""

    def change(self, statement, index):
        return None

    def transform(self, statements):
        from wit_world.imports import types as wit
        try:
            changes, rejections = [], []
            for fields in _fields(statements):
                try:
                    answer = self.change(fields, fields.index)
                except Rejection as e:
                    rejections.append(wit.Rejection(statement_index=fields.index, message=str(e)))
                    continue
                if answer is None:
                    changes.append(wit.Change_Unchanged())
                elif isinstance(answer, Patch):
                    changes.append(wit.Change_Patch(json.dumps(answer.value, ensure_ascii=False)))
                elif isinstance(answer, Replace):
                    changes.append(wit.Change_Replace(json.dumps(answer.value, ensure_ascii=False)))
                else:
                    raise TypeError(f"change() answered {type(answer).__name__}: None, Patch or Replace")
            if rejections:
                raise Err(rejections)
            return changes
        finally:
            _release(statements)


class Index:
    """The records of a storage backend (contract 0.2, world `storage`) in memory, answering
    every function of the world: a backend that keeps its data in a file loads it into an
    Index, writes what it is given, and lets the Index answer."""

    def __init__(self):
        self.records = {}     # id -> the host's StatementRecord
        self.positions = []   # sorted (stored, id)
        self.voided = set()

    def __len__(self):
        return len(self.records)

    def put(self, record):
        """Keeps a record, replacing the one stored with its id."""
        import bisect
        old = self.records.get(record.id)
        if old is not None and old.stored != record.stored:
            del self.positions[bisect.bisect_left(self.positions, (old.stored, old.id))]
        if old is None or old.stored != record.stored:
            bisect.insort(self.positions, (record.stored, record.id))
        self.records[record.id] = record

    def void(self, ids):
        """Marks ids voided (stored yet or not)."""
        self.voided.update(ids)

    def append(self, records, voided):
        for record in records:
            self.put(record)
        self.void(voided)

    def rewrite(self, records):
        for record in records:
            if record.id in self.records:
                self.put(record)

    def remove(self, ids):
        import bisect
        for id in ids:
            record = self.records.pop(id, None)
            if record is not None:
                del self.positions[bisect.bisect_left(self.positions, (record.stored, id))]
            self.voided.discard(id)

    def status(self, ids):
        from wit_world.imports.types import IdStatus
        out = []
        for id in ids:
            record = self.records.get(id)
            if record is not None or id in self.voided:
                out.append(IdStatus(
                    id=id,
                    content_hash=record.content_hash if record else None,
                    voiding=bool(record and record.voiding),
                    voided=id in self.voided))
        return out

    def _row(self, record):
        from wit_world.imports.types import Row
        return Row(id=record.id, body=record.body, stored=record.stored,
                   voided=record.id in self.voided, statement_ref=record.statement_ref)

    def get(self, id):
        record = self.records.get(id)
        return None if record is None else self._row(record)

    def _selects(self, r, f):
        def has(keys, key, related):
            return any(k.key == key and (k.direct or related) for k in keys)
        return ((f.voided or r.id not in self.voided)
                and (not f.referring or r.statement_ref is not None)
                and (f.agent is None or has(r.agents, f.agent, f.related_agents))
                and (f.verb is None or r.verb == f.verb)
                and (f.activity is None or has(r.activities, f.activity, f.related_activities))
                and (f.registration is None or r.registration == f.registration)
                and (f.authority is None or r.authority == f.authority)
                and (f.attachment is None or f.attachment in r.attachments))

    def scan(self, f):
        import bisect
        if f.ids is not None:
            found = sorted({self.records[i].stored: self.records[i]
                            for i in f.ids if i in self.records}.items())
            candidates = [r for _, r in found]
            candidates = [r for r in candidates
                          if (f.since is None or r.stored > f.since)
                          and (f.until is None or r.stored <= f.until)]
            if not f.ascending:
                candidates.reverse()
        else:
            lo = 0 if f.since is None else bisect.bisect_right(self.positions, (f.since, "\uffff"))
            hi = (len(self.positions) if f.until is None
                  else bisect.bisect_right(self.positions, (f.until, "\uffff")))
            window = range(lo, hi) if f.ascending else range(hi - 1, lo - 1, -1)
            candidates = (self.records[self.positions[i][1]] for i in window)
        out = []
        for record in candidates:
            if self._selects(record, f):
                out.append(self._row(record))
                if len(out) >= max(f.limit, 1):
                    break
        return out


def store_failure(message):
    """The error a storage function raises for a failure the host reports as a 500."""
    from wit_world.imports.types import StoreError_Failure
    return Err(StoreError_Failure(str(message)))


def store_unavailable(message):
    """The error a storage function raises when its storage cannot be reached now (503)."""
    from wit_world.imports.types import StoreError_Unavailable
    return Err(StoreError_Unavailable(str(message)))
