import type {Args} from '../args.ts';
import {loadModel, openRoot} from '../load.ts';
import {compareSnapshots, type Snapshot} from '../teach/snapshot-diff.ts';
import {walk} from '../teach/walk.ts';
import {comparisonJson, renderComparison} from '../view/compare-text.ts';
import {makePaint} from '../view/paint.ts';
import {type Io, UsageError, json} from './context.ts';

/** Opens and reads one snapshot: the model and every file's kind, size, mode, owner, time and (small files) content hash. */
export async function readSnapshot(root: string): Promise<Snapshot> {
	const opened = await openRoot(root);
	if (!opened.ok) throw new UsageError(opened.error);
	const loaded = loadModel(opened.source);
	if (!loaded.isDockerRoot) throw new UsageError(`${root}: not a Docker root (no containers/, image/ or driver directories)`);
	return {model: loaded.model, listing: walk(opened.source)};
}

/** `layerlens compare BEFORE AFTER`. */
export async function compareCommand(args: Args, io: Io): Promise<number> {
	const [beforeRoot, afterRoot] = args.refs as [string, string];
	const before = await readSnapshot(beforeRoot);
	const after = await readSnapshot(afterRoot);
	const c = compareSnapshots(before, after);
	if (args.json) {
		io.stdout.write(json(comparisonJson(c, beforeRoot, afterRoot)));
		return 0;
	}
	const noColor = !args.color || (io.env['NO_COLOR'] ?? '') !== '' || io.stdout.isTTY !== true;
	io.stdout.write(renderComparison(c, beforeRoot, afterRoot, {paint: makePaint(noColor ? 0 : 1), limit: args.all ? 0 : 40}));
	return 0;
}
