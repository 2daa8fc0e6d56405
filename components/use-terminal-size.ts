import {useStdout} from 'ink';
import {useEffect, useState} from 'react';

export type TerminalSize = {readonly columns: number; readonly rows: number};

/** The terminal's size, following resizes; 80x24 when stdout does not say (tests, pipes). */
export function useTerminalSize(): TerminalSize {
	const {stdout} = useStdout();
	const read = (): TerminalSize => ({columns: stdout.columns || 80, rows: stdout.rows || 24});
	const [size, setSize] = useState(read);
	// biome-ignore lint/correctness/useExhaustiveDependencies: read() only reads stdout, the one dependency.
	useEffect(() => {
		const onResize = () =>
			setSize(prev => {
				const next = read();
				return next.columns === prev.columns && next.rows === prev.rows ? prev : next;
			});
		stdout.on('resize', onResize);
		return () => {
			stdout.off('resize', onResize);
		};
	}, [stdout]);
	return size;
}
