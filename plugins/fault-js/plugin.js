// fault-js — a validator (JavaScript) that misbehaves on purpose, for the tests that hold
// every language to one rule: only an explicit rejection is a verdict on the data (400), an
// uncaught exception is the plugin's failure (500). Config `mode`:
// - `throw`: a TypeError no code catches, inside the helper's `validator` (which reports it);
// - `raw-throw`: an Error thrown straight out of the export, bypassing the helper (the host
//   sees an empty error list and treats it as the failure it is);
// - `bad-index`: a rejection naming a statement the batch does not have;
// - `reject`: a Rejection of every statement;
// - anything else accepts.
import { validator, config, Rejection } from './xlrs.js';

const checked = validator((statement, index) => {
  const mode = config('mode');
  if (mode === 'throw') {
    const missing = statement.noSuchProperty;
    return missing.length; // TypeError: missing is undefined
  }
  if (mode === 'reject') throw new Rejection(`statement ${index} rejected on purpose`);
  return undefined;
});

export function validate(statements) {
  const mode = config('mode');
  if (mode === 'raw-throw') throw new Error('thrown past the helper');
  if (mode === 'bad-index') throw [{ message: 'no such statement', statementIndex: 99 }];
  return checked(statements);
}
