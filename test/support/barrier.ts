import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/**
 * A gate that commands in sandboxed tasks wait at: a directory the sandbox shows read-only
 * (start the server with `env: { MAINLOOP_SANDBOX_READ_ONLY: barrier.dir }`), in which the test
 * opens a gate by creating a file. Tasks have no network, so they cannot call in; they say they
 * arrived in their log (`echo arrived`), and the test reads it there.
 */
export class FileBarrier {
  private constructor(readonly dir: string) {}

  static async create(): Promise<FileBarrier> {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'mainloop-barrier-'));
    // The task user (tasks of a root server) reads it.
    await chmod(dir, 0o755);
    return new FileBarrier(dir);
  }

  /** A shell line that waits until `gate` is opened. */
  wait(gate: string): string {
    return `while [ ! -e '${path.join(this.dir, gate)}' ]; do sleep 0.1; done`;
  }

  async open(gate: string): Promise<void> {
    await writeFile(path.join(this.dir, gate), '');
  }

  async remove(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }
}
