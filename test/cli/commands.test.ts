// The command table loads each command's module only when it runs (src/cli/commands.ts): its
// names must be the modules' own, and the command a command line runs must be read the way
// normalizeBuildArgv reads it.
import test from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { commandNames, loadCommands } from '../../src/cli/commands.js';
import { commandWord } from '../../src/cli/build-options.js';
import { COMMANDS_WITHOUT_PARSER, runWithoutParser } from '../../src/cli/without-parser.js';

test('each name in the table is the first word of its module\'s command, and every module is listed', async (t) => {
  const names = commandNames();
  const modules = await loadCommands(names);
  t.is(modules.length, names.length);
  modules.forEach((m, i) => {
    const first = (Array.isArray(m.command) ? m.command[0] : m.command) as string;
    t.is(first.split(' ')[0], names[i]);
  });
  // one module per command under src/cli/commands/ (tsc output next to this test's)
  const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../src/cli/commands');
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.js')).map((f) => f.replace(/\.js$/, ''));
  t.deepEqual([...files].sort(), [...names].sort());
});

test('only the named command is loaded', async (t) => {
  const [version] = await loadCommands(['version']);
  t.is(version.command, 'version');
  t.is((await loadCommands(['version'])).length, 1);
  t.is((await loadCommands()).length, commandNames().length);
});

test('commandWord: the first word that is not an option or its value, else build', (t) => {
  const names = [...commandNames(), 'completion'];
  t.is(commandWord(['version'], names), 'version');
  t.is(commandWord(['--root', 'images', 'version'], names), 'version');
  t.is(commandWord(['--root', 'version'], names), 'build');
  t.is(commandWord(['-t', 'images', '.'], names), 'build');
  t.is(commandWord(['--log-level', 'debug', 'images'], names), 'images');
  t.is(commandWord(['-f', 'Dockerfile', '.'], names), 'build');
  t.is(commandWord(['--no-cache', 'build', '.'], names), 'build');
  t.is(commandWord(['completion'], names), 'completion');
  t.is(commandWord([], names), 'build');
  t.is(commandWord(['--', 'version'], names), 'build');
});

test('the commands run without the parser are listed commands that take no options, run only when named alone', async (t) => {
  const names = commandNames();
  for (const c of COMMANDS_WITHOUT_PARSER) {
    t.true(names.includes(c.command as string), `${String(c.command)} is a listed command`);
    t.is(c.builder, undefined, `${String(c.command)} has no options or arguments for yargs to read`);
    const [listed] = await loadCommands([c.command as string]);
    t.is(listed, c, 'the same module as the command table loads');
  }
  // Anything more than the bare name goes to yargs (it would run nothing here).
  for (const argv of [[], ['version', '--help'], ['--log-level', 'debug', 'version'], ['version', 'x'], ['images'], ['-h']]) {
    t.false(runWithoutParser(argv), argv.join(' '));
  }
});
