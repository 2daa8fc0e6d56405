import {humanSize} from '../units.ts';
import type {Source} from '../sources/source.ts';

export type Usage = {
	/** Sum of the sizes of everything but directories (symlinks count their target's length). */
	readonly bytes: number;
	readonly entries: number;
	/** False when the walk stopped at the entry cap or could not list a directory. */
	readonly complete: boolean;
	readonly exists: boolean;
};

/** Entries walked before a leftover's size is given as "at least". */
const usageCap = 100_000;

/**
 * How much a directory holds, walked through the Source (never following a symlink), the way
 * Docker's `directory.Size` counts a layer: directories count nothing, each file is counted
 * once however many hard links it has. A file (not a directory) counts its own size.
 */
export function diskUsage(source: Source, rel: string, maxEntries: number = usageCap): Usage {
	const top = source.stat(rel);
	if (!top.ok) return {bytes: 0, entries: 0, complete: top.error.code === 'missing', exists: false};
	if (top.value.kind !== 'dir') return {bytes: top.value.size, entries: 1, complete: true, exists: true};
	let bytes = 0;
	let entries = 0;
	let complete = true;
	const seen = new Set<number>();
	const stack = [rel];
	while (stack.length > 0) {
		const dir = stack.pop()!;
		const listed = source.list(dir);
		if (!listed.ok) {
			complete = false;
			continue;
		}
		for (const e of listed.value) {
			if (entries >= maxEntries) return {bytes, entries, complete: false, exists: true};
			entries++;
			const path = `${dir}/${e.name}`;
			if (e.kind === 'dir') {
				stack.push(path);
				continue;
			}
			const st = source.stat(path);
			if (!st.ok) {
				complete = false;
				continue;
			}
			const size = st.value.size;
			if (size === 0) continue;
			const ino = st.value.ino;
			if (ino !== undefined && (st.value.nlink === undefined || st.value.nlink > 1)) {
				if (seen.has(ino)) continue;
				seen.add(ino);
			}
			bytes += size;
		}
	}
	return {bytes, entries, complete, exists: true};
}

/** Adds usages: the total is complete only when every part is. */
export function addUsage(parts: readonly Usage[]): Usage {
	return {
		bytes: parts.reduce((n, p) => n + p.bytes, 0),
		entries: parts.reduce((n, p) => n + p.entries, 0),
		complete: parts.every(p => p.complete),
		exists: parts.some(p => p.exists),
	};
}

/** Decimal units with three significant digits, as docker prints sizes ("1.11MB"), and the exact count. */
export function bytesText(bytes: number): string {
	const short = humanSize(bytes);
	return bytes < 1000 ? short : `${short} (${bytes} bytes)`;
}

/** "holds 1.2MB (1234567 bytes)", or "holds at least …" when the walk was cut short. */
export function holds(u: Usage): string {
	if (u.complete) return `holds ${bytesText(u.bytes)}`;
	return `holds at least ${bytesText(u.bytes)} (walk stopped after ${u.entries} entries or at an unreadable directory)`;
}
