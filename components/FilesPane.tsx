import {Box} from 'ink';
import {type DirSize, type FileRow, type FilesState, currentDir, fileRowLine} from '../src/ui/files-view.ts';
import {PaneTitle} from './PaneTitle.tsx';
import {StyledLine} from './StyledLine.tsx';

type Props = {
	readonly files: FilesState;
	readonly height: number;
	readonly width: number;
	readonly focused: boolean;
	/** Folder sizes as far as they are known (walked in small steps, off the key path). */
	readonly dirSize?: (row: FileRow) => DirSize | undefined;
	readonly frame?: number;
};

/** The files view (o): one directory of the selected container, image or layer, windowed like TreePane. */
export function FilesPane({files, height, width, focused, dirSize, frame = 0}: Props) {
	const shown = files.rows.slice(files.top, files.top + height);
	const range =
		files.rows.length === 0 ? 'empty' : `${files.top + 1}-${files.top + shown.length} of ${files.rows.length}`;
	return (
		<Box flexDirection="column" width={width} height={height + 1}>
			<PaneTitle
				title={`files: ${files.title} ${currentDir(files)}${files.opaque ? ' (opaque)' : ''}`}
				note={range}
				width={width}
				focused={focused}
			/>
			{shown.map((row, i) => (
				<StyledLine
					key={row.name}
					line={fileRowLine(row, width, files.top + i === files.cursor, dirSize?.(row), frame)}
					width={width}
					inverse={files.top + i === files.cursor}
					dim={files.top + i === files.cursor && !focused}
				/>
			))}
		</Box>
	);
}
