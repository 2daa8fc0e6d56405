import {useApp} from 'ink';
import {useEffect, useState} from 'react';
import type {Loaded} from '../src/load.ts';
import type {LoadProgress} from '../src/ui/progress.ts';
import {App} from './App.tsx';
import {Loading} from './Loading.tsx';
import {useTerminalSize} from './use-terminal-size.ts';

export type RootProps = {
	/** Already cleaned for display. */
	readonly root: string;
	readonly sample: boolean;
	/** Reads the root; called after the first frame so that the spinner shows first. It may report progress. */
	readonly load: (onProgress: (p: LoadProgress) => void) => Loaded;
	/** Told when the root turns out not to be a Docker root (the UI then exits). */
	readonly onNotDockerRoot: () => void;
};

/** Shows the spinner, reads the root, then the explorer. */
export function Root({root, sample, load, onNotDockerRoot}: RootProps) {
	const {exit} = useApp();
	const size = useTerminalSize();
	const [loaded, setLoaded] = useState<Loaded | null>(null);
	const [progress, setProgress] = useState<LoadProgress>({files: 0, dirs: 0, containers: 0, images: 0});
	useEffect(() => {
		// A macrotask later, so the first frame (the spinner) is on screen before the blocking read.
		const t = setTimeout(() => {
			try {
				const result = load(setProgress);
				if (!result.isDockerRoot) {
					onNotDockerRoot();
					exit();
					return;
				}
				setLoaded(result);
			} catch (error) {
				exit(error instanceof Error ? error : new Error(String(error)));
			}
		}, 20);
		return () => clearTimeout(t);
	}, []);
	if (loaded === null) return <Loading root={root} progress={progress} width={size.columns} height={Math.max(1, size.rows - 1)} />;
	return <App model={loaded.model} source={loaded.source} sample={sample} />;
}
