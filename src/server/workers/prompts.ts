/**
 * What mainloop tells a task's agent at each point of the lifecycle. Plain text: the runtimes
 * pass it on as the user's turn.
 */

export function planPrompt(task: { title: string; prompt: string }): string {
  return [
    `Task: ${task.title}`,
    '',
    task.prompt,
    '',
    'First, plan. Read what you need in this repository, but change nothing yet. Then present a concise plan: ' +
      'what you will change and why, the files involved, how you will check it, and any choices the person should make. ' +
      'If something essential is unclear, ask the person before planning.',
  ].join('\n');
}

export function revisePlanPrompt(feedback: string): string {
  return `The person asked for changes to the plan:\n\n${feedback}\n\nRevise the plan accordingly and present it again. Change nothing yet.`;
}

export function implementPrompt(task: { title: string; prompt: string }, planned: boolean): string {
  if (planned)
    return 'The plan is approved. Implement it now, in this workspace. When you are done, say briefly what you changed.';
  return [
    `Task: ${task.title}`,
    '',
    task.prompt,
    '',
    'Implement it in this workspace. When you are done, say briefly what you changed.',
  ].join('\n');
}

export function answersPrompt(answers: Array<{ question: string; answer: string | string[] }>): string {
  const lines = answers.map(
    ({ question, answer }) => `- ${question}\n  Answer: ${Array.isArray(answer) ? answer.join(', ') : answer}`,
  );
  return `The person answered your questions:\n${lines.join('\n')}\n\nContinue.`;
}

export function fixChecksPrompt(command: string, output: string, round: number, rounds: number): string {
  return [
    `The project's checks failed (\`${command}\`, round ${round} of ${rounds}). The end of their output:`,
    '',
    '```',
    output,
    '```',
    '',
    'Fix the cause, then say briefly what you changed.',
  ].join('\n');
}

export function requestedChangesPrompt(feedback: string): string {
  return `The person reviewed your work and asked for changes:\n\n${feedback}\n\nMake them, then say briefly what you changed.`;
}

export function mergeConflictPrompt(baseBranch: string, files: string[]): string {
  return [
    `Your branch no longer merges cleanly into ${baseBranch}: ${files.length ? files.join(', ') : 'some files'} conflict.`,
    `Bring your branch up to date: \`git fetch project ${baseBranch} && git merge project/${baseBranch}\`, resolve the conflicts ` +
      'keeping both intents, make sure everything still works, and commit.',
  ].join('\n');
}
