import {Box, Text} from 'ink';
import {maxOf} from '../src/append.ts';
import {helpLines} from '../src/ui/keys.ts';
import {truncate} from '../src/ui/text.ts';
import {useColorProp} from './color.ts';
import {PaneTitle} from './PaneTitle.tsx';

type Props = {readonly width: number; readonly height: number};

/** Every key, from the same table that handles them. */
export function HelpOverlay({width, height}: Props) {
	const rows = helpLines();
	const keyWidth =
		maxOf(
			rows.map(r => r.keys.length),
			0,
		) + 2;
	const intro = 'layerlens: containers -> RW layer -> init layer -> image layers -> image. ? or Esc closes this.';
	// On a short terminal the keys come first: the intro gives way.
	const showIntro = rows.length + 2 <= height;
	const cyan = useColorProp('cyan');
	return (
		<Box flexDirection="column" width={width} height={height} overflow="hidden">
			<PaneTitle title="help" note="? or Esc to close" width={width} focused />
			{showIntro && (
				<Text wrap="truncate-end" dimColor>
					{truncate(` ${intro}`, width)}
				</Text>
			)}
			{rows.slice(0, Math.max(0, height - (showIntro ? 2 : 1))).map(r => (
				<Text key={r.keys + r.help} wrap="truncate-end">
					<Text {...cyan}>{` ${r.keys.padEnd(keyWidth)}`}</Text>
					{truncate(r.help, Math.max(1, width - keyWidth - 1))}
				</Text>
			))}
		</Box>
	);
}
