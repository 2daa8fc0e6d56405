import fs from 'node:fs';
import path from 'node:path';
import type {Sink} from './export.ts';

/**
 * The only place in src/ that writes a file: the output the user named with `export -o` (and its
 * `.sha256` manifest beside it). It refuses a path inside the Docker root being read (or the
 * archive itself), and a symlink as the last component (O_NOFOLLOW): evidence is never written.
 */
export type OutputFile = Sink & {readonly path: string; close(): void};

export type OutputResult = {readonly ok: true; readonly file: OutputFile} | {readonly ok: false; readonly error: string};

function real(p: string): string {
	try {
		return fs.realpathSync(p);
	} catch {
		return path.resolve(p);
	}
}

function inside(child: string, parent: string): boolean {
	const rel = path.relative(parent, child);
	return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/** Checks that `target` may be written: not inside the root (a directory) nor the archive itself. */
export function checkOutputPath(target: string, rootLocation: string, rootKind: 'dir' | 'archive'): string | undefined {
	const resolved = path.join(real(path.dirname(path.resolve(target))), path.basename(target));
	const root = real(rootLocation);
	if (rootKind === 'dir' && inside(resolved, root)) return `${target}: is inside the Docker root being read (${root}); layerlens never writes there`;
	if (rootKind === 'archive' && resolved === root) return `${target}: is the archive being read`;
	try {
		if (fs.lstatSync(resolved).isSymbolicLink()) return `${target}: is a symlink; not followed (name the file itself)`;
	} catch {
		// does not exist yet: fine
	}
	return undefined;
}

export function openOutput(target: string, rootLocation: string, rootKind: 'dir' | 'archive'): OutputResult {
	const refused = checkOutputPath(target, rootLocation, rootKind);
	if (refused !== undefined) return {ok: false, error: refused};
	let fd: number;
	try {
		fd = fs.openSync(target, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_TRUNC | (fs.constants.O_NOFOLLOW ?? 0), 0o644);
	} catch (error) {
		const e = error as NodeJS.ErrnoException;
		return {ok: false, error: `${target}: cannot be written (${e.code ?? e.message})`};
	}
	let closed = false;
	return {
		ok: true,
		file: {
			path: target,
			put(chunk: Buffer): void {
				let off = 0;
				while (off < chunk.length) off += fs.writeSync(fd, chunk, off, chunk.length - off);
			},
			close(): void {
				if (closed) return;
				closed = true;
				fs.closeSync(fd);
			},
		},
	};
}
