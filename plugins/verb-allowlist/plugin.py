"""verb-allowlist — a validator (Python) that accepts only statements whose verb is in a list.

Config: `verbs`, the allowed verb IRIs separated by commas or whitespace. The xAPI `voided`
verb is always allowed, so statements can still be voided.
"""

import xlrs_plugin

VOIDED = "http://adlnet.gov/expapi/verbs/voided"


class WitWorld(xlrs_plugin.Validator):
    def check(self, statement, index):
        allowed = set(xlrs_plugin.config("verbs", "").replace(",", " ").split())
        allowed.add(VOIDED)
        verb = statement.get("verb", {}).get("id")
        if verb not in allowed:
            return f"the verb {verb} is not in this LRS's allow-list"
        return None
