import {Text} from 'ink';
import {truncate} from '../src/ui/text.ts';

type Props = {readonly title: string; readonly note: string; readonly width: number; readonly focused: boolean};

/** A pane's title line: bold and marked when the pane has the focus. */
export function PaneTitle({title, note, width, focused}: Props) {
	const head = `${focused ? '▶' : ' '} ${title} `;
	const tail = ` ${note} `;
	const fill = Math.max(0, width - [...head].length - [...tail].length);
	const text = truncate(head + '─'.repeat(fill) + tail, width);
	return (
		<Text wrap="truncate-end" bold={focused} dimColor={!focused} {...(focused ? {color: 'cyan'} : {})}>
			{text}
		</Text>
	);
}
