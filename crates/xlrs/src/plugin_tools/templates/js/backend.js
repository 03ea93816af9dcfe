// {{name}}: a storage backend (contract 0.2, world `storage`) in JavaScript: statements as JSON
// lines in one file of the directory plugin.toml grants (`[capabilities] dir`, seen here as
// /data, through WASI's filesystem), with an index in memory. The file has jsonl-store's
// format: a line is a record, or {"op": "void" | "remove", "ids": [...]}; replaying the lines
// gives the store.
//
// The host applies every xAPI rule (duplicates, conflicts, voiding, StatementRef filters,
// paging) and calls the functions of `records`. Each call's lines go in one write followed by
// a sync; the file is read again whenever its size is not what this instance last saw.
import { getDirectories } from 'wasi:filesystem/preopens@0.2.10';
import { Index, storeFailure, storeUnavailable, config } from './xlrs-storage.js';

const CHUNK = 1n << 20n;
let loaded = null; // { index, length } of the file, once read

function why(e) {
  return e && e.payload !== undefined ? e.payload : e;
}

function open() {
  const found = getDirectories().find(([, path]) => path === '/data');
  if (!found) throw storeUnavailable('no directory granted: set [capabilities] dir');
  const name = config('file', 'statements.jsonl');
  try {
    return found[0].openAt({}, name, { create: true }, { read: true, write: true });
  } catch (e) {
    throw storeUnavailable(`cannot open /data/${name}: ${why(e)}`);
  }
}

function record(v) {
  const keys = (pairs) => pairs.map(([key, direct]) => ({ key, direct }));
  return {
    id: v.id, body: v.body, stored: BigInt(v.stored), contentHash: v.hash, verb: v.verb,
    agents: keys(v.agents), activities: keys(v.activities),
    registration: v.registration ?? undefined, statementRef: v.ref ?? undefined,
    // A line jsonl-store's v0.1 form wrote names the statement it voids.
    voiding: v.voiding ?? (v.voids != null), authority: v.authority,
    attachments: v.attachments ?? [],
  };
}

function line(r) {
  const pairs = (keys) => keys.map((k) => [k.key, k.direct]);
  return JSON.stringify({
    id: r.id, stored: Number(r.stored), hash: r.contentHash, verb: r.verb,
    agents: pairs(r.agents), activities: pairs(r.activities),
    registration: r.registration ?? null, ref: r.statementRef ?? null, voiding: r.voiding,
    authority: r.authority, attachments: r.attachments, body: r.body,
  }) + '\n';
}

function op(name, ids) {
  return JSON.stringify({ op: name, ids }) + '\n';
}

/** Reads the whole file into a new index; a torn last line is left out. */
function load(file) {
  const chunks = [];
  let offset = 0n;
  for (;;) {
    const [bytes, end] = file.read(CHUNK, offset);
    chunks.push(bytes);
    offset += BigInt(bytes.length);
    if (end || bytes.length === 0) break;
  }
  const all = new Uint8Array(Number(offset));
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.length;
  }
  const length = all.lastIndexOf(10) + 1;
  const index = new Index();
  for (const text of new TextDecoder().decode(all.subarray(0, length)).split('\n')) {
    if (!text) continue;
    const v = JSON.parse(text);
    if (v.op === 'void') index.void(v.ids);
    else if (v.op === 'remove') index.remove(v.ids);
    else {
      index.put(record(v));
      if (v.voids != null) index.void([v.voids]);
    }
  }
  return { index, length: BigInt(length) };
}

/** The file, and the store it holds: read again unless its size is what was last seen. */
function current() {
  const file = open();
  try {
    const size = file.stat().size;
    if (!loaded || loaded.length !== size) loaded = load(file);
  } catch (e) {
    throw storeFailure(`reading the statements file: ${why(e)}`);
  }
  return { file, index: loaded.index };
}

/** Appends `text` (cutting a torn last line first), syncs, then changes the index. */
function write(text, change) {
  const { file, index } = current();
  if (!text) return;
  const bytes = new TextEncoder().encode(text);
  const at = loaded.length;
  try {
    file.setSize(at);
    let written = 0n;
    while (written < BigInt(bytes.length)) {
      written += file.write(bytes.subarray(Number(written)), at + written);
    }
    file.syncData();
  } catch (e) {
    loaded = null; // read again: the file may hold part of it
    throw storeFailure(`appending to the statements file: ${why(e)}`);
  }
  change(index);
  loaded.length = at + BigInt(bytes.length);
}

export const records = {
  status(ids) {
    return current().index.status(ids);
  },
  append(statements, voided) {
    const text = statements.map(line).join('') + (voided.length ? op('void', voided) : '');
    write(text, (index) => index.append(statements, voided));
  },
  rewrite(statements) {
    const { index } = current();
    const held = statements.filter((r) => index.records.has(r.id));
    write(held.map(line).join(''), (index) => index.rewrite(held));
  },
  remove(ids) {
    write(ids.length ? op('remove', ids) : '', (index) => index.remove(ids));
  },
  get(id) {
    return current().index.get(id);
  },
  scan(filter) {
    return current().index.scan(filter);
  },
};
