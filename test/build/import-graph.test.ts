import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/**
 * No import cycles (docs/decisions/0022-module-borders.md): not between two files, and not between
 * two server modules (the folders under src/server/, whatever files carry the imports). Every
 * import counts, `import type` and `import()` too: a cycle of types is still two modules that
 * cannot be understood, or moved, one without the other. The lint rule keeps each module's insides
 * to itself; this keeps the modules in layers.
 */
const ROOT = path.resolve(import.meta.dirname, '../..');
const SERVER = path.join(ROOT, 'src/server');

type Graph = Map<string, Set<string>>;

/** The files under `dir` that code imports from: TypeScript and Svelte, tests included. */
function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && /\.(ts|svelte)$/.test(entry.name))
    .map((entry) => path.join(entry.parentPath, entry.name));
}

/** The file a relative import names: `.js` written for `.ts`, a folder for its index. */
function resolve(from: string, specifier: string): string | undefined {
  const target = path.resolve(path.dirname(from), specifier);
  const candidates = [target, target.replace(/\.js$/, '.ts'), `${target}.ts`, path.join(target, 'index.ts')];
  return candidates.find((candidate) => existsSync(candidate) && !candidate.endsWith('.js'));
}

/** Each file's relative imports, resolved; what does not resolve to a source file is returned apart. */
function fileGraph(files: string[]): { graph: Graph; unresolved: string[] } {
  const graph: Graph = new Map();
  const unresolved: string[] = [];
  for (const file of files) {
    let text = readFileSync(file, 'utf8');
    if (file.endsWith('.svelte')) {
      text = [...text.matchAll(/<script\b[^>]*>([\s\S]*?)<\/script>/g)].map((match) => match[1]).join('\n');
    }
    const imports = new Set<string>();
    for (const { fileName } of ts.preProcessFile(text, true, true).importedFiles) {
      if (!fileName.startsWith('.')) continue;
      const target = resolve(file, fileName);
      if (target) imports.add(target);
      else if (!/\.(mjs|cjs|json|css)$/.test(fileName)) unresolved.push(`${relative(file)}: ${fileName}`);
    }
    graph.set(file, imports);
  }
  return { graph, unresolved };
}

/**
 * The same imports between server modules: a folder under src/server/ is one node; any other file
 * is its own. A module's tests and its testing.ts are left out: nothing but tests imports them.
 */
function moduleGraph(files: Graph): Graph {
  const node = (file: string) => {
    const [first, ...rest] = path.relative(SERVER, file).split(path.sep);
    return first && first !== '..' && rest.length ? path.join(SERVER, first) : file;
  };
  const graph: Graph = new Map();
  for (const [file, imports] of files) {
    if (/(\.test|\/testing)\.ts$/.test(file)) continue;
    const from = node(file);
    const edges = graph.get(from) ?? new Set<string>();
    for (const target of imports) if (node(target) !== from) edges.add(node(target));
    graph.set(from, edges);
  }
  return graph;
}

/** One cycle (first node repeated at its end) for each strongly connected set of nodes (Tarjan's algorithm). */
function findCycles(graph: Graph): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const visit = (node: string) => {
    index.set(node, index.size);
    low.set(node, index.get(node)!);
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!index.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node)!, low.get(next)!));
      } else if (onStack.has(next)) {
        low.set(node, Math.min(low.get(node)!, index.get(next)!));
      }
    }
    if (low.get(node) !== index.get(node)) return;
    const members: string[] = [];
    let member: string;
    do {
      member = stack.pop()!;
      onStack.delete(member);
      members.push(member);
    } while (member !== node);
    if (members.length > 1 || graph.get(node)?.has(node)) cycles.push(cycleThrough(graph, new Set(members), node));
  };
  for (const node of graph.keys()) if (!index.has(node)) visit(node);
  return cycles;
}

/** A path from `start` back to itself through `members` (breadth first: a shortest one). */
function cycleThrough(graph: Graph, members: Set<string>, start: string): string[] {
  const cameFrom = new Map<string, string>();
  const queue = [start];
  while (queue.length) {
    const node = queue.shift()!;
    for (const next of graph.get(node) ?? []) {
      if (!members.has(next)) continue;
      if (next === start) {
        const cycle = [start];
        for (let at = node; at !== start; at = cameFrom.get(at)!) cycle.splice(1, 0, at);
        return [...cycle, start];
      }
      if (!cameFrom.has(next)) {
        cameFrom.set(next, node);
        queue.push(next);
      }
    }
  }
  return [start, start];
}

function relative(file: string): string {
  return path.relative(ROOT, file);
}

const described = (cycles: string[][]) => cycles.map((cycle) => cycle.map(relative).join(' → '));

describe('the import graph', () => {
  const { graph, unresolved } = fileGraph(['src', 'test', 'bench'].flatMap((dir) => sourceFiles(path.join(ROOT, dir))));

  it('is read whole: every relative import names a file', () => {
    expect(unresolved).toEqual([]);
    expect(graph.get(path.join(SERVER, 'services.ts'))).toContain(path.join(SERVER, 'workers/index.ts'));
  });

  it('has no cycle between files', () => {
    expect(described(findCycles(graph))).toEqual([]);
  });

  it('has no cycle between server modules', () => {
    expect(described(findCycles(moduleGraph(graph)))).toEqual([]);
  });

  it('finds the cycles there are', () => {
    const graph: Graph = new Map([
      ['projects', new Set(['workers', 'lib'])],
      ['workers', new Set(['tasks', 'lib'])],
      ['tasks', new Set(['projects'])],
      ['lib', new Set<string>()],
      ['self', new Set(['self'])],
    ]);
    expect(findCycles(graph)).toEqual([
      ['projects', 'workers', 'tasks', 'projects'],
      ['self', 'self'],
    ]);
  });
});
