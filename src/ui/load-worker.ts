/**
 * The load worker (a worker_threads thread, started by feed.ts): opens the directory root itself
 * (a Source holds file descriptors and state, so it is not shared) and reads it in two steps
 * (phases.ts) while the UI thread imports Ink and draws. Each model goes back packed (pack.ts).
 * It never writes anything: messages are its only output.
 */
import {parentPort, workerData} from 'node:worker_threads';
import {openDirSource} from '../sources/dir-source.ts';
import type {ReadParts} from '../read/host.ts';
import {mountSource} from '../sources/mounted-source.ts';
import type {LoadProgress} from './progress.ts';
import {type PackedModel, type PackedPiece, packModel, splitPacked} from './pack.ts';
import {readInPhases} from './phases.ts';

export type WorkerInput = {
	readonly root: string;
	readonly parts: ReadParts;
	/** --containerd-root: a directory mounted at `at` (checked by the UI thread when it opened the roots). */
	readonly mount?: {readonly at: string; readonly location: string};
};

export type WorkerMessage =
	| {readonly type: 'progress'; readonly progress: LoadProgress}
	| {readonly type: 'first'; readonly model: PackedModel}
	/**
	 * Part of one of the whole model's lists, ahead of 'full' (splitPacked). The next is sent when
	 * the UI thread asks for it (posts 'next'): messages that wait are all copied in one go.
	 */
	| {readonly type: 'piece'; readonly piece: PackedPiece}
	| {readonly type: 'full'; readonly model: PackedModel}
	| {readonly type: 'not-a-docker-root'}
	| {readonly type: 'error'; readonly message: string};

function run(port: NonNullable<typeof parentPort>, input: WorkerInput): void {
	const post = (m: WorkerMessage) => port.postMessage(m);
	try {
		const base = openDirSource(input.root);
		const source =
			input.mount === undefined ? base : mountSource(base, input.mount.at, openDirSource(input.mount.location));
		const done = readInPhases(source, input.parts, {
			progress: progress => post({type: 'progress', progress}),
			first: model => post({type: 'first', model: packModel(model)}),
		});
		if (!done.isDockerRoot) {
			post({type: 'not-a-docker-root'});
			return;
		}
		const {pieces, rest} = splitPacked(packModel(done.model), 250);
		let sent = 0;
		const next = () => {
			const piece = pieces[sent++];
			if (piece !== undefined) return post({type: 'piece', piece});
			port.off('message', next);
			post({type: 'full', model: rest});
		};
		port.on('message', next);
		next();
	} catch (error) {
		post({type: 'error', message: error instanceof Error ? error.message : String(error)});
	}
}

if (parentPort !== null) run(parentPort, workerData as WorkerInput);
