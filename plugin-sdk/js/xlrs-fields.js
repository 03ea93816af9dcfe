// xlrs plugin helper for JavaScript field plugins (contract 0.2: `contract = "0.2"` in
// plugin.toml). `xlrs plugin build` provides this file unless the project has its own
// `xlrs-fields.js`. A plugin reads only the fields it needs and a transformer answers only
// what it changes:
//   import { fieldValidator, fieldTransformer, patch, replace, config, log, Rejection }
//     from './xlrs-fields.js';
import { config as hostConfig, log as hostLog } from 'xlrs:plugin/host@0.2.0';

/** A value of the plugin's `[config]` table in plugin.toml, or `fallback`. */
export function config(key, fallback = undefined) {
  const value = hostConfig(key);
  return value === undefined || value === null ? fallback : value;
}

/** Writes to the server's log: level is 'trace' | 'debug' | 'info' | 'warn' | 'error'. */
export function log(level, message) {
  hostLog(level, String(message));
}

/** A statement to reject: thrown by a check or change, it becomes a 400 naming the statement. */
export class Rejection extends Error {}

/** A JSON merge patch (RFC 7396) of a statement: objects merge, `null` removes a member. */
export function patch(value) {
  return { tag: 'patch', val: JSON.stringify(value) };
}

/** A whole statement standing for the one sent (same id). */
export function replace(value) {
  return { tag: 'replace', val: JSON.stringify(value) };
}

/** One statement of the batch as the host holds it: read its fields by JSON Pointer. */
class Fields {
  constructor(handle, index) {
    this.handle = handle;
    this.index = index;
  }
  /** The value at a JSON Pointer (`/verb/id`), parsed; undefined when absent. */
  get(pointer) {
    const text = this.handle.get(pointer);
    return text === undefined || text === null ? undefined : JSON.parse(text);
  }
  /** The string at a JSON Pointer; undefined when absent or not a string. */
  string(pointer) {
    const text = this.handle.getString(pointer);
    return text === null ? undefined : text;
  }
  /** Whether the statement has a value at a JSON Pointer. */
  has(pointer) {
    const text = this.handle.get(pointer);
    return text !== undefined && text !== null;
  }
  /** The whole statement (parsed: only when the plugin needs most of it). */
  whole() {
    return this.get('');
  }
}

/** Any other exception is the plugin's failure (500): printed, then the call traps. */
function fail(what, e) {
  console.error(`${what} failed: ${e && e.stack ? `${e}\n${e.stack}` : e}`);
  throw undefined;
}

/** Runs `each(fields)` over the batch, then releases the handles. */
function over(statements, each) {
  try {
    return statements.map((handle, index) => each(new Fields(handle, index)));
  } finally {
    // componentize-js names the drop `Symbol.dispose`, or `Symbol.for('dispose')` where the
    // engine lacks it.
    const dispose = Symbol.dispose ?? Symbol.for('dispose');
    for (const handle of statements) handle[dispose]?.();
  }
}

/**
 * Turns `check(statement, index)` into the exported `validate`: a check rejects a statement by
 * returning a message (a string) or throwing a Rejection; anything else accepts it.
 */
export function fieldValidator(check) {
  return function validate(statements) {
    const rejections = [];
    over(statements, (fields) => {
      let message;
      try {
        message = check(fields, fields.index);
      } catch (e) {
        if (!(e instanceof Rejection)) fail('validator', e);
        message = e.message;
      }
      if (typeof message === 'string') {
        rejections.push({ statementIndex: fields.index, message });
      }
    });
    return rejections;
  };
}

/**
 * Turns `change(statement, index)` into the exported `transform`: it answers `undefined`
 * (unchanged), `patch({...})` or `replace({...})`; throwing a Rejection rejects the statement.
 */
export function fieldTransformer(change) {
  return function transform(statements) {
    const rejections = [];
    const changes = over(statements, (fields) => {
      try {
        const answer = change(fields, fields.index);
        return answer === undefined ? { tag: 'unchanged' } : answer;
      } catch (e) {
        if (!(e instanceof Rejection)) fail('transformer', e);
        rejections.push({ statementIndex: fields.index, message: e.message });
        return { tag: 'unchanged' };
      }
    });
    if (rejections.length > 0) throw rejections;
    return changes;
  };
}
