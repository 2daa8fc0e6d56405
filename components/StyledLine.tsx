import {Text} from 'ink';
import type {Line, Tone} from '../src/ui/text.ts';

type ToneProps = {color?: string; bold?: boolean; dimColor?: boolean};

/** Tones to Ink text props: one theme table. */
export const toneProps: Record<Tone, ToneProps> = {
	plain: {},
	dim: {dimColor: true},
	label: {dimColor: true},
	title: {bold: true},
	id: {color: 'cyan'},
	role: {color: 'magenta'},
	error: {color: 'red'},
	warning: {color: 'yellow'},
	info: {color: 'blue'},
	ok: {color: 'green'},
};

type Props = {
	readonly line: Line;
	/** Pads to this width (so an inverse highlight covers the whole row). */
	readonly width: number;
	readonly inverse?: boolean;
	readonly dim?: boolean;
};

/** One line of styled segments; never wraps (cut with "…" beforehand, and truncated by Ink as a last resort). */
export function StyledLine({line, width, inverse = false, dim = false}: Props) {
	let used = 0;
	for (const s of line) used += [...s.text].length;
	const padding = inverse && used < width ? ' '.repeat(width - used) : '';
	return (
		<Text wrap="truncate-end" inverse={inverse} dimColor={dim}>
			{line.map((s, i) => (
				<Text key={i} {...toneProps[s.tone]}>
					{s.text}
				</Text>
			))}
			{padding}
			{line.length === 0 && padding === '' ? ' ' : ''}
		</Text>
	);
}
