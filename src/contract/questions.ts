import { z } from 'zod';

export const QuestionOption = z.object({
  label: z.string(),
  description: z.string().optional(),
});
export type QuestionOption = z.infer<typeof QuestionOption>;

export const QUESTION_STATUSES = ['open', 'answered', 'cancelled'] as const;
export const QuestionStatus = z.enum(QUESTION_STATUSES);
export type QuestionStatus = z.infer<typeof QuestionStatus>;

/** A worker asking the person. Several asked together share `askId` and are answered one by one. */
export const Question = z.object({
  id: z.string(),
  taskId: z.string(),
  askId: z.string(),
  header: z.string().optional(),
  text: z.string(),
  options: z.array(QuestionOption),
  multiSelect: z.boolean(),
  status: QuestionStatus,
  answer: z.union([z.string(), z.array(z.string())]).optional(),
  createdAt: z.string(),
  answeredAt: z.string().optional(),
});
export type Question = z.infer<typeof Question>;

/** GET /api/questions?status=&taskId= */
export const ListQuestionsQuery = z.object({
  status: QuestionStatus.optional(),
  taskId: z.string().min(1).optional(),
});
export const QuestionList = z.object({ questions: z.array(Question) });
export type QuestionList = z.infer<typeof QuestionList>;

export const QuestionIdParams = z.object({ id: z.string().min(1, 'id is required') });

/** POST /api/questions/:id/answer: an option's label, labels for a multi-select, or the person's own words. */
export const AnswerRequest = z.object({
  answer: z.union([
    z.string().trim().min(1, 'answer must not be empty').max(20_000),
    z.array(z.string().trim().min(1).max(2_000)).min(1, 'choose at least one option').max(50),
  ]),
});
export type AnswerRequest = z.infer<typeof AnswerRequest>;

export const QuestionResponse = z.object({ question: Question });
export type QuestionResponse = z.infer<typeof QuestionResponse>;
