import {Box} from 'ink';
import {type RowSizes, rowLine} from '../src/ui/rows.ts';
import type {Row, TreeIndex} from '../src/ui/tree.ts';
import {PaneTitle} from './PaneTitle.tsx';
import {StyledLine} from './StyledLine.tsx';

type Props = {
	readonly tree: TreeIndex;
	readonly rows: readonly Row[];
	readonly top: number;
	readonly cursor: number;
	readonly height: number;
	readonly width: number;
	readonly focused: boolean;
	readonly filter: boolean;
	/** Sizes that need a walk (the ledger), once known. */
	readonly sizes?: RowSizes | null;
};

/**
 * The tree, windowed: only the rows on screen are turned into text and elements. Every line is
 * cut to the width beforehand, so the box needs no overflow clipping (which costs Ink a slice of
 * every line on every frame: about a fifth of a key's redraw).
 */
export function TreePane({tree, rows, top, cursor, height, width, focused, filter, sizes = null}: Props) {
	const shown = rows.slice(top, top + height);
	const range = rows.length === 0 ? 'empty' : `${top + 1}-${top + shown.length} of ${rows.length}`;
	return (
		<Box flexDirection="column" width={width} height={height + 1}>
			<PaneTitle title="tree" note={range} width={width} focused={focused} />
			{shown.map((row, i) => (
				<StyledLine
					key={row.node.key}
					line={rowLine(tree, row, width, filter, top + i === cursor, sizes)}
					width={width}
					inverse={top + i === cursor}
					dim={top + i === cursor && !focused}
				/>
			))}
		</Box>
	);
}
