// Types of build-transforms.mjs, for the tests that call its transforms on fixture sources.
import type { Plugin } from 'esbuild';

export function ownDirectory(serverDir: string): Plugin;
export function withOwnDirectory(source: string, file: string, serverDir: string): string | undefined;
export function externalImportsThroughHost(externals: readonly string[]): Plugin;
export function withImportsThroughHost(source: string, file: string, externals: readonly string[]): string | undefined;
export function assertNoImportCall(code: string, file: string): void;
export function bundledCoreLoader(): Plugin;
