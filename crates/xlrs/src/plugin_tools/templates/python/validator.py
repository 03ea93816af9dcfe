"""{{name}} — an xlrs validator (contract 0.2: it reads only the fields it needs): rejects
statements with the verb set as deny_verb in plugin.toml. Replace check() with your own rule.
(`xlrs plugin build` provides xlrs_plugin.)"""

import xlrs_plugin


class WitWorld(xlrs_plugin.FieldValidator):
    def check(self, statement, index):
        deny_verb = xlrs_plugin.config("deny_verb", "http://example.org/verbs/forbidden")
        if statement.string("/verb/id") == deny_verb:
            return f"the verb {deny_verb} is not accepted here"
        return None
