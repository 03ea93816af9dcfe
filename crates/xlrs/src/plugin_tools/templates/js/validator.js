// {{name}} — an xlrs validator (contract 0.2: it reads only the fields it needs): rejects
// statements with the verb set as `deny_verb` in plugin.toml. Replace the check with your own
// rule. (`xlrs plugin build` provides xlrs-fields.js.)
import { fieldValidator, config } from './xlrs-fields.js';

export const validate = fieldValidator((statement) => {
  const denyVerb = config('deny_verb', 'http://example.org/verbs/forbidden');
  if (statement.string('/verb/id') === denyVerb) {
    return `the verb ${denyVerb} is not accepted here`;
  }
});
