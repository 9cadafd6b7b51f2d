import type { Question } from '../../../contract/index.js';

/** What the person has chosen or written for one question, before it is sent. */
export interface AnswerDraft {
  selected: string[];
  custom: string;
}

export const EMPTY_DRAFT: AnswerDraft = { selected: [], custom: '' };

/** An option pressed: a multi-select toggles it; a single choice takes it instead of any own words. */
export function choose(draft: AnswerDraft, label: string, multiSelect: boolean): AnswerDraft {
  if (!multiSelect) return { selected: [label], custom: '' };
  const selected = draft.selected.includes(label)
    ? draft.selected.filter((chosen) => chosen !== label)
    : [...draft.selected, label];
  return { ...draft, selected };
}

/** Own words typed: for a single choice they replace the option chosen; a multi-select keeps both. */
export function write(draft: AnswerDraft, custom: string, multiSelect: boolean): AnswerDraft {
  if (!multiSelect && custom.trim()) return { selected: [], custom };
  return { ...draft, custom };
}

/**
 * The body of `POST /api/questions/:id/answer` for a draft, or undefined while there is nothing
 * to send. A multi-select sends its options in the question's order, then the own words.
 */
export function answerFor(
  question: Pick<Question, 'multiSelect' | 'options'>,
  draft: AnswerDraft,
): string | string[] | undefined {
  const custom = draft.custom.trim();
  if (question.multiSelect) {
    const order = question.options.map((option) => option.label);
    const selected = [...draft.selected].sort((a, b) => order.indexOf(a) - order.indexOf(b));
    const answer = custom ? [...selected, custom] : selected;
    return answer.length ? answer : undefined;
  }
  return custom || draft.selected[0] || undefined;
}

/**
 * The open questions of the oldest ask that still has one: what the wizard walks through.
 * Questions asked together share a createdAt; they keep the order they came in (the server
 * lists and announces them in the order they were asked).
 */
export function currentAsk(questions: readonly Question[]): Question[] {
  const open = questions
    .filter((question) => question.status === 'open')
    .sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  const askId = open[0]?.askId;
  return askId === undefined ? [] : open.filter((question) => question.askId === askId);
}
