import {runFastChecks} from '../checks/index.ts';
import type {Model} from '../model/types.ts';
import type {RawHost} from '../read/host.ts';
import type {Source} from '../sources/source.ts';
import {type WalkOptions, walkLedger} from './ledger.ts';
import {type LedgerKind, buildOwners} from './ledger-owners.ts';
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

type LedgerInput = {readonly source: Source; readonly raw: RawHost; readonly model: Model};

/** `df`'s ledger of a loaded root: one walk of the root, every non-directory assigned to one owner. */
export function diskLedger(input: LedgerInput, opts: WalkOptions = {}): DfReport {
	return diskLedgerOwners(input, opts).report;
}

/** What one owner holds, as the ledger assigned it (the explorer's disk view lists these). */
export type OwnerBytes = {readonly kind: LedgerKind; readonly ref: string; readonly bytes: number};

/** The ledger, and the bytes of each owner it assigned them to (every byte once: they sum to the total). */
export function diskLedgerOwners(
	input: LedgerInput,
	opts: WalkOptions = {},
): {readonly report: DfReport; readonly owners: OwnerBytes[]} {
	const report = runFastChecks(input, {only: orphanCheckIds});
	const orphans = report.findings.filter(
		f =>
			f.path !== undefined &&
			(f.code.startsWith('orphan.') || f.code.startsWith('leftover.') || f.code === 'cache.buildkit-snapshot'),
	);
	const owners = buildOwners(input.model, orphans);
	const walk = walkLedger(input.source, owners, opts);
	const bytes: OwnerBytes[] = [];
	for (const t of walk.tallies.values()) bytes.push({kind: t.owner.kind, ref: t.owner.ref, bytes: t.bytes});
	return {report: dfReport(input.model, walk), owners: bytes};
}
