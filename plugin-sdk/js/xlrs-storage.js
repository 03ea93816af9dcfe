// xlrs plugin helper for JavaScript storage backends (contract 0.2, world `storage`:
// `kind = "backend"` and `contract = "0.2"` in plugin.toml). `xlrs plugin build` provides this
// file unless the project has its own `xlrs-storage.js`. A backend exports `records` with the
// world's functions and lets an `Index` answer them:
//   import { Index, storeFailure, config, log } from './xlrs-storage.js';
// Positions (`stored`, `since`, `until`) are BigInts, as the component model's s64 is in JS.
export { config, log } from './xlrs-fields.js';

/** The error a storage function throws for a failure the host reports as a 500. */
export function storeFailure(message) {
  return { tag: 'failure', val: String(message) };
}

/** The error a storage function throws when its storage cannot be reached now (503). */
export function storeUnavailable(message) {
  return { tag: 'unavailable', val: String(message) };
}

/** The first index of `list` (sorted by `stored`) whose `stored` is > `at` (>= when `inclusive`). */
function bound(list, at, inclusive) {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const s = list[mid].stored;
    if (s < at || (!inclusive && s === at)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function has(keys, key, related) {
  return keys.some((k) => k.key === key && (k.direct || related));
}

/** The records of a storage backend in memory, answering every function of the world. */
export class Index {
  constructor() {
    this.records = new Map(); // id -> the host's statement record
    this.positions = []; // records sorted by `stored`
    this.voided = new Set();
  }

  get size() {
    return this.records.size;
  }

  /** Keeps a record, replacing the one stored with its id. */
  put(record) {
    const old = this.records.get(record.id);
    if (old) this.positions.splice(bound(this.positions, old.stored, true), 1);
    this.positions.splice(bound(this.positions, record.stored, false), 0, record);
    this.records.set(record.id, record);
  }

  /** Marks ids voided (stored yet or not). */
  void(ids) {
    for (const id of ids) this.voided.add(id);
  }

  append(records, voided) {
    for (const r of records) this.put(r);
    this.void(voided);
  }

  rewrite(records) {
    for (const r of records) if (this.records.has(r.id)) this.put(r);
  }

  remove(ids) {
    for (const id of ids) {
      const r = this.records.get(id);
      if (r) {
        this.positions.splice(bound(this.positions, r.stored, true), 1);
        this.records.delete(id);
      }
      this.voided.delete(id);
    }
  }

  status(ids) {
    const out = [];
    for (const id of ids) {
      const r = this.records.get(id);
      if (r || this.voided.has(id)) {
        out.push({
          id,
          contentHash: r ? r.contentHash : undefined,
          voiding: Boolean(r && r.voiding),
          voided: this.voided.has(id),
        });
      }
    }
    return out;
  }

  row(r) {
    return {
      id: r.id,
      body: r.body,
      stored: r.stored,
      voided: this.voided.has(r.id),
      statementRef: r.statementRef,
    };
  }

  get(id) {
    const r = this.records.get(id);
    return r ? this.row(r) : undefined;
  }

  selects(r, f) {
    return (
      (f.voided || !this.voided.has(r.id)) &&
      (!f.referring || r.statementRef !== undefined) &&
      (f.agent === undefined || has(r.agents, f.agent, f.relatedAgents)) &&
      (f.verb === undefined || r.verb === f.verb) &&
      (f.activity === undefined || has(r.activities, f.activity, f.relatedActivities)) &&
      (f.registration === undefined || r.registration === f.registration) &&
      (f.authority === undefined || r.authority === f.authority) &&
      (f.attachment === undefined || r.attachments.includes(f.attachment))
    );
  }

  scan(f) {
    const limit = Math.max(f.limit, 1);
    const out = [];
    const take = (r) => {
      if (this.selects(r, f)) out.push(this.row(r));
      return out.length >= limit;
    };
    if (f.ids !== undefined) {
      const found = [...new Set(f.ids)]
        .map((id) => this.records.get(id))
        .filter((r) => r && (f.since === undefined || r.stored > f.since) &&
          (f.until === undefined || r.stored <= f.until))
        .sort((a, b) => (a.stored < b.stored ? -1 : 1));
      if (!f.ascending) found.reverse();
      for (const r of found) if (take(r)) break;
      return out;
    }
    // Only the window is visited, from the end the scan starts at: O(page) when unfiltered.
    const lo = f.since === undefined ? 0 : bound(this.positions, f.since, false);
    const hi = f.until === undefined ? this.positions.length : bound(this.positions, f.until, false);
    if (f.ascending) {
      for (let i = lo; i < hi; i++) if (take(this.positions[i])) break;
    } else {
      for (let i = hi - 1; i >= lo; i--) if (take(this.positions[i])) break;
    }
    return out;
  }
}
