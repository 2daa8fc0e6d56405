import zlib from 'node:zlib';

/**
 * A synchronous, incremental gunzip: push compressed bytes, get the inflated bytes they complete.
 *
 * Node's zlib has no public synchronous streaming API (zlib.gunzipSync inflates a whole buffer at
 * once, a stream is asynchronous), and Source reads are synchronous. This drives one zlib handle
 * with `_processChunk` (the function gunzipSync itself uses), keeping the native handle open
 * between calls, as minizlib (the zlib of npm's tar) does. Concatenated gzip members inflate as
 * one stream, as gzip -d does. Output per push is bounded by the input given (at most ~1032 times
 * its size, deflate's limit), so callers bound memory by pushing small pieces.
 */
export type SyncGunzip = {
	/**
	 * Inflates a piece; throws a zlib error (Z_DATA_ERROR, ...) on corrupt data. The bytes returned
	 * may share memory with the inflater's output buffer: they are valid until the next push (copy
	 * them to keep them). Not copying saves a copy of every inflated byte.
	 */
	push(chunk: Buffer): Buffer;
	close(): void;
};

type Internal = zlib.Gunzip & {
	_handle: {close(): void} | null;
	_processChunk(chunk: Buffer, flushFlag: number): Buffer;
};

const noop = (): void => {};

export function syncGunzip(): SyncGunzip {
	const z = zlib.createGunzip({chunkSize: 1 << 16}) as Internal;
	// A failed call also emits 'error' asynchronously: never let it be unhandled.
	z.on('error', noop);
	let closed = false;
	return {
		push(chunk: Buffer): Buffer {
			if (closed) throw new Error('inflater is closed');
			const native = z._handle;
			if (native === null) throw new Error('inflater is closed');
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
