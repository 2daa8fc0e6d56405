import {useApp} from 'ink';
import {useEffect, useSyncExternalStore} from 'react';
import type {DiskLedger} from '../src/ui/disk-view.ts';
import type {ModelFeed} from '../src/ui/feed.ts';
import {App} from './App.tsx';
import {ColorContext} from './color.ts';
import {Loading} from './Loading.tsx';
import {useTerminalSize} from './use-terminal-size.ts';

export type RootProps = {
	/** As given: the loading lines clean it. */
	readonly root: string;
	readonly sample: boolean;
	/** Draw colour (default true): the CLI passes its one colour decision (colorOn). */
	readonly color?: boolean;
	/** Where the model comes from (src/ui/feed.ts): a worker reading, or a read in this thread started after the first frame. */
	readonly feed: ModelFeed;
	/** Told when the root turns out not to be a Docker root (the UI then exits). */
	readonly onNotDockerRoot: () => void;
	/** Computes df's ledger off the render path, for the disk view (d). */
	readonly ledger?: (() => Promise<DiskLedger>) | null;
};

/** Shows the spinner until the first containers are read, then the explorer (which fills in as the rest comes). */
export function Root({root, sample, color = true, feed, onNotDockerRoot, ledger = null}: RootProps) {
	const {exit} = useApp();
	const size = useTerminalSize();
	const state = useSyncExternalStore(feed.subscribe, feed.get);
	useEffect(() => {
		// A macrotask later, so the first frame is on screen before an in-process read blocks.
		const t = setTimeout(() => feed.start(), 20);
		return () => clearTimeout(t);
	}, [feed]);
	// biome-ignore lint/correctness/useExhaustiveDependencies: runs when the phase changes; onNotDockerRoot and exit are the launcher's, stable for the app's life.
	useEffect(() => {
		if (state.phase === 'not-a-docker-root') {
			onNotDockerRoot();
			exit();
		} else if (state.phase === 'failed') exit(state.error);
	}, [state]);
	if (state.phase === 'partial' || state.phase === 'full') {
		return (
			<App
				model={state.model}
				loading={state.loading}
				source={state.source}
				details={state.details}
				sample={sample}
				color={color}
				ledger={ledger}
			/>
		);
	}
	const progress = state.phase === 'reading' ? state.progress : {files: 0, dirs: 0, containers: 0, images: 0};
	return (
		<ColorContext.Provider value={color}>
			<Loading root={root} progress={progress} width={size.columns} height={Math.max(1, size.rows - 1)} />
		</ColorContext.Provider>
	);
}
