// {{name}} — an xlrs transformer (contract 0.2: it answers only what it changes): records in
// context.extensions which plugin processed each statement (the IRI is `extension` in
// plugin.toml), as a JSON merge patch. Replace the change with your own; ids must stay
// unchanged. (`xlrs plugin build` provides xlrs-fields.js.)
import { fieldTransformer, patch, config } from './xlrs-fields.js';

export const transform = fieldTransformer(() => {
  const extension = config('extension', 'http://example.org/extensions/processed-by');
  // A merge patch merges objects: the other context properties and extensions stay.
  return patch({ context: { extensions: { [extension]: '{{name}}' } } });
});
