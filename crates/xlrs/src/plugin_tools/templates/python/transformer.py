"""{{name}} — an xlrs transformer: records in context.extensions which plugin processed each
statement (the IRI is extension in plugin.toml). Replace rewrite() with your own; ids must
stay unchanged. (`xlrs plugin build` provides xlrs_plugin.)"""

import xlrs_plugin


class WitWorld(xlrs_plugin.Transformer):
    def rewrite(self, statement, index):
        extension = xlrs_plugin.config("extension", "http://example.org/extensions/processed-by")
        context = statement.setdefault("context", {})
        context.setdefault("extensions", {})[extension] = "{{name}}"
        return statement
