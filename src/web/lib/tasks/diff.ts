/** One line of a file's unified diff, as the diff viewer colours it. */
export interface PatchLine {
  kind: 'add' | 'del' | 'hunk' | 'meta' | 'context';
  text: string;
}

/** Everything before a file's first `@@` is its header (`diff --git`, `index`, `---`, `+++`). */
export function patchLines(patch: string): PatchLine[] {
  if (!patch) return [];
  let inHunk = false;
  return patch
    .replace(/\n$/, '')
    .split('\n')
    .map((text): PatchLine => {
      if (text.startsWith('diff --git ')) {
        inHunk = false;
        return { kind: 'meta', text };
      }
      if (text.startsWith('@@')) {
        inHunk = true;
        return { kind: 'hunk', text };
      }
      if (!inHunk || text.startsWith('\\')) return { kind: 'meta', text };
      if (text.startsWith('+')) return { kind: 'add', text };
      if (text.startsWith('-')) return { kind: 'del', text };
      return { kind: 'context', text };
    });
}
