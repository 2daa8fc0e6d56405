import {createRequire} from 'node:module';
import {fileURLToPath} from 'node:url';

/**
 * The native door to the evidence (native/door.c, built by `npm install` with node-gyp): the
 * calls dir-source.ts makes. Errors are errno numbers, never exceptions.
 */
export type Door = {
	/** [fd, sealed (the fd is a private read-only noatime clone of the root's mount), errno of the seal] or errno. */
	openRoot(path: Buffer, noSeal: number): [number, number, number] | number;
	/** An O_PATH descriptor of a directory beneath rootfd (no symlink followed at any component), or [errno, failing component]. */
	openDir(rootfd: number, path: Buffer, mode: number): number | [number, number];
	/** lstat of one entry of a directory ('' for the directory itself) into out: kind, size, mode, uid, gid, mtimeMs, ino, nlink, major, minor (and st_blocks, st_dev when out has 12 slots). 0 or errno. */
	statAt(dirfd: number, name: Buffer, out: Float64Array): number;
	/** [entries (kind byte, name bytes, NUL)…, atimeRefused] or errno. */
	listAt(dirfd: number, name: Buffer): [Buffer, number] | number;
	/** listAt's entries, their lstats (13 doubles each: 0 then statAt's 12, or the errno), atimeRefused; or errno. Missing from a native reader built before it. */
	listStatAt?(dirfd: number, name: Buffer): [Buffer, Buffer, number] | number;
	/** [fd (-1 when not a regular file), kind, size, atimeRefused] or errno. */
	openAt(dirfd: number, name: Buffer): [number, number, number, number] | number;
	/** Bytes read, or -errno. */
	pread(fd: number, buffer: Buffer, position: number): number;
	close(fd: number): number;
	readlinkAt(dirfd: number, name: Buffer): Buffer | number;
	/** [name, value, name, value…] or errno. */
	xattrsAt(dirfd: number, name: Buffer): Buffer[] | number;
	capFowner(): number;
	/** [directory paths resolved by openat2, by the component walk, openat2 still in use (0/1)]. */
	counters(): [number, number, number];
};

/** openDir mode bit: resolve by the component-by-component walk, never openat2. */
export const modeNoOpenat2 = 1;

/**
 * LAYERLENS_DOOR (for tests; comma-separated): `node` reads through node:fs as where the native
 * reader is not built, `walk` never uses openat2, `unsealed` never clones the root's mount.
 */
export function doorOptions(): {readonly node: boolean; readonly walk: boolean; readonly unsealed: boolean} {
	const words = new Set((process.env.LAYERLENS_DOOR ?? '').split(',').map(w => w.trim()));
	return {node: words.has('node'), walk: words.has('walk'), unsealed: words.has('unsealed')};
}

let loaded: Door | string | undefined;

/** The native module, or why it is not there (one line). */
export function loadDoor(): Door | string {
	if (loaded !== undefined) return loaded;
	const require = createRequire(import.meta.url);
	// From src/read (tsx) and from build/src/read (compiled) alike.
	const candidates = ['../../native/build/Release/door.node', '../../../native/build/Release/door.node'].map(p =>
		fileURLToPath(new URL(p, import.meta.url)),
	);
	loaded =
		'the native reader is not built (native/build/Release/door.node is missing: run `npm install` with a C compiler)';
	for (const file of candidates) {
		try {
			loaded = require(file) as Door;
			break;
		} catch (error) {
			if ((error as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND') continue;
			loaded = `the native reader did not load (${(error instanceof Error ? error.message : String(error)).split('\n')[0]})`;
			break;
		}
	}
	return loaded;
}
