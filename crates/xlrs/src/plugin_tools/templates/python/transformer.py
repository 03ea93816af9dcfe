"""{{name}} — an xlrs transformer (contract 0.2: it answers only what it changes): records in
context.extensions which plugin processed each statement (the IRI is extension in
plugin.toml), as a JSON merge patch. Replace change() with your own; ids must stay unchanged.
(`xlrs plugin build` provides xlrs_plugin.)"""

import xlrs_plugin


class WitWorld(xlrs_plugin.FieldTransformer):
    def change(self, statement, index):
        extension = xlrs_plugin.config("extension", "http://example.org/extensions/processed-by")
        # A merge patch merges objects: the other context properties and extensions stay.
        return xlrs_plugin.Patch({"context": {"extensions": {extension: "{{name}}"}}})
