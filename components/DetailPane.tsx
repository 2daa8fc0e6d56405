import {Box} from 'ink';
import {type Line, seg, truncate, truncateLine} from '../src/ui/text.ts';
import {PaneTitle} from './PaneTitle.tsx';
import {StyledLine} from './StyledLine.tsx';

type Props = {
	readonly title: string;
	readonly lines: readonly Line[];
	readonly scroll: number;
	readonly height: number;
	readonly width: number;
	readonly focused: boolean;
};

/** The details of the selected node: a window of its lines, cut to the pane's width (so no overflow clipping: see TreePane). */
export function DetailPane({title, lines, scroll, height, width, focused}: Props) {
	const first = Math.max(0, Math.min(scroll, lines.length - height));
	const shown = lines.slice(first, first + height);
	const note =
		lines.length <= height
			? ''
			: `${first + 1}-${first + shown.length} of ${lines.length}${focused ? '' : ' (Tab to scroll)'}`;
	return (
		<Box flexDirection="column" width={width} height={height + 1}>
			<PaneTitle
				title={truncate(`details: ${title}`, Math.max(10, width - 30))}
				note={note}
				width={width}
				focused={focused}
			/>
			{shown.map((line, i) => (
				// biome-ignore lint/suspicious/noArrayIndexKey: a pane's lines have no identity but their place in the scrolled window.
				<StyledLine key={first + i} line={truncateLine([seg(' '), ...line], width)} width={width} />
			))}
		</Box>
	);
}
