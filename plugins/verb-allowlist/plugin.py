"""verb-allowlist — a validator (Python, contract 0.2) that accepts only statements whose verb
is in a list. It reads each statement's `/verb/id` through the host and parses nothing.

Config: `verbs`, the allowed verb IRIs separated by commas or whitespace. The xAPI `voided`
verb is always allowed, so statements can still be voided.
"""

import xlrs_plugin

VOIDED = "http://adlnet.gov/expapi/verbs/voided"

# Read once per instance (an instance serves call after call).
_allowed = None


def allowed():
    global _allowed
    if _allowed is None:
        _allowed = set(xlrs_plugin.config("verbs", "").replace(",", " ").split()) | {VOIDED}
    return _allowed


class WitWorld(xlrs_plugin.FieldValidator):
    def check(self, statement, index):
        verb = statement.string("/verb/id")
        if verb not in allowed():
            return f"the verb {verb} is not in this LRS's allow-list"
        return None
