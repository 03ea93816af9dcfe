"""xlrs plugin helper for Python (componentize-py). `xlrs plugin build` provides this module
unless the project has its own `xlrs_plugin.py`.

    import xlrs_plugin

    class WitWorld(xlrs_plugin.Validator):
        def check(self, statement, index):
            if "result" not in statement:
                return "a result is required"
"""

import json

import wit_world
from componentize_py_types import Err
from wit_world.imports import host
from wit_world.imports.types import Error, Level

__all__ = ["Rejection", "Validator", "Transformer", "config", "log", "Level"]


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
