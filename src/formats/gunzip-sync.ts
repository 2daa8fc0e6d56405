import zlib from 'node:zlib';

/**
 * A synchronous, incremental gunzip: push compressed bytes, get the inflated bytes they complete.
 *
 * Node's zlib has no public synchronous streaming API (zlib.gunzipSync inflates a whole buffer at
 * once, a stream is asynchronous), and Source reads are synchronous. This drives one zlib handle
 * with the calls gunzipSync itself makes (`handle.writeSync` and the `_writeState` it fills),
 * keeping the handle open between calls, into one output buffer reused from push to push (no
 * garbage: inflating gigabytes allocates nothing after the first pushes). Where those internals
 * are missing, it falls back to `_processChunk` with the engine's close suppressed, as minizlib (the
 * zlib of npm's tar) does. Concatenated gzip members inflate as one stream, as gzip -d does. Output
 * per push is bounded by the input given (at most ~1032 times its size, deflate's limit), so callers
 * bound memory by pushing small pieces.
 */
export type SyncGunzip = {
	/**
	 * Inflates a piece; throws a zlib error (Z_DATA_ERROR, ...) on corrupt data. The bytes returned
	 * share memory with the inflater's output buffer: they are valid until the next push (copy
	 * them to keep them).
	 */
	push(chunk: Buffer): Buffer;
	close(): void;
};

type Handle = {
	close(): void;
	writeSync?(
		flush: number,
		input: Buffer,
		inOff: number,
		inLen: number,
		out: Buffer,
		outOff: number,
		outLen: number,
	): void;
};

type Internal = zlib.Gunzip & {
	_handle: Handle | null;
	_writeState?: Uint32Array;
	_processChunk(chunk: Buffer, flushFlag: number): Buffer;
	readonly errored?: Error | null;
};

const noop = (): void => {};
const FIRST_OUT = 64 << 10;

export function syncGunzip(): SyncGunzip {
	const z = zlib.createGunzip({chunkSize: 1 << 16}) as Internal;
	// A failed call also emits 'error' asynchronously: never let it be unhandled.
	z.on('error', noop);
	let closed = false;
	let out = Buffer.allocUnsafe(FIRST_OUT);

	const direct = (
		chunk: Buffer,
		handle: Handle & {writeSync: NonNullable<Handle['writeSync']>},
		state: Uint32Array,
	): Buffer => {
		let inOff = 0;
		let inLen = chunk.length;
		let have = 0;
		for (;;) {
			handle.writeSync(zlib.constants.Z_SYNC_FLUSH, chunk, inOff, inLen, out, have, out.length - have);
			// zlib reports an error by destroying the stream (synchronously) with it.
			if (z.destroyed) throw z.errored ?? new Error('inflate failed');
			const availOut = state[0]!;
			const availIn = state[1]!;
			have = out.length - availOut;
			inOff += inLen - availIn;
			inLen = availIn;
			if (availOut !== 0) return out.subarray(0, have);
			// The output buffer is full: a bigger one, kept for the next pushes.
			const bigger = Buffer.allocUnsafe(out.length * 2);
			out.copy(bigger, 0, 0, have);
			out = bigger;
		}
	};

	const viaProcessChunk = (chunk: Buffer, native: Handle): Buffer => {
		const nativeClose = native.close;
		const close = z.close;
		native.close = noop;
		z.close = (() => z) as typeof z.close;
		try {
			// _processChunk closes the engine after each call (its one-shot use): the overrides keep it open.
			return z._processChunk(chunk, zlib.constants.Z_SYNC_FLUSH);
		} finally {
			z._handle = native;
			native.close = nativeClose;
			z.close = close;
			z.removeAllListeners('error');
			z.on('error', noop);
		}
	};

	return {
		push(chunk: Buffer): Buffer {
			const native = z._handle;
			if (closed || native === null || z.destroyed) throw new Error('inflater is closed');
			const state = z._writeState;
			if (typeof native.writeSync === 'function' && state instanceof Uint32Array && state.length >= 2) {
				return direct(chunk, native as Handle & {writeSync: NonNullable<Handle['writeSync']>}, state);
			}
			return viaProcessChunk(chunk, native);
		},
		close(): void {
			if (closed) return;
			closed = true;
			try {
				z.close();
			} catch {
				// already gone
			}
		},
	};
}
