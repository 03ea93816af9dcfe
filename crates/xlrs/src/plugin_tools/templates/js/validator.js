// {{name}} — an xlrs validator: rejects statements with the verb set as `deny_verb` in
// plugin.toml. Replace the check with your own rule. (`xlrs plugin build` provides xlrs.js.)
import { validator, config } from './xlrs.js';

export const validate = validator((statement) => {
  const denyVerb = config('deny_verb', 'http://example.org/verbs/forbidden');
  if (statement.verb.id === denyVerb) {
    return `the verb ${denyVerb} is not accepted here`;
  }
});
