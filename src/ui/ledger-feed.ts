/**
 * df's ledger for the disk view, computed off the render path: in a worker thread
 * (ledger-worker.ts) when the root is a directory, so keys are handled while the whole root is
 * walked. An archive root is walked in this thread, a macrotask after the view opened (its
 * "computing" line is drawn first; keys typed during that walk wait for it).
 */
import {Worker} from 'node:worker_threads';
import {diskLedgerOwners} from '../disk/root-ledger.ts';
import {loadModel} from '../load.ts';
import type {ReadParts} from '../read/host.ts';
import type {Source} from '../sources/source.ts';
import type {DiskLedger} from './disk-view.ts';
import {workerScript} from './feed.ts';
import type {LedgerInput, LedgerMessage} from './ledger-worker.ts';

export type LedgerRunner = {
	/** Starts the computation the first time; the same promise after. */
	readonly run: () => Promise<DiskLedger>;
	/** Stops a worker still walking (the explorer exits). */
	readonly close: () => void;
};

function inThread(source: Source, parts: ReadParts): Promise<DiskLedger> {
	return new Promise((resolve, reject) => {
		setTimeout(() => {
			try {
				resolve(diskLedgerOwners(loadModel(source, parts)));
			} catch (error) {
				reject(error);
			}
		}, 50);
	});
}

export function ledgerRunner(source: Source, parts: ReadParts): LedgerRunner {
	let worker: Worker | null = null;
	let pending: Promise<DiskLedger> | null = null;
	const mounted = source.mounted;
	const canWork = source.kind === 'dir' && (mounted === undefined || mounted.kind === 'dir');
	const inWorker = (): Promise<DiskLedger> =>
		new Promise((resolve, reject) => {
			const {script, options} = workerScript(undefined, 'ledger-worker');
			const input: LedgerInput = {
				root: source.location,
				parts,
				...(mounted !== undefined ? {mount: {at: mounted.at, location: mounted.location}} : {}),
			};
			const w = new Worker(script, {...options, workerData: input, stdout: true, stderr: true});
			worker = w;
			const stop = () => {
				worker = null;
				void w.terminate();
			};
			w.on('message', (m: LedgerMessage) => {
				stop();
				if (m.type === 'ledger') resolve(m.ledger);
				else reject(new Error(m.message));
			});
			w.on('error', e => {
				stop();
				reject(e);
			});
		});
	return {
		run: () => {
			pending ??= canWork ? inWorker() : inThread(source, parts);
			return pending;
		},
		close: () => {
			if (worker !== null) void worker.terminate();
			worker = null;
		},
	};
}
