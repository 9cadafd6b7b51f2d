/**
 * What the main thread will read from modules that arrive later. Each is a class whose shape is
 * the interface; these defaults say "nothing yet" so the thread works today and the later issue
 * only passes its own implementation to `createServices`.
 */

/** An open question a worker asked the person (issue 4), as the thread's context shows it. */
export interface OpenQuestion {
  id: string;
  taskId: string;
  text: string;
}

/**
 * Questions workers ask (issue 4): listed in a turn's context and answered through the
 * `answer_question` tool. No worker asks anything yet, so there is never an open question.
 */
export class NoQuestionsYet {
  async listOpen(_userId: string, _limit: number): Promise<OpenQuestion[]> {
    return [];
  }

  /** Relays the person's answer; resolves with an error text for the model when it cannot. */
  async answer(
    _userId: string,
    questionId: string,
    _answer: string | string[],
  ): Promise<{ ok: true } | { ok: false; error: string }> {
    return { ok: false, error: `no open question with id ${questionId}` };
  }
}
export type QuestionDesk = Pick<NoQuestionsYet, keyof NoQuestionsYet>;

/** The projects the person works on (issue 4), as a few lines for the system prompt. No projects exist yet. */
export class NoProjectsYet {
  async describe(_userId: string): Promise<string | undefined> {
    return undefined;
  }
}
export type ProjectContext = Pick<NoProjectsYet, keyof NoProjectsYet>;
