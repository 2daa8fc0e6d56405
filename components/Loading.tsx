import {Box, Text} from 'ink';
import {useEffect, useState} from 'react';
import {type LoadProgress, loadingLines} from '../src/ui/progress.ts';
import {useColorProp} from './color.ts';

type Props = {readonly root: string; readonly progress: LoadProgress; readonly width: number; readonly height: number};

/**
 * A spinner with counts while the root is read. The read itself is synchronous, so while it runs
 * the launcher redraws these two lines directly (progress.ts loadingUpdate); this component draws them otherwise.
 */
export function Loading({root, progress, width, height}: Props) {
	const [frame, setFrame] = useState(0);
	useEffect(() => {
		const t = setInterval(() => setFrame(f => f + 1), 80);
		return () => clearInterval(t);
	}, []);
	const [spinLine, countLine] = loadingLines(root, progress, frame, width);
	const cyan = useColorProp('cyan');
	return (
		<Box flexDirection="column" width={width} height={height}>
			<Text> </Text>
			<Text wrap="truncate-end" {...cyan}>
				{spinLine}
			</Text>
			<Text wrap="truncate-end" dimColor>
				{countLine}
			</Text>
		</Box>
	);
}
