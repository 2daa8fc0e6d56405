/**
 * The ledger worker (a worker_threads thread, started by ledger-feed.ts when the disk view first
 * opens): opens the directory root itself, reads the model and walks the root once for df's
 * ledger, off the UI thread, so keys never wait for the walk. It never writes anything: its one
 * message is its only output.
 */
import {parentPort, workerData} from 'node:worker_threads';
import {diskLedgerOwners} from '../disk/root-ledger.ts';
import {loadModel} from '../load.ts';
import type {ReadParts} from '../read/host.ts';
import {openDirSource} from '../sources/dir-source.ts';
import {mountSource} from '../sources/mounted-source.ts';
import type {DiskLedger} from './disk-view.ts';

export type LedgerInput = {
	readonly root: string;
	readonly parts: ReadParts;
	readonly mount?: {readonly at: string; readonly location: string};
};

export type LedgerMessage =
	| {readonly type: 'ledger'; readonly ledger: DiskLedger}
	| {readonly type: 'error'; readonly message: string};

function run(port: NonNullable<typeof parentPort>, input: LedgerInput): void {
	try {
		const base = openDirSource(input.root);
		const source =
			input.mount === undefined ? base : mountSource(base, input.mount.at, openDirSource(input.mount.location));
		const loaded = loadModel(source, input.parts);
		const m: LedgerMessage = {type: 'ledger', ledger: diskLedgerOwners(loaded)};
		port.postMessage(m);
	} catch (error) {
		const m: LedgerMessage = {type: 'error', message: error instanceof Error ? error.message : String(error)};
		port.postMessage(m);
	}
}

if (parentPort !== null) run(parentPort, workerData as LedgerInput);
