/**
 * The server's validation errors (`VALIDATION_FAILED`, `details.issues: [{path, message}]`) as
 * sentences a person can act on: the field's name as the form labels it, and the problem —
 * "Repository path must be absolute." rather than "body.repo.path: path must be absolute".
 */

/** A form's labels for the fields it sends, by their path in the request (`repo.path`, `checkCommand`). */
export type FieldLabels = Readonly<Record<string, string>>;

interface Issue {
  path: string;
  message: string;
}

/** The issues as sentences, or undefined when `details` holds none. */
export function describeValidation(details: unknown, labels: FieldLabels = {}): string | undefined {
  const issues = issuesOf(details);
  if (issues.length === 0) return undefined;
  return issues.map((issue) => describeIssue(issue, labels)).join(' ');
}

function describeIssue(issue: Issue, labels: FieldLabels): string {
  const field = issue.path.replace(/^(body|querystring|params|headers)(\.|$)/, '');
  const label = labels[field] ?? humanize(field);
  const problem = issue.message.trim();
  if (!label) return sentence(capitalize(problem));
  // The message often names the field itself ("path must be absolute"): say it once, by its label.
  const own = field.split('.').at(-1) ?? '';
  if (own && problem.toLowerCase().startsWith(`${own.toLowerCase()} `)) {
    return sentence(`${label} ${problem.slice(own.length + 1)}`);
  }
  return sentence(`${label}: ${problem}`);
}

/** `repo.path` → "Repo path", `checkCommand` → "Check command"; list positions are left out. */
function humanize(field: string): string {
  const words = field
    .split('.')
    .filter((segment) => segment && !/^\d+$/.test(segment))
    .join(' ')
    .replace(/([a-z\d])([A-Z])/g, '$1 $2')
    .toLowerCase();
  return capitalize(words);
}

const capitalize = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);
const sentence = (text: string) => (/[.!?…]$/.test(text) ? text : `${text}.`);

function issuesOf(details: unknown): Issue[] {
  const issues = (details as { issues?: unknown } | null | undefined)?.issues;
  if (!Array.isArray(issues)) return [];
  return issues.filter(
    (issue): issue is Issue =>
      typeof issue === 'object' &&
      issue !== null &&
      typeof (issue as Issue).path === 'string' &&
      typeof (issue as Issue).message === 'string',
  );
}
