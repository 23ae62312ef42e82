// bin/nbuild's launcher decides before Node starts whether a command runs in the user namespace,
// from its own lists in C++ (native/sandbox/launch.cc); each command module declares `userns`.
// The two must agree: a command missing from the launcher's list re-executes itself from Node
// (one Node start-up more), and one listed wrongly pays for a namespace it does not use.
import test from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { commandNames, usernsCommandNames } from '../../src/cli/commands.js';
import { projectRoot } from '../helpers/nbuild-cli.js';

function launcherList(name: string): string[] {
  const source = fs.readFileSync(path.join(projectRoot, 'native/sandbox/launch.cc'), 'utf8');
  const m = new RegExp(`${name}\\[\\]\\s*=\\s*\\{([^}]*)\\}`).exec(source);
  if (!m) throw new Error(`launch.cc has no ${name}`);
  return [...m[1].matchAll(/"([^"]+)"/g)].map((q) => q[1]).sort();
}

// yargs' own commands, which no module declares.
const YARGS_COMMANDS = ['completion', 'help'];

test("the launcher's user-namespace commands are the modules that declare userns", async (t) => {
  t.deepEqual(launcherList('kUsernsCommands'), (await usernsCommandNames()).sort());
});

test("the launcher's other commands are every other module's command and yargs' own", async (t) => {
  const userns = new Set(await usernsCommandNames());
  const others = [...commandNames().filter((n) => !userns.has(n)), ...YARGS_COMMANDS].sort();
  t.deepEqual(launcherList('kOtherCommands'), others);
});
