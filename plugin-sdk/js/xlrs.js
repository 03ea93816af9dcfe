// xlrs plugin helper for JavaScript (componentize-js). `xlrs plugin build` provides this file
// unless the project has its own `xlrs.js`. Import what you need:
//   import { validator, transformer, config, log } from './xlrs.js';
import { config as hostConfig, log as hostLog } from 'xlrs:plugin/host@0.1.0';

/** A value of the plugin's `[config]` table in plugin.toml, or `fallback`. */
export function config(key, fallback = undefined) {
  const value = hostConfig(key);
  return value === undefined || value === null ? fallback : value;
}

/** Writes to the server's log: level is 'trace' | 'debug' | 'info' | 'warn' | 'error'. */
export function log(level, message) {
  hostLog(level, String(message));
}

/** A statement to reject: thrown by a check, it becomes a 400 naming the statement. */
export class Rejection extends Error {}

/**
 * Any other exception is the plugin's failure, not a verdict on the data: it is printed to
 * standard error (the host quotes it in the 500 and its log) and the call traps.
 */
function fail(what, e) {
  console.error(`${what} failed: ${e && e.stack ? `${e}\n${e.stack}` : e}`);
  // A thrown `undefined` cannot become the function's error value: the call traps.
  throw undefined;
}

/**
 * Turns `check(statement, index)` into the exported `validate`: a check rejects a statement by
 * returning a message (a string) or throwing a Rejection; anything else accepts it.
 */
export function validator(check) {
  return function validate(statements) {
    const errors = [];
    statements.forEach((text, index) => {
      let message;
      try {
        message = check(JSON.parse(text), index);
      } catch (e) {
        if (!(e instanceof Rejection)) fail('validator', e);
        message = e.message;
      }
      if (typeof message === 'string') errors.push({ message, statementIndex: index });
    });
    if (errors.length > 0) throw errors;
  };
}

/**
 * Turns `rewrite(statement, index)` into the exported `transform`: it returns the statement to
 * store (same id); throwing a Rejection rejects that statement (400).
 */
export function transformer(rewrite) {
  return function transform(statements) {
    return statements.map((text, index) => {
      try {
        const out = rewrite(JSON.parse(text), index);
        return JSON.stringify(out === undefined ? JSON.parse(text) : out);
      } catch (e) {
        if (!(e instanceof Rejection)) fail('transformer', e);
        throw { message: e.message, statementIndex: index };
      }
    });
  };
}
