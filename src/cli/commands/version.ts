import { writeSync } from 'node:fs';
import type { NbuildCommand } from '../command.js';
import { nbuildVersion } from '../../package-root.js';

export const versionCommand: NbuildCommand<object> = {
  command: 'version',
  userns: false,
  describe: 'print the versions of nbuild, Node.js and the native engine',
  handler: () => {
    // writeSync, not process.stdout: creating the stdout stream costs ~5 ms (a pipe or a
    // terminal loads node:net or node:tty), as much as the rest of the command.
    const text = `nbuild ${nbuildVersion()}\nnode ${process.version}\nplatform ${process.platform}/${process.arch}\n`;
    for (;;) {
      try {
        writeSync(1, text); // under PIPE_BUF: written whole or not at all
        return;
      } catch (error) {
        // A non-blocking stdout inherited from the caller: wait for room as the stream would.
        if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
      }
    }
  },
};
