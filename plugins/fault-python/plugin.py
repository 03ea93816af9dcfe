"""fault-python — a validator (Python) that misbehaves on purpose, for the tests that hold
every language to one rule: only an explicit rejection is a verdict on the data (400), an
uncaught exception is the plugin's failure (500). Config `mode`: `throw` (a KeyError no code
catches), `reject` (a Rejection of every statement), anything else accepts."""

import xlrs_plugin


class WitWorld(xlrs_plugin.Validator):
    def check(self, statement, index):
        mode = xlrs_plugin.config("mode")
        if mode == "throw":
            return statement["noSuchProperty"]
        if mode == "reject":
            raise xlrs_plugin.Rejection(f"statement {index} rejected on purpose")
        return None
