import {createContext, useContext} from 'react';

/**
 * Whether the explorer draws colour: the one colour decision (src/commands/context.ts colorOn),
 * taken by the CLI and handed down. Without colour the tones keep only bold and dim, and the
 * selection stays inverse.
 */
export const ColorContext = createContext(true);

/** An Ink colour prop, or none when colour is off. */
export function useColorProp(color: string): {color?: string} {
	return useContext(ColorContext) ? {color} : {};
}
