import type { Project, ProjectInspection } from '../../../contract/index.js';
import type { ApiClient } from '../api/client.js';
import type { ProjectList } from './project-list.svelte.js';
import { SettingsListState } from './settings-list.svelte.js';

/** A check command read from a repository's build files, and which file says so. */
export type CheckCommandSuggestion = NonNullable<ProjectInspection['checkCommand']>;

/** What the add form sends: a repository path, and optionally a name and the command that checks a change. */
export interface NewProject {
  path: string;
  name: string;
  checkCommand: string;
  /** whether its tasks may reach the internet (through mainloop's proxy) */
  allowNetwork: boolean;
}

/**
 * The person's projects (local git repositories workers may work in): list, add, change the
 * name or the check command, remove with confirmation. The server says what is wrong with a
 * path (not absolute, not a git repository), said by the form's name for the field. While a path
 * is typed, the server is asked which check command its repository suggests. The list is the
 * app's one ProjectList: what changes here shows everywhere at once.
 */
export class ProjectsState extends SettingsListState<Project> {
  /** The project being edited. */
  editingId: string | undefined = $state();
  /** The check command the path being added suggests, and which file says so; undefined when none does. */
  suggestion: CheckCommandSuggestion | undefined = $state();
  #inspections = 0;
  readonly #list: ProjectList;

  protected override readonly fieldLabels = {
    'repo.path': 'Repository path',
    name: 'Name',
    checkCommand: 'Check command',
    defaultBranch: 'Default branch',
  };

  constructor(api: ApiClient, list: ProjectList) {
    super(api);
    this.#list = list;
  }

  get items(): Project[] {
    return this.#list.items;
  }

  set items(items: Project[]) {
    this.#list.items = items;
  }

  protected async fetch(): Promise<Project[]> {
    await this.#list.load();
    return this.#list.items;
  }

  /** Returns whether the project was added (so the form can clear itself). */
  async add(input: NewProject): Promise<boolean> {
    return this.run(async () => {
      const name = input.name.trim();
      const checkCommand = input.checkCommand.trim();
      const { project } = await this.api.createProject({
        repo: { kind: 'local', path: input.path.trim() },
        ...(name ? { name } : {}),
        ...(checkCommand ? { checkCommand } : {}),
        ...(input.allowNetwork ? { allowNetwork: true } : {}),
      });
      this.items = [...this.items, project].sort((a, b) => a.name.localeCompare(b.name));
    });
  }

  /**
   * Asks which check command the repository at `path` suggests (only for an absolute path); the
   * answer to the latest question wins. A suggestion is a nicety: when none comes (the server
   * cannot read the folder, the person is not its owner), nothing is said.
   */
  async inspect(path: string): Promise<void> {
    const asked = ++this.#inspections;
    const where = path.trim();
    let suggestion: CheckCommandSuggestion | undefined;
    if (where.startsWith('/')) {
      suggestion = await this.api.inspectProject(where).then(
        (inspection) => inspection.checkCommand ?? undefined,
        () => undefined,
      );
    }
    if (asked === this.#inspections) this.suggestion = suggestion;
  }

  edit(id: string): void {
    this.editingId = id;
    this.confirmingId = undefined;
    this.error = undefined;
  }

  cancelEdit(): void {
    this.editingId = undefined;
  }

  /** An empty check command removes it. Returns whether the change was saved. */
  async save(id: string, changes: { name: string; checkCommand: string; allowNetwork: boolean }): Promise<boolean> {
    return this.run(async () => {
      const checkCommand = changes.checkCommand.trim();
      const { project } = await this.api.updateProject(id, {
        name: changes.name.trim(),
        checkCommand: checkCommand || null,
        allowNetwork: changes.allowNetwork,
      });
      this.items = this.items.map((existing) => (existing.id === id ? project : existing));
      this.editingId = undefined;
    });
  }

  override askToRemove(id: string): void {
    super.askToRemove(id);
    this.editingId = undefined;
  }

  remove(id: string): Promise<void> {
    return this.removeWith(id, (project) => this.api.deleteProject(project));
  }
}
