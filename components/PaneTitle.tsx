import {Text} from 'ink';
import {useColorProp} from './color.ts';
import {paneTitleText} from '../src/ui/text.ts';

type Props = {readonly title: string; readonly note: string; readonly width: number; readonly focused: boolean};

/** A pane's title line: bold and marked when the pane has the focus. */
export function PaneTitle({title, note, width, focused}: Props) {
	const text = paneTitleText(title, note, width, focused);
	const cyan = useColorProp('cyan');
	return (
		<Text wrap="truncate-end" bold={focused} dimColor={!focused} {...(focused ? cyan : {})}>
			{text}
		</Text>
	);
}
