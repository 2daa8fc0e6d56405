import {type Finding, finding} from '../finding.ts';
import type {Source} from '../sources/source.ts';
import {type TarHeader, TarParser, quote} from '../formats/tar-format.ts';
import {readTarSplit} from '../read/tar-split.ts';
import {type FsView, WH_OPQ, baseOf, lookup, parentOf} from './view.ts';

/**
 * An image layer listed from its `tar-split.json.gz` record (the reference layout notes §7) instead of its
 * directory: the tar headers docker kept when it unpacked the layer, in the layer tar's order.
 * It answers for layers whose files are not in the copy (devicemapper, zfs, a missing or emptied
 * layer directory) and shows the layer as it was pulled or built, before anything on the disk
 * could change it. File contents are not in the record (only their CRC-64), so nothing is read
 * but the record itself.
 *
 * The record's raw segments (headers, PAX and GNU long-name records, padding) are fed to the same
 * tar parser that reads archives, with each file's payload skipped by its recorded size.
 * Whiteouts are as in the layer tar, whatever the driver: `.wh.<name>` deletes `<name>`,
 * `.wh..wh..opq` makes its directory opaque (moby pkg/archive).
 */
export type TarSplitItem = {
	/** Path inside the layer, without a leading '/' ('bin/sh'). */
	readonly rel: string;
	/** What it does to the layers below; absent when the layers below could not be read. */
	readonly status?: 'added' | 'modified' | 'deleted' | 'opaque';
	/** The whiteout's own header for 'deleted'; the directory's header otherwise. */
	readonly header: TarHeader;
	readonly whiteout: boolean;
};

export type TarSplitListing =
	| {readonly ok: true; readonly entries: number}
	| {
			readonly ok: false;
			readonly reason: 'missing' | 'unreadable' | 'invalid' | 'unsupported';
			readonly message: string;
	  };

/** 'bin/sh' from './bin/sh', '/bin/sh', 'bin/sh/' ('' for the root itself). */
function tarRel(name: string): string {
	return name
		.split('/')
		.filter(p => p !== '' && p !== '.')
		.join('/');
}

/**
 * Turns the tar headers of a record into items, in order: a directory's item is held back until
 * the next header, so that a `.wh..wh..opq` right inside it marks it opaque.
 */
class ItemCollector {
	/** Items ready for onItem, in order. */
	readonly ready: TarSplitItem[] = [];
	#pendingDir: TarSplitItem | undefined;
	readonly #source: Source;
	readonly #below: FsView | 'none' | null;
	readonly #onProblem: (f: Finding) => void;

	constructor(source: Source, below: FsView | 'none' | null, onProblem: (f: Finding) => void) {
		this.#source = source;
		this.#below = below;
		this.#onProblem = onProblem;
	}

	#statusOf(rel: string): 'added' | 'modified' | undefined {
		if (this.#below === null) return undefined;
		if (this.#below === 'none') return 'added';
		const found = lookup(this.#source, this.#below, rel);
		found?.problems.forEach(this.#onProblem);
		return found === undefined ? 'added' : 'modified';
	}

	/** Releases the directory held back, if any. */
	flushPending(): void {
		if (this.#pendingDir !== undefined) this.ready.push(this.#pendingDir);
		this.#pendingDir = undefined;
	}

	/** One tar header: an opaque marker, a whiteout, or an entry of the layer. */
	entry(h: TarHeader): void {
		const rel = tarRel(h.name);
		if (rel === '') return;
		const base = baseOf(rel);
		if (base === WH_OPQ) {
			const dir = parentOf(rel);
			if (this.#pendingDir !== undefined && this.#pendingDir.rel === dir)
				this.#pendingDir = {...this.#pendingDir, status: 'opaque'};
			else {
				this.flushPending();
				this.ready.push({rel: dir, status: 'opaque', header: h, whiteout: false});
			}
			return;
		}
		this.flushPending();
		if (base.startsWith('.wh.')) {
			// Other `.wh..wh.*` names are aufs housekeeping, never in a layer tar docker made.
			if (!base.startsWith('.wh..wh.')) {
				const parent = parentOf(rel);
				this.ready.push({
					rel: parent === '' ? base.slice(4) : `${parent}/${base.slice(4)}`,
					status: 'deleted',
					header: h,
					whiteout: true,
				});
			}
			return;
		}
		const status = this.#statusOf(rel);
		const item: TarSplitItem = {rel, ...(status !== undefined ? {status} : {}), header: h, whiteout: false};
		if (h.type === 'dir') this.#pendingDir = item;
		else this.ready.push(item);
	}
}

/**
 * Streams the items of one layer's tar-split record to onItem (awaited, for back-pressure).
 * `below` is the merged view of the layers under it (to tell added from modified), 'none' for a
 * bottom layer (everything is added), or null when the layers below cannot be read.
 */
export async function listTarSplit(
	source: Source,
	recordPath: string,
	subject: string,
	below: FsView | 'none' | null,
	onItem: (item: TarSplitItem) => void | Promise<void>,
	onProblem: (f: Finding) => void,
): Promise<TarSplitListing> {
	const items = new ItemCollector(source, below, onProblem);
	const ready = items.ready;
	let mismatch: string | undefined;
	const parser = new TarParser({
		entry(h) {
			items.entry(h);
			return false;
		},
		data() {},
		truncated() {},
		problem(message) {
			onProblem(finding('warning', 'files.tar-split-invalid', subject, `${recordPath}: ${message}`, recordPath));
		},
	});
	const drain = async (): Promise<void> => {
		while (ready.length > 0) await onItem(ready.shift()!);
	};
	const read = await readTarSplit(source, recordPath, async e => {
		if (e.type === 'segment') parser.push(e.payload);
		else if (!parser.skipData(e.size)) {
			mismatch = `the record of ${quote(e.name)} (${e.size} bytes) does not follow a tar header that announces its data`;
			return false;
		}
		if (ready.length > 0) await drain();
		return !parser.done;
	});
	if (!read.ok) return read;
	parser.end();
	items.flushPending();
	await drain();
	if (mismatch !== undefined) return {ok: false, reason: 'invalid', message: `${recordPath}: ${mismatch}`};
	return {ok: true, entries: read.entries};
}
