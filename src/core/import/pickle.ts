/**
 * An unpickler for the opcodes that torch.save emits (Python's pickle protocols 2-5; opcode table of CPython
 * Lib/pickletools.py). Python values become: None -> null, bool, int -> number (bigint beyond 2^53), float,
 * str -> string, bytes -> Uint8Array, list and tuple -> array, dict -> Map. Classes and functions (GLOBAL,
 * STACK_GLOBAL) are resolved by the caller's `findClass`, persistent ids (BINPERSID) by `persistentLoad`.
 */

/** A callable Python global as the unpickler sees it: REDUCE and NEWOBJ call it with the argument tuple. */
export interface PyCallable {
  readonly module: string;
  readonly name: string;
  call(args: unknown[]): unknown;
}

/** An object of a class the reader does not model (kept so that unrelated parts of a checkpoint still load). */
export class PyObject {
  state: unknown = undefined;
  constructor(readonly cls: string, readonly args: unknown[]) {}
}

export interface UnpickleHooks {
  findClass(module: string, name: string): PyCallable;
  persistentLoad(pid: unknown): unknown;
}

/** A global the reader does not model: calling it gives a PyObject. */
export function opaqueGlobal(module: string, name: string): PyCallable {
  return { module, name, call: (args) => new PyObject(`${module}.${name}`, args) };
}

const MARK = Symbol('mark');

const OP = {
  PROTO: 0x80, FRAME: 0x95, STOP: 0x2e, MARK: 0x28, POP: 0x30, POP_MARK: 0x31, DUP: 0x32,
  EMPTY_DICT: 0x7d, EMPTY_LIST: 0x5d, EMPTY_TUPLE: 0x29, EMPTY_SET: 0x8f, ADDITEMS: 0x90, FROZENSET: 0x91,
  TUPLE: 0x74, TUPLE1: 0x85, TUPLE2: 0x86, TUPLE3: 0x87, LIST: 0x6c, DICT: 0x64,
  APPEND: 0x61, APPENDS: 0x65, SETITEM: 0x73, SETITEMS: 0x75,
  BININT: 0x4a, BININT1: 0x4b, BININT2: 0x4d, LONG1: 0x8a, LONG4: 0x8b, BINFLOAT: 0x47,
  NEWTRUE: 0x88, NEWFALSE: 0x89, NONE: 0x4e,
  BINUNICODE: 0x58, SHORT_BINUNICODE: 0x8c, BINUNICODE8: 0x8d, BINSTRING: 0x54, SHORT_BINSTRING: 0x55,
  BINBYTES: 0x42, SHORT_BINBYTES: 0x43, BINBYTES8: 0x8e, BYTEARRAY8: 0x96,
  GLOBAL: 0x63, STACK_GLOBAL: 0x93, REDUCE: 0x52, BUILD: 0x62, NEWOBJ: 0x81, NEWOBJ_EX: 0x92,
  BINPERSID: 0x51, BINPUT: 0x71, LONG_BINPUT: 0x72, MEMOIZE: 0x94, BINGET: 0x68, LONG_BINGET: 0x6a,
} as const;

/** Little-endian two's complement integer of `bytes` (LONG1/LONG4), as a number when it is exact. */
function decodeLong(bytes: Uint8Array): number | bigint {
  if (bytes.length === 0) return 0;
  let v = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[i]);
  if (bytes[bytes.length - 1] & 0x80) v -= 1n << BigInt(8 * bytes.length);
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

/** Unpickle `data`; `where` (e.g. "model.pt: archive/data.pkl") prefixes every error. */
export function unpickle(data: Uint8Array, hooks: UnpickleHooks, where: string): unknown {
  return unpickleFrom(data, 0, hooks, where).value;
}

