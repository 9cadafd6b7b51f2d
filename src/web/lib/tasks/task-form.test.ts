import { describe, expect, it } from 'vitest';
import {
  canSend,
  formFromSpec,
  offersPlan,
  runtimeChoices,
  runtimeProblem,
  specFromForm,
  type RuntimeInfo,
} from './task-form.js';

const described: RuntimeInfo[] = [
  { name: 'claude-code', available: true, reason: 'runs Claude Code with an API key', default: true },
  {
    name: 'codex',
    available: false,
    reason: 'the Codex CLI (`codex`) is not installed: install it with `npm i -g @openai/codex`',
    default: false,
  },
  { name: 'command', available: true, reason: 'runs a shell command', default: false },
];

describe('runtimeChoices', () => {
  it('offers what can run, and says why the rest cannot', () => {
    expect(runtimeChoices(described)).toEqual([
      { name: 'claude-code', available: true, isDefault: true },
      {
        name: 'codex',
        available: false,
        reason: 'the Codex CLI (`codex`) is not installed: install it with `npm i -g @openai/codex`',
        isDefault: false,
      },
      { name: 'command', available: true, isDefault: false },
    ]);
  });

  it('offers every runtime while the server has not said, and none it does not know', () => {
    expect(runtimeChoices(undefined).every((choice) => choice.available)).toBe(true);
    expect(runtimeChoices([described[0]!]).find((choice) => choice.name === 'command')).toMatchObject({
      available: false,
    });
  });
});

describe('the task form', () => {
  const choices = runtimeChoices(described);

  it('cannot send a runtime that cannot run here, chosen or by default, and says why', () => {
    const form = { ...formFromSpec({ title: 'Port it', prompt: 'To Rust.' }), runtime: 'codex' as const };
    expect(canSend(form, choices)).toBe(false);
    expect(runtimeProblem(form, choices)).toBe(
      'codex cannot run here: the Codex CLI (`codex`) is not installed: install it with `npm i -g @openai/codex`. Choose another runtime.',
    );
    expect(canSend({ ...form, runtime: 'claude-code' }, choices)).toBe(true);

    const noDefault = runtimeChoices(described.map((runtime) => ({ ...runtime, default: runtime.name === 'codex' })));
    expect(runtimeProblem({ runtime: '' }, noDefault)).toMatch(/^The default runtime, codex, cannot run here: /);
    expect(runtimeProblem({ runtime: '' }, choices)).toBeUndefined();
  });

  it('needs a title, a prompt, and a command for a command task', () => {
    const form = formFromSpec({ title: 'Test', prompt: 'Run them' });
    expect(canSend(form, choices)).toBe(true);
    expect(canSend({ ...form, title: '  ' }, choices)).toBe(false);
    expect(canSend({ ...form, runtime: 'command' }, choices)).toBe(false);
    expect(canSend({ ...form, runtime: 'command', command: 'npm test' }, choices)).toBe(true);
  });

  it('plans first unless told not to; a command has no plan, so no switch and no skipPlan', () => {
    const form = formFromSpec({ title: ' Port it ', prompt: 'To Rust. ', model: '' });
    expect(form.planFirst).toBe(true);
    expect(formFromSpec({ title: 'x', prompt: 'y', skipPlan: true }).planFirst).toBe(false);
    expect(specFromForm(form, choices)).toEqual({ title: 'Port it', prompt: 'To Rust.' });
    expect(specFromForm({ ...form, planFirst: false }, choices)).toEqual({
      title: 'Port it',
      prompt: 'To Rust.',
      skipPlan: true,
    });

    const command = { ...form, runtime: 'command' as const, command: ' npm test ', planFirst: false };
    expect(offersPlan(command, choices)).toBe(false);
    expect(specFromForm(command, choices)).toEqual({
      title: 'Port it',
      prompt: 'To Rust.',
      runtime: 'command',
      command: 'npm test',
    });
    // the command is dropped when the runtime changes away from command
    expect(specFromForm({ ...command, runtime: 'claude-code', planFirst: true }, choices)).toEqual({
      title: 'Port it',
      prompt: 'To Rust.',
      runtime: 'claude-code',
    });
  });

  it('keeps what it does not edit from the proposal, and drops what was emptied', () => {
    const base = { title: 'Old', prompt: 'Old prompt', projectId: 'p1', model: 'opus', skipPlan: true };
    const form = { ...formFromSpec(base), title: 'New', projectId: '', model: '' };
    expect(specFromForm(form, choices, base)).toEqual({ title: 'New', prompt: 'Old prompt', skipPlan: true });
  });
});
