import type {Args} from '../args.ts';
import {loadModel, openRoot} from '../load.ts';
import {compareSnapshots, type Snapshot} from '../compare/snapshot-diff.ts';
import {walk} from '../compare/snapshot-walk.ts';
import {comparisonJson, renderComparison} from '../view/compare-text.ts';
import {type Io, UsageError, json, notDockerRoot, paintFor} from './context.ts';

/** Opens and reads one snapshot: the model and every file's kind, size, mode, owner, time and (small files) content hash. */
async function readSnapshot(root: string): Promise<Snapshot> {
	const opened = await openRoot(root);
	if (!opened.ok) throw new UsageError(opened.error);
	const loaded = loadModel(opened.source);
	if (!loaded.isDockerRoot) throw notDockerRoot(root);
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
	io.stdout.write(renderComparison(c, beforeRoot, afterRoot, {paint: paintFor(args, io), limit: args.all ? 0 : 40}));
	return 0;
}
