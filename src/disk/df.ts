import {runFastChecks} from '../checks/index.ts';
import type {Model} from '../model/types.ts';
import type {RawHost} from '../read/host.ts';
import type {Source} from '../sources/source.ts';
import {type WalkOptions, walkLedger} from './ledger.ts';
import {buildOwners} from './owners.ts';
import {type DfReport, dfReport} from './report.ts';

/** The checks that name orphans and leftovers with their paths (graph drivers and the containerd store). */
const orphanCheckIds = [
	'store.driver-dirs',
	'store.mounts',
	'store.layerdb',
	'root.tmp',
	'store.snapshot-dirs',
	'store.snapshots',
];

/** `df`'s ledger of a loaded root: one walk of the root, every non-directory assigned to one owner. */
export function diskLedger(
	input: {readonly source: Source; readonly raw: RawHost; readonly model: Model},
	opts: WalkOptions = {},
): DfReport {
	const report = runFastChecks(input, {only: orphanCheckIds});
	const orphans = report.findings.filter(
		f =>
			f.path !== undefined &&
			(f.code.startsWith('orphan.') || f.code.startsWith('leftover.') || f.code === 'cache.buildkit-snapshot'),
	);
	const owners = buildOwners(input.model, orphans);
	return dfReport(input.model, walkLedger(input.source, owners, opts));
}
