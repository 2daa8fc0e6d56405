import {Box} from 'ink';
import {type DiskState, diskLines} from '../src/ui/disk-view.ts';
import {humanSize} from '../src/units.ts';
import {PaneTitle} from './PaneTitle.tsx';
import {StyledLine} from './StyledLine.tsx';

type Props = {
	readonly disk: DiskState;
	readonly height: number;
	readonly width: number;
	readonly focused: boolean;
	/** The spinner's step while the ledger is computed. */
	readonly frame: number;
};

/** The disk view (d): the ledger's owners, biggest first, windowed like TreePane. */
export function DiskPane({disk, height, width, focused, frame}: Props) {
	const lines = diskLines(disk, height, width, frame);
	const rows = disk.rows;
	const note =
		rows === null
			? 'computing'
			: rows.length === 0
				? 'empty'
				: `${disk.top + 1}-${disk.top + lines.length} of ${rows.length}`;
	return (
		<Box flexDirection="column" width={width} height={height + 1}>
			<PaneTitle
				title={`disk: ${rows === null ? '' : `${humanSize(disk.total)} `}by owner, biggest first`}
				note={note}
				width={width}
				focused={focused}
			/>
			{lines.map((line, i) => {
				const cursor = rows !== null && rows.length > 0 && disk.top + i === disk.cursor;
				return (
					// biome-ignore lint/suspicious/noArrayIndexKey: rows are a window; their place is their identity.
					<StyledLine key={i} line={line} width={width} inverse={cursor} dim={cursor && !focused} />
				);
			})}
		</Box>
	);
}
