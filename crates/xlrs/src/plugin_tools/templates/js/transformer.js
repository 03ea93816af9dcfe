// {{name}} — an xlrs transformer: records in context.extensions which plugin processed each
// statement (the IRI is `extension` in plugin.toml). Replace the rewrite with your own; ids
// must stay unchanged. (`xlrs plugin build` provides xlrs.js.)
import { transformer, config } from './xlrs.js';

export const transform = transformer((statement) => {
  const extension = config('extension', 'http://example.org/extensions/processed-by');
  statement.context ??= {};
  statement.context.extensions ??= {};
  statement.context.extensions[extension] = '{{name}}';
  return statement;
});