/** Unpickle the pickle that starts at byte `start`; also returns the byte after its STOP (pickles can follow). */
export function unpickleFrom(data: Uint8Array, start: number, hooks: UnpickleHooks, where: string): { value: unknown; end: number } {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const utf8 = new TextDecoder('utf-8');
  const stack: unknown[] = [];
  const memo = new Map<number, unknown>();
  let pos = start;
  let opAt = start;
  const fail = (msg: string): never => {
    throw new Error(`${where}: corrupt or unsupported pickle: ${msg} (at byte ${opAt})`);
  };
  const need = (n: number) => {
    if (pos + n > data.length) fail(`unexpected end of data (needs ${n} more bytes, ${data.length - pos} left)`);
  };
  const u8 = () => { need(1); return data[pos++]; };
  const u16 = () => { need(2); const v = view.getUint16(pos, true); pos += 2; return v; };
  const u32 = () => { need(4); const v = view.getUint32(pos, true); pos += 4; return v; };
  const i32 = () => { need(4); const v = view.getInt32(pos, true); pos += 4; return v; };
  const u64 = () => { need(8); const v = Number(view.getBigUint64(pos, true)); pos += 8; return v; };
  const bytes = (n: number) => { need(n); const b = data.subarray(pos, pos + n); pos += n; return b; };
  const line = () => {
    const end = data.indexOf(0x0a, pos);
    if (end < 0) fail('unterminated text line');
    const s = utf8.decode(data.subarray(pos, end));
    pos = end + 1;
    return s;
  };
  const pop = () => {
    if (stack.length === 0) fail('stack underflow');
    return stack.pop();
  };
  const top = () => {
    if (stack.length === 0) fail('stack underflow');
    return stack[stack.length - 1];
  };
  const popMark = (): unknown[] => {
    const i = stack.lastIndexOf(MARK);
    if (i < 0) fail('MARK expected on the stack');
    const items = stack.splice(i);
    items.shift();
    return items;
  };
  const asMap = (o: unknown, op: string): Map<unknown, unknown> => {
    if (!(o instanceof Map)) fail(`${op} on a ${typeof o}, expected a dict`);
    return o as Map<unknown, unknown>;
  };
  const asList = (o: unknown, op: string): unknown[] => {
    if (!Array.isArray(o)) fail(`${op} on a ${typeof o}, expected a list`);
    return o as unknown[];
  };
  const asCallable = (o: unknown, op: string): PyCallable => {
    if (!o || typeof (o as PyCallable).call !== 'function') fail(`${op} of a value that is not a class or function`);
    return o as PyCallable;
  };
  const getMemo = (k: number) => {
    if (!memo.has(k)) fail(`memo key ${k} is not set`);
    return memo.get(k);
  };

  for (;;) {
    opAt = pos;
    const op = u8();
    switch (op) {
      case OP.PROTO: u8(); break;
      case OP.FRAME: u64(); break;
      case OP.STOP: {
        if (stack.length !== 1) fail(`STOP with ${stack.length} values on the stack`);
        return { value: stack[0], end: pos };
      }
      case OP.MARK: stack.push(MARK); break;
      case OP.POP: pop(); break;
      case OP.POP_MARK: popMark(); break;
      case OP.DUP: stack.push(top()); break;
      case OP.EMPTY_DICT: stack.push(new Map()); break;
      case OP.EMPTY_LIST: stack.push([]); break;
      case OP.EMPTY_TUPLE: stack.push([]); break;
      case OP.EMPTY_SET: stack.push(new Set()); break;
      case OP.ADDITEMS: {
        const items = popMark();
        const s = top();
        if (!(s instanceof Set)) fail('ADDITEMS on a value that is not a set');
        for (const it of items) (s as Set<unknown>).add(it);
        break;
      }
      case OP.FROZENSET: stack.push(new Set(popMark())); break;
      case OP.TUPLE: stack.push(popMark()); break;
      case OP.TUPLE1: stack.push([pop()]); break;
      case OP.TUPLE2: { const b = pop(), a = pop(); stack.push([a, b]); break; }
      case OP.TUPLE3: { const c = pop(), b = pop(), a = pop(); stack.push([a, b, c]); break; }
      case OP.LIST: stack.push(popMark()); break;
      case OP.DICT: {
        const items = popMark();
        const m = new Map();
        for (let i = 0; i + 1 < items.length; i += 2) m.set(items[i], items[i + 1]);
        stack.push(m);
        break;
      }
      case OP.APPEND: { const v = pop(); asList(top(), 'APPEND').push(v); break; }
      case OP.APPENDS: { const items = popMark(); asList(top(), 'APPENDS').push(...items); break; }
      case OP.SETITEM: { const v = pop(), k = pop(); asMap(top(), 'SETITEM').set(k, v); break; }
      case OP.SETITEMS: {
        const items = popMark();
        const m = asMap(top(), 'SETITEMS');
        for (let i = 0; i + 1 < items.length; i += 2) m.set(items[i], items[i + 1]);
        break;
      }
      case OP.BININT: stack.push(i32()); break;
      case OP.BININT1: stack.push(u8()); break;
      case OP.BININT2: stack.push(u16()); break;
      case OP.LONG1: stack.push(decodeLong(bytes(u8()))); break;
      case OP.LONG4: stack.push(decodeLong(bytes(u32()))); break;
      case OP.BINFLOAT: { need(8); stack.push(view.getFloat64(pos, false)); pos += 8; break; }
      case OP.NEWTRUE: stack.push(true); break;
      case OP.NEWFALSE: stack.push(false); break;
      case OP.NONE: stack.push(null); break;
      case OP.BINUNICODE: stack.push(utf8.decode(bytes(u32()))); break;
      case OP.SHORT_BINUNICODE: stack.push(utf8.decode(bytes(u8()))); break;
      case OP.BINUNICODE8: stack.push(utf8.decode(bytes(u64()))); break;
      case OP.BINSTRING: stack.push(new TextDecoder('latin1').decode(bytes(i32()))); break;
      case OP.SHORT_BINSTRING: stack.push(new TextDecoder('latin1').decode(bytes(u8()))); break;
      case OP.BINBYTES: stack.push(bytes(u32())); break;
      case OP.SHORT_BINBYTES: stack.push(bytes(u8())); break;
      case OP.BINBYTES8: case OP.BYTEARRAY8: stack.push(bytes(u64())); break;
      case OP.GLOBAL: { const module = line(); const name = line(); stack.push(hooks.findClass(module, name)); break; }
      case OP.STACK_GLOBAL: {
        const name = pop(), module = pop();
        if (typeof name !== 'string' || typeof module !== 'string') fail('STACK_GLOBAL needs two strings');
        stack.push(hooks.findClass(module as string, name as string));
        break;
      }
      case OP.REDUCE: { const args = asList(pop(), 'REDUCE arguments'); stack.push(asCallable(pop(), 'REDUCE').call(args)); break; }
      case OP.NEWOBJ: { const args = asList(pop(), 'NEWOBJ arguments'); stack.push(asCallable(pop(), 'NEWOBJ').call(args)); break; }
      case OP.NEWOBJ_EX: { pop(); const args = asList(pop(), 'NEWOBJ_EX arguments'); stack.push(asCallable(pop(), 'NEWOBJ_EX').call(args)); break; }
      case OP.BUILD: {
        const state = pop();
        const obj = top();
        // OrderedDict state (e.g. a state dict's _metadata) is attribute data, irrelevant to the tensors.
        if (obj instanceof PyObject) obj.state = state;
        break;
      }
      case OP.BINPERSID: stack.push(hooks.persistentLoad(pop())); break;
      case OP.BINPUT: memo.set(u8(), top()); break;
      case OP.LONG_BINPUT: memo.set(u32(), top()); break;
      case OP.MEMOIZE: memo.set(memo.size, top()); break;
      case OP.BINGET: stack.push(getMemo(u8())); break;
      case OP.LONG_BINGET: stack.push(getMemo(u32())); break;
      default: fail(`unknown opcode 0x${op.toString(16).padStart(2, '0')}`);
    }
  }
}
